# Copyright (c) freshdock.core contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A scriptable HTTP server on 127.0.0.1 for protocol edge cases a real registry will not produce."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    status: int = 200
    headers: list = field(default_factory=list)  # [(name, value)], repeats allowed
    body: bytes = b""
    delay: float = 0.0


class FakeRegistry:
    """Routes (method, path-prefix) to a Reply or a callable(handler) -> Reply; records every request."""

    def __init__(self) -> None:
        self.routes: dict = {}
        self.requests: list = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def handle(self) -> None:
                # Like Go's net/http: a TLS hello on a plain port gets an immediate error, not a hang.
                if self.request.recv(1, socket.MSG_PEEK) == b"\x16":
                    self.request.sendall(b"HTTP/1.0 400 Bad Request\r\n\r\n")
                    return
                super().handle()

            def _serve(self) -> None:
                fake.requests.append((self.command, self.path, dict(self.headers)))
                reply = fake.lookup(self.command, self.path)
                if callable(reply):
                    reply = reply(self)
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status)
                names = {name.lower() for name, _value in reply.headers}
                for name, value in reply.headers:
                    self.send_header(name, value)
                if "content-length" not in names:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply.body)

            do_GET = do_HEAD = do_POST = _serve

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True)

    def lookup(self, method: str, path: str):
        best = None
        for (route_method, prefix), reply in self.routes.items():
            if route_method == method and path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
                best = (prefix, reply)
        return best[1] if best else Reply(404, [("Content-Type", "application/json")], b'{"errors":[{"code":"NOT_FOUND"}]}')

    def count(self, method: str, prefix: str = "") -> int:
        return sum(1 for m, path, _headers in self.requests if m == method and path.startswith(prefix))

    def __enter__(self) -> FakeRegistry:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
