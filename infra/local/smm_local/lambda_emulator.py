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
import base64
import contextlib
import json
import logging
import os
import queue
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from smm_local.template import FunctionSpec, Resolver, functions, load_template, parameter_defaults

log = logging.getLogger("smm.emulator")
EVENT_PAYLOAD_LIMIT = 1024 * 1024
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
DEFAULT_CONCURRENCY = 16
IDLE_TTL_S = 600
# Variables a host may inherit from the emulator so it can run the project's interpreter.
INHERITED_ENV = ("PATH", "HOME", "LANG", "LC_ALL", "VIRTUAL_ENV", "PYTHONPATH")


@dataclass
class Outcome:
    ok: bool
    payload: Any = None
    error_type: str | None = None
    error_message: str | None = None
    cold: bool = False
    duration_ms: int = 0


def host_command(runtime: str) -> list[str]:
    """The process that plays one execution environment of ``runtime``."""
    if runtime.startswith("python"):
        return [sys.executable, "-m", "smm_local.runtime_host"]
    if runtime.startswith("nodejs"):
        node = shutil.which("node")
        if node is None:
            raise RuntimeError(f"{runtime} functions need Node.js on PATH")
        return [node, str(Path(__file__).with_name("node_host.mjs"))]
    raise RuntimeError(f"runtime {runtime} is not emulated (python3.x and nodejs* are)")


class Host:
    """One execution environment: a child process that serves invocations one at a time."""

    def __init__(self, spec: FunctionSpec, env: dict[str, str]) -> None:
        read_fd, write_fd = os.pipe()
        # Like Lambda, every execution environment has a /tmp of its own.
        self.tmp = Path(tempfile.mkdtemp(prefix=f"lambda-{spec.logical_id}-"))
        child_env = {**env, "SMM_EMULATOR_RESULT_FD": str(write_fd), "TMPDIR": str(self.tmp)}
        # A session of its own: killing the group at a timeout also kills FFmpeg children.
        self.proc = subprocess.Popen(
            host_command(spec.runtime), cwd=spec.code_dir, env=child_env,
            stdin=subprocess.PIPE, pass_fds=(write_fd,), start_new_session=True,
        )
        os.close(write_fd)
        self._answers = os.fdopen(read_fd, "r")
        self.spec = spec
        self.last_used = time.monotonic()
        self.ready: dict[str, Any] | None = None

    def start(self, timeout_s: float) -> Outcome | None:
        """Wait for init; returns an error outcome if init failed or overran."""
        line = self._read(timeout_s)
        if line is None:
            self.kill()
            return Outcome(False, error_type="Runtime.InitTimeout",
                           error_message=f"init did not finish within {timeout_s:.0f}s")
        answer: dict[str, Any] = json.loads(line) if line else {
            "ready": False, "errorType": "Runtime.ExitError",
            "errorMessage": "runtime exited during init"}
        if not answer.get("ready"):
            self.kill()
            return Outcome(False, error_type=answer.get("errorType"),
                           error_message=answer.get("errorMessage"))
        self.ready = answer
        return None

    def invoke(self, event: Any, request_id: str, timeout_s: float) -> Outcome:
        deadline_ms = int((time.time() + timeout_s) * 1000)
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps({"event": event, "request_id": request_id,
                                              "deadline_ms": deadline_ms}).encode() + b"\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            return Outcome(False, error_type="Runtime.ExitError",
                           error_message="the runtime exited before the invocation")
        line = self._read(timeout_s)
        self.last_used = time.monotonic()
        if line is None:
            self.kill()
            return Outcome(False, error_type="Sandbox.Timedout",
                           error_message=f"Task timed out after {timeout_s:.2f} seconds")
        if not line:
            code = self.proc.wait()
            return Outcome(False, error_type="Runtime.ExitError",
                           error_message=f"Runtime exited with error: exit status {code}")
        answer = json.loads(line)
        if answer.get("ok"):
            return Outcome(True, payload=answer.get("payload"))
        return Outcome(False, error_type=answer.get("errorType"),
                       error_message=answer.get("errorMessage"))

    def _read(self, timeout_s: float) -> str | None:
        """A line, '' at EOF (the process died), or None when the time ran out."""
        ready, _, _ = select.select([self._answers], [], [], max(0.0, timeout_s))
        if not ready:
            return None
        return self._answers.readline()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self._answers.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


@dataclass
class Stats:
    invocations: int = 0
    cold_starts: int = 0
    warm_starts: int = 0
    errors: int = 0
    timeouts: int = 0
    throttles: int = 0
    accepted_events: int = 0
    dropped_events: int = 0
    peak_active: int = 0
    duplicated_events: int = 0
    late_events: int = 0


@dataclass
class FunctionPool:
    spec: FunctionSpec
    env: dict[str, str]
    emulator: Emulator
    stats: Stats = field(default_factory=Stats)
    idle: list[Host] = field(default_factory=list)
    busy: set[Host] = field(default_factory=set)
    events: queue.Queue[tuple[Any, float, int]] = field(default_factory=queue.Queue)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def concurrency(self) -> int:
        return self.spec.reserved_concurrency or DEFAULT_CONCURRENCY

    def start_event_workers(self) -> None:
        for index in range(self.concurrency):
            threading.Thread(target=self._event_loop, name=f"{self.spec.logical_id}-{index}",
                             daemon=True).start()

    def try_invoke(self, event: Any) -> Outcome | None:
        """A synchronous invocation; None when the function is at its concurrency limit."""
        with self.lock:
            if len(self.busy) >= self.concurrency:
                self.stats.throttles += 1
                return None
            host = self._take_host_locked()
        return self._run(host, event)

    def _take_host_locked(self) -> Host | None:
        while self.idle:
            host = self.idle.pop()
            if host.alive:
                self.busy.add(host)
                self.stats.peak_active = max(self.stats.peak_active, len(self.busy))
                return host
        return None  # a cold start, created outside the lock

    def _run(self, host: Host | None, event: Any) -> Outcome:
        started = time.monotonic()
        cold = host is None
        if host is None:
            host = Host(self.spec, self.env)
            with self.lock:
                self.busy.add(host)
                self.stats.peak_active = max(self.stats.peak_active, len(self.busy))
            failed = host.start(self.spec.timeout_s)
            if failed is not None:
                with self.lock:
                    self.busy.discard(host)
                    self.stats.invocations += 1
                    self.stats.errors += 1
                return failed
        outcome = host.invoke(event, str(uuid.uuid4()),
                              self.spec.timeout_s - (time.monotonic() - started))
        outcome.cold = cold
        outcome.duration_ms = int((time.monotonic() - started) * 1000)
        with self.lock:
            self.busy.discard(host)
            self.stats.invocations += 1
            self.stats.cold_starts += cold
            self.stats.warm_starts += not cold
            if not outcome.ok:
                self.stats.errors += 1
                self.stats.timeouts += outcome.error_type == "Sandbox.Timedout"
            alive = host.alive
            if alive:
                self.idle.append(host)
        if not alive:
            host.kill()  # reap the process and remove its /tmp
        return outcome

    def _event_loop(self) -> None:
        while True:
            event, accepted, attempt = self.events.get()
            if time.monotonic() - accepted > self.spec.max_event_age_s:
                with self.lock:
                    self.stats.dropped_events += 1
                log.warning("%s: event older than MaximumEventAgeInSeconds dropped",
                            self.spec.logical_id)
                continue
            with self.lock:
                host = self._take_host_locked()
            outcome = self._run(host, event)
            if outcome.ok:
                continue
            log.warning("%s: async invocation failed: %s: %s", self.spec.logical_id,
                        outcome.error_type, outcome.error_message)
            if attempt < self.spec.max_retry_attempts:
                time.sleep(1.0)  # Lambda waits about a minute; locally a second will do
                self.events.put((event, accepted, attempt + 1))
            elif self.spec.on_failure:
                self.emulator.deliver_failure(self.spec, event, outcome)

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {**self.stats.__dict__, "active": len(self.busy), "idle": len(self.idle),
                    "queued": self.events.qsize(),
                    "active_pids": sorted(h.proc.pid for h in self.busy)}

    def reap_idle(self) -> None:
        with self.lock:
            stale = [h for h in self.idle if time.monotonic() - h.last_used > IDLE_TTL_S]
            self.idle = [h for h in self.idle if h not in stale]
        for host in stale:
            host.kill()

    def shutdown(self) -> None:
        with self.lock:
            hosts = [*self.idle, *self.busy]
            self.idle.clear()
        for host in hosts:
            host.kill()


@dataclass
class Chaos:
    """Lambda's async delivery is at least once: on request the emulator delivers some
    events twice, at once, and some again late (when their task token has gone stale), so
    tests can prove every function is idempotent. Off unless `POST /_emulator/chaos` sets it.
    """

    duplicate_every: int = 0
    late_every: int = 0
    late_delay_s: float = 20.0
    accepted: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def configure(self, settings: dict[str, Any]) -> None:
        with self.lock:
            self.duplicate_every = int(settings.get("duplicate_every", 0))
            self.late_every = int(settings.get("late_every", 0))
            self.late_delay_s = float(settings.get("late_delay_s", 20.0))

    def after_accept(self, pool: FunctionPool, event: Any) -> None:
        with self.lock:
            self.accepted += 1
            duplicate = self.duplicate_every and self.accepted % self.duplicate_every == 0
            late = self.late_every and self.accepted % self.late_every == 0
            delay = self.late_delay_s
        if duplicate:
            with pool.lock:
                pool.stats.duplicated_events += 1
            pool.events.put((event, time.monotonic(), 0))
        if late:
            def redeliver() -> None:
                with pool.lock:
                    pool.stats.late_events += 1
                pool.events.put((event, time.monotonic(), 0))
            timer = threading.Timer(delay, redeliver)
            timer.daemon = True
            timer.start()


class Emulator:
    def __init__(self, specs: dict[str, FunctionSpec], overrides: dict[str, str]) -> None:
        self.chaos = Chaos()
        base = {k: os.environ[k] for k in INHERITED_ENV if k in os.environ}
        self.pools: dict[str, FunctionPool] = {}
        for name, spec in specs.items():
            env = {
                **base,
                "AWS_LAMBDA_FUNCTION_NAME": name,
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(spec.memory_mb),
                "AWS_LAMBDA_FUNCTION_TIMEOUT": str(spec.timeout_s),
                "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_REGION": overrides.get("AWS_REGION", "us-east-1"),
                "AWS_DEFAULT_REGION": overrides.get("AWS_REGION", "us-east-1"),
                "LAMBDA_TASK_ROOT": str(spec.code_dir),
                "_HANDLER": spec.handler,
                "TZ": ":UTC",
                **spec.environment,
                **overrides,
            }
            self.pools[name] = FunctionPool(spec, env, self)
            if spec.unresolved:
                log.warning("%s: environment left unset (not resolvable locally): %s",
                            name, ", ".join(spec.unresolved))

    def start(self) -> None:
        for pool in self.pools.values():
            pool.start_event_workers()
        threading.Thread(target=self._reaper, daemon=True).start()

    def _reaper(self) -> None:
        while True:
            time.sleep(30)
            for pool in self.pools.values():
                pool.reap_idle()

    def pool(self, function_name: str) -> FunctionPool | None:
        # Accept a name or an ARN (arn:aws:lambda:region:acct:function:Name[:qualifier]).
        name = function_name.split(":function:", 1)[-1].split(":", 1)[0]
        return self.pools.get(name)

    def deliver_failure(self, spec: FunctionSpec, event: Any, outcome: Outcome) -> None:
        """Send Lambda's on-failure destination record to the configured function."""
        target = self.pools.get(spec.on_failure or "")
        if target is None:
            return
        record = {
            "version": "1.0",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": f"arn:aws:lambda:us-east-1:123456789012:function:{spec.logical_id}",
                "condition": "RetriesExhausted", "approximateInvokeCount":
                    spec.max_retry_attempts + 1,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                                "functionError": "Unhandled"},
            "responsePayload": {"errorType": outcome.error_type,
                                "errorMessage": outcome.error_message},
        }
        target.events.put((record, time.monotonic(), target.spec.max_retry_attempts))

    def shutdown(self) -> None:
        for pool in self.pools.values():
            pool.shutdown()


def _handler_class(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt: str, *args: Any) -> None:
            log.debug(fmt, *args)

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def _error(self, status: int, kind: str, message: str) -> None:
            self._send(status, {"Type": "User", "message": message},
                       {"x-amzn-ErrorType": kind})

        def function_url(self) -> None:
            """``/_url/<Function>/<path>``: a Lambda Function URL (payload format 2.0)."""
            parsed = urlparse(self.path)
            _, _, name, *rest = parsed.path.split("/")
            pool = emulator.pool(unquote(name))
            if pool is None:
                self._error(404, "ResourceNotFoundException", f"Function not found: {name}")
                return
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            event = {
                "version": "2.0", "routeKey": "$default", "rawPath": "/" + "/".join(rest),
                "rawQueryString": parsed.query,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "requestContext": {"http": {"method": self.command, "path": "/" + "/".join(rest),
                                            "protocol": "HTTP/1.1",
                                            "sourceIp": self.client_address[0]},
                                   "requestId": str(uuid.uuid4()), "timeEpoch":
                                       int(time.time() * 1000)},
                "body": base64.b64encode(body).decode(), "isBase64Encoded": True,
            }
            outcome = pool.try_invoke(event)
            if outcome is None:
                self._send(429, {"message": "Rate Exceeded."})
            elif not outcome.ok or not isinstance(outcome.payload, dict):
                self._send(502, {"message": "Internal Server Error"})
            else:
                answer = outcome.payload
                payload = answer.get("body", "")
                data = base64.b64decode(payload) if answer.get("isBase64Encoded") \
                    else str(payload).encode()
                self.send_response(int(answer.get("statusCode", 200)))
                headers = {"content-type": "application/json", **answer.get("headers", {})}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        def do_PUT(self) -> None:
            self.function_url()

        do_PATCH = do_DELETE = do_PUT

        def do_GET(self) -> None:
            if urlparse(self.path).path.startswith("/_url/"):
                self.function_url()
                return
            if urlparse(self.path).path == "/_emulator/stats":
                self._send(200, {n: p.snapshot() for n, p in emulator.pools.items()})
            else:
                self._error(404, "ResourceNotFoundException", "no such path")

        def do_POST(self) -> None:
            if urlparse(self.path).path.startswith("/_url/"):
                self.function_url()
                return
            if urlparse(self.path).path == "/_emulator/reset-peaks":
                for each in emulator.pools.values():
                    with each.lock:
                        each.stats.peak_active = len(each.busy)
                self._send(200, {"ok": True})
                return
            if urlparse(self.path).path == "/_emulator/chaos":
                length = int(self.headers.get("Content-Length") or 0)
                emulator.chaos.configure(json.loads(self.rfile.read(length) or b"{}"))
                self._send(200, {"ok": True})
                return
            parts = urlparse(self.path).path.strip("/").split("/")
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            if len(parts) != 4 or parts[1] != "functions" or parts[3] != "invocations":
                self._error(404, "ResourceNotFoundException", f"unknown path {self.path}")
                return
            name = unquote(parts[2])
            pool = emulator.pool(name)
            if pool is None:
                self._error(404, "ResourceNotFoundException", f"Function not found: {name}")
                return
            kind = self.headers.get("X-Amz-Invocation-Type", "RequestResponse")
            limit = EVENT_PAYLOAD_LIMIT if kind == "Event" else SYNC_PAYLOAD_LIMIT
            if len(body) > limit:
                self._error(413, "RequestEntityTooLargeException",
                            f"Request must be smaller than {limit} bytes for the {kind} "
                            "invocation type")
                return
            try:
                event = json.loads(body or b"{}")
            except json.JSONDecodeError:
                self._error(400, "InvalidRequestContentException",
                            "Could not parse request body into json")
                return
            if kind == "Event":
                with pool.lock:
                    pool.stats.accepted_events += 1
                pool.events.put((event, time.monotonic(), 0))
                emulator.chaos.after_accept(pool, event)
                self._send(202, b"")
            elif kind == "DryRun":
                self._send(204, b"")
            else:
                outcome = pool.try_invoke(event)
                if outcome is None:
                    self._error(429, "TooManyRequestsException", "Rate Exceeded.")
                elif outcome.ok:
                    self._send(200, json.dumps(outcome.payload).encode(),
                               {"X-Amz-Executed-Version": "$LATEST"})
                else:
                    self._send(200, {"errorType": outcome.error_type,
                                     "errorMessage": outcome.error_message},
                               {"X-Amz-Function-Error": "Unhandled",
                                "X-Amz-Executed-Version": "$LATEST"})

    return Handler


def serve(template: Path, host: str, port: int, overrides: dict[str, str],
          parameters: dict[str, str], refs: dict[str, str]) -> None:
    data = load_template(template)
    resolver = Resolver({**parameter_defaults(data), **parameters}, refs,
                        region=overrides.get("AWS_REGION", "us-east-1"))
    emulator = Emulator(functions(data, template.parent, resolver), overrides)
    emulator.start()
    server = ThreadingHTTPServer((host, port), _handler_class(emulator))
    server.daemon_threads = True

    def stop(*_: Any) -> None:
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"lambda emulator listening on http://{host}:{server.server_port} "
          f"({', '.join(sorted(emulator.pools))})", flush=True)
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
    parser.add_argument("--ref", action="append", default=[],
                        help="LogicalId=physical name, for !Ref to resources")
    args = parser.parse_args(argv)
    if args.host not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("the emulator only listens on loopback")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    serve(args.template, args.host, args.port, _pairs(args.env, "--env"),
          _pairs(args.parameter, "--parameter"), _pairs(args.ref, "--ref"))


if __name__ == "__main__":
    main()
