"""The worker follows a rotated Temporal API key without a restart.

A worker lives for weeks; its key is rotated in Secrets Manager (SMM_TEMPORAL_API_KEY_SECRET_ARN)
and the old one revoked. Every ``SMM_TEMPORAL_KEY_REFRESH_S`` the worker reads the secret
again and gives a changed key to its open connection, which its pollers and clients share
(``Client.api_key``). Keep the old key valid for longer than that interval after a rotation:
until the worker reads the new key, its polls carry the old one. A key given directly in
TEMPORAL_API_KEY has nothing to follow.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Mapping
from datetime import timedelta

from temporalio.client import Client

from smm_runtime.temporal_conn import api_key_from_secret

log = logging.getLogger(__name__)


async def follow_api_key(
    client: Client,
    every: timedelta,
    stop: asyncio.Event,
    environ: Mapping[str, str] | None = None,
) -> None:
    env = os.environ if environ is None else environ
    arn = env.get("SMM_TEMPORAL_API_KEY_SECRET_ARN")
    if not arn or env.get("TEMPORAL_API_KEY"):
        return
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every.total_seconds())
        if stop.is_set():
            return
        try:
            key = await asyncio.to_thread(api_key_from_secret, arn, True)
        except Exception:  # Secrets Manager unreachable: keep the key, try next time
            log.exception("could not read the Temporal API key secret")
            continue
        if key != client.api_key:
            client.api_key = key  # never logged: it is a credential
            log.warning("the Temporal API key was rotated: this worker now uses the new one")
