"""Prospeo: enrich person records, up to 50 per call, answered at once (nothing to poll).

Documented: POST /bulk-enrich-person with header `X-KEY`; `error` on every answer; `error_code`
INSUFFICIENT_CREDITS (400), INVALID_API_KEY (401), RATE_LIMITED (429), INVALID_REQUEST (400) and
INTERNAL_ERROR (400, a server fault: retried); the minimum datapoints; 1 credit a match, 10 with a mobile;
each record of a bulk call counts as one request against the per-second, per-minute and daily limits.
Inferred (flagged):
- the rate-limit headers third-party clients read: `x-minute-request-left`, `x-minute-reset-seconds`,
  `x-daily-request-left`, `x-daily-reset-seconds`. A 429 waits for the budget that ran out: the daily one
  (a `quota="daily"` throttle, which stops the job when it resets after the deadline) when its requests
  left are 0, else the minute's; `Retry-After` wins when present;
- ACCOUNT_RESTRICTED (seen, not in the documented table) stops the job; any other code not in the table is
  a refusal tried again later, with the code in the reason;
- the error code decides, whatever the HTTP status it comes with.
A record is answered in exactly one of `matched`, `not_matched`, `invalid_datapoints`: a record missing from
all three (or in two) is an error row saying so, and an answer naming identifiers this chunk never sent
cannot be matched to its rows, so every row of the chunk is an error.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import Field, model_validator

from enrichment.errors import (
    AccountBlocked,
    BadChunk,
    BadCredentials,
    EnrichmentError,
    OutOfCredits,
    Refused,
    Throttled,
    Transient,
)
from enrichment.files.output import COMPANY_COLUMNS, EMAIL_COLUMNS, PERSON_COLUMNS, PHONE_COLUMNS
from enrichment.models import Chunk, Company, Model, Person, RecordResult, RowStatus, Vendor
from enrichment.option_types import Flag
from enrichment.pipeline import row_rules
from enrichment.vendors import vocabulary
from enrichment.vendors.base import ChunkOutcome, VendorAdapter, VendorOptions, raise_for_status, retry_after_seconds

if TYPE_CHECKING:
    import httpx

COMPANY_FIELDS = ("company_name", "company_website", "company_linkedin_url")
REQUEST_FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "linkedin_url",
    "email",
    *COMPANY_FIELDS,
    "person_id",
)
# The documented error codes (and one seen in the wild), each with the error kind it is, whatever its status.
ERRORS: dict[str, tuple[type[EnrichmentError], str]] = {
    "INSUFFICIENT_CREDITS": (OutOfCredits, "out of credits"),
    "INVALID_API_KEY": (BadCredentials, "credentials rejected"),
    "INVALID_REQUEST": (BadChunk, "request rejected"),  # the request's own fault: sending it again cannot help
    "INTERNAL_ERROR": (Transient, "server error"),  # documented as a fault on Prospeo's side, sent as a 400
    "ACCOUNT_RESTRICTED": (AccountBlocked, "account restricted"),  # inferred: real, but not in the table
}
TOO_FEW_DATAPOINTS = (
    "too few datapoints: Prospeo needs first and last name with a company, a full name with a "
    "company, a LinkedIn URL, an email or a person_id"
)


class ProspeoOptions(VendorOptions):
    only_verified_email: Flag = False
    enrich_mobile: Flag = False
    only_verified_mobile: Flag = Field(default=False, description="true or false; true implies enrich_mobile")

    @model_validator(mode="after")
    def _verified_mobile_implies_mobile(self) -> ProspeoOptions:
        if self.only_verified_mobile:
            self.enrich_mobile = True
        return self


ANSWER_LISTS = ("matched", "not_matched", "invalid_datapoints")


class _Answer(Model):
    error: bool
    total_cost: float | None = 0
    # Documented on every answer; None when absent, so a missing list is named in its rows' reasons.
    matched: list[dict[str, Any]] | None = None
    not_matched: list[str | int] | None = None
    invalid_datapoints: list[str | int] | None = None


def _header(response: httpx.Response, name: str) -> float | None:
    try:
        return max(0.0, float(response.headers[name]))
    except (KeyError, ValueError):
        return None


def _throttled(response: httpx.Response, message: str) -> Throttled:
    """A 429 waits for the budget that ran out (inferred headers, see the module's docstring)."""
    retry_after = retry_after_seconds(response)
    if _header(response, "x-daily-request-left") == 0:
        reset = retry_after if retry_after is not None else _header(response, "x-daily-reset-seconds")
        return Throttled(f"{message} (the daily limit)", reset, quota="daily")
    if retry_after is None:
        minute_left = _header(response, "x-minute-request-left")
        if minute_left == 0:
            retry_after = _header(response, "x-minute-reset-seconds")
        elif minute_left is not None:
            retry_after = 1  # the minute and the day have room: the per-second limit is what ran out
    return Throttled(message, retry_after)


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v) or None
    return str(value)


class ProspeoAdapter(VendorAdapter):
    vendor = Vendor.PROSPEO
    input_fields = REQUEST_FIELDS
    result_columns = (*EMAIL_COLUMNS, *PHONE_COLUMNS, *PERSON_COLUMNS, *COMPANY_COLUMNS, "result_credits")
    credits_unit = "Prospeo credits"
    options_model = ProspeoOptions
    # Each asks for a different answer (a verified email only, a mobile, a verified mobile only: documented).
    answer_options = ("only_verified_email", "enrich_mobile", "only_verified_mobile")
    repeat_is_free = True  # documented: re-enriching a record already enriched costs nothing

    @classmethod
    def validate(cls, fields: Mapping[str, str]) -> str | None:
        if reason := row_rules.refuse_formulas(fields, REQUEST_FIELDS):
            return reason
        has = {name for name in REQUEST_FIELDS if fields.get(name, "").strip()}
        malformed_email = None
        if "email" in has:
            try:
                row_rules.email_address(fields["email"])
            except row_rules.InvalidValue as invalid:
                malformed_email = str(invalid)
                has.discard("email")
        company = bool(has & set(COMPANY_FIELDS))
        enough = bool(has & {"linkedin_url", "email", "person_id"}) or (
            company and ({"first_name", "last_name"} <= has or "full_name" in has)
        )
        # Every field present is sent, so a malformed email fails the row even when others would match.
        if malformed_email and enough:
            return f"{malformed_email}; Prospeo is never sent a malformed email: correct or clear it"
        if malformed_email:
            return f"{malformed_email}, so it does not count as a datapoint; {TOO_FEW_DATAPOINTS}"
        return None if enough else TOO_FEW_DATAPOINTS

    @classmethod
    def dedupe_key(cls, fields: Mapping[str, str]) -> str:
        present = {k: fields[k].strip().lower() for k in REQUEST_FIELDS if fields.get(k, "").strip()}
        if "email" in present:
            present["email"] = row_rules.email_key(fields["email"])
        return json.dumps(present, sort_keys=True)

    @staticmethod
    def _classify(response: httpx.Response, body: Any) -> None:
        status = response.status_code
        body = body if isinstance(body, dict) else {}
        error_code = str(body.get("error_code") or "")
        if status < 400 and body.get("error") is not True:
            return
        where = f"prospeo: HTTP {status}"
        message = error_code or response.reason_phrase or "error"
        if isinstance(body.get("message"), str):  # not documented; kept when present, for the reader
            message = f"{message}: {body['message'][:200]}"
        if error_code == "RATE_LIMITED" or status == 429:
            raise _throttled(response, f"{where}, rate limited: {message}")
        if error_code in ERRORS:
            kind, what = ERRORS[error_code]
            raise kind(f"{where}, {what}: {message}")
        if error_code and status < 500 and status not in (401, 402, 403):
            raise Refused(f"{where}, request refused (error code not documented): {message}")
        raise_for_status(Vendor.PROSPEO, status if status >= 400 else 400, message, retry_after_seconds(response))

    def request_cost(self, chunk: Chunk, action: str) -> int:
        return len(chunk.records)  # documented: each record in a bulk call counts as one request

    def submit(self, chunk: Chunk, options: ProspeoOptions) -> ChunkOutcome:
        data = [
            {"identifier": r.ref} | {k: r.fields[k].strip() for k in REQUEST_FIELDS if r.fields.get(k, "").strip()}
            for r in chunk.records
        ]
        body = self.request(
            "POST",
            "/bulk-enrich-person",
            self._classify,
            json=options.model_dump(exclude=set(VendorOptions.model_fields)) | {"data": data},
            headers={"X-KEY": self.credentials["api_key"], "Accept": "application/json"},
            paid=True,
        )
        answer: _Answer = self.parse(_Answer, body, paid=True)
        results = self._results(answer, chunk, options)
        # Per-row price from the documented rule, kept only when it adds up to what Prospeo charged
        # (re-enriching a record is free, so the rule can overstate).
        if sum(r.credits or 0 for r in results.values()) != (answer.total_cost or 0):
            for result in results.values():
                result.credits = None
        return ChunkOutcome(status="done", results=results, credits=answer.total_cost or 0)

    def _results(self, answer: _Answer, chunk: Chunk, options: ProspeoOptions) -> dict[str, RecordResult]:
        """Each record from the one list that names it; loud where the answer does not add up."""
        answered: dict[str, list[tuple[str, dict[str, Any] | None]]] = defaultdict(list)
        for match in answer.matched or []:
            answered[str(match.get("identifier"))].append(("matched", match))
        for name in ("not_matched", "invalid_datapoints"):
            for ref in getattr(answer, name) or []:
                answered[str(ref)].append((name, None))
        sent = [record.ref for record in chunk.records]
        unknown = sorted(set(answered) - set(sent))
        if unknown:
            named = ", ".join(unknown[:3]) + (", ..." if len(unknown) > 3 else "")
            reason = f"Prospeo's answer names identifiers this chunk never sent ({named}): it cannot be matched to rows"
            return {ref: RecordResult(status=RowStatus.ERROR, reason=reason) for ref in sent}
        absent = [name for name in ANSWER_LISTS if getattr(answer, name) is None]
        results: dict[str, RecordResult] = {}
        for ref in sent:
            lists = [name for name, _ in answered.get(ref, [])]
            if not lists:
                reason = "Prospeo's answer does not mention this record" + (
                    f" (the answer has no {' or '.join(absent)} list)" if absent else ""
                )
                results[ref] = RecordResult(status=RowStatus.ERROR, reason=reason)
            elif len(lists) > 1:
                reason = f"Prospeo's answer lists this record more than once ({', '.join(lists)})"
                results[ref] = RecordResult(status=RowStatus.ERROR, reason=reason)
            elif lists[0] == "matched":
                results[ref] = self._normalize(answered[ref][0][1] or {}, options)
            elif lists[0] == "not_matched":
                verified = options.only_verified_email or options.only_verified_mobile
                reason = "no match" + (" with the verified-only options" if verified else "")
                results[ref] = RecordResult(status=RowStatus.NOT_MATCHED, reason=reason, credits=0)
            else:
                results[ref] = RecordResult(
                    status=RowStatus.INVALID_INPUT, reason="Prospeo found too few datapoints to match", credits=0
                )
        return results

    def check_access(self) -> str:
        """One record below the minimum datapoints: documented to come back in `invalid_datapoints`, costing no
        credit (it counts as one request against the rate limit)."""
        response: dict[str, str] = {}

        def classify(answer: httpx.Response, body: Any) -> None:
            self._classify(answer, body)
            response.update({k: v for k, v in answer.headers.items() if k.startswith("x-daily-request-left")})

        self.request(
            "POST",
            "/bulk-enrich-person",
            classify,
            json={"data": [{"identifier": "access-check", "full_name": "Access Check"}]},
            headers={"X-KEY": self.credentials["api_key"], "Accept": "application/json"},
        )
        left = response.get("x-daily-request-left")
        return "prospeo: the API key works" + (f" ({left} requests left today)" if left else "")

    def check(self, vendor_ref: str, chunk: Chunk, options: ProspeoOptions) -> ChunkOutcome:
        raise NotImplementedError("Prospeo answers at submit; there is nothing to check")

    @staticmethod
    def _normalize(match: dict[str, Any], options: ProspeoOptions) -> RecordResult:
        person = match.get("person") or {}
        company = match.get("company") or {}
        emails, phones = [], []
        email = person.get("email") or {}
        if email.get("email"):
            emails.append(
                vocabulary.email(Vendor.PROSPEO, email["email"], type="work", word=_text(email.get("status")))
            )
        mobile = person.get("mobile") or {}
        number = mobile.get("mobile_international") or mobile.get("mobile")
        if number:
            phones.append(vocabulary.phone(Vendor.PROSPEO, number, type="mobile", word=_text(mobile.get("status"))))
        return RecordResult(
            status=RowStatus.MATCHED,
            emails=emails,
            phones=phones,
            person=Person(
                first_name=_text(person.get("first_name")),
                last_name=_text(person.get("last_name")),
                full_name=_text(person.get("full_name")),
                job_title=_text(person.get("current_job_title") or person.get("headline")),
                linkedin_url=_text(person.get("linkedin_url")),
                location=_text(person.get("location")),
            ),
            company=Company(
                name=_text(company.get("name")),
                website=_text(company.get("website")),
                domain=_text(company.get("domain")),
                linkedin_url=_text(company.get("linkedin_url")),
                industry=_text(company.get("industry")),
                size=_text(company.get("employee_range") or company.get("employee_count")),
            ),
            credits=10 if options.enrich_mobile and phones else 1,
            raw=match,
        )
