"""The worker's logs as JSON lines (one object per record), with what a record is about:
Temporal's workflow and activity loggers attach the workflow id, run id, type and attempt,
which become top-level fields, so a log search finds every line of one creative. Task tokens
are redacted before any formatter sees a record (smm_runtime.log_redaction)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

# What Temporal's loggers put in `extra` (workflow_info_on_extra, activity_info_on_extra).
ABOUT = {
    "temporal_workflow": ("workflow_id", "run_id", "workflow_type", "attempt"),
    "temporal_activity": ("workflow_id", "activity_id", "activity_type", "attempt"),
}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for attribute, fields in ABOUT.items():
            info = getattr(record, attribute, None)
            if isinstance(info, dict):
                entry.update({f: info[f] for f in fields if f in info})
        # Timings a record carries in `extra` (the dispatch's invoke_ms, ...).
        entry.update({k: v for k, v in record.__dict__.items() if k.endswith("_ms")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def configure(log_format: str, level: int = logging.INFO) -> None:
    """JSON lines (the default: what a log pipeline parses) or plain text (a terminal)."""
    handler = logging.StreamHandler()
    handler.setFormatter(
        JsonFormatter()
        if log_format == "json"
        else logging.Formatter("%(asctime)s %(name)s %(message)s")
    )
    logging.basicConfig(level=level, handlers=[handler], force=True)
