"""What every simulator shares: a threaded HTTP server on 127.0.0.1, fault injection, a request log, a ledger.

The ledger (`Simulator.ledger()`) counts, since the last `reset()`, what the vendor was asked and what it
charged: submissions to the submit route, the paid ones, paid ones that repeat a record an earlier paid
submission already held (money spent twice), credits charged, and answers that carried results.

The same ledger is kept per job (`Simulator.ledger(job_id)`). No vendor request names our job for every vendor
(Check365's upload carries a job_id of ours; Pubrio, Prospeo and InsideView get only the rows' ids, which two jobs of
the same rows share), so the job is the caller's: the local runtime runs the functions in-process and tags each
request a function sends to a simulator with the job of the invocation sending it (`JOB_HEADER`, added by
localrt/lambdas.py, never by the product's code, never to a live vendor). A request without it (a test calling the
simulator itself) counts in the totals only. A charge made when a vendor job completes goes to the job that
submitted it, whoever asks.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

FAULT_KINDS = (
    "429",
    "500",
    "malformed",
    "timeout",
    "fail_job",
    "never_complete",
    "out_of_credits",
    "accept_then_drop",
    "crash_after_accept",
    "hourly_quota",
    "daily_quota",
    "account_blocked",
)
# Answered in place of the request, like "429" and "500" (the rest are the vendor's own business).
ANSWER_FAULTS = ("429", "500", "malformed", "timeout", "hourly_quota", "daily_quota", "account_blocked")
# The reset a quota fault announces when none is given (`seconds`): a short wait, so a local run shows it.
QUOTA_RESET_SECONDS = 5
# Faults that only ever apply to the submit route (`path=None` means the vendor's submit path). The vendor
# processes the request in full; then either the connection is closed before any answer is written
# (accept_then_drop) or the answer carries CRASH_HEADER, which the local runtime turns into the death of the
# calling Lambda (crash_after_accept).
SUBMIT_FAULTS = ("accept_then_drop", "crash_after_accept")
CRASH_HEADER = "X-Sim-Crash-Caller"
LEDGER_KEYS = ("submissions", "paid_submissions", "duplicate_paid_submissions", "credits_charged", "answers_served")
# The job of the invocation that sent a request (see the module's doc): set by the local runtime, read by the ledger.
JOB_HEADER = "X-Localrt-Job"


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
    drop: bool = False  # close the connection without writing anything (accept_then_drop)


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
    submit_path = "/submit"  # the vendor's submit route (always a POST)
    fault_kinds: ClassVar[tuple[str, ...]] = FAULT_KINDS  # a vendor adds the faults only its answers have

    def __init__(self, *, credits: float = 1_000_000, api_key: str = "sim-key") -> None:
        self.lock = threading.RLock()
        self.credits = credits
        self.api_key = api_key
        self.faults: deque[Fault] = deque()
        self.log: list[tuple[float, str, str, int, str | None]] = []  # (time, method, path, status, fault)
        self._window = (0, 0)  # (minute, requests counted in it)
        self.counted: list[tuple[float, int]] = []  # (time, requests) admitted against the per-minute limit
        self._server: ThreadingHTTPServer | None = None
        self.charged_total = 0.0  # every credit charged since start (subclasses add to it)
        self._credits_after: int | None = None  # out_of_credits after=k: submissions still served normally
        self._caller = threading.local()  # the job of the request this server thread is handling
        self._reset_ledger()

    # ---- the ledger ----

    def _reset_ledger(self) -> None:
        with self.lock:
            self.submissions = 0
            self.paid_submissions = 0
            self.duplicate_paid_submissions = 0
            self.answers_served = 0
            self._paid_keys: set[str] = set()
            self._charged_at_reset = getattr(self, "charged_total", 0.0)
            self._jobs: dict[str, dict[str, float]] = {}  # job id -> its ledger (LEDGER_KEYS)
            self._job_paid_keys: dict[str, set[str]] = {}

    def caller_job(self) -> str | None:
        """The job whose invocation sent the request being handled (JOB_HEADER), if it said."""
        return getattr(self._caller, "job", None)

    def _count(self, job: str | None, key: str, amount: float = 1) -> None:
        if job:
            with self.lock:
                ledger = self._jobs.setdefault(job, dict.fromkeys(LEDGER_KEYS, 0))
                ledger[key] += amount

    def record_paid(self, keys: Iterable[str]) -> None:
        """A submission the vendor accepted and that costs (or will cost) money, holding these record keys.
        A duplicate in a job's ledger repeats a record the same job already paid for."""
        keys = set(keys)
        job = self.caller_job()
        with self.lock:
            self.paid_submissions += 1
            if keys & self._paid_keys:
                self.duplicate_paid_submissions += 1
            self._paid_keys |= keys
            if job:
                self._count(job, "paid_submissions")
                paid = self._job_paid_keys.setdefault(job, set())
                if keys & paid:
                    self._count(job, "duplicate_paid_submissions")
                paid |= keys

    def charge(self, credits: float, job: str | None) -> None:
        """Take `credits` from the account, counted against `job` (the one that submitted the work)."""
        with self.lock:
            self.credits -= credits
            self.charged_total += credits
            self._count(job, "credits_charged", credits)

    def carries_results(self, request: Request, response: Response) -> bool:
        """Whether this answer carries results (counted in the ledger's answers_served); per vendor."""
        return False

    def ledger(self, job_id: str | None = None) -> dict[str, float | int]:
        """What the vendor was asked and charged since the last reset (keys: LEDGER_KEYS): in all, or for
        one job only (zeros for a job it never heard of)."""
        with self.lock:
            if job_id is not None:
                ledger = self._jobs.get(job_id, dict.fromkeys(LEDGER_KEYS, 0))
                return {key: int(ledger[key]) if key != "credits_charged" else ledger[key] for key in LEDGER_KEYS}
            return {
                "submissions": self.submissions,
                "paid_submissions": self.paid_submissions,
                "duplicate_paid_submissions": self.duplicate_paid_submissions,
                "credits_charged": self.charged_total - self._charged_at_reset,
                "answers_served": self.answers_served,
            }

    # ---- fault injection ----

    def inject(
        self, kind: str, times: int = 1, path: str | None = None, seconds: float = 0, after: int | None = None
    ) -> None:
        """Make the next `times` matching requests fail as `kind` (see FAULT_KINDS and the vendor's `fault_kinds`).
        `seconds`: how late a timeout answers, or when a quota fault's quota resets.

        `out_of_credits` empties the account at once, or with `after=k` once k submissions have been
        served normally (the k+1th finds no credits). The SUBMIT_FAULTS apply to the submit path only."""
        if kind not in self.fault_kinds:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(self.fault_kinds)}")
        if after is not None and (kind != "out_of_credits" or after < 0):
            raise ValueError("after=k (k >= 0) goes with out_of_credits only")
        with self.lock:
            if kind == "out_of_credits":
                if after:
                    self._credits_after = after
                else:
                    self._credits_after = None
                    self.credits = 0
                return
            if kind in SUBMIT_FAULTS:
                path = path or self.submit_path
            self.faults.append(Fault(kind, times, path, seconds))

    def take_fault(self, path: str, kinds: tuple[str, ...] = ANSWER_FAULTS) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.kind in kinds and fault.remaining > 0 and (fault.path is None or fault.path == path):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def reset(self) -> None:
        """Back to a clean account between tests: no pending faults, credits restored, an empty ledger."""
        with self.lock:
            self.faults.clear()
            self.credits = 1_000_000
            self._credits_after = None
            self._reset_ledger()

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
                self.counted.append((now, cost))
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
                if response.drop:  # processed, but the connection goes away before any answer
                    self.close_connection = True
                    return
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
            try:
                spec = request.json() or {}
                after = spec.get("after")
                self.inject(
                    spec["kind"],
                    int(spec.get("times", 1)),
                    spec.get("path"),
                    float(spec.get("seconds", 0)),
                    None if after is None else int(after),
                )
            except (KeyError, ValueError, TypeError, AttributeError) as exc:
                return Response(400, {"error": str(exc)})
            return Response(200, {"ok": True})
        self._caller.job = request.headers.get(JOB_HEADER.lower()) or None
        submit = request.method == "POST" and request.path == self.submit_path
        if submit:
            self._count(self.caller_job(), "submissions")
            with self.lock:
                self.submissions += 1
                if self._credits_after is not None:  # out_of_credits after=k
                    if self._credits_after <= 0:
                        self.credits = 0
                        self._credits_after = None
                    else:
                        self._credits_after -= 1
        fault = self.take_fault(request.path)
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.seconds or 10)  # the client gives up first; the request is then served late
        after_fault = None
        if fault and fault.kind != "timeout":
            response = self.fault_response(fault)
        else:
            after_fault = self.take_fault(request.path, SUBMIT_FAULTS) if submit else None
            response = self.route(request)
            if after_fault is not None and after_fault.kind == "accept_then_drop":
                response.drop = True
            elif after_fault is not None:  # crash_after_accept
                response.headers = (response.headers or {}) | {CRASH_HEADER: "1"}
        with self.lock:
            # A timed-out request is still processed (late), as a real server would: not marked as a fault.
            marked = fault.kind if fault and fault.kind != "timeout" else after_fault.kind if after_fault else None
            self.log.append((time.time(), request.method, request.path, response.status, marked))
            if not response.drop and self.carries_results(request, response):
                self.answers_served += 1
                self._count(self.caller_job(), "answers_served")
        return response

    def served(self, path: str) -> int:
        """Requests to `path` the vendor really processed (status 200; no injected fault, or one of the
        SUBMIT_FAULTS, which strike after the vendor processed the request)."""
        with self.lock:
            return sum(
                1
                for _, _, p, status, fault in self.log
                if p == path and status == 200 and (not fault or fault in SUBMIT_FAULTS)
            )

    def fault_response(self, fault: Fault) -> Response:
        """The answer a fault gives; vendors override it with their own wording."""
        if fault.kind == "429":
            return Response(429, {"error": "Request rate limit exceeded. Please wait and try again later."})
        if fault.kind == "500":
            return Response(500, {"error": "An unexpected error occurred on the server."})
        if fault.kind in ("hourly_quota", "daily_quota"):
            period = fault.kind.removesuffix("_quota")
            return Response(
                429,
                {"error": f"The {period} request quota of your plan is reached."},
                headers={"Retry-After": str(round(self.quota_reset(fault)))},
            )
        if fault.kind == "account_blocked":
            return Response(403, {"error": "This account is suspended."})
        return Response(200, raw=b'{"data": {"truncated', content_type="application/json")

    @staticmethod
    def quota_reset(fault: Fault) -> float:
        """Seconds until a quota fault's quota resets (`seconds`, or a short default)."""
        return fault.seconds or QUOTA_RESET_SECONDS

    def route(self, request: Request) -> Response:
        raise NotImplementedError
