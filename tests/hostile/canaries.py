"""Canaries that prove nothing was reached: a loopback HTTP server that counts requests, and
a named pipe that notices being opened."""

from __future__ import annotations

import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class HttpCanary:
    def __init__(self) -> None:
        self.hits: list[str] = []
        canary = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                canary.hits.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_POST = do_GET

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class FileCanary:
    """A FIFO standing in for a local file (a secret, a segment) a playlist could name.

    Opening a FIFO for writing without blocking succeeds only while someone holds it open
    for reading, so a watcher that keeps trying sees any reader, however brief its visit
    (a reader with no writer blocks in open, which makes it very visible).
    """

    def __init__(self, folder: Path, name: str = "secret.ts") -> None:
        self.path = folder / name
        os.mkfifo(self.path)
        self.opened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # ENXIO: nobody is reading
                time.sleep(0.002)
                continue
            self.opened += 1
            os.close(fd)
            time.sleep(0.01)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
