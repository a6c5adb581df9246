"""The worker's health endpoint and its own metrics (Prometheus text format).

`GET /healthz` answers 200 while the worker polls and 503 once it is shutting down;
`GET /metrics` exposes dispatch counts by kind and outcome. Temporal SDK metrics (task
latencies, slots, polls) are served by the SDK itself on SMM_TEMPORAL_METRICS_PORT.
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class DispatchCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str]] = Counter()

    def add(self, kind: str, outcome: str) -> None:
        with self._lock:
            self._counts[(kind, outcome)] += 1

    def render(self) -> str:
        lines = [
            "# HELP smm_dispatch_total Activities dispatched to Lambda, by kind and outcome.",
            "# TYPE smm_dispatch_total counter",
        ]
        with self._lock:
            for (kind, outcome), count in sorted(self._counts.items()):
                lines.append(f'smm_dispatch_total{{kind="{kind}",outcome="{outcome}"}} {count}')
        return "\n".join(lines) + "\n"


class HealthServer:
    def __init__(self, port: int, counters: DispatchCounters) -> None:
        self.healthy = False
        health = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                if self.path == "/healthz":
                    status, body = (200, b"ok\n") if health.healthy else (503, b"stopping\n")
                    kind = "text/plain"
                elif self.path == "/metrics":
                    status, body, kind = (
                        200,
                        counters.render().encode(),
                        "text/plain; version=0.0.4",
                    )
                else:
                    status, body, kind = 404, b"not found\n", "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self._server = ThreadingHTTPServer(("0.0.0.0", port), Handler)
        self._server.daemon_threads = True

    def start(self) -> None:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()
