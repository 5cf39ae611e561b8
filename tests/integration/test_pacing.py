"""Pacing shared through the stack's jobs table: one budget for every Lambda of a vendor, reset hints every chunk
honours, quotas named. (Sliding windows, concurrency and exact waits: tests/unit/layer/pipeline/test_pacing.py.)"""

import pytest

from enrichment.errors import Throttled
from enrichment.models import Vendor
from enrichment.pipeline.pacing import ARRIVAL_MARGIN, RateGate


def gate(runtime, vendor: Vendor, limit: int | None, account: str, **quotas: int) -> RateGate:
    # A budget of the test's own: the jobs other tests run in this runtime keep theirs.
    return RateGate(runtime.outputs["JobsTableName"], vendor, limit, account=account, **quotas)


def test_budget_is_shared_and_says_how_long_to_wait(runtime):
    gate(runtime, Vendor.CHECK365, 10, "t1").acquire(10)
    with pytest.raises(Throttled) as waited:
        gate(runtime, Vendor.CHECK365, 10, "t1").acquire(1)  # another Lambda, the same budget
    # The usage counts for the minute after its second ends, and up to ARRIVAL_MARGIN more.
    assert 59 < waited.value.retry_after <= 61 + ARRIVAL_MARGIN and waited.value.quota is None
    gate(runtime, Vendor.PUBRIO, 10, "t1").acquire(5)  # other vendors have their own budget


def test_a_reset_hint_holds_every_chunk(runtime):
    hinted = gate(runtime, Vendor.INSIDEVIEW, None, "t2")
    hinted.block(30)
    hinted.block(5)  # an earlier hint does not shorten a later one
    with pytest.raises(Throttled) as waited:
        gate(runtime, Vendor.INSIDEVIEW, None, "t2").acquire()
    assert 25 < waited.value.retry_after <= 30


def test_a_daily_quota_is_paced_with_the_minute_and_named(runtime):
    gate(runtime, Vendor.PUBRIO, 100, "t3", requests_per_day=5).acquire(5)
    with pytest.raises(Throttled) as waited:
        gate(runtime, Vendor.PUBRIO, 100, "t3", requests_per_day=5).acquire(1)
    assert waited.value.quota == "daily" and 86000 < waited.value.retry_after <= 86400 + 1440
    assert "5 requests a day" in str(waited.value)
