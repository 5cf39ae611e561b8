"""Prospeo as its documents describe it, for a DocumentServer (imports nothing from the simulators).

Documented (seed `prospeo-bulk-enrich-person.txt`; vendors.md "Prospeo"): POST /bulk-enrich-person with
header X-KEY, JSON {only_verified_email?, enrich_mobile?, only_verified_mobile?, data: [<= 50 {identifier,
...datapoints}]}, answered at once: {error: false, total_cost, matched [{identifier, person, company}],
not_matched [identifier], invalid_datapoints [identifier]}. A record is matchable only with first_name +
last_name + a company field, full_name + a company field, linkedin_url, email or person_id; the rest come back
in invalid_datapoints. only_verified_mobile implies enrich_mobile. Price: 1 credit a match, 10 when a mobile is
included, 0 for no match; re-enriching a record is free. Errors {error: true, error_code}: 401 INVALID_API_KEY,
400 INVALID_REQUEST, 429 RATE_LIMITED. Each record of a bulk call counts as one request (the Pro plan here:
1,800 a minute, 500,000 a day).

Inferred, where the documents are silent (flagged):
- the rate-limit headers third-party clients read: x-minute-request-left, x-minute-reset-seconds,
  x-daily-request-left, x-daily-reset-seconds, on every answer;
- the first request this server sees finds the daily limit reached: 429 RATE_LIMITED with only the daily
  headers (0 left, resetting in `state["daily_reset_seconds"]`, default 2), and every request before that
  reset gets the same; a client must wait for the reset, then is served;
- which records match, and the person's and company's values (the fields are the documented ones).

`server.state`: "api_key" (default API_KEY), "daily_reset_at" (when the daily limit resets; a test may move
it to now), "enriched" (records already paid for), "charged" (every credit charged), "window" (minute count).
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

from tests.contract.document_server import Answer, Call, DocumentServer

API_KEY = "prospeo-document-key"
PATH = "/bulk-enrich-person"
MAX_RECORDS = 50  # documented
REQUESTS_PER_MINUTE = 1800  # documented, Pro plan
REQUESTS_PER_DAY = 500_000  # documented, Pro plan
COMPANY_FIELDS = ("company_name", "company_website", "company_linkedin_url")
DATAPOINTS = ("first_name", "last_name", "full_name", "linkedin_url", "email", *COMPANY_FIELDS, "person_id")


def error(status: int, code: str, headers: dict[str, str] | None = None) -> Answer:
    return Answer(status, {"error": True, "error_code": code}, headers=headers or {})


def matchable(record: dict[str, Any]) -> bool:
    """The documented minimum datapoints."""
    has = {k for k in DATAPOINTS if record.get(k)}
    company = bool(has & set(COMPANY_FIELDS))
    return bool(has & {"linkedin_url", "email", "person_id"}) or (
        company and ({"first_name", "last_name"} <= has or "full_name" in has)
    )


def route(call: Call, server: DocumentServer) -> Answer:
    if call.method != "POST" or call.path != PATH:
        return error(400, "INVALID_REQUEST")
    if call.headers.get("x-key") != server.state.get("api_key", API_KEY):
        return error(401, "INVALID_API_KEY")
    now = time.time()
    with server.lock:
        reset_at = server.state.setdefault("daily_reset_at", now + server.state.get("daily_reset_seconds", 2))
    if now < reset_at:  # inferred: the daily limit, reached before this server's first request
        wait = max(1, round(reset_at - now))
        return error(429, "RATE_LIMITED", {"x-daily-request-left": "0", "x-daily-reset-seconds": str(wait)})
    try:
        body = call.json()
    except ValueError:
        return error(400, "INVALID_REQUEST")
    data = body.get("data") if isinstance(body, dict) else None
    if (
        not isinstance(data, list)
        or not 1 <= len(data) <= MAX_RECORDS
        or not all(isinstance(r, dict) and r.get("identifier") for r in data)
    ):
        return error(400, "INVALID_REQUEST")
    headers = _take(server, len(data), now)
    if headers is None:
        return error(429, "RATE_LIMITED", _headers(server, now))
    verified_email = bool(body.get("only_verified_email"))
    verified_mobile = bool(body.get("only_verified_mobile"))
    mobile = bool(body.get("enrich_mobile")) or verified_mobile
    matched, not_matched, invalid, cost = [], [], [], 0
    with server.lock:
        enriched: set[str] = server.state.setdefault("enriched", set())
        for record in data:
            identifier = str(record["identifier"])
            if not matchable(record):
                invalid.append(identifier)
                continue
            found = match(record, mobile)
            if (
                found is None
                or (verified_email and found["person"]["email"]["status"] != "VERIFIED")
                or (verified_mobile and not found["person"]["mobile"]["mobile"])
            ):
                not_matched.append(identifier)
                continue
            key = record_key(record)
            if key not in enriched:  # documented: re-enriching a record is free
                cost += 10 if found["person"]["mobile"]["mobile"] else 1
                enriched.add(key)
            matched.append({"identifier": identifier} | found)
        server.state["charged"] = server.state.get("charged", 0) + cost
    answer = {
        "error": False,
        "total_cost": cost,
        "matched": matched,
        "not_matched": not_matched,
        "invalid_datapoints": invalid,
    }
    return Answer(200, answer, headers=headers)


def _take(server: DocumentServer, records: int, now: float) -> dict[str, str] | None:
    """Count the records against the minute's budget: the headers to send, or None when over it."""
    with server.lock:
        minute, used = server.state.get("window", (0, 0))
        used = used if minute == int(now // 60) else 0
        if used + records > REQUESTS_PER_MINUTE:
            return None
        server.state["window"] = (int(now // 60), used + records)
        server.state["today"] = server.state.get("today", 0) + records
    return _headers(server, now)


def _headers(server: DocumentServer, now: float) -> dict[str, str]:
    _, used = server.state.get("window", (0, 0))
    return {
        "x-minute-request-left": str(max(0, REQUESTS_PER_MINUTE - used)),
        "x-minute-reset-seconds": str(max(1, int(60 - now % 60))),
        "x-daily-request-left": str(max(0, REQUESTS_PER_DAY - server.state.get("today", 0))),
        "x-daily-reset-seconds": str(max(1, int(86400 - now % 86400))),
    }


def record_key(record: dict[str, Any]) -> str:
    return json.dumps({k: str(record[k]).lower() for k in DATAPOINTS if record.get(k)}, sort_keys=True)


def match(record: dict[str, Any], mobile: bool) -> dict[str, Any] | None:
    """The person and company for a record, the same every time: about one in four has no match."""
    luck = int(hashlib.sha256(record_key(record).encode()).hexdigest()[:4], 16) / 0x10000
    if luck < 0.25:
        return None
    first = record.get("first_name") or (record.get("full_name") or "Alex Sample").split()[0]
    last = record.get("last_name") or (record.get("full_name") or "Alex Sample").split()[-1]
    domain = record.get("company_website") or (record.get("email") or "@example.com").partition("@")[2]
    has_mobile = mobile and luck >= 0.6
    number = f"{int(luck * 1e4):04d}"
    return {
        "person": {
            "person_id": record.get("person_id") or f"p{int(luck * 1e12):012x}",
            "first_name": first,
            "last_name": last,
            "full_name": f"{first} {last}",
            "linkedin_url": record.get("linkedin_url") or f"https://www.linkedin.com/in/{first}-{last}".lower(),
            "headline": "Head of Operations",
            "current_job_title": "Head of Operations",
            "job_history": [],
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
                "mobile": f"+1 512 555 {number}" if has_mobile else None,
                "mobile_national": f"(512) 555-{number}" if has_mobile else None,
                "mobile_international": f"+1512555{number}" if has_mobile else None,
                "mobile_country": "United States" if has_mobile else None,
                "mobile_country_code": "US" if has_mobile else None,
            },
        },
        "company": {
            "company_id": f"c{int(luck * 1e9):09x}",
            "name": record.get("company_name") or domain.split(".")[0].title(),
            "website": domain,
            "domain": domain,
            "industry": "Software",
            "employee_count": 120,
            "employee_range": "51-200",
            "location": {"country": "United States"},
            "linkedin_url": record.get("company_linkedin_url"),
            "phone_hq": None,
            "revenue_range": None,
        },
    }


def charged(server: DocumentServer) -> int:
    """Every credit the server charged."""
    return server.state.get("charged", 0)
