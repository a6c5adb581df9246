"""Small process helpers of the local stack: ports, binaries, the stack's payload keys."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[3]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, proc: subprocess.Popen[Any], what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with status {proc.returncode} while starting")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{what} did not open port {port} within {timeout:.0f}s")


def local_payload_keys(state_dir: Path) -> str:
    """The stack's payload encryption keys: the local stack encrypts like production, so
    every test and the demo run with sealed payloads. Kept in the state folder, so a
    persistent `smm-local dev` stack can still read its old histories after a restart."""
    path = state_dir / "payload-keys.json"
    if not path.exists():
        state_dir.mkdir(parents=True, exist_ok=True)
        key = base64.b64encode(os.urandom(32)).decode()
        path.write_text(json.dumps({"active": "local-1", "keys": {"local-1": key}}))
        path.chmod(0o600)
    return path.read_text()


def font_files() -> Path:
    """The fonts layer as SAM builds it (make setup: layers/fonts/dist), /opt/fonts on AWS."""
    built = ROOT / "layers" / "fonts" / "dist" / "fonts"
    if not (built / "chain.json").exists():
        raise RuntimeError(f"{built} is missing: run `make setup` (it builds the fonts layer)")
    return built


def bin_path(name: str) -> str:
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise FileNotFoundError(f"{name} not found: run 'make setup' first")
    return found


def get_json(url: str) -> dict[str, Any]:
    """GET a control endpoint of a local process (the emulator, a double) on loopback."""
    with urllib.request.urlopen(url, timeout=5) as resp:
        answer: dict[str, Any] = json.load(resp)
    return answer


def post_json(url: str, body: dict[str, Any]) -> None:
    """POST settings to a control endpoint of a local process on loopback."""
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    urllib.request.urlopen(req, timeout=5).close()


def ensure_search_attributes(address: str, namespace: str = "smm-hub-core") -> None:
    """A persistent dev database (`make dev`, `make demo`) from before an attribute existed:
    start-dev's --search-attribute flags only apply to a fresh one, and the worker refuses to
    start without them, so add what is missing through the operator API."""
    from temporalio.client import Client

    from orchestrator.visibility.attributes import register_search_attributes

    async def register() -> None:
        await register_search_attributes(await Client.connect(address, namespace=namespace))

    asyncio.run(register())


class ExitWatch:
    """Interrupts this process (SIGINT, so a wait on Temporal ends too) when ``proc`` exits
    while the job still needs it: a demo whose worker died at start would otherwise wait for
    its workflows forever. ``died`` holds the exit status once it has."""

    def __init__(self, proc: subprocess.Popen[Any], every_s: float = 0.5) -> None:
        self.proc, self.every_s = proc, every_s
        self.died: int | None = None
        self._done = threading.Event()

    def _watch(self) -> None:
        while not self._done.wait(self.every_s):
            code = self.proc.poll()
            if code is not None:
                self.died = code
                os.kill(os.getpid(), signal.SIGINT)
                return

    def __enter__(self) -> ExitWatch:
        threading.Thread(target=self._watch, name="exit-watch", daemon=True).start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
