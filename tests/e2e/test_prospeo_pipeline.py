"""Prospeo end to end: a synchronous vendor is simply done at submit, through the same poll loop."""

from __future__ import annotations

from collections import Counter

from localrt.samples import prospeo_csv
from tests.conftest import parse_csv, read_results, run_job
from tests.e2e.oracle import assert_output_columns, assert_rows_match, expected_prospeo

PATH = "/bulk-enrich-person"


def test_thousand_rows_every_outcome(runtime, prospeo, tmp_path):
    options = {"enrich_mobile": True}
    text = prospeo_csv(1000, seed=111)
    before_calls, before_charged = prospeo.served(PATH), prospeo.charged_total
    view, out = run_job(runtime, tmp_path, "prospeo", text, options)
    results = read_results(out)
    expected = expected_prospeo(parse_csv(text), options)
    assert_rows_match(results, expected, "prospeo")
    assert_output_columns(out, "prospeo")
    item = view.item
    assert item["status"] == "SUCCEEDED"
    counts = Counter(status for status, _ in expected)
    assert item["counts"] == {
        s: counts.get(s, 0) for s in ("matched", "not_matched", "invalid_input", "duplicate", "error", "skipped")
    }
    sendable = counts["matched"] + counts["not_matched"]
    assert item["chunks_total"] == -(-sendable // 50)  # at most 50 records a call
    assert prospeo.served(PATH) - before_calls == item["chunks_total"]
    assert item["credits"] == prospeo.charged_total - before_charged > 0
    matched = [r for r in results if r["result_status"] == "matched"]
    assert all(r["result_full_name"] and r["result_company_name"] for r in matched)
    assert any(r["result_phone"] for r in matched), "enrich_mobile brings phones"
    # invalid rows were never sent: they cost a request each
    thin = [r for r, (status, _) in zip(results, expected, strict=True) if status == "invalid_input"]
    assert all("datapoints" in r["result_reason"] or r["result_reason"] == "blank row" for r in thin)


def test_only_verified_email_option_reaches_the_vendor(runtime, prospeo, tmp_path):
    options = {"only_verified_email": True}
    text = prospeo_csv(120, seed=222)
    view, out = run_job(runtime, tmp_path, "prospeo", text, options)
    assert view.status == "SUCCEEDED"
    results = read_results(out)
    assert_rows_match(results, expected_prospeo(parse_csv(text), options), "prospeo")
    matched = [r for r in results if r["result_status"] == "matched"]
    assert matched and all(r["result_email_status"] == "valid" for r in matched)
    assert all(r["result_email_vendor_status"] == "VERIFIED" for r in matched)


def test_rate_limit_and_internal_error_are_survived_without_paying_twice(runtime, prospeo, tmp_path):
    options = {}
    text = prospeo_csv(200, seed=333)
    prospeo.inject("429", times=2)
    prospeo.inject("500", times=1)  # Prospeo's 400 INTERNAL_ERROR
    prospeo.inject("malformed", times=1)
    before_calls = prospeo.served(PATH)
    view, out = run_job(runtime, tmp_path, "prospeo", text, options)
    assert view.status == "SUCCEEDED", view.item.get("error")
    assert_rows_match(read_results(out), expected_prospeo(parse_csv(text), options), "prospeo")
    assert prospeo.served(PATH) - before_calls == view.item["chunks_total"]
    assert not prospeo.faults


def test_out_of_credits_fails_the_job_with_the_reason(runtime, prospeo, tmp_path):
    prospeo.inject("out_of_credits")
    view, out = run_job(runtime, tmp_path, "prospeo", prospeo_csv(60, seed=444))
    assert view.status == "FAILED"
    assert "INSUFFICIENT_CREDITS" in view.item["error"]
    results = read_results(out)
    assert len(results) == 60
    assert {r["result_status"] for r in results} <= {"error", "invalid_input", "duplicate"}
    assert all("credits" in r["result_reason"] or r["result_status"] == "invalid_input" for r in results)


def _clear_vendor_wait(runtime) -> None:
    """Forget the reset hint a test's quota left for every Prospeo chunk (it outlasts the test on purpose)."""
    runtime.client("dynamodb").delete_item(
        TableName=runtime.outputs["JobsTableName"], Key={"job_id": {"S": "rate#prospeo"}, "item": {"S": "block"}}
    )


def test_the_daily_limit_is_waited_out_then_the_job_goes_on(runtime, prospeo, tmp_path):
    # A 429 with only the daily headers (x-daily-request-left: 0, a reset in 2 s): the chunk waits for the reset.
    options = {}
    text = prospeo_csv(150, seed=555)
    prospeo.inject("daily_quota", times=1, path=PATH, seconds=2)
    before_calls = prospeo.served(PATH)
    view, out = run_job(runtime, tmp_path, "prospeo", text, options)
    assert view.status == "SUCCEEDED", view.item.get("error")
    assert_rows_match(read_results(out), expected_prospeo(parse_csv(text), options), "prospeo")
    assert prospeo.served(PATH) - before_calls == view.item["chunks_total"]
    assert not prospeo.faults, "the daily limit was met"


def test_a_daily_limit_resetting_after_the_deadline_stops_the_job(runtime, prospeo, tmp_path):
    text = prospeo_csv(40, seed=556)  # one chunk
    prospeo.inject("daily_quota", times=1, path=PATH, seconds=7200)  # the tests' deadline is 60 s
    try:
        view, out = run_job(runtime, tmp_path, "prospeo", text)
    finally:
        _clear_vendor_wait(runtime)
    assert view.status == "FAILED"
    error = view.item["error"]
    assert "daily limit" in error and "after this job's deadline" in error and "resets in" in error
    results = read_results(out)
    assert len(results) == 40
    assert {r["result_status"] for r in results} <= {"error", "invalid_input", "duplicate"}
    assert all("daily limit" in r["result_reason"] for r in results if r["result_status"] == "error")
    assert prospeo.ledger()["paid_submissions"] == 0


def test_a_restricted_account_stops_the_job(runtime, prospeo, tmp_path):
    # ACCOUNT_RESTRICTED (not in the documented table): the job stops, instead of failing chunk by chunk
    prospeo.inject("account_blocked", times=1, path=PATH)
    text = prospeo_csv(150, seed=557)
    view, out = run_job(runtime, tmp_path, "prospeo", text)
    assert view.status == "FAILED"
    assert "ACCOUNT_RESTRICTED" in view.item["error"]
    results = read_results(out)
    errors = 0
    for row, (status, _) in zip(results, expected_prospeo(parse_csv(text), {}), strict=True):
        if row["result_status"] == "error":  # the refused chunk, and those not sent once the job stopped
            errors += 1
            assert status != "invalid_input" and "ACCOUNT_RESTRICTED" in row["result_reason"]
        else:  # a chunk answered before the refusal is kept
            assert row["result_status"] == status
    assert errors and prospeo.ledger()["submissions"] <= view.item["chunks_total"]
