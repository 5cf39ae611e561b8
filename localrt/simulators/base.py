"""What every simulator shares: a threaded HTTP server on 127.0.0.1, fault injection, a request log."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

FAULT_KINDS = ("429", "500", "malformed", "timeout", "fail_job", "never_complete", "out_of_credits")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] | None = None
    raw: bytes | None = None
    content_type: str = "application/json"


@dataclass
class Fault:
    kind: str
    remaining: int
    path: str | None = None
    seconds: float = 0


def stable_fraction(*parts: str) -> float:
    """A number in [0, 1) fixed by the inputs, so simulated answers are repeatable."""
    return int(hashlib.sha256("|".join(parts).encode()).hexdigest()[:8], 16) / 0x100000000


class Simulator:
    """Subclasses implement `route(request) -> Response` and may use the helpers."""

    name = "vendor"

    def __init__(self, *, credits: float = 1_000_000, api_key: str = "sim-key") -> None:
        self.lock = threading.RLock()
        self.credits = credits
        self.api_key = api_key
        self.faults: deque[Fault] = deque()
        self.log: list[tuple[float, str, str, int, str | None]] = []  # (time, method, path, status, fault)
        self._window = (0, 0)  # (minute, requests counted in it)
        self._server: ThreadingHTTPServer | None = None

    # ---- fault injection ----

    def inject(self, kind: str, times: int = 1, path: str | None = None, seconds: float = 0) -> None:
        """Make the next `times` matching requests fail as `kind` (see FAULT_KINDS)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        with self.lock:
            if kind == "out_of_credits":
                self.credits = 0
                return
            self.faults.append(Fault(kind, times, path, seconds))

    def take_fault(self, path: str, kinds: tuple[str, ...] = ("429", "500", "malformed", "timeout")) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.kind in kinds and fault.remaining > 0 and (fault.path is None or fault.path == path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def reset(self) -> None:
        """Back to a clean account between tests: no pending faults, credits restored."""
        with self.lock:
            self.faults.clear()
            self.credits = 1_000_000

    def jobs_created(self) -> int | None:
        """How many vendor jobs exist (None for a vendor without jobs): each chunk should make one."""
        return None

    def admit(self, limit_per_minute: int, cost: int = 1) -> tuple[bool, int, float]:
        """A fixed one-minute window, as vendors count: (allowed, requests left, seconds to the reset)."""
        now = time.time()
        minute = int(now // 60)
        with self.lock:
            window, used = self._window
            used = used if window == minute else 0
            allowed = used + cost <= limit_per_minute
            if allowed:
                used += cost
            self._window = (minute, used)
        return allowed, max(0, limit_per_minute - used), 60 - now % 60

    def credentials(self) -> dict[str, str]:
        """What the vendor's secret holds for this simulator."""
        return {"api_key": self.api_key}

    def calls(self, path: str) -> int:
        with self.lock:
            return sum(1 for _, _, p, _, _ in self.log if p == path)

    # ---- HTTP ----

    @property
    def url(self) -> str:
        assert self._server is not None, "simulator not started"
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self, port: int = 0) -> Simulator:
        simulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query),
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                response = simulator.handle(request)
                payload = response.raw if response.raw is not None else json.dumps(response.body).encode()
                self.send_response(response.status)
                self.send_header("Content-Type", response.content_type)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in (response.headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:  # quiet: the simulator keeps its own log
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name=f"{self.name}-sim", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def handle(self, request: Request) -> Response:
        if request.path == "/_sim/faults" and request.method == "POST":
            spec = request.json() or {}
            try:
                self.inject(spec["kind"], int(spec.get("times", 1)), spec.get("path"), float(spec.get("seconds", 0)))
            except (KeyError, ValueError) as exc:
                return Response(400, {"error": str(exc)})
            return Response(200, {"ok": True})
        fault = self.take_fault(request.path)
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.seconds or 10)  # the client gives up first; the request is then served late
        response = self.fault_response(fault) if fault and fault.kind != "timeout" else self.route(request)
        with self.lock:
            # A timed-out request is still processed (late), as a real server would: not marked as a fault.
            marked = fault.kind if fault and fault.kind != "timeout" else None
            self.log.append((time.time(), request.method, request.path, response.status, marked))
        return response

    def served(self, path: str) -> int:
        """Requests to `path` the vendor really processed (status 200, no injected fault)."""
        with self.lock:
            return sum(1 for _, _, p, status, fault in self.log if p == path and status == 200 and not fault)

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "429":
            return Response(429, {"error": "Request rate limit exceeded. Please wait and try again later."})
        if fault.kind == "500":
            return Response(500, {"error": "An unexpected error occurred on the server."})
        return Response(200, raw=b'{"data": {"truncated', content_type="application/json")

    def route(self, request: Request) -> Response:
        raise NotImplementedError
