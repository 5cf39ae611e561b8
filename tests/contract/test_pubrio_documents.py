"""Pubrio's documents, fed straight to the adapter through httpx.MockTransport (no simulator, no network).

Sources: seeds `pubrio-redeem-people-batch.openapi.txt` (submit, error bodies), `pubrio-redeem-people-batch-query.txt`
(query), and vendors.md "Pubrio". A test whose behaviour the documents do not state says "inferred".
"""

from __future__ import annotations

import json
import uuid

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
from enrichment.vendors.pubrio import PubrioAdapter, PubrioOptions
from tests.contract.document_server import DocumentServer
from tests.contract.mock_vendor import MockVendor, answering
from tests.contract.servers import pubrio as document

KEY = "pubrio-contract-key-DO-NOT-ECHO"
SUBMIT, QUERY = "/redeem/people/batch", "/redeem/people/batch/query"

# The openapi page's 200 example for POST /redeem/people/batch, verbatim.
SUBMIT_EXAMPLE = {
    "data": {
        "redeem_query_id": "a046c1da-b3d4-4ca1-aca6-1dd8c8055701",
        "is_completed": False,
        "estimated_time": 6,
        "estimated_time_type": "second",
    }
}
# The query page's example answer, verbatim (the "..." entry included; the page's values read "[email protected]").
QUERY_EXAMPLE = {
    "data": {
        "profile": {"credit": 450376, "topup_credit": 235237, "total_charged_credit": 465},
        "query": {
            "redeem_query_id": "a046c1da-b3d4-4ca1-aca6-1dd8c8055701",
            "is_completed": True,
            "estimated_time": 6,
            "estimated_time_type": "second",
        },
        "peoples": [
            {
                "people_search_id": "540574d1-ff74-475b-aea2-f8ae643b806d",
                "emails": [
                    {"value": "[email protected]", "type": "email-personal", "status": None},
                    {"value": "[email protected]", "type": "email-work", "status": "Verified"},
                ],
                "phones": [{"value": "+1123456789", "type": "phone", "status": None}],
            },
            "...",
        ],
    }
}
EXAMPLE_PERSON = "540574d1-ff74-475b-aea2-f8ae643b806d"
# The documented error bodies and messages (components.responses of the openapi page).
GENERAL_ERROR = {
    "code": 40001,
    "message": "Errors and codes will vary depending on the scenario, please see the documentation for information.",
    "details": {},
}
RATE_LIMIT_ERROR = {"error": "Request rate limit exceeded. Please wait and try again later."}
SERVER_ERROR = {"error": "An unexpected error occurred on the server."}


def adapter(vendor: MockVendor | None = None, *, api_url: str = "https://api.pubrio.com") -> PubrioAdapter:
    return PubrioAdapter(
        api_url=api_url,
        credentials={"api_key": KEY},
        settings=VendorSettings(chunk_size=100, http_timeout_seconds=5),
        transport=httpx.MockTransport(vendor) if vendor else None,
    )


def chunk(*people: str) -> Chunk:
    records = [Record(ref=str(n), fields={"people_search_id": p}) for n, p in enumerate(people, 1)]
    return Chunk(job_id="j", chunk_index=0, records=records)


OPTIONS = PubrioOptions(contact_types=["email-work", "email-personal", "phone"])
PEOPLE = [str(uuid.UUID(int=n * 7919 + 11)) for n in range(5)]


# ---- what the adapter sends (openapi page: requestBody, securitySchemes) ----


def test_submit_sends_the_documented_request_and_reads_the_documented_answer():
    vendor = answering(200, SUBMIT_EXAMPLE)
    outcome = adapter(vendor).submit(chunk(*PEOPLE), PubrioOptions(contact_types=["email-work", "phone"], profile_id=7))
    (request,) = vendor.requests
    assert (request.method, request.url.path) == ("POST", SUBMIT)
    assert request.headers["pubrio-api-key"] == KEY
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {
        "peoples": PEOPLE,
        "people_contact_types": ["email-work", "phone"],
        "profile_id": 7,
    }
    # the documented `estimated_time` (seconds) is the first wait
    assert (outcome.status, outcome.vendor_ref, outcome.wait_hint_seconds) == (
        "running",
        "a046c1da-b3d4-4ca1-aca6-1dd8c8055701",
        6,
    )


def test_profile_id_is_optional_and_left_out_when_not_given():
    vendor = answering(200, SUBMIT_EXAMPLE)
    adapter(vendor).submit(chunk(*PEOPLE), OPTIONS)
    assert "profile_id" not in json.loads(vendor.requests[0].content)


def test_query_sends_the_documented_request():
    vendor = answering(200, QUERY_EXAMPLE)
    adapter(vendor).check("a046c1da-b3d4-4ca1-aca6-1dd8c8055701", chunk(EXAMPLE_PERSON), OPTIONS.model_copy())
    (request,) = vendor.requests
    assert (request.method, request.url.path, request.headers["pubrio-api-key"]) == ("POST", QUERY, KEY)
    assert json.loads(request.content) == {"redeem_query_id": "a046c1da-b3d4-4ca1-aca6-1dd8c8055701"}


# ---- the query answer (query page example; vendors.md "Pubrio") ----


def test_the_documented_query_answer_with_its_placeholder_entry():
    outcome = adapter(answering(200, QUERY_EXAMPLE)).check("a046c1da", chunk(EXAMPLE_PERSON), OPTIONS)
    assert outcome.status == "done"
    result = outcome.results["1"]
    assert result.status == RowStatus.MATCHED
    # the verified work address first: it fills the main email columns
    assert [(e.type, e.status, e.vendor_status) for e in result.emails] == [
        ("work", "valid", "Verified"),
        ("personal", "unknown", None),
    ]
    assert [(p.value, p.type, p.status) for p in result.phones] == [("+1123456789", "phone", "unknown")]
    assert result.raw["people_search_id"] == EXAMPLE_PERSON


def test_total_charged_credit_is_the_chunks_credits_inferred():
    """Inferred: `profile.total_charged_credit` is what this redeem charged (465 = 31 details at the example
    profile's 15), not the account's total; per-row credits are not attributed."""
    outcome = adapter(answering(200, QUERY_EXAMPLE)).check("a046c1da", chunk(EXAMPLE_PERSON), OPTIONS)
    assert outcome.credits == 465
    assert outcome.results["1"].credits is None


def test_a_redeem_not_completed_is_running_with_its_estimate():
    running = {"data": {"query": {"redeem_query_id": "r", "is_completed": False, "estimated_time": 4}}}
    outcome = adapter(answering(200, running)).check("r", chunk(*PEOPLE), OPTIONS)
    assert (outcome.status, outcome.vendor_ref, outcome.wait_hint_seconds) == ("running", "r", 4)


def test_a_person_with_no_details_of_the_requested_types_is_not_matched():
    answer = json.loads(json.dumps(QUERY_EXAMPLE))
    answer["data"]["peoples"] = [{"people_search_id": EXAMPLE_PERSON, "emails": [], "phones": []}]
    result = adapter(answering(200, answer)).check("r", chunk(EXAMPLE_PERSON), OPTIONS).results["1"]
    assert (result.status, result.reason) == (RowStatus.NOT_MATCHED, "no contact details of the requested types")


def test_a_person_missing_from_a_completed_answer_is_an_error_row_inferred():
    """Inferred: every person redeemed has an entry; one missing is an error, never silently not_matched."""
    outcome = adapter(answering(200, QUERY_EXAMPLE)).check("r", chunk(EXAMPLE_PERSON, PEOPLE[0]), OPTIONS)
    assert outcome.results["1"].status == RowStatus.MATCHED
    assert outcome.results["2"].status == RowStatus.ERROR
    assert "no entry for this person" in outcome.results["2"].reason


@pytest.mark.parametrize("missing", ["peoples", "query"])
def test_a_completed_answer_without_its_documented_lists_fails_the_chunk(missing):
    answer = json.loads(json.dumps(QUERY_EXAMPLE))
    del answer["data"][missing]
    outcome = adapter(answering(200, answer)).check("r", chunk(EXAMPLE_PERSON), OPTIONS)
    assert outcome.status == "failed" and f"`{missing}`" in outcome.reason
    assert not outcome.results


def test_a_peoples_entry_without_its_id_fails_the_chunk():
    answer = json.loads(json.dumps(QUERY_EXAMPLE))
    answer["data"]["peoples"][0]["id"] = answer["data"]["peoples"][0].pop("people_search_id")  # a renamed field
    outcome = adapter(answering(200, answer)).check("r", chunk(EXAMPLE_PERSON), OPTIONS)
    assert outcome.status == "failed" and "people_search_id" in outcome.reason


# ---- errors (openapi page: general_error, rate_limit_error, server_error) ----


def test_the_documented_400_is_refused_with_code_and_message():
    with pytest.raises(Refused) as refused:
        adapter(answering(400, GENERAL_ERROR)).submit(chunk(*PEOPLE), OPTIONS)
    assert "code 40001" in str(refused.value) and "Errors and codes will vary" in str(refused.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"code": 40001, "message": "Invalid API key.", "details": {}}),
        (400, {"code": 40003, "message": "API key is missing.", "details": {}}),
        (400, {"code": 40001, "message": "The api-key has expired", "details": {}}),
        (401, {"error": "Unauthorized"}),
        (403, {"code": 40301, "message": "Forbidden", "details": {}}),
    ],
)
def test_a_rejected_key_is_bad_credentials_whatever_the_status_inferred(status, body):
    """Inferred: Pubrio answers a rejected key with a 400 (only 400/429/500 are documented); the job stops."""
    for call in (
        lambda a: a.submit(chunk(*PEOPLE), OPTIONS),
        lambda a: a.check("r", chunk(*PEOPLE), OPTIONS),
    ):
        with pytest.raises(BadCredentials) as rejected:
            call(adapter(answering(status, body)))
        assert KEY not in str(rejected.value)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (400, {"code": 40002, "message": "Insufficient credits.", "details": {}}),
        (400, {"code": 40002, "message": "You do not have enough credits to redeem.", "details": {}}),
        (402, {"code": 40201, "message": "Payment required", "details": {}}),
    ],
)
def test_no_credits_is_out_of_credits_inferred(status, body):
    """Inferred: public client code sees 402 for insufficient credits; a 400 saying so is the same stop."""
    with pytest.raises(OutOfCredits):
        adapter(answering(status, body)).submit(chunk(*PEOPLE), OPTIONS)


def test_a_suspended_workspace_is_account_blocked_inferred():
    body = {"code": 40001, "message": "Your workspace is suspended. Please contact support.", "details": {}}
    with pytest.raises(AccountBlocked):
        adapter(answering(400, body)).submit(chunk(*PEOPLE), OPTIONS)


def test_the_documented_429_is_a_plain_throttle():
    with pytest.raises(Throttled) as throttled:
        adapter(answering(429, RATE_LIMIT_ERROR)).check("r", chunk(*PEOPLE), OPTIONS)
    assert throttled.value.quota is None and throttled.value.retry_after is None
    assert "Request rate limit exceeded" in str(throttled.value)


def test_retry_after_on_a_429_is_honoured():
    with pytest.raises(Throttled) as throttled:
        adapter(answering(429, RATE_LIMIT_ERROR, {"Retry-After": "12"})).submit(chunk(*PEOPLE), OPTIONS)
    assert throttled.value.retry_after == 12


@pytest.mark.parametrize(
    ("message", "quota"),
    [
        ("Hourly request quota exceeded for your plan. Please try again later.", "hourly"),
        ("You have reached your daily limit of requests.", "daily"),
        ("Request quota per day exceeded.", "daily"),
    ],
)
def test_a_429_naming_an_hourly_or_daily_quota_is_that_quota_inferred(message, quota):
    """Inferred: the plans' hourly and daily quotas are documented, their 429 wording is not."""
    vendor = answering(429, {"error": message}, {"Retry-After": "1800"})
    with pytest.raises(Throttled) as throttled:
        adapter(vendor).submit(chunk(*PEOPLE), OPTIONS)
    assert (throttled.value.quota, throttled.value.retry_after) == (quota, 1800)


def test_the_documented_500_is_transient_on_query_and_an_answer_lost_on_submit():
    with pytest.raises(Transient, match="An unexpected error occurred on the server"):
        adapter(answering(500, SERVER_ERROR)).check("r", chunk(*PEOPLE), OPTIONS)
    with pytest.raises(OutcomeUnknown):  # the redeem may have been accepted: never sent again blindly
        adapter(answering(500, SERVER_ERROR)).submit(chunk(*PEOPLE), OPTIONS)


# ---- proving access (inferred: Pubrio documents no free probe) ----


def test_check_access_queries_a_redeem_that_does_not_exist():
    vendor = answering(400, {"code": 40001, "message": "redeem_query_id not found.", "details": {}})
    line = adapter(vendor).check_access()
    (request,) = vendor.requests
    assert (request.method, request.url.path) == ("POST", QUERY)  # a query: no redeem, no credits
    assert json.loads(request.content) == {"redeem_query_id": str(uuid.UUID(int=0))}
    assert line.startswith("pubrio: the API key works") and KEY not in line


def test_check_access_with_a_rejected_key_raises_bad_credentials():
    with pytest.raises(BadCredentials):
        adapter(answering(400, {"code": 40001, "message": "Invalid API key.", "details": {}})).check_access()


# ---- the document server: a chunk end to end over real HTTP ----


def test_a_chunk_against_the_document_server():
    people = [str(uuid.UUID(int=n * 104729 + 5)) for n in range(20)]
    with DocumentServer(document.route) as server:
        vendor = PubrioAdapter(
            api_url=server.url,
            credentials={"api_key": document.API_KEY},
            settings=VendorSettings(chunk_size=100),
        )
        started = vendor.submit(chunk(*people), OPTIONS)
        assert started.status == "running" and started.wait_hint_seconds == 1
        outcomes = [vendor.check(started.vendor_ref, chunk(*people), OPTIONS) for _ in range(2)]
        assert [o.status for o in outcomes] == ["running", "done"]
        done = outcomes[-1]
        assert set(done.results) == {str(n) for n in range(1, 21)}
        for n, people_id in enumerate(people, 1):
            expected = document.person(people_id, OPTIONS.contact_types)
            result = done.results[str(n)]
            assert result.status == (RowStatus.MATCHED if expected["emails"] else RowStatus.NOT_MATCHED)
            assert {e.value for e in result.emails} == {e["value"] for e in expected["emails"]}
        assert done.credits == document.charged(server) > 0
        assert [c.path for c in server.calls] == [SUBMIT, QUERY, QUERY]


def test_a_bad_key_against_the_document_server_is_bad_credentials():
    with DocumentServer(document.route) as server:
        vendor = PubrioAdapter(
            api_url=server.url, credentials={"api_key": "not-the-key"}, settings=VendorSettings(chunk_size=100)
        )
        with pytest.raises(BadCredentials, match="HTTP 400"):
            vendor.submit(chunk(*PEOPLE), OPTIONS)
        with pytest.raises(BadCredentials):
            vendor.check_access()
