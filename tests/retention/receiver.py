"""A webhook receiver on loopback for the alert tests: fails the first N requests, checks
every signature the way docs/alerts.md tells a real receiver to, and keeps what it got."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from serving.alerts.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, verify_signature

SECRET = "test-secret-0123456789abcdef"


@dataclass
class Receiver:
    """Fails the first ``failures`` requests with ``fail_status``; ``requests`` holds each
    request's signature check, delivery id, JSON body and arrival time."""

    failures: int = 0
    fail_status: int = 503
    delay: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def wait(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        return self.requests


@contextmanager
def receiving(secret: str = SECRET) -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            time.sleep(state.delay)
            state.requests.append({
                "valid": verify_signature(secret, self.headers[SIGNATURE_HEADER], body),
                "delivery": self.headers[DELIVERY_HEADER], "body": json.loads(body),
                "at": time.monotonic()})
            failing = len(state.requests) <= state.failures
            self.send_response(state.fail_status if failing else 200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/cx"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
