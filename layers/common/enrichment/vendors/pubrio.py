"""Pubrio: unlock emails and phones of people found by Pubrio's search (asynchronous redeem).

Documented: POST /redeem/people/batch, POST /redeem/people/batch/query, header `pubrio-api-key`,
`estimated_time` as the wait before polling, errors 400 {code, message, details}, 429 {error}, 500 {error}.
Inferred (configurable or flagged): 402 means out of credits; `profile.total_charged_credit` in the
query answer is what this redeem charged; the batch size limit (not documented).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any, Literal

import httpx
from pydantic import BaseModel, Field

from enrichment.errors import Refused
from enrichment.models import Chunk, Email, Phone, RecordResult, RowStatus, Vendor
from enrichment.pipeline import row_rules
from enrichment.vendors.base import ChunkOutcome, VendorAdapter, VendorOptions, raise_for_status, retry_after_seconds

ContactType = Literal["email-personal", "email-work", "phone"]


class PubrioOptions(VendorOptions):
    contact_types: list[ContactType] = Field(default=["email-work", "email-personal"], min_length=1)
    profile_id: int | None = None


class _Contact(BaseModel):
    value: str
    type: str | None = None
    status: str | None = None


class _People(BaseModel):
    people_search_id: str
    emails: list[_Contact] | None = None
    phones: list[_Contact] | None = None


class _Query(BaseModel):
    redeem_query_id: str
    is_completed: bool
    estimated_time: float | None = None
    estimated_time_type: str | None = None


class _Profile(BaseModel):
    total_charged_credit: float | None = None


class _SubmitData(_Query):
    pass


class _SubmitAnswer(BaseModel):
    data: _SubmitData


class _QueryData(BaseModel):
    profile: _Profile | None = None
    query: _Query
    peoples: list[_People | Any] = []


class _QueryAnswer(BaseModel):
    data: _QueryData


def _seconds(value: float | None, unit: str | None) -> float | None:
    if value is None:
        return None
    return value * {"minute": 60, "hour": 3600}.get((unit or "second").lower(), 1)


def _status(value: str | None) -> str | None:
    return value.lower() if value else None


class PubrioAdapter(VendorAdapter):
    vendor = Vendor.PUBRIO
    input_fields = ("people_search_id",)
    options_model = PubrioOptions

    @classmethod
    def validate(cls, fields: Mapping[str, str]) -> str | None:
        value = fields.get("people_search_id", "").strip()
        if not value:
            return "people_search_id is missing (Pubrio redeems people found by its search)"
        if reason := row_rules.formula_reason("people_search_id", value):
            return reason
        try:
            uuid.UUID(value)
        except ValueError:
            return f"people_search_id {value[:40]!r} is not a UUID"
        return None

    @classmethod
    def dedupe_key(cls, fields: Mapping[str, str]) -> str:
        return str(uuid.UUID(fields["people_search_id"].strip()))

    def _headers(self) -> dict[str, str]:
        return {"pubrio-api-key": self.credentials["api_key"], "Accept": "application/json"}

    @staticmethod
    def _classify(response: httpx.Response, body: Any) -> None:
        if response.status_code < 400:
            return
        body = body if isinstance(body, dict) else {}
        message = str(body.get("message") or body.get("error") or response.reason_phrase)[:300]
        if body.get("code"):
            message = f"{message} (code {body['code']})"
        code = response.status_code
        if code == 400 and "credit" in message.lower():
            code = 402  # a 400 that says the credits ran out is the same stop as the 402 clients see
        raise_for_status(Vendor.PUBRIO, code, message, retry_after_seconds(response))

    def submit(self, chunk: Chunk, options: PubrioOptions) -> ChunkOutcome:
        payload: dict[str, Any] = {
            "peoples": [self.dedupe_key(r.fields) for r in chunk.records],
            "people_contact_types": options.contact_types,
        }
        if options.profile_id is not None:
            payload["profile_id"] = options.profile_id
        body = self.request(
            "POST", "/redeem/people/batch", self._classify, json=payload, headers=self._headers(), paid=True
        )
        data = self.parse(_SubmitAnswer, body, paid=True).data
        return ChunkOutcome(
            status="running",
            vendor_ref=data.redeem_query_id,
            wait_hint_seconds=_seconds(data.estimated_time, data.estimated_time_type),
        )

    def check_access(self) -> str:
        """Query a redeem that does not exist (free). Inferred: Pubrio documents no such probe; a key it rejects
        raises BadCredentials whatever the status code, and any other refusal means the key got through."""
        try:
            self.request(
                "POST",
                "/redeem/people/batch/query",
                self._classify,
                json={"redeem_query_id": str(uuid.UUID(int=0))},
                headers=self._headers(),
            )
        except Refused as refused:
            return f"pubrio: the API key works (a probe query for no redeem was answered: {refused})"
        return "pubrio: the API key works (a probe query for no redeem was answered)"

    def check(self, vendor_ref: str, chunk: Chunk, options: PubrioOptions) -> ChunkOutcome:
        payload: dict[str, Any] = {"redeem_query_id": vendor_ref}
        if options.profile_id is not None:
            payload["profile_id"] = options.profile_id
        body = self.request("POST", "/redeem/people/batch/query", self._classify, json=payload, headers=self._headers())
        data = self.parse(_QueryAnswer, body).data
        if not data.query.is_completed:
            return ChunkOutcome(
                status="running",
                vendor_ref=vendor_ref,
                wait_hint_seconds=_seconds(data.query.estimated_time, data.query.estimated_time_type),
            )
        people = {}
        for entry in data.peoples:
            if isinstance(entry, _People):
                people[entry.people_search_id.lower()] = entry
        results = {}
        for record in chunk.records:
            found = people.get(self.dedupe_key(record.fields))
            results[record.ref] = self._normalize(found)
        credits = data.profile.total_charged_credit if data.profile else None
        return ChunkOutcome(status="done", vendor_ref=vendor_ref, results=results, credits=credits or 0)

    @staticmethod
    def _normalize(found: _People | None) -> RecordResult:
        if found is None:
            return RecordResult(status=RowStatus.NOT_MATCHED, reason="Pubrio returned nothing for this person")
        emails = [
            Email(value=e.value, type=(e.type or "").removeprefix("email-") or None, status=_status(e.status))
            for e in found.emails or []
            if e.value
        ]
        # Verified work addresses first: the first email fills the main email columns.
        emails.sort(key=lambda e: (e.status != "verified", e.type != "work"))
        phones = [Phone(value=p.value, type=p.type, status=_status(p.status)) for p in found.phones or [] if p.value]
        raw = found.model_dump(mode="json")
        if not emails and not phones:
            return RecordResult(
                status=RowStatus.NOT_MATCHED, reason="no contact details of the requested types", raw=raw
            )
        return RecordResult(status=RowStatus.MATCHED, emails=emails, phones=phones, raw=raw, credits=None)
