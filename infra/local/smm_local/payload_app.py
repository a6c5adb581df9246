"""The real Payload 3 of the local stack (infra/payload/app: Payload's REST handler on a Node
HTTP server, SQLite in the stack's state folder), and what tests and the demo do with it
through its REST API, as the worker and an editor would."""

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

APP = Path(__file__).resolve().parents[2] / "payload" / "app"
ENGINE_EMAIL = "engine@example.com"


@dataclass
class PayloadApp:
    port: int
    api_key: str
    database: Path
    log: Any = None
    user_slug: str = "users"
    env: dict[str, str] = field(default_factory=dict)  # e.g. the trigger's URL and secret
    proc: subprocess.Popen[Any] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

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
            "NODE_ENV": "development",
            **self.env,
        }
        self.proc = subprocess.Popen(
            ["node", "server.mjs", "--port", str(self.port)],
            cwd=APP,
            env=env,
            stdout=self.log or subprocess.DEVNULL,
            stderr=subprocess.STDOUT if self.log else subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port, self.proc, "Payload", timeout=120)

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
