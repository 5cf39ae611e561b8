"""InsideView's documents against the adapter, with no simulator: the vendor's own example requests, answers
and error bodies are fed straight to the adapter through httpx.MockTransport. Each test names its document: the
seed page (/work/shared/seeds/insideview-contact-details-job.txt, "contact job page") or the vendors.md section
("vendors.md InsideView"). Behaviour the documents leave open is marked "inferred" in the test's name or
docstring.

The last test runs the adapter against the document server (`tests/contract/servers/insideview.py`)."""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

import httpx
import pytest

from enrichment.errors import (
    AccountBlocked,
    BadChunk,
    BadCredentials,
    OutcomeUnknown,
    OutOfCredits,
    Refused,
    Throttled,
    Transient,
)
from enrichment.models import Chunk, Record, RowStatus
from enrichment.settings import VendorSettings
from enrichment.vendors import insideview as module
from enrichment.vendors.insideview import InsideViewAdapter, InsideViewOptions
from tests.contract.document_server import DocumentServer
from tests.contract.servers import insideview as documents

API = "https://api.insideview.com"
LOGIN = "https://login.insideview.com"
CLIENT = {"client_id": "contract-client", "client_secret": "insideview-contract-secret-DO-NOT-LOG"}
OPTIONS = InsideViewOptions()
JOB = "v9qh2to86kg85s03trag"  # the contact job page's example jobId
RESULTS_URL = "https://files.insideview.com/results/v9qh2to86kg85s03trag.csv?X-Amz-Signature=abc"
HEADER = ",".join(documents.COLUMNS)
Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture(autouse=True)
def no_cached_tokens():
    module._tokens.clear()
    yield
    module._tokens.clear()


def documented_error(status: int, message: str, error_type: str = "BAD_REQUEST", number: int = 0) -> httpx.Response:
    """vendors.md InsideView: errors carry {errorType, status, errorNumber, message, diagnosticCode}."""
    body = {"errorType": error_type, "status": status, "errorNumber": number, "message": message}
    return httpx.Response(status, json=body | {"diagnosticCode": "d1a9c0"})


def token_answer(expiration: str | float = "Tue, Jul 21, 2099 09:08:17 PM GMT", token: str = "tok-1") -> httpx.Response:
    details = {"accessToken": token, "tokenType": "bearer", "expirationTime": expiration}
    return httpx.Response(200, json={"accessTokenDetails": details})


class Vendor:
    """The login answers `token_answer()` unless told; every other call goes to `api(request)`."""

    def __init__(self, api: Handler, login: Handler | None = None) -> None:
        self.api = api
        self.login = login or (lambda request: token_answer())
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return self.login(request) if request.url.path == "/Auth/login/v1/token.json" else self.api(request)

    def to(self, path_end: str) -> list[httpx.Request]:
        return [r for r in self.sent if r.url.path.endswith(path_end)]

    @property
    def logins(self) -> int:
        return len(self.to("/token.json"))


def make(vendor: Vendor) -> InsideViewAdapter:
    return InsideViewAdapter(
        api_url=API,
        credentials=CLIENT,
        settings=VendorSettings(chunk_size=10_000),
        extra_urls={"login": LOGIN},
        transport=httpx.MockTransport(vendor),
    )


def chunk(*ids: str) -> Chunk:
    ids = ids or ("13496440", "8802619", "225")  # the contact job page's example input
    return Chunk(
        job_id="j", chunk_index=0, records=[Record(ref=str(n), fields={"contact_id": i}) for n, i in enumerate(ids)]
    )


def job_status(status: str, processed: int = 0) -> httpx.Response:
    return httpx.Response(200, json={"jobId": JOB, "status": status, "totalProcessed": processed, "type": "contacts"})


def finished_job(csv_text: str, results_url: str = RESULTS_URL, credits: float = 2) -> Handler:
    """A finished job, its results answer (inferred endpoint) and the file behind the link."""

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/results"):
            body = {
                "jobId": JOB,
                "jobType": "contacts",
                "jobStatus": "finished",
                "createdDate": "2015-07-21T21:08:17Z",
                "creditsConsumed": credits,
                "resultsUrl": results_url,
            }
            return httpx.Response(200, json=body)
        if request.url.host == "files.insideview.com":
            return httpx.Response(200, text=csv_text, headers={"content-type": "text/csv"})
        return job_status("finished", 3)

    return api


# ---- what the adapter sends ----


def test_login_and_submit_send_what_the_documents_ask():
    """vendors.md InsideView: the token from POST login/Auth/login/v1/token.json?clientId&clientSecret&grantType=cred.
    Contact job page: POST /api/v1/contact/job with header accessToken, Content-Type text/plain, Accept
    application/json, the ids separated by newlines; the documented answer {jobId, status accepted, type}."""
    vendor = Vendor(lambda request: httpx.Response(200, json={"jobId": JOB, "status": "accepted", "type": "contacts"}))
    outcome = make(vendor).submit(chunk(), OPTIONS)
    login, submit = vendor.sent
    assert (login.method, str(login.url.copy_with(query=None))) == ("POST", f"{LOGIN}/Auth/login/v1/token.json")
    assert dict(login.url.params) == {
        "clientId": CLIENT["client_id"],
        "clientSecret": CLIENT["client_secret"],
        "grantType": "cred",
    }
    assert (submit.method, str(submit.url)) == ("POST", f"{API}/api/v1/contact/job")
    assert submit.headers["accessToken"] == "tok-1" and "authorization" not in submit.headers
    assert submit.headers["content-type"] == "text/plain" and submit.headers["accept"] == "application/json"
    assert submit.content == b"13496440\n8802619\n225"
    assert (outcome.status, outcome.vendor_ref) == ("running", JOB)


def test_status_and_results_calls_carry_the_token_and_the_link_does_not():
    """vendors.md InsideView: status GET /api/v1/contact/job/{jobId}; results (inferred) GET .../results giving a
    signed resultsUrl, fetched as it is (no accessToken of ours goes to the file host)."""
    vendor = Vendor(finished_job(f"{HEADER}\n"))
    make(vendor).check(JOB, chunk(), OPTIONS)
    status, results, file = [r for r in vendor.sent if not r.url.path.endswith("/token.json")]
    assert (status.method, status.url.path, results.url.path) == (
        "GET",
        f"/api/v1/contact/job/{JOB}",
        f"/api/v1/contact/job/{JOB}/results",
    )
    assert status.headers["accessToken"] == results.headers["accessToken"] == "tok-1"
    assert status.headers["accept"] == "application/json"
    assert str(file.url) == RESULTS_URL and "accesstoken" not in file.headers


# ---- the token ----


def test_the_documented_expiration_time_is_read():
    """vendors.md InsideView: expirationTime as documented, "Tue, Jul 21, 2015 09:08:17 PM GMT" (12-hour clock)."""
    expected = dt.datetime(2015, 7, 21, 21, 8, 17, tzinfo=dt.UTC).timestamp()
    assert module._expires_at("Tue, Jul 21, 2015 09:08:17 PM GMT") == expected
    assert module._expires_at("Tue, Jul 21, 2015 12:08:17 AM GMT") == expected - 21 * 3600
    assert module._expires_at("Tue, 21 Jul 2015 21:08:17 GMT") == expected  # RFC 1123 proper
    for other in (expected, expected * 1000, "2015-07-21T21:08:17Z", "2015-07-21T21:08:17.000+00:00"):
        assert module._expires_at(other) == expected  # epoch s, epoch ms, ISO 8601: kept (inferred)


def test_a_token_is_reused_until_the_documented_time_and_renewed_after_it():
    vendor = Vendor(lambda request: job_status("processing", 1))
    make(vendor).check(JOB, chunk(), OPTIONS)
    make(vendor).check(JOB, chunk(), OPTIONS)
    assert vendor.logins == 1
    module._tokens.clear()
    past = Vendor(vendor.api, login=lambda request: token_answer("Tue, Jul 21, 2015 09:08:17 PM GMT"))
    make(past).check(JOB, chunk(), OPTIONS)
    make(past).check(JOB, chunk(), OPTIONS)
    assert past.logins == 2


def test_an_unreadable_expiration_time_gives_a_short_life_logged_without_the_token(caplog):
    """Inferred: a time we cannot read is not trusted for long; the log says so and never shows the token."""
    caplog.set_level(logging.WARNING)
    vendor = Vendor(lambda request: job_status("processing"), login=lambda r: token_answer("someday", "secret-tok"))
    before = time.time()
    make(vendor).check(JOB, chunk(), OPTIONS)
    ((_, expires),) = module._tokens.values()
    assert before + module.UNREADABLE_EXPIRY_SECONDS <= expires <= time.time() + module.UNREADABLE_EXPIRY_SECONDS
    assert "someday" in caplog.text and "secret-tok" not in caplog.text and CLIENT["client_secret"] not in caplog.text


def test_401_renews_the_token_once_then_is_bad_credentials():
    """Contact job page: HTTP 401, "Cannot use API's without setting a valid accessToken in header"."""
    message = "Cannot use API's without setting a valid accessToken in header."
    vendor = Vendor(lambda request: documented_error(401, message, "UNAUTHORIZED"))
    with pytest.raises(BadCredentials, match="accessToken"):
        make(vendor).check(JOB, chunk(), OPTIONS)
    assert vendor.logins == 2 and len(vendor.to(f"/job/{JOB}")) == 2


def test_a_401_then_a_fresh_token_goes_on():
    answers = iter([documented_error(401, "Cannot use API's without setting a valid accessToken in header.")])
    vendor = Vendor(lambda request: next(answers, job_status("processing")))
    assert make(vendor).check(JOB, chunk(), OPTIONS).status == "running"
    assert vendor.logins == 2


def test_405_at_login_is_an_account_that_may_not_use_the_api():
    vendor = Vendor(
        lambda request: job_status("processing"),
        login=lambda r: documented_error(405, "Your are not allowed to access this API."),
    )
    with pytest.raises(AccountBlocked):
        make(vendor).check(JOB, chunk(), OPTIONS)


def test_a_login_refused_is_bad_credentials():
    """Inferred: the token endpoint refusing our client id and secret (any 4xx but 429)."""
    vendor = Vendor(lambda request: job_status("processing"), login=lambda r: documented_error(400, "invalid_client"))
    with pytest.raises(BadCredentials, match="login refused"):
        make(vendor).check(JOB, chunk(), OPTIONS)


# ---- the documented 400s, 405, 415, 429 ----


@pytest.mark.parametrize(
    "message",
    [
        "2 jobs are already running. Please try again once the previous jobs are finished.",
        "Too many job submitted to the processing queue",
        "Too many jobs submitted to the processing queue.",
    ],
)
def test_jobs_already_running_waits_for_a_turn(message):
    """vendors.md InsideView and the contact job page: a third job is answered 400 "2 jobs are already running.
    Please try again once the previous jobs are finished." ("Too many job submitted to the processing queue"):
    the chunk waits, it is not refused, and no quota is involved."""
    vendor = Vendor(lambda request: documented_error(400, message, number=4002))
    with pytest.raises(Throttled) as throttled:
        make(vendor).submit(chunk(), OPTIONS)
    assert throttled.value.quota is None and message in str(throttled.value)


def test_insufficient_transaction_quota_is_out_of_credits():
    """Contact job page: HTTP 400 "Insufficient transaction quota available"."""
    vendor = Vendor(lambda request: documented_error(400, "Insufficient transaction quota available"))
    with pytest.raises(OutOfCredits, match="quota"):
        make(vendor).submit(chunk(), OPTIONS)


def test_input_validation_failed_is_a_bad_chunk():
    """Contact job page: HTTP 400 "Validation of input data failed": final for this chunk's ids."""
    vendor = Vendor(lambda request: documented_error(400, "Validation of input data failed"))
    with pytest.raises(BadChunk, match="Validation of input data failed"):
        make(vendor).submit(chunk(), OPTIONS)


def test_another_400_is_refused_with_the_vendors_words():
    """Contact job page: a 400 "may have several causes ... etc.": one not documented is tried again later."""
    vendor = Vendor(lambda request: documented_error(400, "Something else entirely"))
    with pytest.raises(Refused, match="Something else entirely"):
        make(vendor).submit(chunk(), OPTIONS)


def test_405_is_an_account_that_may_not_use_the_api():
    """Contact job page: HTTP 405 "Method Not Allowed - Your are not allowed to access this API": the account,
    not the chunk or the credentials; the job stops."""
    vendor = Vendor(lambda request: documented_error(405, "Your are not allowed to access this API.", "FORBIDDEN"))
    with pytest.raises(AccountBlocked, match="not allowed to access this API"):
        make(vendor).submit(chunk(), OPTIONS)


def test_415_is_refused():
    """Contact job page: HTTP 415 "The Content-Type mandatory header is not provided" (we always send it)."""
    vendor = Vendor(lambda request: documented_error(415, "The Content-Type mandatory header is not provided."))
    with pytest.raises(Refused, match="Content-Type"):
        make(vendor).submit(chunk(), OPTIONS)


@pytest.mark.parametrize(("headers", "wait"), [({"Retry-After": "120"}, 120), ({}, None)])
def test_429_is_throttled_per_token_window(headers, wait):
    """Contact job page: HTTP 429 "Request is throttled"; vendors.md: per token over 5-minute windows."""
    response = documented_error(429, "Request is throttled.", "THROTTLED")
    vendor = Vendor(lambda request: httpx.Response(429, json=response.json(), headers=headers))
    with pytest.raises(Throttled, match="Request is throttled") as throttled:
        make(vendor).check(JOB, chunk(), OPTIONS)
    assert throttled.value.retry_after == wait and throttled.value.quota is None


def test_an_unknown_job_is_refused():
    """vendors.md InsideView: 404 for an unknown job."""
    vendor = Vendor(lambda request: documented_error(404, "Job not found.", "NOT_FOUND"))
    with pytest.raises(Refused, match="HTTP 404"):
        make(vendor).check(JOB, chunk(), OPTIONS)


def test_a_5xx_at_submit_is_an_answer_lost():
    vendor = Vendor(lambda request: documented_error(503, "Service temporarily unavailable.", "UNAVAILABLE"))
    with pytest.raises(OutcomeUnknown):
        make(vendor).submit(chunk(), OPTIONS)


# ---- job statuses ----


@pytest.mark.parametrize(("status", "processed", "progress"), [("accepted", 0, 0), ("processing", 2, 66.7)])
def test_accepted_and_processing_are_running(status, processed, progress):
    """vendors.md InsideView: status accepted | processing | finished | failed | aborted, with totalProcessed."""
    outcome = make(Vendor(lambda request: job_status(status, processed))).check(JOB, chunk(), OPTIONS)
    assert (outcome.status, outcome.progress) == ("running", progress)


@pytest.mark.parametrize("status", ["failed", "aborted"])
def test_failed_and_aborted_fail_the_chunk(status):
    outcome = make(Vendor(lambda request: job_status(status))).check(JOB, chunk(), OPTIONS)
    assert outcome.status == "failed" and status in outcome.reason


@pytest.mark.parametrize("status", ["queued", "pending", "STARTED", "in_progress"])
def test_an_undocumented_status_is_still_running(status):
    """Inferred: a word not among the documented statuses means still running (the poll limit and the deadline
    bound it); only failed and aborted fail."""
    outcome = make(Vendor(lambda request: job_status(status))).check(JOB, chunk(), OPTIONS)
    assert outcome.status == "running"


# ---- the results file (inferred) ----


def test_finished_reads_the_results_file():
    """Inferred (vendors.md InsideView): the results CSV's columns; an id without a row had no details."""
    row = "13496440,Ada,Lovelace,Ada Lovelace,ada@example.com,+1 415 555 0100,77,Example Corp,ada-l,0.9,ValidEmail"
    phone_only = "8802619,Alan,Turing,Alan Turing,,+1 415 555 0101,77,Example Corp,,0.8,"
    done = make(Vendor(finished_job(f"\ufeff{HEADER}\r\n{row}\r\n{phone_only}\r\n"))).check(JOB, chunk(), OPTIONS)
    assert (done.status, done.credits) == ("done", 2)
    ada = done.results["0"]
    assert ada.status == RowStatus.MATCHED and ada.emails[0].value == "ada@example.com"
    assert (ada.emails[0].status, ada.emails[0].vendor_status) == ("valid", "ValidEmail")
    assert ada.phones[0].value == "+1 415 555 0100" and ada.phones[0].status is None  # phones are not graded
    assert ada.person.full_name == "Ada Lovelace" and ada.company.name == "Example Corp"
    assert ada.person.linkedin_url == "https://www.linkedin.com/in/ada-l"
    assert done.results["1"].status == RowStatus.MATCHED and not done.results["1"].emails
    assert done.results["2"].status == RowStatus.NOT_MATCHED


@pytest.mark.parametrize("header", ["id,firstName,email,phone", "", "contactid,email,phone"])
def test_a_results_file_without_contact_id_fails_the_chunk_naming_the_columns(header):
    """Inferred columns: a file without contactId (renamed, or empty) fails the chunk saying which columns it has;
    its rows are never read as not_matched."""
    done = make(Vendor(finished_job(f"{header}\n13496440,Ada,ada@example.com,\n" if header else ""))).check(
        JOB, chunk(), OPTIONS
    )
    assert done.status == "failed" and not done.results
    assert "contactId" in done.reason and (header.replace(",", ", ") or "none") in done.reason
    assert "2 credits" in done.reason


@pytest.mark.parametrize("refused", [403, 404])
def test_a_refused_results_link_is_asked_for_again(refused):
    """Inferred: the link is signed and expires; a 403/404 there is a stale link, not our credentials: the results
    endpoint is asked for a fresh one."""
    fresh = RESULTS_URL.replace("abc", "fresh")
    links = iter([RESULTS_URL, fresh])
    row = "13496440,Ada,Lovelace,Ada Lovelace,ada@example.com,,77,Example Corp,,0.9,ValidEmail"
    finished = finished_job(f"{HEADER}\n{row}\n")

    def api(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/results"):
            body = finished(request).json() | {"resultsUrl": next(links)}
            return httpx.Response(200, json=body)
        if request.url.host == "files.insideview.com" and "abc" in str(request.url):
            return httpx.Response(refused, text="<Error><Code>AccessDenied</Code></Error>")
        return finished(request)

    vendor = Vendor(api)
    done = make(vendor).check(JOB, chunk(), OPTIONS)
    assert done.status == "done" and done.results["0"].status == RowStatus.MATCHED
    assert len(vendor.to("/results")) == 2


def test_a_results_link_refused_twice_is_checked_again_later_not_bad_credentials():
    def api(request: httpx.Request) -> httpx.Response:
        if request.url.host == "files.insideview.com":
            return httpx.Response(403, text="<Error><Code>AccessDenied</Code></Error>")
        return finished_job("")(request)

    with pytest.raises(Transient, match="results link") as raised:
        make(Vendor(api)).check(JOB, chunk(), OPTIONS)
    assert type(raised.value) is Transient


# ---- proving access ----


def test_check_access_logs_in_and_asks_for_no_job():
    """A new token (free), then the status of a job that does not exist: 404 (documented for an unknown job)."""
    vendor = Vendor(lambda request: documented_error(404, "Job not found.", "NOT_FOUND"))
    line = make(vendor).check_access()
    assert line.startswith("insideview: the credentials work") and CLIENT["client_secret"] not in line
    login, probe = vendor.sent
    assert login.url.path == "/Auth/login/v1/token.json"
    assert probe.method == "GET" and probe.url.path.startswith("/api/v1/contact/job/") and probe.headers["accessToken"]


@pytest.mark.parametrize(
    ("vendor", "error"),
    [
        (Vendor(lambda r: documented_error(405, "Your are not allowed to access this API.")), AccountBlocked),
        (
            Vendor(lambda r: documented_error(404, "x"), login=lambda r: documented_error(401, "bad client")),
            BadCredentials,
        ),
        (
            Vendor(lambda r: documented_error(401, "Cannot use API's without setting a valid accessToken in header.")),
            BadCredentials,
        ),
    ],
    ids=["405", "login refused", "token refused"],
)
def test_check_access_raises_what_stops_a_job(vendor, error):
    with pytest.raises(error):
        make(vendor).check_access()


# ---- the document server ----


def test_a_chunk_end_to_end_against_the_document_server():
    """tests/contract/servers/insideview.py answers as the documents do: a login with the documented time, the
    "2 jobs are already running" 400 twice, accepted -> processing -> finished, then the results file."""
    ids = [str(13496440 + n * 7919) for n in range(12)]
    work = chunk(*ids)
    with DocumentServer(documents.route) as server:
        adapter = InsideViewAdapter(
            api_url=server.url,
            credentials=CLIENT,
            settings=VendorSettings(chunk_size=10_000),
            extra_urls={"login": server.url},
        )
        waits = 0
        while True:
            try:
                outcome = adapter.submit(work, OPTIONS)
                break
            except Throttled:
                waits += 1
                assert waits <= 2, "only the documented busy answers wait"
        seen = []
        while outcome.status == "running" and len(seen) < 10:
            outcome = adapter.check(outcome.vendor_ref, work, OPTIONS)
            seen.append(outcome.status)
        logins = len(server.calls_to("POST", "/Auth/login/v1/token.json"))
    assert waits == 2 and seen == ["running", "running", "done"] and logins == 1
    found = {i: documents.contact(i) for i in ids}
    assert outcome.credits == sum(1 for c in found.values() if c)
    assert set(outcome.results) == {str(n) for n in range(len(ids))}
    for n, contact_id in enumerate(ids):
        result, details = outcome.results[str(n)], found[contact_id]
        if details and (details["email"] or details["phone"]):
            assert result.status == RowStatus.MATCHED and result.person.full_name == details["fullName"]
        else:
            assert result.status == RowStatus.NOT_MATCHED
