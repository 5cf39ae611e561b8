"""Prospeo's documents, fed straight to the adapter through httpx.MockTransport (no simulator, no network).

Sources: seed `prospeo-bulk-enrich-person.txt` (request, answer, error codes) and vendors.md "Prospeo" (person
and company fields, prices, rate limits, the headers third-party clients read). A test whose behaviour the
documents do not state says "inferred".
"""

from __future__ import annotations

import json

import httpx
import pytest

from enrichment.errors import AccountBlocked, BadChunk, BadCredentials, OutOfCredits, Refused, Throttled, Transient
from enrichment.models import Chunk, Record, RowStatus, Vendor
from enrichment.settings import DEFAULT_VENDOR_SETTINGS, Settings, VendorSettings, vendor_settings
from enrichment.vendors.prospeo import ProspeoAdapter, ProspeoOptions
from tests.contract.document_server import DocumentServer
from tests.contract.mock_vendor import MockVendor, answering
from tests.contract.servers import prospeo as document

KEY = "prospeo-contract-key-DO-NOT-ECHO"
PATH = "/bulk-enrich-person"

# The page's example request: its body, verbatim but for the closing "... up to 50 objects".
EXAMPLE_REQUEST = {
    "only_verified_email": True,
    "enrich_mobile": True,
    "data": [
        {"identifier": "1", "full_name": "Eva Kiegler", "company_website": "intercom.com"},
        {
            "identifier": "2",
            "first_name": "Jonah",
            "last_name": "Stones",
            "linkedin_url": "https://www.linkedin.com/in/jonah-stones",
            "company_name": "Deloitte",
            "company_website": "deloitte.com",
            "company_linkedin_url": "https://www.linkedin.com/company/deloitte",
        },
        {"identifier": "3", "linkedin_url": "https://www.linkedin.com/in/micah-sanders"},
        {"identifier": "4", "full_name": "Brandon Stering"},
        {"identifier": "5", "email": "nicolas.b@kpmg.com"},
        {
            "identifier": "6",
            "full_name": "Nicole Wonda",
            "company_linkedin_url": "https://www.linkedin.com/company/young",
        },
        {"identifier": "7", "person_id": "6f564548455488874f48e"},
    ],
}
# The page's example response, verbatim but for `person: { ... }` and `company: { ... }`, left empty.
EXAMPLE_RESPONSE = {
    "error": False,
    "total_cost": 10,
    "not_matched": ["2", "3"],
    "invalid_datapoints": ["4"],
    "matched": [
        {"identifier": "1", "person": {}, "company": {}},
        {"identifier": "5", "person": {}, "company": {}},
        {"identifier": "6", "person": {}, "company": {}},
        {"identifier": "7", "person": {}, "company": {}},
    ],
}
# A matched record with the person and company fields vendors.md lists.
MATCH = {
    "identifier": "1",
    "person": {
        "person_id": "6f745841665155f554e5f",
        "first_name": "Roger",
        "last_name": "Sterling",
        "full_name": "Roger Sterling",
        "linkedin_url": "https://www.linkedin.com/in/roger-sterling",
        "headline": "Partner at Deloitte",
        "current_job_title": "Partner",
        "job_history": [],
        "location": {"country": "United States", "city": "New York"},
        "email": {
            "status": "VERIFIED",
            "revealed": True,
            "email": "roger.sterling@deloitte.com",
            "verification_method": "SMTP",
            "email_mx_provider": "Microsoft",
        },
        "mobile": {
            "status": "VERIFIED",
            "revealed": True,
            "mobile": "+1 212 555 0100",
            "mobile_national": "(212) 555-0100",
            "mobile_international": "+12125550100",
            "mobile_country": "United States",
            "mobile_country_code": "US",
        },
    },
    "company": {
        "company_id": "c1",
        "name": "Deloitte",
        "website": "https://deloitte.com",
        "domain": "deloitte.com",
        "industry": "Accounting",
        "employee_count": 450000,
        "employee_range": "10000+",
        "linkedin_url": "https://www.linkedin.com/company/deloitte",
    },
}


def adapter(vendor: MockVendor) -> ProspeoAdapter:
    return ProspeoAdapter(
        api_url="https://api.prospeo.io",
        credentials={"api_key": KEY},
        settings=VendorSettings(chunk_size=50),
        transport=httpx.MockTransport(vendor),
    )


def example_chunk() -> Chunk:
    """The example request's seven records, as the chunk the adapter is given (refs are the identifiers)."""
    records = [
        Record(ref=r["identifier"], fields={k: v for k, v in r.items() if k != "identifier"})
        for r in EXAMPLE_REQUEST["data"]
    ]
    return Chunk(job_id="j", chunk_index=0, records=records)


def emails_chunk(n: int) -> Chunk:
    records = [Record(ref=str(i), fields={"email": f"person{i}@initech.com"}) for i in range(1, n + 1)]
    return Chunk(job_id="j", chunk_index=0, records=records)


EXAMPLE_OPTIONS = ProspeoOptions(only_verified_email=True, enrich_mobile=True)


# ---- the page's example, both ways ----


def test_the_example_request_is_what_the_adapter_sends():
    vendor = answering(200, EXAMPLE_RESPONSE)
    adapter(vendor).submit(example_chunk(), EXAMPLE_OPTIONS)
    (request,) = vendor.requests
    assert (request.method, request.url.path) == ("POST", PATH)
    assert request.headers["x-key"] == KEY
    assert request.headers["content-type"] == "application/json"
    sent = json.loads(request.content)
    assert sent.pop("only_verified_mobile") is False  # documented default, sent explicitly
    assert sent == EXAMPLE_REQUEST


def test_the_example_response_answers_every_record():
    outcome = adapter(answering(200, EXAMPLE_RESPONSE)).submit(example_chunk(), EXAMPLE_OPTIONS)
    assert outcome.status == "done"  # answered at once: nothing to poll
    statuses = {ref: result.status for ref, result in outcome.results.items()}
    assert statuses == {
        "1": RowStatus.MATCHED,
        "2": RowStatus.NOT_MATCHED,
        "3": RowStatus.NOT_MATCHED,
        "4": RowStatus.INVALID_INPUT,
        "5": RowStatus.MATCHED,
        "6": RowStatus.MATCHED,
        "7": RowStatus.MATCHED,
    }
    assert outcome.results["2"].reason == "no match with the verified-only options"
    assert outcome.credits == 10  # total_cost
    # four matches at the documented 1 credit (no mobile shown) do not add up to 10: rows carry no price
    assert all(result.credits is None for result in outcome.results.values())


def test_only_verified_mobile_implies_enrich_mobile():
    vendor = answering(
        200, {"error": False, "total_cost": 0, "matched": [], "not_matched": ["1"], "invalid_datapoints": []}
    )
    adapter(vendor).submit(emails_chunk(1), ProspeoOptions(only_verified_mobile=True))
    sent = json.loads(vendor.requests[0].content)
    assert (sent["only_verified_mobile"], sent["enrich_mobile"]) == (True, True)


def test_a_match_with_the_documented_fields_and_its_price():
    answer = {"error": False, "total_cost": 10, "matched": [MATCH], "not_matched": [], "invalid_datapoints": []}
    chunk = Chunk(job_id="j", chunk_index=0, records=[Record(ref="1", fields={"email": "roger.sterling@deloitte.com"})])
    result = adapter(answering(200, answer)).submit(chunk, ProspeoOptions(enrich_mobile=True)).results["1"]
    assert [(e.value, e.status, e.vendor_status) for e in result.emails] == [
        ("roger.sterling@deloitte.com", "valid", "VERIFIED")
    ]
    assert [(p.value, p.type, p.status, p.vendor_status) for p in result.phones] == [
        ("+12125550100", "mobile", "valid", "VERIFIED")
    ]
    assert (result.person.full_name, result.person.job_title) == ("Roger Sterling", "Partner")
    assert (result.company.name, result.company.domain, result.company.size) == ("Deloitte", "deloitte.com", "10000+")
    assert result.credits == 10  # documented: 10 when a mobile is included


# ---- an answer that does not add up (the page: each identifier is in one list) ----


def test_a_record_missing_from_every_list_is_an_error_row():
    answer = dict(EXAMPLE_RESPONSE, not_matched=["2"])  # "3" is nowhere
    outcome = adapter(answering(200, answer)).submit(example_chunk(), EXAMPLE_OPTIONS)
    assert outcome.results["3"].status == RowStatus.ERROR
    assert outcome.results["3"].reason == "Prospeo's answer does not mention this record"
    assert outcome.results["2"].status == RowStatus.NOT_MATCHED


def test_a_missing_list_is_named_in_its_rows_reasons():
    answer = {k: v for k, v in EXAMPLE_RESPONSE.items() if k != "not_matched"}
    outcome = adapter(answering(200, answer)).submit(example_chunk(), EXAMPLE_OPTIONS)
    for ref in ("2", "3"):
        assert outcome.results[ref].status == RowStatus.ERROR
        assert "has no not_matched list" in outcome.results[ref].reason


def test_an_identifier_never_sent_makes_every_row_an_error():
    answer = dict(EXAMPLE_RESPONSE, not_matched=["2", "3", "99"])
    outcome = adapter(answering(200, answer)).submit(example_chunk(), EXAMPLE_OPTIONS)
    assert {r.status for r in outcome.results.values()} == {RowStatus.ERROR}
    assert len(outcome.results) == 7
    assert "never sent (99)" in outcome.results["1"].reason
    assert outcome.credits == 10  # what Prospeo charged is still counted


def test_a_record_in_two_lists_is_an_error_row():
    answer = dict(EXAMPLE_RESPONSE, not_matched=["1", "2", "3"])
    result = adapter(answering(200, answer)).submit(example_chunk(), EXAMPLE_OPTIONS).results["1"]
    assert result.status == RowStatus.ERROR and "more than once (matched, not_matched)" in result.reason


# ---- error codes (the page's table) ----


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, "INSUFFICIENT_CREDITS", OutOfCredits),
        (401, "INVALID_API_KEY", BadCredentials),
        (400, "INVALID_REQUEST", BadChunk),
        (400, "INTERNAL_ERROR", Transient),  # "an error occurred on our side": a server fault, retried
    ],
)
def test_the_documented_error_codes(status, code, error):
    with pytest.raises(error) as raised:
        adapter(answering(status, {"error": True, "error_code": code})).submit(emails_chunk(3), ProspeoOptions())
    assert code in str(raised.value) and KEY not in str(raised.value)


def test_the_error_code_decides_whatever_the_status_inferred():
    with pytest.raises(BadCredentials):
        adapter(answering(400, {"error": True, "error_code": "INVALID_API_KEY"})).submit(
            emails_chunk(1), ProspeoOptions()
        )
    with pytest.raises(OutOfCredits):
        adapter(answering(402, {"error": True, "error_code": "INSUFFICIENT_CREDITS"})).submit(
            emails_chunk(1), ProspeoOptions()
        )


def test_account_restricted_stops_the_job_inferred():
    """Inferred: ACCOUNT_RESTRICTED is not in the documented table, but Prospeo sends it: the account cannot go on."""
    with pytest.raises(AccountBlocked, match="ACCOUNT_RESTRICTED"):
        adapter(answering(400, {"error": True, "error_code": "ACCOUNT_RESTRICTED"})).submit(
            emails_chunk(2), ProspeoOptions()
        )


def test_an_undocumented_error_code_is_refused_with_the_code():
    with pytest.raises(Refused, match="SOMETHING_NEW"):
        adapter(answering(400, {"error": True, "error_code": "SOMETHING_NEW"})).submit(
            emails_chunk(2), ProspeoOptions()
        )


def test_error_true_on_a_200_is_still_an_error():
    with pytest.raises(OutOfCredits):
        adapter(answering(200, {"error": True, "error_code": "INSUFFICIENT_CREDITS"})).submit(
            emails_chunk(1), ProspeoOptions()
        )


# ---- rate limits (the page's RATE_LIMITED; vendors.md: limits, headers read by third-party clients) ----

RATE_LIMITED = {"error": True, "error_code": "RATE_LIMITED"}


@pytest.mark.parametrize(
    ("headers", "retry_after", "quota"),
    [
        ({"x-daily-request-left": "0", "x-daily-reset-seconds": "7200"}, 7200, "daily"),
        ({"x-minute-request-left": "0", "x-minute-reset-seconds": "17"}, 17, None),
        (
            {
                "x-minute-request-left": "0",
                "x-minute-reset-seconds": "17",
                "x-daily-request-left": "0",
                "x-daily-reset-seconds": "7200",
            },
            7200,
            "daily",
        ),
        (
            {
                "x-minute-request-left": "120",
                "x-minute-reset-seconds": "40",
                "x-daily-request-left": "900",
                "x-daily-reset-seconds": "7200",
            },
            1,
            None,
        ),
        ({"Retry-After": "30", "x-minute-request-left": "0", "x-minute-reset-seconds": "17"}, 30, None),
        ({}, None, None),
    ],
    ids=["daily-only", "minute-only", "both-ran-out", "per-second", "retry-after-wins", "no-headers"],
)
def test_a_429_waits_for_the_budget_that_ran_out_inferred(headers, retry_after, quota):
    """Inferred: the header names come from third-party clients, not an official page."""
    with pytest.raises(Throttled) as throttled:
        adapter(answering(429, RATE_LIMITED, headers)).submit(emails_chunk(5), ProspeoOptions())
    assert (throttled.value.retry_after, throttled.value.quota) == (retry_after, quota)


def test_each_record_counts_as_one_request():
    assert adapter(answering(200, EXAMPLE_RESPONSE)).request_cost(example_chunk(), "submit") == 7


# ---- the documented maximum of 50 records a call ----


def test_chunk_size_is_capped_at_the_documented_fifty():
    assert DEFAULT_VENDOR_SETTINGS[Vendor.PROSPEO]["chunk_size"] == 50
    assert vendor_settings(Vendor.PROSPEO, {"chunk_size": 200}).chunk_size == 50
    assert vendor_settings(Vendor.PROSPEO, {"chunk_size": 20}).chunk_size == 20
    settings = Settings(
        data_bucket="b", jobs_table="t", idempotency_table="i", vendor_overrides={"prospeo": {"chunk_size": 51}}
    )
    assert settings.vendor(Vendor.PROSPEO).chunk_size == 50
    # other vendors' overrides are theirs (Pubrio documents no maximum)
    assert vendor_settings(Vendor.PUBRIO, {"chunk_size": 500}).chunk_size == 500


def test_the_daily_limit_is_not_assumed():
    """The daily limit depends on the plan (2,000 to 500,000): requests_per_day is left unset by default."""
    assert vendor_settings(Vendor.PROSPEO).requests_per_day is None


# ---- proving access ----


def test_check_access_sends_one_record_too_thin_to_match():
    answer = {"error": False, "total_cost": 0, "matched": [], "not_matched": [], "invalid_datapoints": ["access-check"]}
    vendor = answering(200, answer, {"x-daily-request-left": "1999"})
    line = adapter(vendor).check_access()
    (request,) = vendor.requests
    sent = json.loads(request.content)
    assert (request.method, request.url.path, request.headers["x-key"]) == ("POST", PATH, KEY)
    # below the documented minimum: set aside in invalid_datapoints, matching not attempted, no credit spent
    assert len(sent["data"]) == 1 and not document.matchable(sent["data"][0])
    assert line == "prospeo: the API key works (1999 requests left today)"


def test_check_access_with_a_rejected_key():
    with pytest.raises(BadCredentials):
        adapter(answering(401, {"error": True, "error_code": "INVALID_API_KEY"})).check_access()


# ---- the document server: a chunk end to end over real HTTP ----


def test_a_chunk_against_the_document_server_waits_out_the_daily_limit():
    with DocumentServer(document.route) as server:
        vendor = ProspeoAdapter(
            api_url=server.url, credentials={"api_key": document.API_KEY}, settings=VendorSettings(chunk_size=50)
        )
        chunk = example_chunk()
        with pytest.raises(Throttled) as throttled:  # the server's first answer: the day's limit is reached
            vendor.submit(chunk, EXAMPLE_OPTIONS)
        assert throttled.value.quota == "daily" and 1 <= throttled.value.retry_after <= 2
        server.state["daily_reset_at"] = 0  # the reset has come (what the pipeline's Wait state waits for)
        outcome = vendor.submit(chunk, EXAMPLE_OPTIONS)
        assert outcome.status == "done"
        assert set(outcome.results) == {str(n) for n in range(1, 8)}
        assert outcome.results["4"].status == RowStatus.INVALID_INPUT  # below the minimum datapoints
        assert {r.status for r in outcome.results.values()} <= {
            RowStatus.MATCHED,
            RowStatus.NOT_MATCHED,
            RowStatus.INVALID_INPUT,
        }
        assert outcome.credits == document.charged(server)
        again = vendor.submit(chunk, EXAMPLE_OPTIONS)  # documented: re-enriching is free
        assert again.credits == 0 and [r.status for r in again.results.values()] == [
            r.status for r in outcome.results.values()
        ]
