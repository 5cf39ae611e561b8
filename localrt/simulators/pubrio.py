"""Pubrio simulator: POST /redeem/people/batch and /redeem/people/batch/query, as documented.

Redeems complete `processing_seconds` after submission (the `estimated_time` the simulator announces
is, as estimates are, a little short, so a client polls more than once); credits are charged at completion for
each contact detail returned (email 15, phone 30, as in Pubrio's example profile), and the query answer's
`profile.total_charged_credit` is that redeem's charge (inferred, as the adapter reads it). A fixed window of
`requests_per_minute` gives the documented 429 {error}; errors are the documented 400 {code, message, details}
and 500 {error} with the documented wording. Inferred: a bad key is a 400 {code, message, details} saying so
(as Pubrio was seen to answer it), a lack of credits a 402; the quota faults answer 429 {error} naming the
hourly or daily quota, with Retry-After; a blocked account, a 400 saying the workspace is suspended.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from localrt.simulators.base import Fault, Request, Response, Simulator, stable_fraction

PRICES = {"email-personal": 15, "email-work": 15, "phone": 30}
CONTACT_TYPES = set(PRICES)


@dataclass
class Redeem:
    redeem_query_id: str
    peoples: list[str]
    contact_types: list[str]
    submitted_at: float
    ready_at: float
    estimated_time: int
    fail: bool = False
    never_complete: bool = False
    charged: float | None = None
    submitted_by: str | None = None  # the job that submitted it: its ledger is charged
    results: list[dict[str, Any]] = field(default_factory=list)


def _error(status: int, message: str, code: int = 40001) -> Response:
    """The documented error body. Codes are documented only by the example 40001 ("codes will vary"):
    every 400 here carries it, and the adapter reads the message."""
    return Response(status, {"code": code, "message": message, "details": {}})


RATE_LIMITED = "Request rate limit exceeded. Please wait and try again later."  # documented
SERVER_ERROR = "An unexpected error occurred on the server."  # documented


class PubrioSimulator(Simulator):
    name = "pubrio"
    submit_path = "/redeem/people/batch"

    def __init__(
        self, *, estimated_time: int = 1, processing_seconds: float = 1.8, requests_per_minute: int = 300, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.estimated_time = estimated_time
        self.processing_seconds = processing_seconds
        self.requests_per_minute = requests_per_minute
        self.redeems: dict[str, Redeem] = {}
        self.charged_total = 0.0

    def jobs_created(self) -> int:
        with self.lock:
            return len(self.redeems)

    def route(self, request: Request) -> Response:
        if request.headers.get("pubrio-api-key") != self.api_key:
            return _error(400, "Invalid API key.")  # inferred: a 400, not a 401 (only 400/429/500 are documented)
        if not self.admit(self.requests_per_minute)[0]:
            return Response(429, {"error": RATE_LIMITED})
        try:
            body = request.json()
        except ValueError:
            return _error(400, "Request body must be JSON.")
        if request.method == "POST" and request.path == "/redeem/people/batch":
            return self._submit(body)
        if request.method == "POST" and request.path == "/redeem/people/batch/query":
            return self._query(body)
        return Response(404, {"error": "Not found."})

    def _submit(self, body: Any) -> Response:
        if not isinstance(body, dict) or not isinstance(body.get("peoples"), list) or not body["peoples"]:
            return _error(400, "peoples is required: a list of people_search_id.")
        types = body.get("people_contact_types")
        if not isinstance(types, list) or not types or not set(types) <= CONTACT_TYPES:
            return _error(400, "people_contact_types must list email-personal, email-work or phone.")
        for people in body["peoples"]:
            try:
                uuid.UUID(str(people))
            except ValueError:
                return _error(400, f"Invalid people_search_id: {str(people)[:40]}.")
        with self.lock:
            if self.credits <= 0:
                return Response(402, {"code": 40201, "message": "Insufficient credits.", "details": {}})
            fail = bool(self.take_fault("/redeem/people/batch", ("fail_job",)))
            never = bool(self.take_fault("/redeem/people/batch", ("never_complete",)))
            redeem = Redeem(
                str(uuid.uuid4()),
                [str(p).lower() for p in body["peoples"]],
                types,
                time.time(),
                time.time() + self.processing_seconds,
                self.estimated_time,
                fail=fail,
                submitted_by=self.caller_job(),
                never_complete=never,
            )
            self.redeems[redeem.redeem_query_id] = redeem
            self.record_paid(redeem.peoples)  # a redeem is paid for the details it will return
        return Response(
            200,
            {
                "data": {
                    "redeem_query_id": redeem.redeem_query_id,
                    "is_completed": False,
                    "estimated_time": redeem.estimated_time,
                    "estimated_time_type": "second",
                }
            },
        )

    def _query(self, body: Any) -> Response:
        query_id = body.get("redeem_query_id") if isinstance(body, dict) else None
        with self.lock:
            redeem = self.redeems.get(str(query_id))
            if redeem is None:
                return _error(400, "redeem_query_id not found.")
            if redeem.fail:
                return Response(500, {"error": SERVER_ERROR})
            remaining = redeem.ready_at - time.time()
            done = remaining <= 0 and not redeem.never_complete
            if done and redeem.charged is None:
                redeem.results = [self.person(p, redeem.contact_types) for p in redeem.peoples]
                redeem.charged = sum(PRICES[c["type"]] for r in redeem.results for c in r["emails"] + r["phones"])
                self.charge(redeem.charged, redeem.submitted_by)
            query = {
                "redeem_query_id": redeem.redeem_query_id,
                "is_completed": done,
                "estimated_time": max(1, round(remaining)) if not done else redeem.estimated_time,
                "estimated_time_type": "second",
            }
            profile = {"credit": self.credits, "topup_credit": 0, "total_charged_credit": redeem.charged or 0}
            peoples = redeem.results if done else []
        return Response(200, {"data": {"profile": profile, "query": query, "peoples": peoples}})

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind in ("hourly_quota", "daily_quota"):  # inferred wording: Pubrio documents only the minute's
            period = "Hourly" if fault.kind == "hourly_quota" else "Daily"
            return Response(
                429,
                {"error": f"{period} request quota exceeded for your plan. Please try again later."},
                headers={"Retry-After": str(round(self.quota_reset(fault)))},
            )
        if fault.kind == "account_blocked":
            return _error(400, "Your workspace is suspended. Please contact support.")
        return super().fault_response(fault)

    def carries_results(self, request: Request, response: Response) -> bool:
        body = response.body if request.path == "/redeem/people/batch/query" and response.status == 200 else None
        data = (body.get("data") or {}) if isinstance(body, dict) else {}
        return bool(data.get("query", {}).get("is_completed") and data.get("peoples"))

    @staticmethod
    def person(people_id: str, types: list[str]) -> dict[str, Any]:
        """About 1 in 5 people has nothing; the rest have some of the requested details."""
        luck = stable_fraction("pubrio", people_id)
        emails, phones = [], []
        if luck >= 0.2:
            handle = people_id.split("-")[0]
            if "email-work" in types and luck >= 0.3:
                emails.append(
                    {
                        "value": f"{handle}@work.example.com",
                        "type": "email-work",
                        "status": "Verified" if luck >= 0.45 else None,
                    }
                )
            if "email-personal" in types and luck < 0.7:
                emails.append({"value": f"{handle}@mail.example.net", "type": "email-personal", "status": None})
            if "phone" in types and luck >= 0.5:
                phones.append({"value": f"+1555{int(luck * 1e7):07d}", "type": "phone", "status": None})
        return {"people_search_id": people_id, "emails": emails, "phones": phones}
