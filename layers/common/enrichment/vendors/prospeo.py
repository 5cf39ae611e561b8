"""Prospeo: enrich person records, up to 50 per call, answered at once (nothing to poll).

Documented: POST /bulk-enrich-person with header `X-KEY`; `error` on every answer; `error_code`
INSUFFICIENT_CREDITS (400), INVALID_API_KEY (401), RATE_LIMITED (429), INVALID_REQUEST (400) and
INTERNAL_ERROR (400, a server fault: retried); the minimum datapoints; 1 credit a match, 10 with a mobile.
Inferred: the `x-minute-reset-seconds` header third-party clients read as the rate-limit reset.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel, model_validator

from enrichment.errors import BadChunk
from enrichment.models import Chunk, Company, Email, Person, Phone, RecordResult, RowStatus, Vendor
from enrichment.pipeline import row_rules
from enrichment.vendors.base import ChunkOutcome, VendorAdapter, VendorOptions, raise_for_status, retry_after_seconds

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
ERROR_STATUS = {
    "INSUFFICIENT_CREDITS": 402,
    "INVALID_API_KEY": 401,
    "RATE_LIMITED": 429,
    "INVALID_REQUEST": 400,
    "INTERNAL_ERROR": 503,
}
TOO_FEW_DATAPOINTS = (
    "too few datapoints: Prospeo needs first and last name with a company, a full name with a "
    "company, a LinkedIn URL, an email or a person_id"
)


class ProspeoOptions(VendorOptions):
    only_verified_email: bool = False
    enrich_mobile: bool = False
    only_verified_mobile: bool = False

    @model_validator(mode="after")
    def _verified_mobile_implies_mobile(self) -> ProspeoOptions:
        if self.only_verified_mobile:
            self.enrich_mobile = True
        return self


class _Answer(BaseModel):
    error: bool
    total_cost: float | None = 0
    matched: list[dict[str, Any]] = []
    not_matched: list[str] = []
    invalid_datapoints: list[str] = []


def _text(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, dict):
        return ", ".join(str(v) for v in value.values() if v) or None
    return str(value)


class ProspeoAdapter(VendorAdapter):
    vendor = Vendor.PROSPEO
    input_fields = REQUEST_FIELDS
    options_model = ProspeoOptions
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
        code = response.status_code
        error_code = body.get("error_code") if isinstance(body, dict) else None
        if error_code or (isinstance(body, dict) and body.get("error") is True):
            code = ERROR_STATUS.get(str(error_code), code if code >= 400 else 400)
        message = str(error_code or response.reason_phrase)
        if error_code == "INVALID_REQUEST":  # documented as the request's own fault: sending it again cannot help
            raise BadChunk(f"prospeo: HTTP {response.status_code}, request rejected: {message}")
        reset = retry_after_seconds(response, "x-minute-reset-seconds")
        raise_for_status(Vendor.PROSPEO, code, message, reset)

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
        results: dict[str, RecordResult] = {}
        for match in answer.matched:
            ref = str(match.get("identifier"))
            results[ref] = self._normalize(match, options)
        for ref in answer.not_matched:
            reason = "no match" + (
                " with the verified-only options" if options.only_verified_email or options.only_verified_mobile else ""
            )
            results[str(ref)] = RecordResult(status=RowStatus.NOT_MATCHED, reason=reason, credits=0)
        for ref in answer.invalid_datapoints:
            results[str(ref)] = RecordResult(
                status=RowStatus.INVALID_INPUT, reason="Prospeo found too few datapoints to match", credits=0
            )
        for record in chunk.records:
            results.setdefault(
                record.ref, RecordResult(status=RowStatus.ERROR, reason="Prospeo did not answer for this record")
            )
        # Per-row price from the documented rule, kept only when it adds up to what Prospeo charged
        # (re-enriching a record is free, so the rule can overstate).
        if sum(r.credits or 0 for r in results.values()) != (answer.total_cost or 0):
            for result in results.values():
                result.credits = None
        return ChunkOutcome(status="done", results=results, credits=answer.total_cost or 0)

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
                Email(value=email["email"], type="work", status=_text(email.get("status")) and email["status"].lower())
            )
        mobile = person.get("mobile") or {}
        number = mobile.get("mobile_international") or mobile.get("mobile")
        if number:
            phones.append(
                Phone(value=number, type="mobile", status=_text(mobile.get("status")) and mobile["status"].lower())
            )
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
