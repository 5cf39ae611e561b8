"""Prospeo simulator: POST /bulk-enrich-person, answered at once, as documented.

Up to 50 records a call; records below the minimum datapoints come back in `invalid_datapoints`;
1 credit a match, 10 when a mobile is included, 0 for no match, and re-enriching a record is free.
Each record counts as one request against the per-minute and the daily limits (default: the Pro plan's
1,800 a minute and 500,000 a day); every answer carries x-minute-request-left, x-minute-reset-seconds,
x-daily-request-left and x-daily-reset-seconds (the headers third-party clients read: inferred); over a
limit, 429 RATE_LIMITED. Faults: "429" is the minute's limit (minute headers only), "daily_quota" the day's
(daily headers only, resetting in `seconds`), "account_blocked" the ACCOUNT_RESTRICTED code seen in the wild
(not in the documented table; its status is a guess), "500" Prospeo's documented 400 INTERNAL_ERROR.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from localrt.simulators.base import Fault, Request, Response, Simulator, stable_fraction

REQUEST_FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "linkedin_url",
    "email",
    "company_name",
    "company_website",
    "company_linkedin_url",
    "person_id",
)
COMPANY_FIELDS = ("company_name", "company_website", "company_linkedin_url")
PATH = "/bulk-enrich-person"


def _error(status: int, code: str) -> Response:
    return Response(status, {"error": True, "error_code": code})


def matchable(record: dict[str, Any]) -> bool:
    has = {k for k in REQUEST_FIELDS if record.get(k)}
    company = bool(has & set(COMPANY_FIELDS))
    return bool(has & {"linkedin_url", "email", "person_id"}) or (
        company and ({"first_name", "last_name"} <= has or "full_name" in has)
    )


class ProspeoSimulator(Simulator):
    name = "prospeo"
    submit_path = PATH

    def __init__(self, *, records_per_minute: int = 1800, records_per_day: int = 500_000, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.records_per_minute = records_per_minute
        self.records_per_day = records_per_day
        self._day = (0, 0)  # (day, records counted in it)
        self.enriched: set[str] = set()
        self.charged_total = 0.0
        # Every record a processed call held, as sent (identifier included): what a test checks was never sent.
        self.received: list[dict[str, Any]] = []

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "429":
            return Response(
                429,
                {"error": True, "error_code": "RATE_LIMITED"},
                headers={"x-minute-request-left": "0", "x-minute-reset-seconds": "1"},
            )
        if fault.kind == "daily_quota":
            return Response(
                429,
                {"error": True, "error_code": "RATE_LIMITED"},
                headers={"x-daily-request-left": "0", "x-daily-reset-seconds": str(round(self.quota_reset(fault)))},
            )
        if fault.kind == "account_blocked":
            return _error(400, "ACCOUNT_RESTRICTED")
        if fault.kind == "500":  # Prospeo reports its own faults as 400 INTERNAL_ERROR
            return _error(400, "INTERNAL_ERROR")
        return super().fault_response(fault)

    def route(self, request: Request) -> Response:
        if request.method != "POST" or request.path != PATH:
            return Response(404, {"error": True, "error_code": "INVALID_REQUEST"})
        if request.headers.get("x-key") != self.api_key:
            return _error(401, "INVALID_API_KEY")
        if self.take_fault(PATH, ("fail_job",)):  # Prospeo has no jobs: a failed one is a rejected call
            return _error(400, "INVALID_REQUEST")
        try:
            body = request.json()
        except ValueError:
            return _error(400, "INVALID_REQUEST")
        data = body.get("data") if isinstance(body, dict) else None
        if (
            not isinstance(data, list)
            or not 1 <= len(data) <= 50
            or not all(isinstance(r, dict) and r.get("identifier") for r in data)
        ):
            return _error(400, "INVALID_REQUEST")
        allowed, headers = self._admit(len(data))
        if not allowed:
            return Response(429, {"error": True, "error_code": "RATE_LIMITED"}, headers=headers)
        verified_email = bool(body.get("only_verified_email"))
        verified_mobile = bool(body.get("only_verified_mobile"))
        mobile = bool(body.get("enrich_mobile")) or verified_mobile
        with self.lock:
            if self.credits <= 0:
                return _error(400, "INSUFFICIENT_CREDITS")
            self.received.extend(dict(record) for record in data)
            matched, not_matched, invalid, cost, keys = [], [], [], 0, set()
            for record in data:
                identifier = str(record["identifier"])
                if not matchable(record):
                    invalid.append(identifier)
                    continue
                key = self.record_key(record)
                keys.add(key)
                answer = self.person(record, mobile)
                if (
                    answer is None
                    or (verified_email and answer["person"]["email"]["status"] != "VERIFIED")
                    or (verified_mobile and not answer["person"]["mobile"]["mobile"])
                ):
                    not_matched.append(identifier)
                    continue
                price = 10 if mobile and answer["person"]["mobile"]["mobile"] else 1
                if key not in self.enriched:
                    cost += price
                    self.enriched.add(key)
                matched.append({"identifier": identifier} | answer)
            self.charge(cost, self.caller_job())
            if cost > 0:  # re-enriching is free: a call that charged nothing is not a paid submission
                self.record_paid(keys)
        return Response(
            200,
            {
                "error": False,
                "total_cost": cost,
                "matched": matched,
                "not_matched": not_matched,
                "invalid_datapoints": invalid,
            },
            headers=headers,
        )

    def carries_results(self, request: Request, response: Response) -> bool:
        return request.path == PATH and response.status == 200

    def _admit(self, records: int) -> tuple[bool, dict[str, str]]:
        """Each record is a request, against the day's budget first, then the minute's."""
        now = time.time()
        today = int(now // 86400)
        with self.lock:
            day, used = self._day
            used = used if day == today else 0
            daily = used < self.records_per_day  # the call that crosses the day's budget still goes
            allowed, left, reset = self.admit(self.records_per_minute, records) if daily else (False, None, None)
            if allowed:
                used += records
            self._day = (today, used)
        headers = {
            "x-daily-request-left": str(max(0, self.records_per_day - used)),
            "x-daily-reset-seconds": str(max(1, int(86400 - now % 86400))),
        }
        if daily:  # over the day's budget, only the day's headers: that is the budget to wait for
            headers |= {"x-minute-request-left": str(left), "x-minute-reset-seconds": str(max(1, int(reset or 0)))}
        return allowed, headers

    @staticmethod
    def record_key(record: dict[str, Any]) -> str:
        return json.dumps({k: str(record[k]).lower() for k in REQUEST_FIELDS if record.get(k)}, sort_keys=True)

    @classmethod
    def person(cls, record: dict[str, Any], mobile: bool) -> dict[str, Any] | None:
        """The simulated answer for a record: the same every time (about 1 in 4 records has no match)."""
        luck = stable_fraction("prospeo", cls.record_key(record))
        if luck < 0.25:
            return None
        # Names from what was sent: the name fields, else the email's or LinkedIn handle's words.
        handle = (record.get("email") or "").split("@")[0] or (record.get("linkedin_url") or "").rstrip("/")
        words = [w for w in re.split(r"[^A-Za-z]+", handle.rsplit("/", 1)[-1]) if w] or ["alex", "sample"]
        full = (record.get("full_name") or " ".join(words[:3])).split()
        first = record.get("first_name") or full[0]
        last = record.get("last_name") or (" ".join(full[1:]) or "sample")
        email_domain = (record.get("email") or "").partition("@")[2]
        domain = record.get("company_website") or email_domain or "example.com"
        domain = domain.removeprefix("https://").removeprefix("http://").removeprefix("www.")
        has_mobile = mobile and luck >= 0.6
        return {
            "person": {
                "person_id": f"p{int(luck * 1e12):012x}",
                "first_name": first.title(),
                "last_name": last.title(),
                "full_name": f"{first} {last}".title(),
                "linkedin_url": record.get("linkedin_url")
                or f"https://www.linkedin.com/in/{first}-{last}".lower().replace(" ", "-"),
                "headline": "Head of Operations",
                "current_job_title": "Head of Operations",
                "location": {"country": "United States", "city": "Austin"},
                "email": {
                    "status": "VERIFIED" if luck >= 0.4 else "UNVERIFIED",
                    "revealed": True,
                    "email": record.get("email") or f"{first}.{last}@{domain}".lower(),
                    "verification_method": "SMTP",
                    "email_mx_provider": "Google",
                },
                "mobile": {
                    "status": "VERIFIED" if has_mobile else None,
                    "revealed": has_mobile,
                    "mobile": f"+1 512 555 {int(luck * 1e4):04d}" if has_mobile else None,
                    "mobile_international": f"+1512555{int(luck * 1e4):04d}" if has_mobile else None,
                },
            },
            "company": {
                "name": record.get("company_name") or domain.split(".")[0].title(),
                "website": domain,
                "domain": domain,
                "industry": "Software",
                "employee_range": "51-200",
                "linkedin_url": record.get("company_linkedin_url"),
            },
        }
