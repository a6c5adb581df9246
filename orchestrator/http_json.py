"""Small JSON-over-HTTP calls from the worker (Postiz posts, Payload updates).

Errors become ApplicationErrors with a type: 4xx other than 408/409/429 are the caller's
mistake (non-retryable); 429 carries the server's Retry-After as the next retry delay;
everything else is transient and Temporal retries it.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import timedelta
from typing import Any

from temporalio.exceptions import ApplicationError

from smm_runtime.contract.errors import INVALID_REQUEST

RATE_LIMITED = "RateLimited"
REMOTE_ERROR = "RemoteError"
DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=2)


def call(
    method: str, url: str, headers: dict[str, str], body: Any | None = None, timeout: float = 20
) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Accept": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read()
    except urllib.error.HTTPError as err:
        detail = err.read()[:500].decode(errors="replace")
        where = f"{method} {url.split('?')[0]}"
        if err.code == 429:
            after = err.headers.get("Retry-After", "")
            wait = timedelta(seconds=int(after)) if after.isdigit() else DEFAULT_RATE_LIMIT_WAIT
            raise ApplicationError(
                f"{where}: rate limited (429)", type=RATE_LIMITED, next_retry_delay=wait
            ) from None
        if 400 <= err.code < 500 and err.code not in (408, 409):
            raise ApplicationError(
                f"{where}: {err.code} {detail}", type=INVALID_REQUEST, non_retryable=True
            ) from None
        raise ApplicationError(f"{where}: {err.code}", type=REMOTE_ERROR) from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as err:
        raise ApplicationError(f"{method} {url.split('?')[0]}: {err}", type=REMOTE_ERROR) from None
    if not raw:
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return raw.decode(errors="replace")  # e.g. Slack's webhooks answer a plain "ok"
