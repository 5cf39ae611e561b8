"""InsideView end to end: token, text/plain submit, status polling, results file download."""

from __future__ import annotations

from collections import Counter

from enrichment.files.csvio import safe_cell
from localrt.samples import insideview_csv
from localrt.simulators.insideview import InsideViewSimulator
from tests.conftest import parse_csv, read_results, run_job
from tests.e2e.oracle import assert_output_columns, assert_rows_match, expected_insideview


def test_thousand_rows_every_outcome(runtime, insideview, tmp_path):
    text = insideview_csv(1000, seed=131)
    jobs_before, charged_before = insideview.jobs_created(), insideview.charged_total
    view, out = run_job(runtime, tmp_path, "insideview", text)
    results = read_results(out)
    rows = parse_csv(text)
    expected = expected_insideview(rows)
    assert_rows_match(results, expected, "insideview")
    assert_output_columns(out, "insideview")
    item = view.item
    assert item["status"] == "SUCCEEDED"
    counts = Counter(status for status, _ in expected)
    assert item["counts"] == {
        s: counts.get(s, 0) for s in ("matched", "not_matched", "invalid_input", "duplicate", "error", "skipped")
    }
    assert insideview.jobs_created() - jobs_before == item["chunks_total"]
    assert item["credits"] == insideview.charged_total - charged_before > 0
    for row, source in zip(results, rows, strict=True):
        if row["result_status"] == "matched":
            contact = InsideViewSimulator.contact(source["InsideView Contact ID"].strip())
            assert row["result_full_name"] == contact["fullName"]
            assert row["result_company_name"] == contact["companyName"]
            assert row["result_email"] == contact["email"] and row["result_phone"] == safe_cell(contact["phone"])


def test_too_many_jobs_waits_and_an_expired_token_is_renewed(runtime, insideview, tmp_path):
    """InsideView runs few jobs at once: its documented answer to one job too many, 400 "1 jobs are already
    running. Please try again once the previous jobs are finished.", waits and retries, never failing a chunk.
    Tokens that stop working mid-job are renewed."""
    insideview.max_running_jobs = 1
    insideview.expire_tokens()  # the token the functions cached is no longer valid
    logins = insideview.logins
    try:
        text = insideview_csv(300, seed=141)
        view, out = run_job(runtime, tmp_path, "insideview", text)
    finally:
        insideview.max_running_jobs = 2
    results = read_results(out)
    assert view.status == "SUCCEEDED", view.item.get("error")
    assert_rows_match(results, expected_insideview(parse_csv(text)), "insideview")
    refused = [e for e in insideview.log if e[2] == "/api/v1/contact/job" and e[3] == 400]
    assert refused, "the simulator refused a job while another ran"
    assert insideview.logins > logins
