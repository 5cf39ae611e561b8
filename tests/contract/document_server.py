"""A tiny HTTP server on 127.0.0.1 that answers as a vendor's documents say, written apart from the
simulators in `localrt/` (it imports nothing from them), so a run against it checks the adapters against the
documents rather than against a simulator written beside them. Each vendor's documented answers are a
`route(request) -> Answer` function in `tests/contract/servers/<vendor>.py`."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Answer:
    status: int
    body: Any = None  # JSON unless `text` is given
    text: str | None = None
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


class DocumentServer:
    """Serves `route` on an ephemeral loopback port; `calls` keeps every request, in order."""

    def __init__(self, route: Callable[[Call, DocumentServer], Answer]) -> None:
        self.route = route
        self.calls: list[Call] = []
        self.state: dict[str, Any] = {}  # what the route remembers between calls (jobs, counters)
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "server not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> DocumentServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                call = Call(
                    self.command,
                    parts.path,
                    {k: v[-1] for k, v in parse_qs(parts.query).items()},
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(int(self.headers.get("Content-Length") or 0)),
                )
                with server.lock:
                    server.calls.append(call)
                answer = server.route(call, server)
                payload = (answer.text if answer.text is not None else json.dumps(answer.body)).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", answer.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in answer.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def calls_to(self, method: str, path: str) -> list[Call]:
        with self.lock:
            return [c for c in self.calls if c.method == method and c.path == path]
