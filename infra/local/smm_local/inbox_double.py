"""A local double of chat incoming webhooks (Slack's shape), on loopback: the shared review
channel and each reviewer's private inbox. ``POST /hooks/<name>`` records the JSON message and
answers ``ok`` as Slack does; tests read who received what. Chat services cannot run here;
production never uses this.
"""

from __future__ import annotations

import argparse
import json
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from smm_local.http_double import DoubleHandler, serve


@dataclass
class InboxDouble:
    lock: threading.Lock = field(default_factory=threading.Lock)
    messages: list[dict[str, Any]] = field(default_factory=list)
    controls: dict[str, Any] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        return {"messages": self.messages}


class Handler(DoubleHandler):
    double: InboxDouble

    def handle_api(self) -> None:
        if self.control():
            return
        path, _ = self.route()
        body = self.body()
        # Slack's documented incoming-webhook answers are plain text: "ok", or an error code
        # ("no_service" 404, "invalid_payload" 400, "no_text" 400).
        if self.command != "POST" or not path.startswith("/hooks/"):
            self._text(404, "no_service")
            return
        try:
            message = json.loads(body)
        except json.JSONDecodeError:
            self._text(400, "invalid_payload")
            return
        if not isinstance(message, dict) or not message.get("text"):
            self._text(400, "no_text")
            return
        with self.double.lock:
            self.double.messages.append({"inbox": unquote(path[len("/hooks/") :]), "body": message})
        self._text(200, "ok")

    def _text(self, status: int, text: str) -> None:
        data = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = handle_api


def main() -> None:
    parser = argparse.ArgumentParser(description="local chat-webhook inbox double (loopback)")
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    serve(InboxDouble(), Handler, args.port)
    print(f"inbox double on http://127.0.0.1:{args.port}/hooks/", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
