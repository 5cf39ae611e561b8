"""Job state in DynamoDB: one item per job (`item = "job"`) plus one marker per settled chunk."""

from __future__ import annotations

import contextlib
import datetime as dt
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from enrichment.aws import client
from enrichment.models import Job, JobStatus

JOB_ITEM = "job"
_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _to_dynamo(value: Any) -> dict[str, Any]:
    if isinstance(value, float):
        value = Decimal(str(value))
    elif isinstance(value, dict):
        return {"M": {k: _to_dynamo(v) for k, v in value.items()}}
    elif isinstance(value, list):
        return {"L": [_to_dynamo(v) for v in value]}
    return _serializer.serialize(value)


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
        return Job.model_validate(_from_dynamo(answer["Item"]))

    def list(
        self, *, status: str | None = None, limit: int = 25, start: dict[str, Any] | None = None
    ) -> tuple[list[Job], dict[str, Any] | None]:
        """Jobs newest first (optionally of one status), a page at a time; returns the page and where to go on."""
        if status:
            index, condition, values = "ByStatus", "#s = :v", {":v": {"S": status}}
        else:
            index, condition, values = "ByCreated", "#s = :v", {":v": {"S": JOB_ITEM}}
        kwargs: dict[str, Any] = {
            "TableName": self.table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": {"#s": "status" if status else "listing"},
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
            "Limit": limit,
        }
        if start:
            kwargs["ExclusiveStartKey"] = start
        answer = client("dynamodb").query(**kwargs)
        jobs = [Job.model_validate(_from_dynamo(item)) for item in answer.get("Items", [])]
        return jobs, answer.get("LastEvaluatedKey")

    def require(self, job_id: str) -> Job:
        job = self.get(job_id)
        if job is None:
            raise LookupError(f"job {job_id} does not exist")
        return job

    def update(self, job_id: str, **fields: Any) -> None:
        names = {f"#{k}": k for k in fields}
        values = {f":{k}": _to_dynamo(v) for k, v in fields.items()}
        client("dynamodb").update_item(
            TableName=self.table,
            Key=_key(job_id),
            UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in fields),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ConditionExpression="attribute_exists(job_id)",
        )

    def mark_running(self, job_id: str, *, rows_total: int, chunks_total: int) -> None:
        self.update(
            job_id,
            status=JobStatus.RUNNING.value,
            started_at=now_iso(),
            rows_total=rows_total,
            chunks_total=chunks_total,
        )

    def settle_chunk(self, job_id: str, chunk_index: int, *, credits: float, failed: bool) -> bool:
        """Count a chunk as done once, whatever retries happen: marker and counters in one transaction."""
        ddb = client("dynamodb")
        try:
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
                            "UpdateExpression": "ADD chunks_done :one, chunks_failed :failed, credits :credits",
                            "ExpressionAttributeValues": {
                                ":one": {"N": "1"},
                                ":failed": {"N": "1" if failed else "0"},
                                ":credits": _to_dynamo(float(credits)),
                            },
                        }
                    },
                ]
            )
        except ddb.exceptions.TransactionCanceledException:
            return False
        return True

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
