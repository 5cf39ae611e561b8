"""The send ledger: what was sent to the vendor for each chunk, written before the paid request leaves.

One item per chunk in the jobs table (`item = "send#<chunk>"`), moved only by conditional writes:
- no item, or `released`: nothing the vendor may hold; sending is safe;
- `sending`: a paid request left (or was about to) and its answer is not known; never deleted because the
  call failed after it left: the next attempt reconciles it with the vendor instead of sending blindly;
- `accepted`: the vendor answered; the item keeps the progress that answer gave, so a retried step
  returns it instead of sending again.
"""

from __future__ import annotations

import contextlib
import json
from typing import Literal

from enrichment.aws import client
from enrichment.errors import OutcomeUnknown
from enrichment.jobs.store import now_iso
from enrichment.metrics import Metric, count
from enrichment.models import ChunkProgress, Model

State = Literal["sending", "released", "accepted"]


class SendRecord(Model):
    state: State
    sends: int = 0
    resends: int = 0
    progress: ChunkProgress | None = None


class SendLedger:
    def __init__(self, table: str, job_id: str, chunk_index: int) -> None:
        self.table = table
        self.key = {"job_id": {"S": job_id}, "item": {"S": f"send#{chunk_index:06d}"}}

    def get(self) -> SendRecord | None:
        item = client("dynamodb").get_item(TableName=self.table, Key=self.key, ConsistentRead=True).get("Item")
        if not item:
            return None
        progress = item.get("progress", {}).get("S")
        return SendRecord(
            state=item["state"]["S"],
            sends=int(item.get("sends", {}).get("N", 0)),
            resends=int(item.get("resends", {}).get("N", 0)),
            progress=ChunkProgress.model_validate(json.loads(progress)) if progress else None,
        )

    def mark_sending(self) -> None:
        """Called right before the paid request leaves. Refused if another send is already on record."""
        ddb = client("dynamodb")
        try:
            ddb.update_item(
                TableName=self.table,
                Key=self.key,
                UpdateExpression="SET #state = :sending, sent_at = :now ADD sends :one",
                ConditionExpression="attribute_not_exists(#state) OR #state = :released",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":sending": {"S": "sending"},
                    ":released": {"S": "released"},
                    ":now": {"S": now_iso()},
                    ":one": {"N": "1"},
                },
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            count(Metric.RESUBMITS_REFUSED)
            raise OutcomeUnknown("a submission of this chunk is already on record; reconciling it first") from None

    def release(self, *, resend: bool = False) -> None:
        """The vendor does not hold the submission (it refused it, it never left, or a repeat is allowed)."""
        ddb = client("dynamodb")
        with contextlib.suppress(ddb.exceptions.ConditionalCheckFailedException):  # nothing was sending
            ddb.update_item(
                TableName=self.table,
                Key=self.key,
                UpdateExpression="SET #state = :released ADD resends :resend",
                ConditionExpression="#state = :sending",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":released": {"S": "released"},
                    ":sending": {"S": "sending"},
                    ":resend": {"N": "1" if resend else "0"},
                },
            )

    def accept(self, progress: ChunkProgress) -> None:
        """The vendor's answer, kept: a retried step returns it instead of sending again."""
        ddb = client("dynamodb")
        ddb.update_item(
            TableName=self.table,
            Key=self.key,
            UpdateExpression="SET #state = :accepted, progress = :progress, accepted_at = :now",
            ExpressionAttributeNames={"#state": "state"},
            ExpressionAttributeValues={
                ":accepted": {"S": "accepted"},
                ":progress": {"S": progress.model_dump_json()},
                ":now": {"S": now_iso()},
            },
        )
