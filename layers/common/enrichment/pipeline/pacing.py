"""Pacing shared by every Lambda calling a vendor: a per-minute request budget and the vendor's own
"wait until" hints, both kept in DynamoDB so concurrent chunks respect them together."""

from __future__ import annotations

import contextlib
import time

from enrichment.aws import client
from enrichment.errors import Throttled
from enrichment.models import Vendor

# Budget windows: (name, seconds). The minute is the vendors' documented rate limit; the hour and the day
# are plan quotas (Pubrio's plans, Prospeo's daily limit), paced the same way when they are configured.
WINDOWS = (("minute", 60), ("hour", 3600), ("day", 86400))
QUOTA_NAMES = {"hour": "hourly", "day": "daily"}


class RateGate:
    def __init__(
        self,
        table: str,
        vendor: Vendor,
        requests_per_minute: int | None,
        account: str = "",
        *,
        requests_per_hour: int | None = None,
        requests_per_day: int | None = None,
    ) -> None:
        """`account` separates budgets kept in one table (one per vendor account; tests use their own)."""
        self.table = table
        self.vendor = vendor
        limits = {"minute": requests_per_minute, "hour": requests_per_hour, "day": requests_per_day}
        self.windows = [(name, seconds, limits[name]) for name, seconds in WINDOWS if limits[name]]
        self.key = f"rate#{vendor.value}" + (f"#{account}" if account else "")

    def acquire(self, cost: int = 1) -> None:
        """Take `cost` requests from every window's budget at once, or raise Throttled saying how long to wait."""
        now = time.time()
        ddb = client("dynamodb")
        block = ddb.get_item(TableName=self.table, Key=self._key("block"), ConsistentRead=True).get("Item")
        if block and float(block["until"]["N"]) > now:
            wait = float(block["until"]["N"]) - now
            raise Throttled(f"{self.vendor.value}: waiting {wait:.0f}s as the vendor asked", retry_after=wait)
        if not self.windows:
            return
        updates = [self._take(name, seconds, limit, cost, now) for name, seconds, limit in self.windows]
        try:
            if len(updates) == 1:
                ddb.update_item(**updates[0])
            else:  # all windows or none: a request refused by the day's budget takes nothing from the minute's
                ddb.transact_write_items(TransactItems=[{"Update": update} for update in updates])
        except ddb.exceptions.ConditionalCheckFailedException:
            self._throttle(0, now)
        except ddb.exceptions.TransactionCanceledException as cancelled:
            reasons = cancelled.response.get("CancellationReasons") or []
            full = [i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"]
            if not full:
                raise
            self._throttle(max(full, key=lambda i: self.windows[i][1]), now)

    def _take(self, name: str, seconds: int, limit: int, cost: int, now: float) -> dict:
        cost = min(cost, limit)  # a chunk larger than the budget still goes, alone in its window
        window = int(now // seconds)
        return {
            "TableName": self.table,
            "Key": self._key(f"{name}#{window}"),
            "UpdateExpression": "ADD used :cost SET expires_at = :expires",
            "ConditionExpression": "attribute_not_exists(used) OR used <= :room",
            "ExpressionAttributeValues": {
                ":cost": {"N": str(cost)},
                ":room": {"N": str(limit - cost)},
                ":expires": {"N": str(int(now) + seconds + 3600)},
            },
        }

    def _throttle(self, index: int, now: float) -> None:
        name, seconds, limit = self.windows[index]
        wait = (int(now // seconds) + 1) * seconds - now
        raise Throttled(
            f"{self.vendor.value}: pacing to {limit} requests a{'n' if name == 'hour' else ''} {name}",
            retry_after=wait,
            quota=QUOTA_NAMES.get(name),
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
