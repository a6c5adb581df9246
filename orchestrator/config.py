"""Worker configuration, read once at start-up and validated.

Temporal connection settings are not here: they come from Temporal's own env config
(TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, ...) via smm_runtime.temporal_conn.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from orchestrator.billing.pricing import PriceModel
from smm_runtime.contract import TASK_QUEUE
from smm_runtime.contract.kinds import (
    FINALIZE_VIDEO,
    KINDS,
    NOOP,
    POSTIZ_UPLOAD,
    RENDER_AUDIO,
    RENDER_IMAGE,
    RENDER_SEGMENT,
)


class WorkerSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMM_", extra="ignore")

    task_queue: str = TASK_QUEUE
    # Function names as deployed (the SAM stack outputs them); locally the emulator
    # answers to the template's logical ids (each kind's row names its function).
    segment_function: str = RENDER_SEGMENT.function
    audio_function: str = RENDER_AUDIO.function
    finalize_function: str = FINALIZE_VIDEO.function
    image_function: str = RENDER_IMAGE.function
    transfer_function: str = POSTIZ_UPLOAD.function
    postiz_url: str = "http://127.0.0.1:5000/public/v1"
    postiz_api_key: SecretStr = SecretStr("")
    payload_url: str | None = None
    payload_user_slug: str = "users"
    payload_api_key: SecretStr | None = None
    ledger_table: str | None = Field(default=None, description="The credit ledger (DynamoDB).")
    # How often the worker releases holds whose workflow run closed without settling them.
    hold_sweep_every_s: float = Field(default=600, ge=10)
    # How often the worker reads a rotated Temporal API key (orchestrator/key_refresh.py).
    temporal_key_refresh_s: float = Field(default=300, ge=1)
    # Signed review links (all optional): the secret signs them, the base URL is the
    # trigger's Function URL, the webhook (Slack-compatible) hears each announcement.
    review_link_secret: SecretStr | None = None
    review_base_url: str | None = None
    review_webhook_url: str | None = None  # the shared channel: never gets a link
    # Each reviewer's own inbox (their link goes there alone): a map, or a URL template.
    review_inboxes: dict[str, str] = Field(default_factory=dict)
    review_inbox_template: str | None = None
    price_model: PriceModel = PriceModel()  # SMM_PRICE_MODEL='{"credits_per_image": 3, ...}'
    # The cluster-wide caps (SMM_POOL_CAPS='{"video-segments": 16, ...}'); 0 or absent = none.
    # Keep each at or under the function's ReservedConcurrentExecutions in template.yaml.
    pool_caps: dict[str, int] = Field(
        default_factory=lambda: {
            "video-segments": 16,
            "video-finalize": 8,
            "images": 16,
            # Post creations per Postiz window: keep it at or under Postiz's API_LIMIT.
            "postiz-posts": 25,
        }
    )
    noop_function: str = NOOP.function
    output_bucket: str = "smm-creative-output"
    assets_bucket: str | None = Field(
        default=None, description="Where brand kits and assets live; the output bucket if unset."
    )
    lambda_endpoint_url: str | None = Field(
        default=None,
        validation_alias="LAMBDA_ENDPOINT_URL",
        description="Point at `sam local start-lambda` or the local emulator; unset for AWS.",
    )
    aws_region: str = Field(default="us-east-1", validation_alias="AWS_REGION")
    graceful_shutdown_s: float = 10.0
    health_port: int | None = Field(default=None, description="GET /healthz and /metrics.")
    max_cached_workflows: int = Field(
        default=1000,
        ge=0,
        description="Workflows kept in memory between tasks (about 80 KB "
        "each); beyond it the least recent is evicted and replays from history on its next "
        "task, so memory stays bounded however many renders are in flight.",
    )
    log_format: Literal["json", "text"] = Field(
        default="json", description="JSON lines with workflow and activity ids, or text."
    )
    temporal_metrics_port: int | None = Field(
        default=None, description="Temporal SDK metrics, Prometheus format."
    )

    def function_names(self) -> dict[str, str]:
        """Kind name -> deployed function name, for every kind in the table."""
        return {kind.name: str(getattr(self, kind.setting)) for kind in KINDS}
