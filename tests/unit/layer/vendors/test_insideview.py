"""The InsideView adapter against the InsideView simulator (real HTTP on 127.0.0.1)."""

import time

import pytest

from enrichment.errors import AccountBlocked, BadCredentials, OutOfCredits, Refused, Throttled, Transient
from enrichment.models import Chunk, Record, RowStatus
from enrichment.settings import VendorSettings
from enrichment.vendors import insideview as module
from enrichment.vendors.insideview import InsideViewAdapter, InsideViewOptions
from localrt.simulators.insideview import InsideViewSimulator

IDS = [str(10_000 + i * 7919) for i in range(15)]


@pytest.fixture
def sim():
    module._tokens.clear()
    simulator = InsideViewSimulator(processing_seconds=0.3, max_running_jobs=2).start()
    yield simulator
    simulator.stop()


def adapter(sim, secret=None):
    credentials = sim.credentials() | ({"client_secret": secret} if secret else {})
    return InsideViewAdapter(
        api_url=sim.url,
        credentials=credentials,
        settings=VendorSettings(chunk_size=100, http_timeout_seconds=1),
        extra_urls={"login": sim.url},
    )


def chunk():
    return Chunk(
        job_id="j", chunk_index=0, records=[Record(ref=str(n), fields={"contact_id": i}) for n, i in enumerate(IDS, 1)]
    )


def wait_done(sim, ref):
    for _ in range(30):
        outcome = adapter(sim).check(ref, chunk(), InsideViewOptions())
        if outcome.status != "running":
            return outcome
        time.sleep(0.1)
    raise AssertionError("never finished")


def test_submit_poll_and_download_the_results_file(sim):
    started = adapter(sim).submit(chunk(), InsideViewOptions())
    assert started.status == "running" and started.vendor_ref in sim.jobs
    done = wait_done(sim, started.vendor_ref)
    assert done.status == "done" and done.credits == sim.charged_total > 0
    for n, contact_id in enumerate(IDS, 1):
        expected = InsideViewSimulator.contact(contact_id)
        result = done.results[str(n)]
        if expected and (expected["email"] or expected["phone"]):
            assert result.status == RowStatus.MATCHED
            assert result.person.full_name == expected["fullName"] and result.company.name == expected["companyName"]
        else:
            assert result.status == RowStatus.NOT_MATCHED
    assert sim.logins == 1, "the token is cached"


def test_a_token_about_to_expire_is_renewed_before_use(sim):
    # The simulator writes expirationTime as the docs do ("Tue, Jul 21, 2015 09:08:17 PM GMT"): 30 s ahead is
    # inside the adapter's margin, so the next call logs in again rather than risk the token expiring mid-call.
    sim.token_ttl_seconds = 30
    started = adapter(sim).submit(chunk(), InsideViewOptions())
    adapter(sim).check(started.vendor_ref, chunk(), InsideViewOptions())
    assert sim.logins == 2


def test_a_token_refused_with_401_is_renewed_once(sim):
    adapter(sim).submit(chunk(), InsideViewOptions())
    sim.expire_tokens()  # the cached token no longer works, though its time is not up
    adapter(sim).submit(chunk(), InsideViewOptions())
    assert sim.logins == 2


def test_too_many_jobs_waits_instead_of_failing(sim):
    for _ in range(2):
        adapter(sim).submit(chunk(), InsideViewOptions())
    with pytest.raises(Throttled, match="2 jobs are already running") as waiting:
        adapter(sim).submit(chunk(), InsideViewOptions())
    assert waiting.value.quota is None


def test_an_undocumented_status_is_still_running(sim):
    started = adapter(sim).submit(chunk(), InsideViewOptions())
    sim.inject("unknown_status")
    assert adapter(sim).check(started.vendor_ref, chunk(), InsideViewOptions()).status == "running"
    assert wait_done(sim, started.vendor_ref).status == "done"


def test_an_expired_results_link_is_asked_for_again(sim):
    started = adapter(sim).submit(chunk(), InsideViewOptions())
    sim.inject("expired_link")
    done = wait_done(sim, started.vendor_ref)
    assert done.status == "done" and not sim.faults
    assert sum(1 for _, _, path, _, _ in sim.log if path.endswith("/results")) == 2


def test_a_results_file_without_contact_id_fails_the_chunk_loudly(sim):
    started = adapter(sim).submit(chunk(), InsideViewOptions())
    sim.inject("missing_column")
    failed = wait_done(sim, started.vendor_ref)
    assert failed.status == "failed" and not failed.results
    assert "contactId" in failed.reason and "columns found: id, firstName" in failed.reason


def test_a_blocked_account_stops(sim):
    sim.inject("account_blocked")
    with pytest.raises(AccountBlocked, match="not allowed to access this API"):
        adapter(sim).submit(chunk(), InsideViewOptions())


def test_errors_by_kind(sim):
    with pytest.raises(BadCredentials):
        adapter(sim, secret="not-the-secret").submit(chunk(), InsideViewOptions())
    with pytest.raises(Refused):
        adapter(sim).check("no-such-job", chunk(), InsideViewOptions())
    sim.inject("500")
    with pytest.raises(Transient):
        adapter(sim).submit(chunk(), InsideViewOptions())
    sim.inject("out_of_credits")
    with pytest.raises(OutOfCredits, match="quota"):
        adapter(sim).submit(chunk(), InsideViewOptions())


def test_plain_text_body_and_json_answers_are_what_the_simulator_demands(sim):
    # Without Accept: application/json InsideView answers XML; without Content-Type, 415.
    import httpx

    token = adapter(sim)._token()
    xml = httpx.post(
        f"{sim.url}/api/v1/contact/job", content=b"1,2", headers={"accessToken": token, "Content-Type": "text/plain"}
    )
    assert xml.headers["content-type"] == "application/xml"
    missing = httpx.post(
        f"{sim.url}/api/v1/contact/job", content=b"1", headers={"accessToken": token, "Content-Type": ""}
    )
    assert missing.status_code == 415


def test_ids_are_validated():
    assert InsideViewAdapter.validate({"contact_id": "13496440"}) is None
    for bad in ("", "12 345", "n/a", "#REF!"):
        assert InsideViewAdapter.validate({"contact_id": bad}) is not None
