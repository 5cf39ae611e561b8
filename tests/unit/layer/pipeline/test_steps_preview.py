"""The preview of a job of steps: each step's rows, its worst case and expected credits, from known rates."""

from __future__ import annotations

import datetime as dt
import uuid

import boto3
import pytest

from enrichment.files.reader import InMemoryFile
from enrichment.jobs.store import JOB_ITEM
from enrichment.models import Email, RecordResult, RowStatus, Vendor
from enrichment.options import parse_steps
from enrichment.pipeline.classify import SEND, classify_input
from enrichment.pipeline.cost import Observed, record_observed, scope_of
from enrichment.pipeline.result_cache import Answered, ResultCache
from enrichment.pipeline.steps_preview import preview_steps
from enrichment.settings import InputLimits, Settings
from enrichment.vendors import adapter_class
from localrt.template import result_cache_table

A, B = "7f9c0a52-2f1e-4b7a-9a57-0c7f3d2b9e10", "0b8f6f0e-5d3c-4a3e-8a1d-3e2b1c0d9f21"
# 1: Pubrio and Prospeo can take it; 2: Pubrio only; 3: Prospeo only (name + company); 4: Prospeo only (its email);
# 5: row 1 again; 6: an address that is not one (neither); 7: a name alone (neither, no email).
WATERFALL = (
    "people_search_id,first_name,last_name,company_name,email\n"
    f"{A},Ada,Lovelace,Initech,\n"
    f"{B},,,,\n"
    ",Bob,Smith,Acme,\n"
    ",,,,carol@hooli.xyz\n"
    f"{A},Ada,Lovelace,Initech,\n"
    ",,,,not an address\n"
    ",Dan,,,\n"
)
STEPS = [{"vendor": "pubrio"}, {"vendor": "prospeo"}, {"vendor": "check365"}]


def steps_of(given=STEPS, options=None):
    return parse_steps(given, options or {})


@pytest.fixture
def known_rates(emulated_aws: Settings) -> Settings:
    """Past jobs: Pubrio matched half its rows at 15 credits a row sent, Prospeo 80% at 0.8; Check365: none."""
    table = boto3.client("dynamodb")
    for job in ("a", "b", "c"):  # record_observed's marker sits on a job item that exists
        table.put_item(TableName=emulated_aws.jobs_table, Item={"job_id": {"S": job}, "item": {"S": JOB_ITEM}})
    for job, vendor, sent, matched, credits in (
        ("a", Vendor.PUBRIO, 100, 50, 1500.0),
        ("b", Vendor.PROSPEO, 10, 8, 8.0),
    ):
        step = steps_of([{"vendor": vendor.value}])[0]
        assert record_observed(
            emulated_aws.jobs_table,
            job,
            vendor,
            scope_of(vendor, step.options),
            Observed(rows_sent=sent, rows_matched=matched, credits=credits),
        )
    return emulated_aws


def preview(settings: Settings | None, options=None, text: str = WATERFALL, steps=STEPS):
    source = InMemoryFile(text.encode())
    return preview_steps(source, steps_of(steps, options), options or {}, InputLimits(), settings=settings)


def test_each_step_from_the_rates_of_past_jobs(known_rates: Settings):
    found = preview(known_rates)
    pubrio, prospeo, check365 = found.steps
    # Pubrio sends rows 1 and 2 (5 is row 1 again), at worst 30 credits each (two emails asked, 15 each).
    assert (pubrio.rows_can_take, pubrio.rows_not_taken, pubrio.duplicate) == (3, 4, 1)
    assert (pubrio.worst_case_rows, pubrio.worst_case_credits) == (2, 60.0)
    assert (pubrio.expected_rows_sent, pubrio.expected_credits) == (2.0, 30.0)  # 2 rows x 15 credits observed
    assert (pubrio.basis, pubrio.basis_rows, pubrio.match_rate) == ("observed", 100, 0.5)
    # Prospeo could take rows 1, 3, 4 (and 5, row 1's duplicate); row 1 reaches it half the time.
    assert (prospeo.rows_can_take, prospeo.rows_not_taken, prospeo.duplicate) == (4, 3, 1)
    assert (prospeo.worst_case_rows, prospeo.worst_case_credits) == (3, 3.0)
    assert (prospeo.expected_rows_sent, prospeo.expected_credits) == (2.5, 2.0)  # (0.5 + 1 + 1) x 0.8
    # Check365: an address for each row some step may find one (1 to 5); row 6's is not one, row 7 has none.
    # Expected: 1 and 5: 0.5 + 0.5 x 0.8; 2: 0.5; 3: 0.8; 4: 0.8 found, else its own address.
    assert (check365.worst_case_rows, check365.worst_case_credits, check365.rows_not_taken) == (5, 5.0, 1)
    assert check365.expected_rows_sent == pytest.approx(0.9 + 0.5 + 0.8 + 1.0 + 0.9)
    assert (check365.basis, check365.match_rate) == ("default", 1.0)
    assert found.worst_case_credits == 68.0
    assert found.expected_credits == pytest.approx(30 + 2 + 4.1)
    assert (found.rows, found.error, found.max_credits) == (7, None, None)
    assert {c.name: c.field for c in found.columns}["people_search_id"] == "people_search_id"


def test_without_history_the_vendors_defaults():
    pubrio, prospeo, check365 = preview(None).steps
    assert (pubrio.basis, pubrio.match_rate, pubrio.expected_credits) == ("default", 0.6, 2 * 0.6 * 30)
    assert prospeo.expected_rows_sent == pytest.approx(0.4 + 1 + 1)
    assert prospeo.expected_credits == pytest.approx(2.4 * 0.6)
    # 1 and 5: 0.6 + 0.4 x 0.6; 2: 0.6; 3: 0.6; 4: 0.6 + 0.4 (its own address)
    assert check365.expected_credits == pytest.approx(2 * 0.84 + 0.6 + 0.6 + 1.0)


def test_max_credits_caps_each_step_and_the_job(known_rates: Settings):
    found = preview(known_rates, {"max_credits": 40})
    assert [s.worst_case_credits for s in found.steps] == [40.0, 3.0, 5.0]
    assert found.worst_case_credits == 40.0
    assert found.expected_credits == pytest.approx(36.1)
    assert found.max_credits == 40.0


def test_a_step_asking_no_email_finds_none_to_validate(known_rates: Settings):
    steps = [{"vendor": "pubrio", "options": {"contact_types": ["phone"]}}, {"vendor": "check365"}]
    pubrio, check365 = preview(None, steps=steps).steps
    assert pubrio.worst_case_credits == 2 * 30.0  # a phone at worst, 30 credits
    # Pubrio's finds carry no email: only the rows' own addresses (row 4's) are graded; row 6's is not one.
    assert (check365.worst_case_rows, check365.expected_rows_sent, check365.rows_not_taken) == (1, 1.0, 1)


def test_a_cached_match_is_not_passed_on(known_rates: Settings):
    cache_table = f"unit-cache-{uuid.uuid4().hex[:12]}"
    boto3.client("dynamodb").create_table(**result_cache_table(cache_table))
    settings = known_rates.model_copy(update={"result_cache_table": cache_table})
    step = steps_of([{"vendor": "pubrio"}])[0]
    adapter = adapter_class(Vendor.PUBRIO)
    with classify_input(["people_search_id"], iter([(1, [A])]), Vendor.PUBRIO, step.options) as classified:
        fields = next(o.fields for o in classified.rows if o.status == SEND)
    found = RecordResult(status=RowStatus.MATCHED, emails=[Email(value="ada@initech.com", type="email-work")])
    ResultCache(cache_table, Vendor.PUBRIO, scope_of(Vendor.PUBRIO, step.options)).store(
        [(adapter.dedupe_key(fields), Answered(fields, found))],
        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "job-a",
    )
    pubrio, prospeo, check365 = preview(settings).steps
    # Rows 1 and 5 are answered by the cache (matched): not sent, not given to Prospeo, their email certain.
    assert (pubrio.cached_rows, pubrio.cached_matched, pubrio.worst_case_rows) == (2, 2, 1)
    assert pubrio.expected_credits == 15.0
    assert (prospeo.rows_can_take, prospeo.worst_case_rows) == (2, 2)
    assert prospeo.expected_rows_sent == 2.0
    assert check365.expected_rows_sent == pytest.approx(1 + 0.5 + 0.8 + 1.0 + 1)


def test_a_file_no_step_can_match_on_is_the_error():
    found = preview(None, text="note,phone\nhello,123\n")
    assert found.error and "no column any step" in found.error
    assert found.steps == [] and found.worst_case_credits == 0
