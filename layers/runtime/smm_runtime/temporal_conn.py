"""The Temporal connection, from Temporal's own environment configuration.

TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TEMPORAL_TLS* and the TOML profile
file are read by ``temporalio.envconfig``, exactly as the Temporal CLI reads them. We add two
rules: the namespace defaults to ``smm-hub-core`` (never the SDK's ``default``), and
``default`` is refused unless SMM_ALLOW_DEFAULT_NAMESPACE=1, because the same server runs
Postiz there and we must never touch it.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Mapping
from typing import Any

from temporalio.client import Client
from temporalio.envconfig import ClientConfigProfile

from smm_runtime import log_redaction
from smm_runtime.codec import data_converter
from smm_runtime.contract import NAMESPACE_DEFAULT


class TemporalConfigError(Exception):
    """The Temporal connection settings are unusable; the message says which to change."""


def api_key_from_secret(arn: str, refresh: bool = False) -> str:
    """The Temporal API key from Secrets Manager, fetched once per cold start (cached an hour
    by Powertools, or fetched again with ``refresh``), so no secret sits in a function's
    environment."""
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(arn, max_age=3600, force_fetch=refresh)
    if not isinstance(value, str) or not value.strip():
        raise TemporalConfigError(f"SMM_TEMPORAL_API_KEY_SECRET_ARN: {arn} holds no API key")
    return value.strip()


def connect_config(
    environ: Mapping[str, str] | None = None, refresh_secret: bool = False
) -> dict[str, Any]:
    """Keyword arguments for ``Client.connect`` built from env config, with our guards."""
    env = dict(os.environ if environ is None else environ)
    secret_arn = env.get("SMM_TEMPORAL_API_KEY_SECRET_ARN")
    if secret_arn and not env.get("TEMPORAL_API_KEY"):
        env["TEMPORAL_API_KEY"] = api_key_from_secret(secret_arn, refresh_secret)
    profile = ClientConfigProfile.load(override_env_vars=env)
    config: dict[str, Any] = dict(profile.to_client_connect_config())
    if not env.get("TEMPORAL_NAMESPACE") and not profile.namespace:
        config["namespace"] = NAMESPACE_DEFAULT
    namespace = config.get("namespace") or NAMESPACE_DEFAULT
    config["namespace"] = namespace
    if namespace == "default" and env.get("SMM_ALLOW_DEFAULT_NAMESPACE") != "1":
        raise TemporalConfigError(
            "TEMPORAL_NAMESPACE is 'default', which belongs to Postiz on the shared server: "
            "use 'smm-hub-core' (or set SMM_ALLOW_DEFAULT_NAMESPACE=1 if you really mean it)"
        )
    if not config.get("target_host"):
        config["target_host"] = "localhost:7233"
    return config


def starter_interceptors(service: str | None, environ: Mapping[str, str] | None) -> list[Any]:
    """A starter's client traces when export is configured (smm_runtime.tracing): its
    StartWorkflow span travels in the workflow's headers, so the worker's RunWorkflow span,
    the dispatch and the function continue the trace of the request that began it. Clients
    that only complete activities (``service`` None) need none."""
    if service is None:
        return []
    from smm_runtime import tracing

    if not tracing.configure(service, environ):
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


async def connect(
    environ: Mapping[str, str] | None = None, service: str | None = "smm-client", **overrides: Any
) -> Client:
    log_redaction.install()
    config = connect_config(environ)
    config.update(overrides)
    return await Client.connect(
        data_converter=data_converter(environ),
        interceptors=starter_interceptors(service, environ),
        **config,
    )


class CachedClient:
    """One client per process, reused across warm Lambda invocations.

    Lambda freezes the process between invocations, so the client and the event loop it was
    created on must both outlive one invocation: the caller owns a long-lived loop and asks
    this cache for the client on that loop.
    """

    def __init__(self, service: str | None = None) -> None:
        log_redaction.install()
        self._service = service  # a starter that traces (see starter_interceptors)
        self._client: Client | None = None
        self._key: tuple[str, str] | None = None
        self._api_key: str | None = None
        self._refresh = False
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """The server refused this client's credentials: read the key again (past its
        cache) and connect anew next time."""
        self._client, self._refresh = None, True

    async def rekey(self, environ: Mapping[str, str] | None = None) -> bool:
        """The server refused this client's key: read the key again past its cache and, if
        it changed (a rotation that revoked the old key), give it to the open connection.
        True when the caller may retry with the new key; False when the key is unchanged
        (the refusal stands) or there is no client yet."""
        config = connect_config(environ, refresh_secret=True)
        api_key = config.get("api_key")
        async with self._lock:
            if self._client is None or api_key == self._api_key:
                return False
            self._client.api_key = api_key
            self._api_key = api_key
            return True

    async def get(self, environ: Mapping[str, str] | None = None) -> Client:
        config = connect_config(environ, refresh_secret=self._refresh)
        self._refresh = False
        key = (str(config["target_host"]), str(config["namespace"]))
        api_key = config.get("api_key")
        async with self._lock:
            if self._client is None or self._key != key:
                self._client = await Client.connect(
                    data_converter=data_converter(environ),
                    interceptors=starter_interceptors(self._service, environ),
                    **config,
                )
                self._key, self._api_key = key, api_key
            elif api_key != self._api_key:
                # A rotated key (Secrets Manager, read again once its cache ages out):
                # the open connection carries the new one from its next call.
                self._client.api_key = api_key
                self._api_key = api_key
            return self._client
