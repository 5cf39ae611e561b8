"""The Check365 adapter against the Check365 simulator (real HTTP on 127.0.0.1)."""

import logging
import time

import pytest

from enrichment.errors import AccountBlocked, BadCredentials, OutOfCredits, Refused, Throttled, Transient
from enrichment.models import Chunk, Record, RowStatus
from enrichment.settings import VendorSettings
from enrichment.vendors.check365 import Check365Adapter, Check365Options
from localrt.simulators.check365 import Check365Simulator

KEY = "c365-key-for-adapter-tests"


@pytest.fixture
def sim():
    simulator = Check365Simulator(processing_seconds=0.3, api_key=KEY).start()
    yield simulator
    simulator.stop()


def adapter(sim, key=KEY):
    return Check365Adapter(
        api_url=sim.url, credentials={"api_key": key}, settings=VendorSettings(chunk_size=100, http_timeout_seconds=1)
    )


def chunk(index=0):
    emails = ["Ada@Initech.com ", "info@globex.io", "grace@umbrella.co"]
    return Chunk(
        job_id="job-1",
        chunk_index=index,
        records=[Record(ref=str(n), fields={"email": e}) for n, e in enumerate(emails, 1)],
    )


def wait_done(sim, ref):
    for _ in range(20):
        outcome = adapter(sim).check(ref, chunk(), Check365Options())
        if outcome.status != "running":
            return outcome
        time.sleep(0.1)
    raise AssertionError("never completed")


def test_upload_then_poll_with_progress(sim):
    started = adapter(sim).submit(chunk(), Check365Options())
    assert started.vendor_ref == "job-1-c000000"
    running = adapter(sim).check(started.vendor_ref, chunk(), Check365Options())
    assert running.status == "running" and running.progress is not None  # "uploaded": not a documented word
    done = wait_done(sim, started.vendor_ref)
    assert done.status == "done" and done.credits == 3 == sim.charged_total
    ada = done.results["1"]
    expected = Check365Simulator.verdict("ada@initech.com")
    assert ada.status == RowStatus.MATCHED
    assert ada.verification.status == expected["status"] and ada.verification.safe_to_send == expected["safeToSend"]
    assert ada.verification.risk == expected["risk"] and ada.verification.reason == expected["statusReason"]
    assert done.results["2"].verification.is_role is True


def test_a_retried_upload_is_the_same_vendor_job(sim):
    first = adapter(sim).submit(chunk(), Check365Options())
    # The simulator refuses the second upload, "job_id already exists": the adapter follows the job it holds.
    second = adapter(sim).submit(chunk(), Check365Options())
    assert first.vendor_ref == second.vendor_ref and sim.uploads == 1
    assert sim.ledger()["duplicate_paid_submissions"] == 0
    assert adapter(sim).submit(chunk(index=1), Check365Options()).vendor_ref != first.vendor_ref


def test_an_upload_answered_success_false_as_a_string_is_refused(sim):
    sim.inject("success_false")
    with pytest.raises(Refused, match="could not be processed"):
        adapter(sim).submit(chunk(), Check365Options())
    assert sim.jobs_created() == 0


def test_completed_without_results_is_checked_again(sim):
    started = adapter(sim).submit(chunk(), Check365Options())
    sim.inject("no_results")
    with pytest.raises(Transient, match="no results"):
        for _ in range(20):
            adapter(sim).check(started.vendor_ref, chunk(), Check365Options())
            time.sleep(0.1)
    assert wait_done(sim, started.vendor_ref).status == "done"


def test_an_address_missing_from_the_results_is_an_error(sim):
    sim.inject("drop_result")
    started = adapter(sim).submit(chunk(), Check365Options())
    done = wait_done(sim, started.vendor_ref)
    assert done.results["1"].status == RowStatus.ERROR and "without a verdict" in done.results["1"].reason
    assert {done.results[n].status for n in ("2", "3")} == {RowStatus.MATCHED}


def test_invalid_and_duplicate_addresses_are_decided_before_sending():
    assert Check365Adapter.validate({"email": "not-an-email"}) is not None
    assert Check365Adapter.validate({"email": "a b@x.com"}) is not None
    assert Check365Adapter.validate({"email": " a@x.com "}) is None
    assert Check365Adapter.dedupe_key({"email": " A@X.com"}) == Check365Adapter.dedupe_key({"email": "a@x.com"})


@pytest.mark.parametrize(("fault", "error"), [("429", Throttled), ("500", Transient), ("malformed", Transient)])
def test_faults_map_to_retryable_kinds(sim, fault, error):
    sim.inject(fault)
    with pytest.raises(error):
        adapter(sim).submit(chunk(), Check365Options())


def test_failed_job_is_a_failed_chunk(sim):
    sim.inject("fail_job")
    started = adapter(sim).submit(chunk(), Check365Options())
    assert wait_done(sim, started.vendor_ref).status == "failed"


def test_key_is_never_in_errors_or_logs(sim, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(BadCredentials) as rejected:
        adapter(sim, key="wrong-key-value").check("job-1-c000000", chunk(), Check365Options())
    sim.inject("timeout", seconds=1.5)
    with pytest.raises(Transient) as timed_out:
        adapter(sim).check("job-1-c000000", chunk(), Check365Options())
    adapter(sim).submit(chunk(), Check365Options())
    for text in (str(rejected.value), str(timed_out.value), caplog.text):
        assert KEY not in text and "wrong-key-value" not in text


def test_a_suspended_account_stops(sim):
    sim.inject("account_blocked")
    with pytest.raises(AccountBlocked, match="suspended"):
        adapter(sim).submit(chunk(), Check365Options())


def test_out_of_credits(sim):
    sim.inject("out_of_credits")
    with pytest.raises(OutOfCredits):
        adapter(sim).submit(chunk(), Check365Options())
