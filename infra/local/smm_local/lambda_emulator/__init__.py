"""A Docker-free emulator of the Lambda Invoke API, on loopback.

It serves ``POST /2015-03-31/functions/{name}/invocations`` for boto3 (``endpoint_url``):
``Event`` invocations answer 202 and run from an internal queue, ``RequestResponse`` answer
with the payload. Each function comes from template.yaml (handler, runtime, environment,
timeout, memory, reserved concurrency, async retry settings). Every invocation runs in an
execution environment of its own process; environments are kept warm for reuse, so there are
cold and warm starts as on Lambda, and one that overruns its timeout is killed with everything
it started.
"""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

from smm_local.lambda_emulator import sandbox
from smm_local.lambda_emulator.emulator import Emulator
from smm_local.lambda_emulator.http_api import api_for
from smm_local.principals import function_names, principals
from smm_local.template import Resolver, functions, load_template, parameter_defaults

log = logging.getLogger("smm.emulator")


def serve(
    template: Path,
    host: str,
    port: int,
    overrides: dict[str, str],
    parameters: dict[str, str],
    refs: dict[str, str],
    enforce_iam: bool = False,
    build_dir: Path | None = None,
) -> None:
    if build_dir is not None and not sandbox.available():
        log.warning(
            "this machine does not allow the sandbox: running functions from the source tree, "
            "not the artifacts in %s",
            build_dir,
        )
        build_dir = None
    if build_dir is not None:
        template = build_dir / "template.yaml"  # what `sam build` wrote, naming the artifacts
    data = load_template(template)
    resolver = Resolver(
        {**parameter_defaults(data), **parameters},
        {**function_names(data), **refs},
        region=overrides.get("AWS_REGION", "us-east-1"),
    )
    policies = principals(data, resolver) if enforce_iam else None
    specs = functions(data, template.parent, resolver, built=build_dir is not None)
    emulator = Emulator(specs, overrides, policies)
    emulator.start()
    server = ThreadingHTTPServer((host, port), api_for(emulator))
    server.daemon_threads = True

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(
        f"lambda emulator listening on http://{host}:{server.server_port} "
        f"({', '.join(sorted(emulator.pools))})",
        flush=True,
    )
    try:
        server.serve_forever()
    finally:
        emulator.shutdown()


def _pairs(values: list[str], flag: str) -> dict[str, str]:
    result = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"{flag} takes KEY=VALUE, got {item!r}")
        result[key] = value
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--template", type=Path, default=Path("template.yaml"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3001)
    parser.add_argument("--env", action="append", default=[], help="KEY=VALUE for every function")
    parser.add_argument("--parameter", action="append", default=[], help="template parameter")
    parser.add_argument(
        "--ref", action="append", default=[], help="LogicalId=physical name, for !Ref to resources"
    )
    parser.add_argument(
        "--iam",
        action="store_true",
        help="each function signs as its execution role; Invoke is authorised by the template",
    )
    parser.add_argument(
        "--build-dir",
        type=Path,
        help="run each function from what `sam build` wrote here, as Lambda lays it out",
    )
    args = parser.parse_args(argv)
    if args.host not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("the emulator only listens on loopback")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    serve(
        args.template,
        args.host,
        args.port,
        _pairs(args.env, "--env"),
        _pairs(args.parameter, "--parameter"),
        _pairs(args.ref, "--ref"),
        enforce_iam=args.iam,
        build_dir=args.build_dir,
    )


if __name__ == "__main__":
    main()
