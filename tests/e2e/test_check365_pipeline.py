"""Check365 end to end: each verdict in the common vocabulary (result_email_status), Check365's own word and
details beside it."""

from __future__ import annotations

from collections import Counter

from localrt.samples import check365_csv
from localrt.simulators.check365 import Check365Simulator
from tests.conftest import parse_csv, read_results, run_job
from tests.e2e.oracle import EMAIL_STATUS, assert_output_columns, assert_rows_match, expected_check365


def test_thousand_rows_every_outcome(runtime, check365, tmp_path):
    text = check365_csv(1000, seed=121)
    jobs_before, charged_before = check365.jobs_created(), check365.charged_total
    view, out = run_job(runtime, tmp_path, "check365", text)
    results = read_results(out)
    rows = parse_csv(text)
    expected = expected_check365(rows)
    assert_rows_match(results, expected, "check365")
    assert_output_columns(out, "check365")
    item = view.item
    assert item["status"] == "SUCCEEDED"
    counts = Counter(status for status, _ in expected)
    assert item["counts"] == {
        s: counts.get(s, 0) for s in ("matched", "not_matched", "invalid_input", "duplicate", "error", "skipped")
    }
    assert check365.jobs_created() - jobs_before == item["chunks_total"]
    assert item["credits"] == check365.charged_total - charged_before == counts["matched"]
    for row, source in zip(results, rows, strict=True):
        if row["result_status"] != "matched":
            continue
        verdict = Check365Simulator.verdict(source["Email"].strip().lower())
        assert row["result_email_vendor_status"] == verdict["status"]
        assert row["result_email_status"] == EMAIL_STATUS["check365"][verdict["status"]]
        assert row["result_email_safe_to_send"] == str(verdict["safeToSend"]).lower()
        assert row["result_email_risk"] == verdict["risk"]
        assert row["result_email_is_role"] == str(verdict["isRole"]).lower()
        assert row["result_email_verification_reason"] == verdict["statusReason"]
        assert row["result_email_provider"] == verdict["emailProvider"]
    # addresses are trimmed and compared case-insensitively: "  ADA@X.COM " is a duplicate of "ada@x.com"
    duplicates = [r for r in results if r["result_status"] == "duplicate"]
    assert duplicates and all(r["Email"] != r["Email"].strip().lower() for r in duplicates)
