"""The Postiz organisation's channels (integration id -> provider), for the trigger's
preflight, read from Postiz's public API (``GET /public/v1/integrations``, not throttled)
and kept for a few minutes per function instance.

When Postiz cannot be asked (not configured, or not answering) the trigger still checks
everything that needs no provider and says so in its log; the workflow checks every channel
again before anything is rendered.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable

from aws_lambda_powertools import Logger

logger = Logger(service="smm-trigger")
KEEP_S = 300.0


class PostizChannels:
    def __init__(
        self,
        url: str | None,
        api_key: Callable[[], str],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url.rstrip("/") if url else None
        self._api_key = api_key
        self._clock = clock
        self._known: dict[str, str] | None = None
        self._names: dict[str, str] = {}
        self._read_at = float("-inf")

    def __call__(self) -> dict[str, str] | None:
        if self._url is None:
            return None
        if self._known is not None and self._clock() - self._read_at < KEEP_S:
            return self._known
        try:
            request = urllib.request.Request(
                f"{self._url}/integrations",
                headers={"Authorization": self._api_key(), "Accept": "application/json"},
            )
            with urllib.request.urlopen(request, timeout=5) as response:
                listed = json.loads(response.read())
            self._known = {str(i["id"]): str(i["identifier"]) for i in listed}
            self._names = {str(i["id"]): str(i["name"]) for i in listed if i.get("name")}
            self._read_at = self._clock()
        except Exception as err:
            logger.warning("postiz channels unavailable", extra={"error": type(err).__name__})
            return self._known  # the last answer, however old, or None
        return self._known

    def names(self) -> dict[str, str]:
        """Each channel's name in Postiz, from the last answer (read through ``__call__``)."""
        self()
        return self._names
