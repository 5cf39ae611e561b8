"""Check365's documents against the adapter, with no simulator: the vendor's own example requests and answers
are fed straight to the adapter through httpx.MockTransport. Each test names its document: the seed page
(/work/shared/seeds/check365-bulk-status.txt, "bulk-status page") or the vendors.md section ("vendors.md
Check365"). Behaviour the documents leave open is marked "inferred" in the test's name or docstring.

The last tests run the adapter against the document server (`tests/contract/servers/check365.py`)."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import httpx
import pytest

from enrichment.errors import (
    AccountBlocked,
    BadCredentials,
    OutcomeUnknown,
    OutOfCredits,
    Refused,
    Throttled,
    Transient,
)
from enrichment.models import Chunk, Record, RowStatus
from enrichment.settings import VendorSettings
from enrichment.vendors.check365 import Check365Adapter, Check365Options
from tests.contract.document_server import DocumentServer
from tests.contract.servers import check365 as documents

API = "https://api.check365.io"
KEY = "c365-contract-key-5f2e-DO-NOT-LOG"
OPTIONS = Check365Options()
Handler = Callable[[httpx.Request], httpx.Response]

# Verbatim: the example response of the bulk-status page.
DOCUMENTED_STATUS = {
    "success": True,
    "message": "Job has been completed",
    "data": {
        "jobId": "YOUR_JOB_ID",
        "status": "completed",
        "creditsUsed": 12,
        "progress": 100,
        "total": 2,
        "results": [
            {
                "email": "name@company.com",
                "emailProvider": "unknown",
                "emailType": "unknown",
                "status": "unvalidated",
                "safeToSend": False,
                "risk": "high",
                "isRole": False,
                "statusReason": "invalid_domain",
            }
        ],
    },
}


def make(handler: Handler, key: str = KEY) -> tuple[Check365Adapter, list[httpx.Request]]:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return handler(request)

    adapter = Check365Adapter(
        api_url=API,
        credentials={"api_key": key},
        settings=VendorSettings(chunk_size=500),
        transport=httpx.MockTransport(record),
    )
    return adapter, sent


def answer(status: int, body: object, headers: dict[str, str] | None = None) -> Handler:
    return lambda request: httpx.Response(status, json=body, headers=headers)


def chunk(*emails: str, index: int = 0) -> Chunk:
    return Chunk(
        job_id="job-1",
        chunk_index=index,
        records=[Record(ref=str(n), fields={"email": e}) for n, e in enumerate(emails)],
    )


def status_answer(status: str, **data: object) -> dict:
    return {"success": True, "message": "ok", "data": {"jobId": "job-1-c000000", "status": status} | data}


# ---- what the adapter sends ----


def test_the_upload_sends_emails_key_and_our_own_job_id():
    """vendors.md Check365: POST /api/validation/bulk-upload {emails, api_key, job_id}, the client chooses job_id;
    the answer {success, message, job_id}."""
    adapter, sent = make(answer(200, {"success": True, "message": "Job created", "job_id": "job-1-c000000"}))
    outcome = adapter.submit(chunk(" Ada@Initech.com", "grace@umbrella.co"), OPTIONS)
    (request,) = sent
    assert (request.method, request.url.path) == ("POST", "/api/validation/bulk-upload")
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "emails": ["ada@initech.com", "grace@umbrella.co"],
        "api_key": KEY,
        "job_id": "job-1-c000000",
    }
    assert (outcome.status, outcome.vendor_ref) == ("running", "job-1-c000000")


def test_the_status_check_sends_the_key_and_job_id_in_the_query():
    """bulk-status page: GET /api/validation/bulk-status?api_key=[YOUR_API_KEY]&job_id=[JOB_ID]."""
    adapter, sent = make(answer(200, status_answer("uploaded")))
    adapter.check("job-1-c000000", chunk("a@x.com"), OPTIONS)
    (request,) = sent
    assert (request.method, request.url.path) == ("GET", "/api/validation/bulk-status")
    assert dict(request.url.params) == {"api_key": KEY, "job_id": "job-1-c000000"}
    assert not request.content


# ---- the documented answer ----


def test_the_documented_example_answer_gives_its_verdict_and_credits():
    """bulk-status page, the example response: a completed job with one result and creditsUsed 12."""
    adapter, _ = make(answer(200, DOCUMENTED_STATUS))
    done = adapter.check("YOUR_JOB_ID", chunk("Name@Company.com"), OPTIONS)
    assert (done.status, done.credits) == ("done", 12)
    result = done.results["0"]
    assert result.status == RowStatus.MATCHED
    assert result.emails[0].value == "name@company.com" and result.emails[0].vendor_status == "unvalidated"
    assert result.emails[0].status == "unknown"  # the common word for a verdict Check365 could not give
    v = result.verification
    assert (v.status, v.safe_to_send, v.risk, v.is_role, v.reason, v.provider) == (
        "unvalidated",
        False,
        "high",
        False,
        "invalid_domain",
        "unknown",
    )


def test_an_address_the_completed_answer_lacks_is_an_error_not_a_non_match():
    """bulk-status page: results hold "the validation result for each email address"; the example answers one of
    its total 2. An address we sent without a verdict is an error saying so, never not_matched (inferred)."""
    adapter, _ = make(answer(200, DOCUMENTED_STATUS))
    done = adapter.check("YOUR_JOB_ID", chunk("name@company.com", "other@company.com"), OPTIONS)
    assert done.results["0"].status == RowStatus.MATCHED
    missing = done.results["1"]
    assert missing.status == RowStatus.ERROR and "without a verdict" in missing.reason


@pytest.mark.parametrize("results", [None, []], ids=["absent", "empty"])
def test_a_completed_answer_without_results_is_checked_again(results):
    """bulk-status page: completed carries results. Without them the check fails loudly as Transient (checked
    again, bounded by polls and the deadline), never every row not_matched (inferred)."""
    data = {k: v for k, v in DOCUMENTED_STATUS["data"].items() if k != "results"}
    body = DOCUMENTED_STATUS | {"data": data if results is None else data | {"results": results}}
    adapter, _ = make(answer(200, body))
    with pytest.raises(Transient, match="completed but its answer carries no results"):
        adapter.check("YOUR_JOB_ID", chunk("name@company.com"), OPTIONS)


@pytest.mark.parametrize(
    "status", ["uploaded", "validating", "in-progress", "started", "pending", "processing", "Queued"]
)
def test_statuses_other_than_completed_are_still_running(status):
    """bulk-status page: "completed" is the one documented status ("for example"). Any other word that is not a
    failure means still running (inferred); the poll limit and the deadline bound the wait."""
    adapter, _ = make(answer(200, status_answer(status, progress=40, total=2, creditsUsed=0, results=[])))
    outcome = adapter.check("job-1-c000000", chunk("a@x.com"), OPTIONS)
    assert (outcome.status, outcome.progress) == ("running", 40)


@pytest.mark.parametrize("status", ["failed", "error", "cancelled", "canceled", "aborted", "expired"])
def test_failure_words_fail_the_chunk(status):
    """Inferred: only explicit words of failure end the job."""
    adapter, _ = make(answer(200, status_answer(status)))
    outcome = adapter.check("job-1-c000000", chunk("a@x.com"), OPTIONS)
    assert outcome.status == "failed" and f"ended {status!r}" in outcome.reason


# ---- success, strictly ----


@pytest.mark.parametrize("success", ["false", "False", "0", False, 0])
def test_success_false_in_any_spelling_is_a_refusal_at_upload(success):
    """vendors.md Check365: `success: false` is an error even on HTTP 200; the upload page leaves its type open
    (string or boolean), so "false" and "0" are read as false (inferred)."""
    adapter, _ = make(answer(200, {"success": success, "message": "Upload failed, try again"}))
    with pytest.raises(Refused, match="Upload failed, try again"):
        adapter.submit(chunk("a@x.com"), OPTIONS)


def test_success_false_as_a_string_on_a_status_check_is_a_refusal():
    adapter, _ = make(answer(200, {"success": "false", "message": "Something went wrong", "data": None}))
    with pytest.raises(Refused, match="Something went wrong"):
        adapter.check("job-1-c000000", chunk("a@x.com"), OPTIONS)


def test_success_true_as_a_string_is_a_success():
    adapter, _ = make(answer(200, {"success": "true", "message": "Job created", "job_id": "job-1-c000000"}))
    assert adapter.submit(chunk("a@x.com"), OPTIONS).status == "running"


def test_success_neither_true_nor_false_is_an_answer_lost_at_upload():
    """Inferred: an upload answered with a `success` we cannot read may or may not have been taken."""
    adapter, _ = make(answer(200, {"success": "maybe", "message": "?", "job_id": "job-1-c000000"}))
    with pytest.raises(OutcomeUnknown):
        adapter.submit(chunk("a@x.com"), OPTIONS)


# ---- the job_id is ours ----


def test_a_job_id_check365_already_holds_is_followed_not_uploaded_again():
    """vendors.md Check365: the client chooses job_id, so a retried upload can reuse it. What Check365 answers to
    a job_id it has is not documented (inferred: an error such as "job_id already exists"): the adapter reads it
    as "Check365 holds this chunk" and asks its status by job_id; nothing is uploaded or paid twice."""

    def vendor(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/bulk-upload"):
            return httpx.Response(400, json={"success": False, "message": "job_id already exists"})
        return httpx.Response(200, json=status_answer("validating", progress=50))

    adapter, sent = make(vendor)
    outcome = adapter.submit(chunk("a@x.com"), OPTIONS)
    assert [r.url.path for r in sent] == ["/api/validation/bulk-upload", "/api/validation/bulk-status"]
    assert sent[1].url.params["job_id"] == "job-1-c000000"
    assert (outcome.status, outcome.vendor_ref, outcome.progress) == ("running", "job-1-c000000", 50)


def test_a_lost_upload_is_looked_up_by_our_job_id():
    """vendors.md Check365: the job_id is ours, so a lost upload's status can be asked by it (inferred: "not
    found" means it never arrived)."""
    adapter, _ = make(answer(404, {"success": False, "message": "Job not found"}))
    assert adapter.find_submission(chunk("a@x.com"), OPTIONS) is None
    adapter, _ = make(answer(200, status_answer("in-progress", progress=10)))
    held = adapter.find_submission(chunk("a@x.com"), OPTIONS)
    assert held is not None and (held.status, held.vendor_ref) == ("running", "job-1-c000000")


# ---- errors (Check365 documents no codes: every mapping here is inferred) ----


@pytest.mark.parametrize(
    ("status", "body", "error", "says"),
    [
        (401, {"success": False, "message": "Unauthorized"}, BadCredentials, "Unauthorized"),
        (403, {"success": False, "message": "Forbidden"}, BadCredentials, "Forbidden"),
        (200, {"success": False, "message": "Invalid API key"}, BadCredentials, "Invalid API key"),
        (400, {"success": False, "message": "Invalid api_key"}, BadCredentials, "Invalid api_key"),
        (400, {"success": False, "message": "Your account has been suspended"}, AccountBlocked, "suspended"),
        (200, {"success": "false", "message": "Account disabled"}, AccountBlocked, "disabled"),
        (402, {"success": False, "message": "Payment required"}, OutOfCredits, "Payment required"),
        (400, {"success": False, "message": "Insufficient credits"}, OutOfCredits, "Insufficient credits"),
        (400, {"success": False, "message": "emails must be a list"}, Refused, "emails must be a list"),
        (404, {"success": False, "message": "Job not found"}, Refused, "Job not found"),
        (502, {"success": False, "message": "Bad gateway"}, Transient, "Bad gateway"),
    ],
)
def test_errors_by_code_and_words(status, body, error, says):
    """vendors.md Check365: 429/5xx retryable, 401/403 fatal, `success: false` an error even on HTTP 200; an
    account that cannot go on, a rejected key and a lack of credits stop the job whatever the code."""
    adapter, _ = make(answer(status, body))
    with pytest.raises(error, match=says) as raised:
        adapter.check("job-1-c000000", chunk("a@x.com"), OPTIONS)
    assert type(raised.value) is error


def test_429_waits_as_long_as_told():
    adapter, _ = make(answer(429, {"success": False, "message": "Too many requests"}, {"Retry-After": "7"}))
    with pytest.raises(Throttled) as throttled:
        adapter.check("job-1-c000000", chunk("a@x.com"), OPTIONS)
    assert throttled.value.retry_after == 7 and throttled.value.quota is None


def test_a_5xx_at_upload_is_an_answer_lost():
    adapter, _ = make(answer(503, {"success": False, "message": "Service unavailable"}))
    with pytest.raises(OutcomeUnknown):
        adapter.submit(chunk("a@x.com"), OPTIONS)


def test_the_key_is_redacted_even_when_the_vendor_echoes_it(caplog):
    """vendors.md Check365: the key travels in the body or query string; redact it in every log line and error."""
    caplog.set_level(logging.DEBUG)
    adapter, _ = make(answer(400, {"success": False, "message": f"Job not found for key {KEY}"}))
    with pytest.raises(Refused) as refused:
        adapter.check("job-1-c000000", chunk("a@x.com"), OPTIONS)
    adapter, _ = make(answer(200, {"success": False, "message": f"Invalid API key {KEY}"}))
    with pytest.raises(BadCredentials) as rejected:
        adapter.submit(chunk("a@x.com"), OPTIONS)
    adapter, _ = make(answer(200, status_answer("failed") | {"message": f"failed for {KEY}"}))
    failed = adapter.check("job-1-c000000", chunk("a@x.com"), OPTIONS)
    for text in (str(refused.value), str(rejected.value), failed.reason, caplog.text):
        assert KEY not in text
    assert "[redacted]" in str(refused.value)


# ---- proving access ----


def test_check_access_asks_the_status_of_no_job():
    """Inferred: no probe is documented; the status of a job that does not exist costs nothing."""
    adapter, sent = make(answer(404, {"success": False, "message": "Job not found"}))
    line = adapter.check_access()
    assert line.startswith("check365: the API key works") and KEY not in line
    (request,) = sent
    assert (request.method, request.url.path) == ("GET", "/api/validation/bulk-status")
    assert request.url.params["api_key"] == KEY and request.url.params["job_id"]


def test_check_access_with_a_rejected_key_raises():
    adapter, _ = make(answer(401, {"success": False, "message": "Invalid API key"}), key="wrong-key")
    with pytest.raises(BadCredentials):
        adapter.check_access()


# ---- the document server ----


def test_a_chunk_end_to_end_against_the_document_server():
    """tests/contract/servers/check365.py answers as the documents do: upload, undocumented words before
    "completed", then every address's verdict."""
    emails = [f"person{n}@example.io" for n in range(7)] + ["info@example.com"]
    work = chunk(*emails)
    with DocumentServer(documents.route) as server:
        adapter = Check365Adapter(
            api_url=server.url, credentials={"api_key": KEY}, settings=VendorSettings(chunk_size=500)
        )
        outcome = adapter.submit(work, OPTIONS)
        seen = []
        for _ in range(10):
            outcome = adapter.check(outcome.vendor_ref, work, OPTIONS)
            seen.append(outcome.status)
            if outcome.status != "running":
                break
        again = adapter.submit(work, OPTIONS)  # a repeated upload: followed by job_id, not a second job
    assert seen == ["running", "running", "running", "done"]
    assert outcome.credits == len(emails) and server.state["uploads"] == 1 and again.status == "done"
    assert set(outcome.results) == {str(n) for n in range(len(emails))}
    for n, email in enumerate(emails):
        result = outcome.results[str(n)]
        assert result.status == RowStatus.MATCHED and result.verification.status == documents.verdict(email)["status"]
    assert outcome.results[str(len(emails) - 1)].verification.is_role is True
