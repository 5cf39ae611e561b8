"""Pubrio: unlock emails and phones of people found by Pubrio's search (asynchronous redeem).

Documented: POST /redeem/people/batch, POST /redeem/people/batch/query, header `pubrio-api-key`,
`estimated_time` as the wait before polling, errors 400 {code, message, details} (codes vary), 429 {error}
("Request rate limit exceeded. Please wait and try again later."), 500 {error}; 300 requests a minute, with
hourly and daily plan quotas on top.
Inferred (configurable or flagged):
- what a refusal means is read from its words, whatever the status: a rejected key (Pubrio answers it with a
  400) stops the job as BadCredentials, a refusal about credits as OutOfCredits, a blocked account as
  AccountBlocked; 402 is out of credits (public client code); any other 400 is Refused, tried again later;
- a 429 whose message names an hourly or daily quota is that quota (its reset from Retry-After, if given);
- `profile.total_charged_credit` in the query answer is what this redeem charged, not the account's total:
  the documented example's 465 is 31 contact details at the example profile's 15 credits, far below the
  account's balances, and the page calls the answer "bulk redeem people details";
- every person redeemed has an entry in `peoples` (the example shows one entry per person, with a "..."
  placeholder, which is tolerated): a person missing from a completed answer is an error row, and a
  completed answer without `peoples` (or without `query`) fails the chunk;
- the batch size limit (not documented).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from enrichment.errors import Refused, Throttled
from enrichment.files.output import EMAIL_COLUMNS, PHONE_COLUMNS
from enrichment.models import Chunk, ContactStatus, Model, RecordResult, RowStatus, Vendor
from enrichment.option_types import OptionInteger, choice_list
from enrichment.pipeline import row_rules
from enrichment.vendors import vocabulary
from enrichment.vendors.base import (
    ChunkOutcome,
    VendorAdapter,
    VendorOptions,
    raise_for_status,
    refusal_in_words,
    retry_after_seconds,
)

if TYPE_CHECKING:
    import httpx

ContactTypes = choice_list("email-work", "email-personal", "phone")


class PubrioOptions(VendorOptions):
    contact_types: ContactTypes = ["email-work", "email-personal"]
    profile_id: OptionInteger | None = None


class _Contact(Model):
    value: str
    type: str | None = None
    status: str | None = None


class _People(Model):
    people_search_id: str
    emails: list[_Contact] | None = None
    phones: list[_Contact] | None = None


class _Query(Model):
    redeem_query_id: str
    is_completed: bool
    estimated_time: float | None = None
    estimated_time_type: str | None = None


class _Profile(Model):
    total_charged_credit: float | None = None


class _SubmitData(_Query):
    pass


class _SubmitAnswer(Model):
    data: _SubmitData


class _QueryData(Model):
    profile: _Profile | None = None
    # Both documented; checked in `check`, so an answer without them fails the chunk instead of emptying it.
    query: _Query | None = None
    peoples: list[Any] | None = None


class _QueryAnswer(Model):
    data: _QueryData


def _charged(data: _QueryData) -> float:
    """What this redeem charged (inferred: `total_charged_credit` is the redeem's, not the account's)."""
    return (data.profile.total_charged_credit if data.profile else None) or 0


def _seconds(value: float | None, unit: str | None) -> float | None:
    if value is None:
        return None
    return value * {"minute": 60, "hour": 3600}.get((unit or "second").lower(), 1)


def _people_key(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return value.strip().lower()


_QUOTAS = (("hourly", re.compile(r"\bhour(ly)?\b", re.I)), ("daily", re.compile(r"\b(daily|day)\b", re.I)))


class PubrioAdapter(VendorAdapter):
    vendor = Vendor.PUBRIO
    input_fields = ("people_search_id",)
    result_columns = (
        *EMAIL_COLUMNS,
        "result_other_emails",
        *PHONE_COLUMNS,
        "result_other_phones",
        "result_credits",
    )
    credits_unit = "Pubrio credits"
    options_model = PubrioOptions
    # The contact types asked for are what is unlocked (documented). profile_id names the workspace the request is
    # tracked and charged to (documented), not what is asked: left out (inferred: no difference in the answer).
    answer_options = ("contact_types",)

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
        status = response.status_code
        if status < 400:
            return
        body = body if isinstance(body, dict) else {}
        words = str(body.get("message") or body.get("error") or response.reason_phrase)[:300]
        message = f"{words} (code {body['code']})" if body.get("code") else words
        where = f"pubrio: HTTP {status}"
        # Inferred: Pubrio documents 400 {code, message, details}, and "errors and codes will vary".
        if final := refusal_in_words(where, words, message):
            raise final
        retry_after = retry_after_seconds(response)
        if status == 429:
            quota = next((name for name, pattern in _QUOTAS if pattern.search(words)), None)
            what = f"{quota} quota reached" if quota else "rate limited"
            raise Throttled(f"{where}, {what}: {message}", retry_after, quota=quota)
        raise_for_status(Vendor.PUBRIO, status, message, retry_after)

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
        if data.query is None:
            return self._failed(
                vendor_ref, "Pubrio's answer has no `query`: whether the redeem completed is unknown", data
            )
        if not data.query.is_completed:
            return ChunkOutcome(
                status="running",
                vendor_ref=vendor_ref,
                wait_hint_seconds=_seconds(data.query.estimated_time, data.query.estimated_time_type),
            )
        if data.peoples is None:
            return self._failed(vendor_ref, "Pubrio's completed answer has no `peoples` list", data)
        people: dict[str, _People] = {}
        for entry in data.peoples:
            if not isinstance(entry, dict):
                continue  # the documented example itself lists a "..." placeholder among the people
            try:
                found = _People.model_validate(entry)
            except ValidationError:
                return self._failed(vendor_ref, "an entry of Pubrio's `peoples` has no people_search_id", data)
            people[_people_key(found.people_search_id)] = found
        missing = RecordResult(status=RowStatus.ERROR, reason="Pubrio's completed answer has no entry for this person")
        results = {}
        for record in chunk.records:
            found = people.get(self.dedupe_key(record.fields))
            results[record.ref] = self._normalize(found) if found is not None else missing.model_copy()
        return ChunkOutcome(status="done", vendor_ref=vendor_ref, results=results, credits=_charged(data))

    @staticmethod
    def _failed(vendor_ref: str, reason: str, data: _QueryData) -> ChunkOutcome:
        """A completed redeem whose answer lacks what the document promises: the chunk fails, saying so,
        rather than its rows turning not_matched; what the redeem charged still counts for the job."""
        return ChunkOutcome(
            status="failed", vendor_ref=vendor_ref, credits=_charged(data), reason=f"{reason} (redeem {vendor_ref})"
        )

    @staticmethod
    def _normalize(found: _People) -> RecordResult:
        emails = [
            vocabulary.email(Vendor.PUBRIO, e.value, type=(e.type or "").removeprefix("email-") or None, word=e.status)
            for e in found.emails or []
            if e.value
        ]
        # Verified work addresses first: the first email fills the main email columns.
        emails.sort(key=lambda e: (e.status != ContactStatus.VALID, e.type != "work"))
        phones = [
            vocabulary.phone(Vendor.PUBRIO, p.value, type=p.type, word=p.status) for p in found.phones or [] if p.value
        ]
        raw = found.model_dump(mode="json")
        if not emails and not phones:
            return RecordResult(
                status=RowStatus.NOT_MATCHED, reason="no contact details of the requested types", raw=raw
            )
        return RecordResult(status=RowStatus.MATCHED, emails=emails, phones=phones, raw=raw, credits=None)
