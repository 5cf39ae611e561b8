"""Pubrio end to end: S3 drop -> the real state machine -> the Pubrio function -> the simulator."""

from __future__ import annotations

import json
import time
from collections import Counter

from enrichment.files.csvio import safe_cell
from localrt import lambdas
from localrt.samples import pubrio_csv
from tests.conftest import parse_csv, read_results, run_job, unique_name
from tests.e2e.oracle import assert_output_columns, assert_rows_match, expected_pubrio

SUBMIT = "/redeem/people/batch"
QUERY = "/redeem/people/batch/query"
TYPES = ["email-work", "email-personal", "phone"]


def test_thousand_rows_every_outcome(runtime, pubrio, tmp_path):
    text = "\ufeff" + pubrio_csv(1000, seed=101)
    function = lambdas.FUNCTIONS[f"{runtime.stack_name}-PubrioFunction"]
    function.peak_concurrency = 0
    before_submits, before_charged = pubrio.served(SUBMIT), pubrio.charged_total
    view, out = run_job(runtime, tmp_path, "pubrio", text, {"contact_types": TYPES})

    results = read_results(out)
    expected = expected_pubrio(parse_csv(text), TYPES)
    assert_rows_match(results, expected, "pubrio")
    assert_output_columns(out, "pubrio")
    # input order and original columns kept (formula-like cells neutralised)
    assert [r["People Search ID"] for r in results] == [safe_cell(r["People Search ID"]) for r in parse_csv(text)]

    item = view.item
    assert item["status"] == "SUCCEEDED"
    counts = Counter(status for status, _ in expected)
    assert item["counts"] == {
        s: counts.get(s, 0) for s in ("matched", "not_matched", "invalid_input", "duplicate", "error", "skipped")
    }
    assert item["rows_total"] == 1000 and item["chunks_done"] == item["chunks_total"] == 9
    assert item["credits"] == pubrio.charged_total - before_charged > 0
    # each chunk submitted exactly once and paid once, each redeem's answer collected once
    assert pubrio.served(SUBMIT) - before_submits == item["chunks_total"]
    ledger = pubrio.ledger()
    assert ledger["paid_submissions"] == ledger["answers_served"] == item["chunks_total"]
    assert ledger["duplicate_paid_submissions"] == 0
    # the Map kept its concurrency: batches (3 chunks each) ran side by side, up to the vendor's setting (3 here)
    assert 2 <= function.peak_concurrency <= 3

    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "SUCCEEDED" and summary["rows"] == 1000 and summary["credits"] == item["credits"]
    lines = (out / "results.jsonl").read_text().splitlines()
    assert len(lines) == 1000
    first_matched = next(json.loads(line) for line in lines if json.loads(line)["status"] == "matched")
    assert first_matched["vendor_answer"]["people_search_id"] == first_matched["input"]["People Search ID"].lower()


def test_formula_like_input_is_neutralised(runtime, pubrio, tmp_path):
    text = 'People Search ID,Note\r\n=HYPERLINK("http://x"),=1+2\r\n'
    view, out = run_job(runtime, tmp_path, "pubrio", text)
    row = read_results(out)[0]
    assert row["People Search ID"].startswith("'=") and row["Note"] == "'=1+2"
    assert row["result_status"] == "invalid_input"
    assert view.status == "SUCCEEDED"


def test_throttling_and_transient_errors_are_survived_without_paying_twice(runtime, pubrio, tmp_path):
    text = pubrio_csv(250, seed=202)
    pubrio.inject("429", times=2, path=SUBMIT)  # a 429 is a refusal: sent again (a 5xx is not: see faults/)
    pubrio.inject("500", times=1, path=QUERY)
    pubrio.inject("429", times=1, path=QUERY)
    pubrio.inject("malformed", times=1, path=QUERY)
    before = pubrio.served(SUBMIT)
    view, out = run_job(runtime, tmp_path, "pubrio", text, {"contact_types": TYPES})
    assert view.status == "SUCCEEDED", view.item.get("error")
    assert_rows_match(read_results(out), expected_pubrio(parse_csv(text), TYPES), "pubrio")
    assert pubrio.served(SUBMIT) - before == view.item["chunks_total"] == 3
    assert not pubrio.faults, "every injected fault was met"


def test_out_of_credits_fails_the_job_with_the_reason(runtime, pubrio, tmp_path):
    text = pubrio_csv(120, seed=303)
    pubrio.inject("out_of_credits")
    before = pubrio.served(SUBMIT)
    view, out = run_job(runtime, tmp_path, "pubrio", text)
    assert view.status == "FAILED"
    assert "out of credits" in view.item["error"]
    results = read_results(out)
    assert len(results) == 120
    expected = expected_pubrio(parse_csv(text), ["email-work", "email-personal"])
    for row, (status, _) in zip(results, expected, strict=True):
        if status in ("matched", "not_matched", "duplicate"):
            assert row["result_status"] in ("error", "duplicate")
            assert "credits" in row["result_reason"]
        else:
            assert row["result_status"] == "invalid_input"
    assert pubrio.served(SUBMIT) == before


def test_vendor_job_that_never_completes_ends_partial(runtime, pubrio, tmp_path):
    text = pubrio_csv(150, seed=404)  # two chunks; the first never completes
    pubrio.inject("never_complete", times=1, path=SUBMIT)
    view, out = run_job(runtime, tmp_path, "pubrio", text)
    assert view.status == "PARTIAL"
    results = read_results(out)
    errors = [r for r in results if r["result_status"] == "error"]
    assert errors and all("did not finish in time" in r["result_reason"] for r in errors)
    assert view.item["counts"]["error"] == len(errors)
    assert view.item["chunks_failed"] == 1
    assert any(r["result_status"] == "matched" for r in results)


def test_malformed_file_fails_with_a_reason(runtime, pubrio, tmp_path):
    path = tmp_path / unique_name("binary")
    path.write_bytes(b"People Search ID\n\xff\xfe\x00\x01garbage\n")
    job_id = runtime.drop(path, "pubrio")
    view = runtime.wait(job_id, timeout=60)
    assert view.status == "FAILED"
    assert "UTF-8" in view.item["error"] or "NUL" in view.item["error"]
    summary = json.loads((runtime.download(job_id, tmp_path / job_id) / "summary.json").read_text())
    assert summary["error"] == view.item["error"]


def test_missing_column_and_bad_options_fail_clearly(runtime, pubrio, tmp_path):
    view, _ = run_job(runtime, tmp_path, "pubrio", "Name,Company\nAda,Initech\n")
    assert view.status == "FAILED" and "people_search_id" in view.item["error"]
    # Options the vendor does not take: the drop becomes no job, and is moved to rejected/ saying why.
    path = tmp_path / unique_name("bad-options")
    path.write_text(pubrio_csv(5))
    job_id = runtime.drop(path, "pubrio", {"contact_types": ["fax"]})
    reason_key = f"rejected/inbox/pubrio/{path.name}.reason.json"
    s3 = runtime.client("s3")
    deadline = time.monotonic() + 60
    while "Contents" not in s3.list_objects_v2(Bucket=runtime.bucket, Prefix=reason_key):
        assert time.monotonic() < deadline, "the rejected drop's reason was not written"
        time.sleep(0.1)
    reason = json.loads(s3.get_object(Bucket=runtime.bucket, Key=reason_key)["Body"].read())["reason"]
    assert "contact_types" in reason and "fax" in reason
    assert runtime.job(job_id) is None


def test_the_same_object_dropped_twice_is_one_job(runtime, pubrio, tmp_path):
    path = tmp_path / unique_name("twice")
    path.write_text(pubrio_csv(20, seed=505))
    first = runtime.drop(path, "pubrio")
    second = runtime.drop(path, "pubrio")
    assert first == second
    runtime.wait(first, timeout=60)
    sfn = runtime.client("stepfunctions")
    names = [
        e["name"] for e in sfn.list_executions(stateMachineArn=runtime.outputs["JobStateMachineArn"])["executions"]
    ]
    assert names.count(first) == 1


def test_the_same_file_with_other_options_is_another_job_with_its_own_outputs(runtime, pubrio, tmp_path):
    path = tmp_path / unique_name("options")
    path.write_text(pubrio_csv(20, seed=506))
    work = runtime.drop(path, "pubrio", {"contact_types": ["email-work"]})
    phone = runtime.drop(path, "pubrio", {"contact_types": ["phone"]})
    assert work != phone
    for job_id, wanted in ((work, {"work"}), (phone, set())):
        assert runtime.wait(job_id, timeout=120).status == "SUCCEEDED"
        rows = read_results(runtime.download(job_id, tmp_path / job_id))
        matched = [r for r in rows if r["result_status"] == "matched"]
        assert matched and all(r["result_email_type"] in wanted | {""} for r in matched)
        assert all(bool(r["result_email"]) == bool(wanted) for r in matched)
        assert all(bool(r["result_phone"]) != bool(wanted) for r in matched)


def test_a_key_pubrio_rejects_with_a_400_stops_the_job(runtime, pubrio, tmp_path):
    # Pubrio answers a key it does not know with a 400 {code, message, details}: the job stops (FAILED), it does
    # not fail chunk by chunk and end PARTIAL.
    usual = pubrio.api_key
    pubrio.api_key = "a-rotated-key"
    try:
        view, out = run_job(runtime, tmp_path, "pubrio", pubrio_csv(250, seed=606))
    finally:
        pubrio.api_key = usual
    assert view.status == "FAILED"
    assert "credentials rejected" in view.item["error"] and "HTTP 400" in view.item["error"]
    results = read_results(out)
    assert len(results) == 250
    assert {r["result_status"] for r in results} <= {"error", "invalid_input", "duplicate"}
    assert all("credentials rejected" in r["result_reason"] for r in results if r["result_status"] == "error")
    assert pubrio.ledger()["paid_submissions"] == 0


def test_an_hourly_quota_is_waited_out_then_the_job_goes_on(runtime, pubrio, tmp_path):
    # A 429 whose message names the plan's hourly quota, with Retry-After 2 (inferred wording): waited for.
    text = pubrio_csv(150, seed=607)
    pubrio.inject("hourly_quota", times=1, path=SUBMIT, seconds=2)
    before = pubrio.served(SUBMIT)
    view, out = run_job(runtime, tmp_path, "pubrio", text, {"contact_types": TYPES})
    assert view.status == "SUCCEEDED", view.item.get("error")
    assert_rows_match(read_results(out), expected_pubrio(parse_csv(text), TYPES), "pubrio")
    assert pubrio.served(SUBMIT) - before == view.item["chunks_total"]
    assert not pubrio.faults, "the hourly quota was met"
