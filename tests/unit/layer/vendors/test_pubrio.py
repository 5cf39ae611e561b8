"""The Pubrio adapter against the Pubrio simulator (real HTTP on 127.0.0.1)."""

import time
import uuid

import pytest

from enrichment.errors import AccountBlocked, BadCredentials, OutOfCredits, Refused, Throttled, Transient
from enrichment.models import Chunk, Record, RowStatus
from enrichment.settings import VendorSettings
from enrichment.vendors.pubrio import PubrioAdapter, PubrioOptions
from localrt.simulators.pubrio import PubrioSimulator

IDS = [str(uuid.UUID(int=i * 104729 + 3)) for i in range(12)]


@pytest.fixture
def sim():
    simulator = PubrioSimulator(estimated_time=1, processing_seconds=0.3).start()
    yield simulator
    simulator.stop()


def adapter(sim, key="sim-key"):
    return PubrioAdapter(
        api_url=sim.url, credentials={"api_key": key}, settings=VendorSettings(chunk_size=100, http_timeout_seconds=1)
    )


def chunk():
    return Chunk(
        job_id="j",
        chunk_index=0,
        records=[Record(ref=str(n), fields={"people_search_id": i}) for n, i in enumerate(IDS, 1)],
    )


OPTIONS = PubrioOptions(contact_types=["email-work", "email-personal", "phone"])


def test_submit_then_poll_until_complete(sim):
    started = adapter(sim).submit(chunk(), OPTIONS)
    assert started.status == "running" and started.wait_hint_seconds == 1
    first = adapter(sim).check(started.vendor_ref, chunk(), OPTIONS)
    assert first.status == "running"
    time.sleep(0.35)  # the simulator's processing time; the product waits via the state machine instead
    done = adapter(sim).check(started.vendor_ref, chunk(), OPTIONS)
    assert done.status == "done"
    assert set(done.results) == {str(n) for n in range(1, 13)}
    expected = {str(n): PubrioSimulator.person(i, OPTIONS.contact_types) for n, i in enumerate(IDS, 1)}
    for ref, result in done.results.items():
        answer = expected[ref]
        has_details = bool(answer["emails"] or answer["phones"])
        assert result.status == (RowStatus.MATCHED if has_details else RowStatus.NOT_MATCHED)
        assert {e.value for e in result.emails} == {e["value"] for e in answer["emails"]}
        assert [p.value for p in result.phones] == [p["value"] for p in answer["phones"]]
    assert done.credits == sim.charged_total > 0


def test_verified_work_email_comes_first(sim):
    from enrichment.vendors.pubrio import _People

    result = PubrioAdapter._normalize(
        _People.model_validate(
            {
                "people_search_id": IDS[0],
                "emails": [
                    {"value": "p@x", "type": "email-personal", "status": None},
                    {"value": "w@x", "type": "email-work", "status": "Verified"},
                ],
                "phones": [],
            }
        )
    )
    assert [(e.value, e.type, e.status, e.vendor_status) for e in result.emails] == [
        ("w@x", "work", "valid", "Verified"),
        ("p@x", "personal", "unknown", None),
    ]


@pytest.mark.parametrize(("fault", "error"), [("429", Throttled), ("500", Transient), ("malformed", Transient)])
def test_faults_map_to_retryable_kinds(sim, fault, error):
    sim.inject(fault)
    with pytest.raises(error):
        adapter(sim).submit(chunk(), OPTIONS)
    assert adapter(sim).submit(chunk(), OPTIONS).status == "running"  # the next call goes through


def test_timeout_is_transient(sim):
    sim.inject("timeout", seconds=1.5)
    with pytest.raises(Transient, match="no answer"):
        adapter(sim).submit(chunk(), OPTIONS)


def test_out_of_credits(sim):
    sim.inject("out_of_credits")
    with pytest.raises(OutOfCredits):
        adapter(sim).submit(chunk(), OPTIONS)


def test_bad_key_is_bad_credentials_and_never_echoed(sim):
    # Pubrio answers a key it does not know with a 400 {code, message, details}, not a 401 (inferred)
    with pytest.raises(BadCredentials, match="HTTP 400") as caught:
        adapter(sim, key="wrong-secret-value").submit(chunk(), OPTIONS)
    assert "wrong-secret-value" not in str(caught.value)
    with pytest.raises(BadCredentials):
        adapter(sim, key="wrong-secret-value").check_access()
    assert adapter(sim).check_access().startswith("pubrio: the API key works")


@pytest.mark.parametrize(("fault", "quota"), [("hourly_quota", "hourly"), ("daily_quota", "daily")])
def test_a_quota_429_is_that_quota_with_its_reset(sim, fault, quota):
    sim.inject(fault, seconds=900)
    with pytest.raises(Throttled) as caught:
        adapter(sim).submit(chunk(), OPTIONS)
    assert (caught.value.quota, caught.value.retry_after) == (quota, 900)


def test_a_suspended_workspace_is_account_blocked(sim):
    sim.inject("account_blocked")
    with pytest.raises(AccountBlocked, match="suspended"):
        adapter(sim).submit(chunk(), OPTIONS)


def test_unknown_redeem_is_refused(sim):
    with pytest.raises(Refused, match="40001"):
        adapter(sim).check(str(uuid.uuid4()), chunk(), OPTIONS)
