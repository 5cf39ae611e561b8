"""The Prospeo adapter against the Prospeo simulator (real HTTP on 127.0.0.1)."""

import pytest

from enrichment.errors import AccountBlocked, BadChunk, BadCredentials, OutOfCredits, Throttled, Transient
from enrichment.models import Chunk, Record, RowStatus
from enrichment.settings import VendorSettings
from enrichment.vendors.prospeo import ProspeoAdapter, ProspeoOptions
from localrt.simulators.prospeo import ProspeoSimulator


@pytest.fixture
def sim():
    simulator = ProspeoSimulator(records_per_minute=1000).start()
    yield simulator
    simulator.stop()


def adapter(sim, key="sim-key"):
    return ProspeoAdapter(
        api_url=sim.url, credentials={"api_key": key}, settings=VendorSettings(chunk_size=50, http_timeout_seconds=1)
    )


def chunk(n=20):
    records = [Record(ref=str(i), fields={"email": f"person{i}@initech.com"}) for i in range(1, n + 1)]
    return Chunk(job_id="j", chunk_index=0, records=records)


def test_answers_at_once_with_every_record_accounted_for(sim):
    outcome = adapter(sim).submit(chunk(), ProspeoOptions(enrich_mobile=True))
    assert outcome.status == "done"
    assert set(outcome.results) == {str(i) for i in range(1, 21)}
    statuses = {r.status for r in outcome.results.values()}
    assert statuses <= {RowStatus.MATCHED, RowStatus.NOT_MATCHED}
    matched = [r for r in outcome.results.values() if r.status == RowStatus.MATCHED]
    assert matched and all(r.emails and r.person.full_name and r.company.name for r in matched)
    # per-row credits follow the documented price and add up to what Prospeo charged
    assert sum(r.credits for r in outcome.results.values()) == outcome.credits == sim.charged_total
    assert {r.credits for r in matched} <= {1, 10}


def test_re_enriching_is_free(sim):
    adapter(sim).submit(chunk(), ProspeoOptions())
    again = adapter(sim).submit(chunk(), ProspeoOptions())
    assert again.credits == 0
    assert all(r.credits is None for r in again.results.values())  # the rule no longer adds up: left blank


def test_thin_records_come_back_invalid(sim):
    thin = Chunk(job_id="j", chunk_index=0, records=[Record(ref="1", fields={"full_name": "Ada Lovelace"})])
    outcome = adapter(sim).submit(thin, ProspeoOptions())
    assert outcome.results["1"].status == RowStatus.INVALID_INPUT


@pytest.mark.parametrize(("fault", "error"), [("429", Throttled), ("500", Transient), ("malformed", Transient)])
def test_faults_map_to_retryable_kinds(sim, fault, error):
    sim.inject(fault)
    with pytest.raises(error) as caught:
        adapter(sim).submit(chunk(), ProspeoOptions())
    if fault == "429":
        assert caught.value.retry_after == 1  # from x-minute-reset-seconds
    if fault == "500":
        assert "INTERNAL_ERROR" in str(caught.value)  # sent as 400, retried all the same


def test_rate_limit_counts_records(sim):
    sim.records_per_minute = 30
    adapter(sim).submit(chunk(20), ProspeoOptions())
    with pytest.raises(Throttled) as caught:
        adapter(sim).submit(chunk(20), ProspeoOptions())
    assert caught.value.retry_after is not None and caught.value.retry_after > 0


def test_more_than_fifty_is_a_bad_chunk(sim):
    with pytest.raises(BadChunk, match="INVALID_REQUEST"):
        adapter(sim).submit(chunk(51), ProspeoOptions())


def test_out_of_credits_and_bad_key(sim):
    with pytest.raises(BadCredentials, match="INVALID_API_KEY"):
        adapter(sim, key="nope").submit(chunk(), ProspeoOptions())
    sim.inject("out_of_credits")
    with pytest.raises(OutOfCredits, match="INSUFFICIENT_CREDITS"):
        adapter(sim).submit(chunk(), ProspeoOptions())


def test_the_daily_limit_is_a_daily_quota_with_its_reset(sim):
    sim.inject("daily_quota", seconds=3600)
    with pytest.raises(Throttled) as caught:
        adapter(sim).submit(chunk(), ProspeoOptions())
    assert (caught.value.quota, caught.value.retry_after) == ("daily", 3600)


def test_the_days_budget_counts_records(sim):
    sim.records_per_day = 30
    adapter(sim).submit(chunk(20), ProspeoOptions())
    adapter(sim).submit(chunk(20), ProspeoOptions())  # the call that crosses the day's budget still goes
    with pytest.raises(Throttled) as caught:
        adapter(sim).submit(chunk(20), ProspeoOptions())
    assert caught.value.quota == "daily" and 0 < caught.value.retry_after <= 86400


def test_account_restricted_is_account_blocked(sim):
    sim.inject("account_blocked")
    with pytest.raises(AccountBlocked, match="ACCOUNT_RESTRICTED"):
        adapter(sim).submit(chunk(), ProspeoOptions())
