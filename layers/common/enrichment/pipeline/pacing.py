"""Pacing shared by every Lambda calling a vendor: a per-minute request budget and the vendor's own
"wait until" hints, both kept in DynamoDB so concurrent chunks respect them together."""

from __future__ import annotations

import contextlib
import time

from enrichment.aws import client
from enrichment.errors import Throttled
from enrichment.models import Vendor

WINDOW_SECONDS = 60


class RateGate:
    def __init__(self, table: str, vendor: Vendor, requests_per_minute: int | None, account: str = "") -> None:
        """`account` separates budgets kept in one table (one per vendor account; tests use their own)."""
        self.table = table
        self.vendor = vendor
        self.limit = requests_per_minute
        self.key = f"rate#{vendor.value}" + (f"#{account}" if account else "")

    def acquire(self, cost: int = 1) -> None:
        """Take `cost` requests from this minute's budget, or raise Throttled saying how long to wait."""
        now = time.time()
        ddb = client("dynamodb")
        block = ddb.get_item(TableName=self.table, Key=self._key("block"), ConsistentRead=True).get("Item")
        if block and float(block["until"]["N"]) > now:
            wait = float(block["until"]["N"]) - now
            raise Throttled(f"{self.vendor.value}: waiting {wait:.0f}s as the vendor asked", retry_after=wait)
        if not self.limit:
            return
        cost = min(cost, self.limit)  # a chunk larger than the budget still goes, alone in its minute
        window = int(now // WINDOW_SECONDS)
        try:
            ddb.update_item(
                TableName=self.table,
                Key=self._key(f"minute#{window}"),
                UpdateExpression="ADD used :cost SET expires_at = :expires",
                ConditionExpression="attribute_not_exists(used) OR used <= :room",
                ExpressionAttributeValues={
                    ":cost": {"N": str(cost)},
                    ":room": {"N": str(self.limit - cost)},
                    ":expires": {"N": str(int(now) + 3600)},
                },
            )
        except ddb.exceptions.ConditionalCheckFailedException:
            wait = (window + 1) * WINDOW_SECONDS - now
            raise Throttled(
                f"{self.vendor.value}: pacing to {self.limit} requests a minute", retry_after=wait
            ) from None

    def block(self, seconds: float) -> None:
        """Record the vendor's reset hint so every chunk waits for it, not only the one that was told."""
        until = time.time() + seconds
        ddb = client("dynamodb")
        with contextlib.suppress(ddb.exceptions.ConditionalCheckFailedException):  # a later block is recorded
            ddb.put_item(
                TableName=self.table,
                Item=self._key("block") | {"until": {"N": f"{until:.3f}"}, "expires_at": {"N": str(int(until) + 3600)}},
                ConditionExpression="attribute_not_exists(#until) OR #until < :until",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues={":until": {"N": f"{until:.3f}"}},
            )

    def _key(self, item: str) -> dict:
        return {"job_id": {"S": self.key}, "item": {"S": item}}
