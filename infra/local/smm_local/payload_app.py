"""The real Payload 3 of the local stack (infra/payload/app, SQLite in the stack's state
folder), and what tests and the demo do with it through its REST API, as the worker and an
editor would. Two ways to serve the same config: Payload's REST handler on a small Node
server (starts in about a second: the tests and the demo), or Next.js with Payload's admin at
/admin beside the same REST API (`admin=True`: `make dev` and the admin's browser test; it
needs `make admin`'s build)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from smm_local.loopback import wait_for_port
from smm_local.postiz_double import CHANNEL_SETTINGS, DEFAULT_INTEGRATIONS
from smm_local.principals import PAYLOAD_MEDIA, credentials

APP = Path(__file__).resolve().parents[2] / "payload" / "app"
ENGINE_EMAIL = "engine@example.com"
ADMIN_BUILD = APP / ".next" / "BUILD_ID"


def fresh_database(state_dir: Path, port: int, persistent: bool) -> Path:
    """The app's SQLite file: kept across runs of a persistent stack (`make dev`), else new."""
    database = state_dir / ("payload.db" if persistent else f"payload-{port}.db")
    if not persistent:
        database.unlink(missing_ok=True)
    return database


def engine_env(
    trigger_url: str, trigger_secret: str, bucket: str, s3_url: str, account: str | None
) -> dict[str, str]:
    """What the local app's config reads: the trigger it starts publishes through; for
    composing in the admin, the settings each of the double's providers is posted with (the
    channels themselves come from the engine, for ``account``; the double's list is the
    choice only for unbilled work); and uploads to the engine's bucket as Payload's own
    principal (template.yaml's PayloadMediaPolicy), for ``account`` (None: the operator's own,
    unbilled)."""
    channels = [
        {"id": channel, "label": f"{channel} ({provider})"}
        for channel, provider in DEFAULT_INTEGRATIONS.items()
    ]
    by_provider = {
        DEFAULT_INTEGRATIONS[channel]: settings for channel, settings in CHANNEL_SETTINGS.items()
    }
    return {
        "SMM_TRIGGER_URL": trigger_url,
        "SMM_TRIGGER_SECRET": trigger_secret,
        "SMM_PAYLOAD_CHANNELS": json.dumps(channels),
        "SMM_PAYLOAD_CHANNEL_SETTINGS": json.dumps(by_provider),
        "SMM_PAYLOAD_BUCKET": bucket,
        "SMM_PAYLOAD_ACCOUNT": account or "",
        "SMM_PAYLOAD_S3_ENDPOINT": s3_url,
        "AWS_REGION": "us-east-1",
        **credentials(PAYLOAD_MEDIA),
    }


@dataclass(frozen=True)
class Person:
    """Someone who signs in to the admin (made on start, by the config's onInit)."""

    email: str
    password: str
    roles: tuple[str, ...] = ("editor",)
    api_key: str | None = None

    def as_json(self) -> dict[str, Any]:
        person = {"email": self.email, "password": self.password, "roles": list(self.roles)}
        return person | ({"apiKey": self.api_key} if self.api_key else {})


@dataclass
class PayloadApp:
    port: int
    api_key: str
    database: Path
    log: Any = None
    user_slug: str = "users"
    env: dict[str, str] = field(default_factory=dict)  # e.g. the trigger's URL and secret
    admin: bool = False  # Next.js with Payload's admin, not the REST-only server
    people: tuple[Person, ...] = ()
    proc: subprocess.Popen[Any] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def manager(self) -> Person:
        """The app's admin (only an admin adds people or changes roles): tests add editors
        and viewers through it, by API key, as an admin would in the admin."""
        return Person(
            "admin@example.com", f"admin-{self.api_key}", ("admin",), f"admin-{self.api_key}"
        )

    def add_person(self, person: Person) -> None:
        body = person.as_json() | ({"enableAPIKey": True} if person.api_key else {})
        status, answer = self.call("POST", "users", body, key=self.manager.api_key)
        if status != 201:
            raise RuntimeError(f"Payload refused to add {person.email}: {answer}")

    def start(self) -> None:
        # Payload keys its API-key index with this secret: it must outlive the port, or a
        # persistent database (`make dev`, `make demo` again) no longer knows the engine's key.
        env = {
            **os.environ,
            "PAYLOAD_SECRET": f"local-payload-secret-{self.database.name}",
            # Absolute: the server runs in its own folder (a relative state dir would miss).
            "PAYLOAD_DATABASE_URL": f"file:{self.database.resolve()}",
            "SMM_PAYLOAD_ENGINE_EMAIL": ENGINE_EMAIL,
            "SMM_PAYLOAD_API_KEY": self.api_key,
            "NODE_ENV": "production" if self.admin else "development",
            "NEXT_TELEMETRY_DISABLED": "1",
            "SMM_PAYLOAD_USERS": json.dumps([p.as_json() for p in (*self.people, self.manager)]),
            **self.env,
        }
        if self.admin:
            if not ADMIN_BUILD.exists():
                raise RuntimeError(
                    f"Payload's admin is not built ({ADMIN_BUILD}): run `make admin`"
                )
            # A production server does not push the schema (it expects migrations): push it
            # as the REST-only server does on its own start, then serve.
            subprocess.run(
                ["node", "prepare-db.mjs"],
                cwd=APP,
                env={**env, "NODE_ENV": "development"},
                stdout=self.log or subprocess.DEVNULL,
                stderr=subprocess.STDOUT if self.log else subprocess.DEVNULL,
                check=True,
                timeout=120,
            )
        next_bin = str(APP / "node_modules" / ".bin" / "next")
        command = (
            [next_bin, "start", "-H", "127.0.0.1", "-p", str(self.port)]
            if self.admin
            else ["node", "server.mjs", "--port", str(self.port)]
        )
        self.proc = subprocess.Popen(
            command,
            cwd=APP,
            env=env,
            stdout=self.log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self.log else subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, self.proc, "Payload", timeout=120)
        if self.admin:
            # Next.js starts Payload on the first request; its onInit makes the engine's
            # user. Answered (401 or 200) means ready.
            self.call("GET", "users/me")

    def stop(self) -> None:
        """Payload down: connections are refused until ``start``."""
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGCONT)  # a paused Payload must hear the TERM
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def pause(self) -> None:
        """Payload hangs: connections open, nothing answers (slower than any timeout)."""
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGCONT)

    def call(
        self, method: str, path: str, body: Any | None = None, key: str | None = None
    ) -> tuple[int, Any]:
        """One REST call as the engine's API user (or another key), answered as JSON."""
        request = urllib.request.Request(
            f"{self.url}/api/{path}",
            method=method,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Content-Type": "application/json",
                "Authorization": f"{self.user_slug} API-Key {key or self.api_key}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return answer.status, json.load(answer)
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read() or b"{}")

    def create_doc(self, collection: str, doc_id: str, title: str = "") -> dict[str, Any]:
        """What an editor's save does: the document exists before the engine reports to it."""
        status, answer = self.call("POST", collection, {"id": doc_id, "title": title or doc_id})
        if status != 201:
            raise RuntimeError(f"Payload refused to create {collection}/{doc_id}: {answer}")
        doc: dict[str, Any] = answer["doc"]
        return doc

    def doc(self, collection: str, doc_id: str) -> dict[str, Any] | None:
        status, answer = self.call("GET", f"{collection}/{quote(doc_id)}")
        return answer if status == 200 else None

    def versions(self, collection: str, doc_id: str) -> list[dict[str, Any]]:
        """Every saved state of the document, oldest first."""
        query = urlencode(
            {"where[parent][equals]": doc_id, "sort": "createdAt", "limit": "500", "depth": "0"}
        )
        status, answer = self.call("GET", f"{collection}/versions?{query}")
        return [v["version"] for v in answer["docs"]] if status == 200 else []

    def stages(self, collection: str, doc_id: str) -> list[str]:
        """Every stage the engine reported to the document, in the order Payload saved them
        (an editor's saves in between are versions too, carrying no new report)."""
        stages, seen = [], set()
        for version in self.versions(collection, doc_id):
            seq = version.get("engineSeq")
            if seq is not None and seq not in seen and version.get("engineStage"):
                seen.add(seq)
                stages.append(str(version["engineStage"]))
        return stages
