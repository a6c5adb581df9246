"""smm-engine worker / codec-server: running the engine and its codec server."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from orchestrator.cli.settings import settings
from smm_runtime.temporal_conn import TemporalConfigError


def cmd_worker(_: argparse.Namespace) -> int:
    from orchestrator.worker import main as worker_main

    worker_main()
    return 0


def cmd_codec_server(args: argparse.Namespace) -> int:
    from orchestrator.codec_server import CodecServer, CodecServerConfig, tls_context
    from smm_runtime.codec import AesGcmCodec, load_keys

    keys = load_keys()
    if keys is None:
        raise TemporalConfigError(
            "SMM_PAYLOAD_KEYS or SMM_PAYLOAD_KEYS_SECRET_ARN: the codec "
            "server needs the payload keys the worker uses"
        )
    tokens = [t.strip() for t in settings().codec_tokens.split(",") if t.strip()]
    if not tokens or any(len(t) < 24 for t in tokens):
        raise TemporalConfigError(
            "SMM_CODEC_TOKENS: set one or more comma-separated bearer "
            "tokens of 24+ characters (e.g. `openssl rand -hex 24`)"
        )
    origins = [o.strip() for o in settings().codec_cors_origins.split(",") if o.strip()]
    # The UI shows histories as they are, plaintext ones from before encryption included.
    config = CodecServerConfig(
        codec=AesGcmCodec(keys, accept_plaintext=True),
        tokens=tokens,
        cors_origins=origins,
        namespace=settings().namespace,
    )
    if bool(args.tls_cert) != bool(args.tls_key):
        raise TemporalConfigError("--tls-cert and --tls-key: give both (https) or neither")
    tls = tls_context(Path(args.tls_cert), Path(args.tls_key)) if args.tls_cert else None
    server = CodecServer(args.host, args.port, config, tls)
    print(
        f"codec server on {server.scheme}://{args.host}:{server.port} for {config.namespace} "
        f"(CORS: {', '.join(origins)})",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0
