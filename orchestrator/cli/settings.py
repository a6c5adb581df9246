"""What the CLI reads from the environment, in one place (the worker has its own settings).

Temporal connection settings are Temporal's own (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, ...),
read by ``smm_runtime.temporal_conn``.
"""

from __future__ import annotations

from urllib.parse import quote

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from smm_runtime.contract import NAMESPACE_DEFAULT, TASK_QUEUE


class CliSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SMM_", extra="ignore")

    task_queue: str = TASK_QUEUE
    output_bucket: str = "smm-creative-output"
    assets_bucket: str | None = Field(
        default=None, description="Brand kits and assets; the output bucket when unset."
    )
    account: str | None = Field(default=None, description="Bill renders to this account.")
    ledger_table: str | None = Field(default=None, description="The stack output LedgerTableName.")
    codec_tokens: str = Field(default="", description="Comma-separated bearer tokens.")
    codec_cors_origins: str = "http://localhost:8233"
    namespace: str = Field(default=NAMESPACE_DEFAULT, validation_alias="TEMPORAL_NAMESPACE")
    web_ui_url: str | None = Field(
        default=None,
        description="The Temporal Web UI's address, e.g. https://temporal."
        "example.com or http://localhost:8233: the CLI then prints each workflow's link.",
    )

    @property
    def kit_bucket(self) -> str:
        return self.assets_bucket or self.output_bucket

    def workflow_link(self, workflow_id: str) -> str:
        """Where to watch ``workflow_id`` in the Web UI ('' when no UI is configured)."""
        if not self.web_ui_url:
            return ""
        return (
            f"{self.web_ui_url.rstrip('/')}/namespaces/{quote(self.namespace)}/workflows/"
            f"{quote(workflow_id, safe='')}"
        )


def settings() -> CliSettings:
    """Read afresh on each call: ``smm-local demo`` sets the environment after start-up."""
    return CliSettings()
