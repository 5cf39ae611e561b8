"""The result cache across jobs: every answer a vendor gave (matched or not matched), for later jobs asking the same.

An entry is keyed by the vendor, its answer scope (the options that change the answer: each adapter's
`answer_options`, e.g. Prospeo's `enrich_mobile`; never `allow_resend`) and the row's dedupe key (the one Prepare
dedupes a file by: the adapter's `dedupe_key`), hashed into one partition key; it holds the answer (a RecordResult,
compressed), when the vendor gave it (`fetched_at`), the job that paid for it, and `expires_at` (the table's TTL:
`RESULT_CACHE_DAYS` after it was fetched). Prepare looks a file's rows up (BatchGetItem, 100 keys a call, a few
calls at once) and a row answered here is never chunked nor sent; the vendor function writes each chunk's answers
when the chunk settles (BatchWriteItem, 25 a call): a retried round puts the same keys again, never a second entry.

People can be purged (data subject requests): each entry lists its `subjects`, the hashes of the identifiers its
request named (email, LinkedIn URL, person id, contact id, people search id, name), normalized as the dedupe keys
normalize them; a purge by one of them scans the table for entries listing it, whatever the vendor or scope.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from enrichment.aws import client
from enrichment.models import Model, RecordResult, RowStatus, Vendor
from enrichment.pipeline import row_rules

logger = logging.getLogger(__name__)

GET_BATCH = 100  # BatchGetItem's limit of keys a call
PUT_BATCH = 25  # BatchWriteItem's limit of requests a call
LOOKUP_THREADS = 8  # BatchGetItem calls at once, at most
BATCH_ATTEMPTS = 6  # rounds of a batch call's unprocessed keys before giving up
# DynamoDB's item limit is 400 KB; an answer above this (compressed) is not kept (logged, counted): the row is
# answered all the same, it is only not cached.
MAX_ANSWER_BYTES = 350_000
CACHED_STATUSES = frozenset({RowStatus.MATCHED, RowStatus.NOT_MATCHED})
DEFAULT_RETENTION_DAYS = 90
DAY = 86_400
READ_ATTRIBUTES = ("pk", "answer", "fetched_at", "fetched_epoch", "expires_at")

# The identifiers a purge can name, as the dedupe keys normalize them (vendors/*.dedupe_key).
SUBJECT_FIELDS = ("email", "linkedin_url", "person_id", "contact_id", "people_search_id", "name")


def answer_scope(answer_options: Iterable[str], options: BaseModel) -> str:
    """The options that change a vendor's answer, in one canonical text: the same question asked with other such
    options is another entry. A list's order says nothing (`contact_types`), so it is sorted."""
    values: dict[str, Any] = {}
    for name in sorted(answer_options):
        value = getattr(options, name)
        values[name] = sorted(value) if isinstance(value, list) else value
    return json.dumps(values, sort_keys=True, separators=(",", ":"), default=str)


def entry_key(vendor: Vendor, scope: str, dedupe_key: str) -> str:
    digest = hashlib.sha256(f"{scope}\x00{dedupe_key}".encode()).hexdigest()
    return f"{vendor.value}#{digest}"


def subject_hash(field: str, value: str) -> str:
    return hashlib.sha256(f"{field}\x00{value}".encode()).hexdigest()[:40]


def normalized_subject(field: str, value: str) -> str:
    """An identifier as the dedupe keys compare it; ValueError when it is not one (an invalid email or UUID)."""
    value = value.strip()
    if not value:
        raise ValueError(f"{field} is empty")
    if field == "email":
        try:
            return row_rules.email_key(value)
        except row_rules.InvalidValue as exc:
            raise ValueError(str(exc)) from None
    if field == "people_search_id":
        return str(uuid.UUID(value))
    if field == "contact_id":
        return value
    if field == "name":
        return " ".join(value.lower().split())
    if field in ("linkedin_url", "person_id"):
        return value.lower()
    raise ValueError(f"{field} is not an identifier the cache keeps; it keeps {', '.join(SUBJECT_FIELDS)}")


def subjects(fields: Mapping[str, str]) -> set[str]:
    """The hashes of the identifiers a request names (its entry is purged by any of them)."""
    found = set()
    name = fields.get("full_name") or " ".join(f for f in (fields.get("first_name"), fields.get("last_name")) if f)
    for field in SUBJECT_FIELDS[:-1]:
        if (value := fields.get(field, "")).strip():
            try:
                found.add(subject_hash(field, normalized_subject(field, value)))
            except ValueError:
                continue
    if name.strip():
        found.add(subject_hash("name", normalized_subject("name", name)))
    return found


@dataclass(frozen=True)
class CachedAnswer:
    result: RecordResult
    fetched_at: str  # when the vendor gave it (ISO 8601, UTC)


@dataclass(frozen=True)
class Answered:
    """A row the vendor answered, to keep: its fields as sent (for its key and subjects) and the answer."""

    fields: Mapping[str, str]
    result: RecordResult


def epoch_of(text: str) -> float:
    """An ISO 8601 time (with Z or an offset) in Unix seconds."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


class ResultCache:
    """One vendor's entries in one answer scope."""

    def __init__(
        self,
        table: str,
        vendor: Vendor,
        scope: str,
        *,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.table, self.vendor, self.scope = table, vendor, scope
        self.retention_days, self.clock = retention_days, clock

    def key(self, dedupe_key: str) -> str:
        return entry_key(self.vendor, self.scope, dedupe_key)

    # ---- reading ----

    def lookup(self, keys: list[str], max_age_days: int) -> dict[str, CachedAnswer]:
        """The entries of `keys` (distinct, at most GET_BATCH) fetched within `max_age_days`; absent keys are
        left out. Expired entries the TTL has not yet removed are left out too."""
        if not keys or max_age_days <= 0:
            return {}
        if len(keys) > GET_BATCH:
            raise ValueError(f"at most {GET_BATCH} keys a lookup")
        now = self.clock()
        oldest = now - max_age_days * DAY
        found: dict[str, CachedAnswer] = {}
        request: dict[str, Any] = {
            self.table: {
                "Keys": [{"pk": {"S": k}} for k in keys],
                # Names, not words: DynamoDB reserves hundreds of words, and an attribute named like one fails.
                "ProjectionExpression": ", ".join(f"#{a}" for a in READ_ATTRIBUTES),
                "ExpressionAttributeNames": {f"#{a}": a for a in READ_ATTRIBUTES},
            }
        }
        for attempt in range(BATCH_ATTEMPTS):
            answer = client("dynamodb").batch_get_item(RequestItems=request)
            for item in answer.get("Responses", {}).get(self.table, []):
                fetched = float(item["fetched_epoch"]["N"])
                if fetched < oldest or float(item["expires_at"]["N"]) <= now:
                    continue
                result = RecordResult.model_validate_json(zlib.decompress(item["answer"]["B"]))
                found[item["pk"]["S"]] = CachedAnswer(result=result, fetched_at=item["fetched_at"]["S"])
            request = answer.get("UnprocessedKeys") or {}
            if not request:
                return found
            time.sleep(min(2.0, 0.05 * 2**attempt))
        # Keys DynamoDB would not read in time are asked of the vendor: a cost, never a wrong answer.
        logger.warning("cache lookups left unprocessed", extra={"keys": len(request[self.table]["Keys"])})
        return found

    # ---- writing ----

    def item(self, answered: Answered, dedupe_key: str, fetched_at: str, job_id: str) -> dict[str, Any] | None:
        """The entry of one answer, or None when it is not kept (not a vendor's answer, or too large)."""
        if answered.result.status not in CACHED_STATUSES:
            return None
        fetched_epoch = epoch_of(fetched_at)
        answer = zlib.compress(answered.result.model_dump_json().encode(), 6)
        if len(answer) > MAX_ANSWER_BYTES:
            return None
        item: dict[str, Any] = {
            "pk": {"S": self.key(dedupe_key)},
            "vendor": {"S": self.vendor.value},
            "scope": {"S": self.scope},
            "answer": {"B": answer},
            "fetched_at": {"S": fetched_at},  # as the vendor's rows of that job said it (result_fetched_at)
            "fetched_epoch": {"N": str(int(fetched_epoch))},
            "expires_at": {"N": str(int(fetched_epoch + self.retention_days * DAY))},
            "job_id": {"S": job_id},
        }
        if found := subjects(answered.fields):
            item["subjects"] = {"SS": sorted(found)}
        return item

    def store(self, answers: Iterable[tuple[str, Answered]], fetched_at: str, job_id: str) -> int:
        """Keep each (dedupe key, answer); the number of entries written. Puts are idempotent: the same key
        again replaces its entry."""
        items = [i for key, a in answers if (i := self.item(a, key, fetched_at, job_id)) is not None]
        for start in range(0, len(items), PUT_BATCH):
            _batch_write(self.table, [{"PutRequest": {"Item": i}} for i in items[start : start + PUT_BATCH]])
        return len(items)


def _batch_write(table: str, requests: list[dict[str, Any]]) -> None:
    pending: dict[str, Any] = {table: requests}
    for attempt in range(BATCH_ATTEMPTS):
        pending = client("dynamodb").batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        if not pending:
            return
        time.sleep(min(2.0, 0.05 * 2**attempt))
    raise RuntimeError(f"{len(pending[table])} cache writes left unprocessed")


# ---- purging ----


class PurgeRequest(Model):
    vendor: Vendor | None = None
    older_than_days: int | None = None  # entries fetched more than this many days ago
    subject: tuple[str, str] | None = None  # (field, value): one person's entries
    start: str | None = None  # where a purge cut short goes on (PurgeResult.next_token: the last key it scanned)


class PurgeResult(Model):
    deleted: int
    scanned: int
    next_token: str | None = None  # the purge is not over: call again with it


def purge(
    table: str,
    request: PurgeRequest,
    *,
    time_left: Callable[[], float] = lambda: float("inf"),
    clock: Callable[[], float] = time.time,
    page_size: int | None = None,
) -> PurgeResult:
    """Delete the entries the request names (all of them when it names nothing): a scan with a filter, a page at
    a time, each page's matches deleted (BatchWriteItem). Stops early, with a next_token, when `time_left()` falls
    under a few seconds; deleting is idempotent, so going on from any token is safe."""
    names: dict[str, str] = {"#pk": "pk"}
    values: dict[str, Any] = {}
    conditions = []
    if request.vendor is not None:
        names["#vendor"] = "vendor"
        values[":vendor"] = {"S": request.vendor.value}
        conditions.append("#vendor = :vendor")
    if request.older_than_days is not None:
        names["#fetched"] = "fetched_epoch"
        values[":before"] = {"N": str(int(clock() - request.older_than_days * DAY))}
        conditions.append("#fetched < :before")
    if request.subject is not None:
        field, value = request.subject
        names["#subjects"] = "subjects"
        values[":subject"] = {"S": subject_hash(field, normalized_subject(field, value))}
        conditions.append("contains(#subjects, :subject)")
    kwargs: dict[str, Any] = {"TableName": table, "ProjectionExpression": "#pk", "ExpressionAttributeNames": names}
    if page_size:
        kwargs["Limit"] = page_size
    if conditions:
        kwargs["FilterExpression"] = " AND ".join(conditions)
        kwargs["ExpressionAttributeValues"] = values
    start = {"pk": {"S": request.start}} if request.start else None
    deleted = scanned = 0
    while True:
        page = client("dynamodb").scan(**kwargs, **({"ExclusiveStartKey": start} if start else {}))
        scanned += page.get("ScannedCount", 0)
        keys = [{"pk": item["pk"]} for item in page.get("Items", [])]
        for i in range(0, len(keys), PUT_BATCH):
            _batch_write(table, [{"DeleteRequest": {"Key": k}} for k in keys[i : i + PUT_BATCH]])
        deleted += len(keys)
        start = page.get("LastEvaluatedKey")
        if not start:
            return PurgeResult(deleted=deleted, scanned=scanned)
        if time_left() < 10:
            return PurgeResult(deleted=deleted, scanned=scanned, next_token=start["pk"]["S"])
