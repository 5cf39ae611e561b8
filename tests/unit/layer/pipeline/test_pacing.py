"""The rate gate on moto's DynamoDB with a clock the test moves: no sliding window ever holds more than the limit,
however many gates acquire at once; steady demand uses at least 0.95 of it; retry_after points at the moment a
request fits; quotas are named; a request larger than the limit goes alone."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from enrichment import aws
from enrichment.errors import Throttled
from enrichment.models import Vendor
from enrichment.pipeline import pacing
from enrichment.pipeline.pacing import RateGate
from localrt.dynamodb import whole_operations
from tests.conftest import moto_in_process

TABLE = f"unit-pacing-{uuid.uuid4().hex[:12]}"  # moto's backends are shared with any local runtime here
REGION = "us-east-1"
# Just before a calendar minute, off a second's boundary; every time the tests use is a multiple of 1/8 s, exact in
# a float at this size. A worker's next attempt (SEND later) stays in the first half of the second: one in the last
# ARRIVAL_MARGIN is booked in the next second (see pacing), as the test of requests at any moment has them.
START = 1_700_000_039.125
SEND = 0.125  # how long a worker takes to send a granted request before it wants the next


class Clock:
    """Stands in for the `time` module inside pacing: the test sets `now`."""

    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        """A conflict's backoff: the writer it lost to has finished by the time it tries again."""


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock(START)
    monkeypatch.setattr(pacing, "time", clock)
    return clock


@pytest.fixture
def table(monkeypatch) -> Iterator[str]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    # moto changes an item attribute after attribute: concurrent gates need each operation whole, as in DynamoDB.
    with whole_operations(), moto_in_process():
        aws.reset_clients()
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "job_id", "KeyType": "HASH"}, {"AttributeName": "item", "KeyType": "RANGE"}],
            AttributeDefinitions=[
                {"AttributeName": "job_id", "AttributeType": "S"},
                {"AttributeName": "item", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        try:
            yield TABLE
        finally:
            dynamodb.delete_table(TableName=TABLE)
    aws.reset_clients()


def full_demand(
    gates: list[RateGate], costs: list[int], clock: Clock, end: float, sends: list[float] | None = None
) -> list[tuple[float, int]]:
    """Workers (one gate each, as Lambdas have) that always want to send: worker i acquires costs[i], and again
    sends[i] (SEND) after a grant, or when retry_after says, until `end`. Those due at the same moment acquire at once,
    in threads. Returns the grants as (time, cost)."""
    sends = sends or [SEND] * len(gates)
    due = [clock.now] * len(gates)
    grants: list[tuple[float, int]] = []

    def attempt(worker: int) -> float | None:
        """None when granted, else how long to wait."""
        try:
            gates[worker].acquire(costs[worker])
        except Throttled as throttled:
            assert throttled.retry_after is not None and throttled.retry_after > 0
            return throttled.retry_after
        return None

    with ThreadPoolExecutor(len(gates)) as pool:
        while (moment := min(due)) < end:
            clock.now = moment
            ready = [worker for worker, at in enumerate(due) if at == moment]
            for worker, wait in zip(ready, pool.map(attempt, ready), strict=True):
                if wait is None:
                    grants.append((moment, costs[worker]))
                    due[worker] = moment + sends[worker]
                else:
                    due[worker] = moment + wait
    return grants


def most_in_any_window(grants: list[tuple[float, int]], seconds: float) -> int:
    """The most any sliding window of `seconds` holds; the fullest starts at a grant, so those are all checked."""
    grants = sorted(grants)
    most = held = 0
    last = 0
    for first, (start, _) in enumerate(grants):
        while last < len(grants) and grants[last][0] < start + seconds:
            held += grants[last][1]
            last += 1
        most = max(most, held)
        held -= grants[first][1]
    return most


def served_per_window(grants: list[tuple[float, int]], start: float, end: float, seconds: int) -> list[int]:
    """What each whole calendar window (a multiple of `seconds`, as a vendor counts) between start and end served."""
    first, last = int(start // seconds) + 1, int(end // seconds)
    return [sum(c for t, c in grants if w * seconds <= t < (w + 1) * seconds) for w in range(first, last)]


def gate(table: str, limit: int | None, **quotas: int) -> RateGate:
    return RateGate(table, Vendor.PUBRIO, limit, account="test", **quotas)


@pytest.mark.parametrize(
    ("limit", "cost", "workers"),
    [(60, 1, 4), (600, 25, 4)],  # requests of one, and requests above the even share of a second (Prospeo's)
    ids=["single-requests", "bulk-requests"],
)
def test_concurrent_gates_never_exceed_the_limit_in_any_sliding_minute_and_use_nearly_all_of_it(
    table, clock, limit, cost, workers
):
    end = START + 121  # two whole calendar minutes, the second after the first minute's usage expired
    grants = full_demand([gate(table, limit) for _ in range(workers)], [cost] * workers, clock, end)

    # Whenever each request reaches the vendor within ARRIVAL_MARGIN of its grant, no minute of the vendor's holds more.
    assert most_in_any_window(grants, 60 + pacing.ARRIVAL_MARGIN) <= limit
    served = served_per_window(grants, START, end, 60)
    assert len(served) == 2 and min(served) >= 0.95 * limit, served
    item = boto3.client("dynamodb", region_name=REGION).get_item(
        TableName=table, Key={"job_id": {"S": "rate#pubrio#test"}, "item": {"S": "budget"}}
    )["Item"]
    assert len(item["minute"]["M"]) <= 62 and len(json.dumps(item)) < 2048  # expired buckets are pruned


def test_concurrent_gates_keep_an_hourly_quota_in_every_sliding_hour(table, clock):
    end = START + 2 * 3600
    grants = full_demand([gate(table, 600, requests_per_hour=100) for _ in range(4)], [1] * 4, clock, end)

    assert most_in_any_window(grants, 3600 + pacing.ARRIVAL_MARGIN) <= 100
    assert most_in_any_window(grants, 60 + pacing.ARRIVAL_MARGIN) <= 600
    hours = [sum(c for t, c in grants if START + h * 3600 <= t < START + (h + 1) * 3600) for h in range(2)]
    assert min(hours) >= 95, hours  # a quota is spent as fast as the minute allows, then waited for


def test_requests_of_any_size_at_any_moment_never_exceed_the_limit_in_any_sliding_minute(table, clock):
    draw = random.Random(11)
    sends = [draw.randrange(1, 12) / 8 for _ in range(5)]  # some in the last half of a second
    costs = [1, 1, 2, 3, 3]  # above a second's share (1) too
    grants = full_demand([gate(table, 60) for _ in costs], costs, clock, START + 130, sends)

    assert most_in_any_window(grants, 60 + pacing.ARRIVAL_MARGIN) <= 60
    assert {cost for _, cost in grants} == set(costs)


def test_retry_after_is_the_moment_enough_usage_expires(table, clock):
    minute = gate(table, 60)
    for _ in range(60):  # one a second: the limit, spread
        minute.acquire()
        clock.now += 1
    with pytest.raises(Throttled) as full:
        minute.acquire()
    assert full.value.quota is None and "60 requests a minute" in str(full.value)
    frees_at = clock.now + full.value.retry_after
    clock.now = frees_at - 0.125
    with pytest.raises(Throttled):
        minute.acquire()
    clock.now = frees_at
    minute.acquire()

    # Three requests at once wait for three seconds' usage to expire (and go alone: more than a second's share).
    clock.now += 1
    with pytest.raises(Throttled) as three:
        minute.acquire(3)
    frees_at = clock.now + three.value.retry_after
    clock.now = frees_at - 0.125
    with pytest.raises(Throttled):
        minute.acquire(3)
    clock.now = frees_at
    minute.acquire(3)


def test_a_request_late_in_a_second_is_counted_as_reaching_the_vendor_up_to_the_margin_later(table, clock):
    single = gate(table, 1)
    clock.now = START // 1 + 0.75  # in the second's last ARRIVAL_MARGIN
    single.acquire()
    with pytest.raises(Throttled) as full:
        single.acquire()
    assert full.value.retry_after >= 60 + pacing.ARRIVAL_MARGIN


def test_a_second_takes_its_share_of_the_minute_and_a_larger_request_alone(table, clock):
    spread = gate(table, 120)  # 2 a second
    spread.acquire()
    spread.acquire()
    with pytest.raises(Throttled) as full:
        spread.acquire()
    assert full.value.quota is None and 0 < full.value.retry_after <= 1
    clock.now += full.value.retry_after
    spread.acquire()

    bulk = RateGate(table, Vendor.PROSPEO, 600, account="test")  # 10 a second; a request of 25 goes alone
    bulk.acquire(25)
    with pytest.raises(Throttled) as alone:
        bulk.acquire(1)
    clock.now += alone.value.retry_after
    bulk.acquire(25)


def test_a_request_larger_than_the_limit_goes_alone_in_its_window(table, clock):
    small = gate(table, 10)
    small.acquire()
    clock.now += 1
    with pytest.raises(Throttled) as waited:  # the window is not empty
        small.acquire(25)
    clock.now += waited.value.retry_after
    small.acquire(25)
    clock.now += 1
    with pytest.raises(Throttled) as after:  # and nothing shares its window
        small.acquire()
    assert after.value.retry_after > 55
    clock.now += after.value.retry_after
    small.acquire()


def test_an_hourly_quota_is_named_and_waited_for_exactly(table, clock):
    hourly = gate(table, 100, requests_per_hour=3)
    for _ in range(3):
        hourly.acquire()
        clock.now += 1
    with pytest.raises(Throttled) as quota:
        hourly.acquire()
    assert quota.value.quota == "hourly" and "3 requests an hour" in str(quota.value)
    assert 3600 - 3 < quota.value.retry_after <= 3600 + 60  # the first minute's usage, counted to its end
    frees_at = clock.now + quota.value.retry_after
    clock.now = frees_at - 0.125
    with pytest.raises(Throttled) as still:
        hourly.acquire()
    assert still.value.quota == "hourly"
    clock.now = frees_at
    hourly.acquire()


def test_a_daily_quota_refusal_takes_nothing_from_the_minute(table, clock):
    def daily() -> RateGate:  # each call another Lambda's gate
        return gate(table, 100, requests_per_day=5)

    daily().acquire(3)
    clock.now += 1
    daily().acquire(2)
    clock.now += 1
    with pytest.raises(Throttled) as quota:
        daily().acquire(1)
    assert quota.value.quota == "daily" and "5 requests a day" in str(quota.value)
    assert 86400 - 2 < quota.value.retry_after <= 86400 + 1440

    # All windows or none: the refused request took nothing from the minute, where 5 of 6 are used.
    minute = gate(table, 6)
    clock.now += 1
    minute.acquire(1)
    clock.now += 1
    with pytest.raises(Throttled) as full:
        minute.acquire(1)
    assert full.value.quota is None
    # A gate without the daily quota left the day's usage as it was.
    with pytest.raises(Throttled) as still:
        daily().acquire(1)
    assert still.value.quota == "daily"


def test_a_reset_hint_holds_every_gate_and_is_never_shortened(table, clock):
    gate(table, None).block(30)
    gate(table, None).block(5)
    with pytest.raises(Throttled) as waited:
        gate(table, 100).acquire()
    assert waited.value.retry_after == 30 and waited.value.quota is None
    clock.now += 30
    gate(table, 100).acquire()
