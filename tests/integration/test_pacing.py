"""Pacing shared through DynamoDB: a per-minute budget, and vendor reset hints every chunk honours."""

import time

import pytest

from enrichment.errors import Throttled
from enrichment.models import Vendor
from enrichment.pipeline.pacing import RateGate


def gate(runtime, vendor: Vendor, limit: int | None, account: str) -> RateGate:
    # A budget of the test's own: the jobs other tests run in this runtime keep theirs.
    return RateGate(runtime.outputs["JobsTableName"], vendor, limit, account=account)


def test_budget_is_shared_and_says_how_long_to_wait(runtime):
    first, second = gate(runtime, Vendor.CHECK365, 10, "t1"), gate(runtime, Vendor.CHECK365, 10, "t1")
    if time.time() % 60 > 55:  # the three calls below belong in one minute's window
        time.sleep(60 - time.time() % 60)
    first.acquire(6)
    second.acquire(4)  # another Lambda, the same minute's budget
    with pytest.raises(Throttled) as waited:
        first.acquire(1)
    assert 0 < waited.value.retry_after <= 60
    gate(runtime, Vendor.PUBRIO, 10, "t1").acquire(5)  # other vendors have their own budget


def test_a_reset_hint_holds_every_chunk(runtime):
    hinted = gate(runtime, Vendor.INSIDEVIEW, None, "t2")
    hinted.block(30)
    hinted.block(5)  # an earlier hint does not shorten a later one
    with pytest.raises(Throttled) as waited:
        gate(runtime, Vendor.INSIDEVIEW, None, "t2").acquire()
    assert 25 < waited.value.retry_after <= 30


def test_a_daily_quota_is_paced_with_the_minute_and_named(runtime):
    def daily() -> RateGate:
        return RateGate(runtime.outputs["JobsTableName"], Vendor.PUBRIO, 100, account="t3", requests_per_day=5)

    minute_started = int(time.time() // 60)
    daily().acquire(3)
    daily().acquire(2)
    with pytest.raises(Throttled) as waited:
        daily().acquire(1)
    assert waited.value.quota == "daily" and 0 < waited.value.retry_after <= 86400
    assert "5 requests a day" in str(waited.value)
    # The refused request took nothing from the minute's budget (all windows or none): 95 of 100 are left.
    minute = RateGate(runtime.outputs["JobsTableName"], Vendor.PUBRIO, 100, account="t3")
    if int(time.time() // 60) == minute_started:  # else a new minute's budget proves nothing
        minute.acquire(95)
        with pytest.raises(Throttled):
            minute.acquire(1)
