"""Report a stage change to Payload CMS through its REST API (idempotent PATCH)."""

from __future__ import annotations

from urllib.parse import quote

from temporalio import activity

from orchestrator.executors import http_deadline, on_http
from orchestrator.http_json import call
from smm_runtime.contract.publish_io import PayloadUpdate

HTTP_TIMEOUT_S = 10  # below the write-back activity's 15 s start-to-close


class PayloadReporter:
    def __init__(self, base_url: str | None, user_slug: str, api_key: str | None) -> None:
        self._base = base_url.rstrip("/") if base_url else None
        # Payload's API-key strategy: "<user collection slug> API-Key <key>".
        self._headers = {"Authorization": f"{user_slug} API-Key {api_key}"} if api_key else {}

    @activity.defn(name="update_payload")
    async def update_payload(self, update: PayloadUpdate) -> None:
        if self._base is None:
            activity.logger.info(
                "no SMM_PAYLOAD_URL configured: stage %s not reported",
                update.data.get("engineStage"),
            )
            return
        url = f"{self._base}/api/{quote(update.collection)}/{quote(update.id)}"
        # engineSeq lets Payload keep the newest report when a retried one arrives late; the
        # HTTP call gives up before the activity does, so a timeout is ours to see.
        await on_http(
            "payload",
            call,
            "PATCH",
            url,
            self._headers,
            {**update.data, "engineSeq": update.seq},
            http_deadline(HTTP_TIMEOUT_S),
        )
