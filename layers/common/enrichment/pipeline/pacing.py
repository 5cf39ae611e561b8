"""Pacing shared by every Lambda calling a vendor: the vendor's request limits and its own "wait until" hints,
both kept in DynamoDB so concurrent chunks respect them together.

Why sliding windows: a calendar counter (one per clock minute) serves the limit in every minute, yet a burst at the
end of one minute and another at the start of the next put twice the limit in the 60 seconds around the boundary;
a vendor that counts a rolling window answers with a storm of 429s. Here no sliding window (60 s for the per-minute
limit, 3600 s and 86400 s for the optional hourly and daily quotas) ever holds more than the limit:

- One item per budget (`rate#<vendor>[#account]` / `budget`) holds, for each window, the usage in buckets of a
  sixtieth of the window (1 s for the minute, 1 min for the hour, 24 min for the day). It is written with optimistic
  concurrency (a version and a conditional write; on a conflict the write returns the item as it now is, and the
  grant is tried again on it, a bounded number of times), so concurrent Lambdas never both take the last room.
- A grant is booked in the bucket of the latest moment its request may reach the vendor (ARRIVAL_MARGIN after the
  gate's clock: the gate's own write, a connection), and a bucket counts until its end plus the window. Both err on
  the safe side, so the vendor never sees more than the limit in any window of its own clock.
- A request goes when every window has room for it (all or none); otherwise Throttled says how long: exactly until
  enough usage expires (or the next bucket starts, below). One larger than a limit still goes, alone in its window.
- The minute's limit is a rate, so it is also spread: a bucket takes at most its even share of the limit (limit/60,
  rounded up), or one request larger than that alone. Without this, a full load replays its first burst every 61
  seconds, and a vendor's calendar minute that falls between two bursts is served a fraction of the limit; spread,
  every calendar minute misses at most one bucket's share. The hour and the day are plan quotas, not rates: they are
  spent as fast as the minute allows.
- Expired buckets are pruned at every write: the item stays around a kilobyte per window.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from dataclasses import dataclass
from typing import Any

from enrichment.aws import client
from enrichment.errors import Throttled
from enrichment.models import Vendor

# Budget windows: (name, seconds). The minute is the vendors' documented rate limit; the hour and the day
# are plan quotas (Pubrio's plans, Prospeo's daily limit), paced the same way when they are configured.
WINDOWS = (("minute", 60), ("hour", 3600), ("day", 86400))
QUOTA_NAMES = {"hour": "hourly", "day": "daily"}
SPREAD_WINDOWS = frozenset({"minute"})  # rates, spread evenly; the others are quotas
BUCKETS = 60  # buckets per window
# The longest a granted request takes to reach the vendor after the gate read its clock (the budget's write, the
# send ledger's, a TLS connection). Under a second, so a steady load keeps its 61-bucket cycle (>= 0.98 of the limit).
ARRIVAL_MARGIN = 0.5
ATTEMPTS = 10  # conditional writes tried before a busy budget throttles the caller
CONFLICT_BACKOFF = 0.02  # seconds per attempt (jittered) between conflicting writes: concurrent Lambdas spread out
KEEP_SECONDS = 3600  # an idle budget outlives its longest window by this much (the item's TTL)
BLOCK_ITEM = "block"
BUDGET_ITEM = "budget"  # sorts right after "block": one query reads both


@dataclass(frozen=True)
class Window:
    name: str
    seconds: int
    limit: int

    @property
    def bucket_seconds(self) -> float:
        return self.seconds / BUCKETS

    @property
    def share(self) -> int:
        """The most one bucket takes of a spread window (one larger request goes alone)."""
        return math.ceil(self.limit / BUCKETS)

    def bucket(self, moment: float) -> int:
        return int(moment // self.bucket_seconds)

    def counted(self, usage: dict[int, int], now: float) -> dict[int, int]:
        """The buckets still counted at `now`: each counts until its end plus the window."""
        oldest = self.bucket(now) - BUCKETS
        return {bucket: used for bucket, used in usage.items() if bucket >= oldest}

    def wait(self, usage: dict[int, int], cost: int, now: float) -> float:
        """Seconds from `now` until `cost` fits in this window (0: it fits now); `usage` is what is counted now."""
        cost = min(cost, self.limit)  # a request larger than the limit still goes, alone in its window
        used = sum(usage.values())
        wait = 0.0
        for bucket in sorted(usage):  # the oldest usage expires first
            if used + cost <= self.limit:
                break
            used -= usage[bucket]
            wait = (bucket + BUCKETS + 1) * self.bucket_seconds - now
        if self.name in SPREAD_WINDOWS:
            booked = self.bucket(now + ARRIVAL_MARGIN)
            taken = usage.get(booked, 0)
            if taken and taken + cost > self.share:  # the next bucket is empty: anything fits there
                # From its start, not ARRIVAL_MARGIN before: a request then goes in the bucket it is booked in, as
                # those woken by expiring usage do, so a vendor's calendar minute sees whole buckets.
                wait = max(wait, (booked + 1) * self.bucket_seconds - now)
        return wait


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
        self.windows = [Window(name, seconds, limits[name]) for name, seconds in WINDOWS if limits[name]]
        self.key = f"rate#{vendor.value}" + (f"#{account}" if account else "")

    def acquire(self, cost: int = 1) -> None:
        """Take `cost` requests from every window's budget at once, or raise Throttled saying how long to wait."""
        ddb = client("dynamodb")
        items = self._read(ddb)
        now = time.time()
        until = float(items.get(BLOCK_ITEM, {}).get("until", {}).get("N", 0))
        if until > now:
            wait = until - now
            raise Throttled(f"{self.vendor.value}: waiting {wait:.0f}s as the vendor asked", retry_after=wait)
        if not self.windows:
            return
        budget = items.get(BUDGET_ITEM)
        for attempt in range(1, ATTEMPTS + 1):
            now = time.time()
            usage = {w.name: w.counted(_usage(budget, w.name), now) for w in self.windows}
            # The longest wait is the one to tell; of equal ones, the longer window's, so a quota is named.
            wait, _, window = max((w.wait(usage[w.name], cost, now), w.seconds, w) for w in self.windows)
            if wait > 0:
                raise Throttled(
                    f"{self.vendor.value}: pacing to {window.limit} requests "
                    f"a{'n' if window.name == 'hour' else ''} {window.name}",
                    retry_after=wait,
                    quota=QUOTA_NAMES.get(window.name),
                )
            for w in self.windows:
                booked = w.bucket(now + ARRIVAL_MARGIN)
                usage[w.name][booked] = usage[w.name].get(booked, 0) + cost
            try:
                self._write(ddb, budget, usage, now)
                return
            except ddb.exceptions.ConditionalCheckFailedException as conflict:
                budget = conflict.response.get("Item")  # as another Lambda just left it (None: expired meanwhile)
            time.sleep(random.uniform(0, CONFLICT_BACKOFF * attempt))
        raise Throttled(
            f"{self.vendor.value}: the request budget is busy ({ATTEMPTS} conflicting writes)",
            retry_after=random.uniform(0.1, 1.0),
        )

    def block(self, seconds: float) -> None:
        """Record the vendor's reset hint so every chunk waits for it, not only the one that was told."""
        until = time.time() + seconds
        ddb = client("dynamodb")
        with contextlib.suppress(ddb.exceptions.ConditionalCheckFailedException):  # a later block is recorded
            ddb.put_item(
                TableName=self.table,
                Item=self._key(BLOCK_ITEM)
                | {"until": {"N": f"{until:.3f}"}, "expires_at": {"N": str(int(until) + 3600)}},
                ConditionExpression="attribute_not_exists(#until) OR #until < :until",
                ExpressionAttributeNames={"#until": "until"},
                ExpressionAttributeValues={":until": {"N": f"{until:.3f}"}},
            )

    def _read(self, ddb: Any) -> dict[str, dict[str, Any]]:
        """The block and the budget items, by name, in one consistent read."""
        answer = ddb.query(
            TableName=self.table,
            KeyConditionExpression="#key = :key AND #item BETWEEN :block AND :budget",
            ExpressionAttributeNames={"#key": "job_id", "#item": "item"},
            ExpressionAttributeValues={
                ":key": {"S": self.key},
                ":block": {"S": BLOCK_ITEM},
                ":budget": {"S": BUDGET_ITEM},
            },
            ConsistentRead=True,
        )
        return {item["item"]["S"]: item for item in answer["Items"]}

    def _write(self, ddb: Any, budget: dict[str, Any] | None, usage: dict[str, dict[int, int]], now: float) -> None:
        """Replace this gate's windows in the budget, if nobody wrote it since `budget` was read. Windows other
        gates keep in the same budget (a quota this one is not given) are left as they are."""
        version = int(budget["version"]["N"]) if budget and "version" in budget else None
        keep_until = int(now) + max(w.seconds for w in self.windows) + KEEP_SECONDS
        if budget and "expires_at" in budget:
            keep_until = max(keep_until, int(budget["expires_at"]["N"]))
        names = {"#version": "version"} | {f"#w{i}": w.name for i, w in enumerate(self.windows)}
        values: dict[str, Any] = {
            ":next": {"N": str((version or 0) + 1)},
            ":expires": {"N": str(keep_until)},
        } | {
            f":w{i}": {"M": {str(bucket): {"N": str(used)} for bucket, used in usage[w.name].items()}}
            for i, w in enumerate(self.windows)
        }
        if version is None:
            condition = "attribute_not_exists(#version)"
        else:
            condition = "#version = :seen"
            values[":seen"] = {"N": str(version)}
        ddb.update_item(
            TableName=self.table,
            Key=self._key(BUDGET_ITEM),
            UpdateExpression="SET #version = :next, expires_at = :expires, "
            + ", ".join(f"#w{i} = :w{i}" for i in range(len(self.windows))),
            ConditionExpression=condition,
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=values,
            ReturnValuesOnConditionCheckFailure="ALL_OLD",
        )

    def _key(self, item: str) -> dict:
        return {"job_id": {"S": self.key}, "item": {"S": item}}


def _usage(budget: dict[str, Any] | None, window: str) -> dict[int, int]:
    """A window's usage per bucket, as the budget item holds it."""
    buckets = (budget or {}).get(window, {}).get("M", {})
    return {int(bucket): int(used["N"]) for bucket, used in buckets.items()}
