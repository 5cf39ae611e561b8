"""Job state in DynamoDB: one item per job (`item = "job"`) plus one marker per settled chunk.

A job's status only moves forward, by conditional writes: PENDING -> RUNNING -> FINALIZING -> a final
status (SUCCEEDED, PARTIAL, FAILED, CANCELLED), which never changes. FINALIZING is a claim: one finalizer
holds it (for a lease), and only it writes the outputs and settles the job.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import enum
import logging
import time
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from pydantic import ValidationError

from enrichment.aws import client
from enrichment.models import Job, JobStatus

JOB_ITEM = "job"
SETTLE_ATTEMPTS = 8  # transaction conflicts (two chunks settling at once) are retried, not dropped
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()
logger = logging.getLogger(__name__)


# More writes for a chunk's settle transaction: other items' writes, ADD terms for the job item and their values.
SettleParts = tuple[list[dict[str, Any]], str, dict[str, Any]]
Position = tuple[str, str]  # where a listing stopped: (created_at, job_id) of the last job it gave


class WebhookClaim(enum.Enum):
    TAKEN = "taken"  # this delivery holds the lease
    BUSY = "busy"  # another delivery holds an unexpired lease
    SETTLED = "settled"  # delivered, failed or refused already


class UnreadableJob(LookupError):
    """A stored job item this version cannot read (written by another version, or by hand)."""


class Unstorable(ValueError):
    """A value DynamoDB would not keep as it is (a number out of its range, a map with an empty key)."""


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _to_dynamo(value: Any) -> dict[str, Any]:
    """A DynamoDB attribute value; Unstorable when DynamoDB would refuse or change it (what enters a job is
    checked before: this keeps anything else from being written in a form that breaks its reads)."""
    if isinstance(value, float):
        value = Decimal(str(value))
    elif isinstance(value, dict):
        if any(not isinstance(k, str) or not k for k in value):
            raise Unstorable("a map with an empty key")
        return {"M": {k: _to_dynamo(v) for k, v in value.items()}}
    elif isinstance(value, list):
        return {"L": [_to_dynamo(v) for v in value]}
    try:
        return _serializer.serialize(value)
    except (decimal.Inexact, decimal.Rounded, decimal.Underflow, decimal.Overflow, decimal.Clamped):
        raise Unstorable(f"the number {value} (DynamoDB keeps 38 digits, from 1E-130 to 1E+126)") from None


def _from_dynamo(item: dict[str, Any]) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        if isinstance(value, Decimal):
            return int(value) if value == value.to_integral_value() else float(value)
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return {k: plain(_deserializer.deserialize(v)) for k, v in item.items()}


def _job(item: dict[str, Any]) -> Job:
    try:
        return Job.model_validate(_from_dynamo(item))
    except ValidationError as exc:
        job_id = item.get("job_id", {}).get("S", "?")
        fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
        raise UnreadableJob(f"job {job_id} is stored in a form this version cannot read ({fields})") from None


def _key(job_id: str, item: str = JOB_ITEM) -> dict[str, Any]:
    return {"job_id": {"S": job_id}, "item": {"S": item}}


class JobStore:
    def __init__(self, table: str) -> None:
        self.table = table

    def create(self, job: Job) -> bool:
        """Store a new job; False if a job with this id already exists (the same drop seen twice)."""
        ddb = client("dynamodb")
        item = {k: _to_dynamo(v) for k, v in job.model_dump(mode="json", exclude_none=True).items()}
        item["item"] = {"S": JOB_ITEM}
        item["listing"] = {"S": JOB_ITEM}  # the key of the newest-first index; only job items have it
        try:
            ddb.put_item(TableName=self.table, Item=item, ConditionExpression="attribute_not_exists(job_id)")
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def get(self, job_id: str) -> Job | None:
        answer = client("dynamodb").get_item(TableName=self.table, Key=_key(job_id), ConsistentRead=True)
        if "Item" not in answer:
            return None
        return _job(answer["Item"])

    def list(
        self, *, status: str | None = None, owner: str | None = None, limit: int = 25, start: Position | None = None
    ) -> tuple[list[Job], Position | None]:
        """Jobs newest first (optionally of one status, or one owner's), a page at a time; returns the page and where
        to go on: the position (created_at, job_id) of its last job, or None after the last page. Any position is a
        place in the listing, whether or not a job is there.

        One owner's jobs come from the ByOwner index, filtered by status when one is asked for: a page then holds
        at most `limit` jobs, maybe fewer (DynamoDB filters after it reads), and its position goes on from there.
        An item this version cannot read is left out (and logged), so one odd item never hides the others."""
        names: dict[str, str] = {}
        filters: dict[str, Any] = {}
        if owner is not None:
            index, partition = "ByOwner", {"owner": {"S": owner}}
            if status:
                names["#status"] = "status"
                filters = {
                    "FilterExpression": "#status = :status",
                    "ExpressionAttributeValues": {":status": {"S": status}},
                }
        elif status:
            index, partition = "ByStatus", {"status": {"S": status}}
        else:
            index, partition = "ByCreated", {"listing": {"S": JOB_ITEM}}
        ((attribute, value),) = partition.items()
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": "#k = :k",
            "ExpressionAttributeNames": names | {"#k": attribute},
            "ExpressionAttributeValues": filters.pop("ExpressionAttributeValues", {}) | {":k": value},
            "ScanIndexForward": False,
            "Limit": limit,
            **filters,
        }
        if start:
            created_at, job_id = start
            kwargs["ExclusiveStartKey"] = _key(job_id) | partition | {"created_at": {"S": created_at}}
        answer = client("dynamodb").query(**kwargs)
        jobs = []
        for item in answer.get("Items", []):
            try:
                jobs.append(_job(item))
            except UnreadableJob as unreadable:
                logger.warning("left out of the listing: %s", unreadable)
        last = answer.get("LastEvaluatedKey")
        return jobs, ((last["created_at"]["S"], last["job_id"]["S"]) if last else None)

    def require(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job is None:
            raise LookupError(f"job {job_id} does not exist")
        return job

    def update(self, job_id: str, **fields: Any) -> None:
        """Set fields other than the status (the status moves only through `transition`)."""
        if "status" in fields:
            raise ValueError("the status changes only through transition()")
        self._set(job_id, fields, "attribute_exists(job_id)", {})

    def transition(
        self,
        job_id: str,
        *,
        to: JobStatus,
        when: tuple[JobStatus, ...],
        condition: str = "",
        values: dict[str, Any] | None = None,
        **fields: Any,
    ) -> bool:
        """Move the job to `to` with `fields` if its status is one of `when` and `condition` (over `values`,
        named `:name`) holds; False if not."""
        names = {f":when{i}": {"S": s.value} for i, s in enumerate(when)}
        expression = f"#status IN ({', '.join(names)})" + (f" AND ({condition})" if condition else "")
        values = names | {f":{k}": _to_dynamo(v) for k, v in (values or {}).items()}
        ddb = client("dynamodb")
        try:
            self._set(job_id, fields | {"status": to.value}, expression, values)
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def _set(self, job_id: str, fields: dict[str, Any], condition: str, values: dict[str, Any]) -> None:
        names = {f"#{k}": k for k in fields}
        client("dynamodb").update_item(
            TableName=self.table,
            Key=_key(job_id),
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values | {f":{k}": _to_dynamo(v) for k, v in fields.items()},
            ConditionExpression=condition,
        )

    def mark_running(
        self,
        job_id: str,
        *,
        rows_total: int,
        chunks_total: int,
        input_format: dict[str, str] | None = None,
        **cost: Any,
    ) -> bool:
        """PENDING -> RUNNING; False if the job has moved on already (a retried or late Prepare)."""
        return self.transition(
            job_id,
            to=JobStatus.RUNNING,
            when=(JobStatus.PENDING,),
            started_at=now_iso(),
            rows_total=rows_total,
            chunks_total=chunks_total,
            **({"input_format": input_format} if input_format else {}),
            **cost,  # credits_expected, credits_worst_case and their basis (pipeline/cost.py)
        )

    def record_step(self, job_id: str, step_index: int, figures: dict[str, Any]) -> bool:
        """A later step prepared: its figures (pipeline/prepare._step_figures) kept, the job's chunks and expected
        credits now the sums over its steps. Only Prepare writes them, one step after another; a retried Prepare
        writes the same. False if the job is no longer running."""
        job = self.require(job_id)
        prepared = {**job.steps_prepared, str(step_index): figures}

        def total(name: str) -> float | None:
            values = [step[name] for step in prepared.values() if step.get(name) is not None]
            return sum(values) if values else None

        return self.transition(
            job_id,
            to=JobStatus.RUNNING,
            when=(JobStatus.RUNNING,),
            steps_prepared=prepared,
            chunks_total=int(total("chunks") or 0),
            credits_expected=total("credits_expected"),
            credits_worst_case=total("credits_worst_case"),
        )

    def pass_stop_on(self, job_id: str, step_index: int, reason: str) -> bool:
        """A job of steps whose step `step_index` was stopped by its vendor (out of credits, bad credentials): the
        stop stays that step's (steps_prepared[step]["stopped"]) and the next step's vendor may go on. Only if the
        stop is still `reason` and nobody asked to cancel; False if not (the job stays stopped)."""
        ddb = client("dynamodb")
        try:
            ddb.update_item(
                TableName=self.table,
                Key=_key(job_id),
                UpdateExpression="SET steps_prepared.#step.stopped = :reason REMOVE stop_reason, stop_error",
                ConditionExpression="stop_reason = :reason AND attribute_exists(steps_prepared.#step)"
                " AND (attribute_not_exists(cancel_requested) OR cancel_requested = :no)",
                ExpressionAttributeNames={"#step": str(step_index)},
                ExpressionAttributeValues={":reason": {"S": reason}, ":no": {"BOOL": False}},
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def claim_finalize(self, job_id: str, finalizer: str, lease_seconds: float) -> bool:
        """Become the job's one finalizer: from PENDING or RUNNING, or from FINALIZING when the claim is
        this finalizer's own (a retry) or its lease ran out (the finalizer died)."""
        now = time.time()
        return self.transition(
            job_id,
            to=JobStatus.FINALIZING,
            when=(JobStatus.PENDING, JobStatus.RUNNING, JobStatus.FINALIZING),
            condition="#status <> :finalizing OR finalizer = :finalizer OR finalize_lease_until < :now",
            finalizer=finalizer,
            finalize_lease_until=now + lease_seconds,
            values={"finalizing": JobStatus.FINALIZING.value, "now": now},
        )

    def settle(self, job_id: str, finalizer: str, status: JobStatus, **fields: Any) -> bool:
        """FINALIZING -> a final status, by the finalizer that holds the claim only."""
        return self.transition(
            job_id,
            to=status,
            when=(JobStatus.FINALIZING,),
            condition="finalizer = :me",
            values={"me": finalizer},
            **fields,
        )

    def claim_webhook(self, job_id: str, lease_seconds: float) -> WebhookClaim:
        """Take the one delivery of the job's webhook for `lease_seconds`. A delivery whose lease ran out (its
        function died mid-delivery) may be taken over; one still within its lease is BUSY; an ended one SETTLED."""
        ddb = client("dynamodb")
        now = time.time()
        try:
            self._set(
                job_id,
                {"webhook_status": "delivering", "webhook_lease_until": now + lease_seconds},
                "attribute_not_exists(webhook_status) OR (webhook_status = :delivering AND "
                "(webhook_lease_until < :now OR attribute_not_exists(webhook_lease_until)))",
                {":delivering": _to_dynamo("delivering"), ":now": _to_dynamo(now)},
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            job = self.require(job_id)
            return WebhookClaim.BUSY if job.webhook_status == "delivering" else WebhookClaim.SETTLED
        return WebhookClaim.TAKEN

    def settle_chunk(
        self, job_id: str, chunk_index: int, *, credits: float, failed: bool, also: SettleParts | None = None
    ) -> bool:
        """Count a chunk as done once, whatever retries happen: marker and counters in one transaction.
        False when the chunk was settled already; a conflict with another writer is retried. `also`: more writes
        of the same transaction (a budget reservation settled: pipeline/budget.py)."""
        ddb = client("dynamodb")
        for attempt in range(SETTLE_ATTEMPTS):
            try:
                self._settle_chunk_once(ddb, job_id, chunk_index, credits, failed, also)
                return True
            except ddb.exceptions.TransactionCanceledException as cancelled:
                codes = [r.get("Code") for r in cancelled.response.get("CancellationReasons", [])]
                if codes and codes[0] == "ConditionalCheckFailed":
                    return False  # the marker exists: settled by an earlier attempt
                if attempt == SETTLE_ATTEMPTS - 1:
                    raise
                time.sleep(min(1.0, 0.05 * 2**attempt))
        return False

    def _settle_chunk_once(
        self, ddb: Any, job_id: str, chunk_index: int, credits: float, failed: bool, also: SettleParts | None
    ) -> None:
        items, job_terms, job_values = also or ([], "", {})
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Put": {
                        "TableName": self.table,
                        "Item": _key(job_id, f"chunk#{chunk_index:06d}")
                        | {"settled_at": {"S": now_iso()}, "credits": _to_dynamo(float(credits))},
                        "ConditionExpression": "attribute_not_exists(job_id)",
                    }
                },
                {
                    "Update": {
                        "TableName": self.table,
                        "Key": _key(job_id),
                        "UpdateExpression": "ADD chunks_done :one, chunks_failed :failed, credits :credits"
                        + (f", {job_terms}" if job_terms else ""),
                        "ExpressionAttributeValues": {
                            ":one": {"N": "1"},
                            ":failed": {"N": "1" if failed else "0"},
                            ":credits": _to_dynamo(float(credits)),
                        }
                        | job_values,
                    }
                },
                *items,
            ]
        )

    def stop(self, job_id: str, *, reason: str, error: str) -> None:
        """Tell every chunk of the job to stop submitting (first reason wins)."""
        ddb = client("dynamodb")
        with contextlib.suppress(ddb.exceptions.ConditionalCheckFailedException):
            ddb.update_item(
                TableName=self.table,
                Key=_key(job_id),
                UpdateExpression="SET stop_reason = :reason, stop_error = :error",
                ConditionExpression="attribute_not_exists(stop_reason)",
                ExpressionAttributeValues={":reason": {"S": reason}, ":error": {"S": error}},
            )
