from localrt.samples import check365_csv
from tests.e2e.faults.scenarios import VendorCase, assert_all_answered, fault_tests, run
from tests.e2e.oracle import expected_check365

CASE = VendorCase(
    vendor="check365",
    answer_lost="looked_up",
    sample=check365_csv,
    oracle=expected_check365,
    submit_path="/api/validation/bulk-upload",
    check_path="/api/validation/bulk-status",
    timeout_path="/api/validation/bulk-upload",  # a retried upload reuses our job_id: one vendor job
)
globals().update(
    fault_tests(
        CASE,
        "check365",
        fail_reason="ended 'failed'",
        deadline_reason="did not finish in time",
        credits_say="out of credits",
    )
)


# ---- Check365's own answers ----


def test_an_upload_answered_success_false_as_a_string_is_tried_again(runtime, tmp_path, check365):
    """`success: "false"` on HTTP 200 is a refusal (never taken as an accepted upload): tried again, then taken."""
    check365.inject("success_false", times=2)
    assert_all_answered(runtime, tmp_path, CASE, check365, seed=21)


def test_a_completed_job_without_results_is_checked_again(runtime, tmp_path, check365):
    check365.inject("no_results", times=2)
    assert_all_answered(runtime, tmp_path, CASE, check365, seed=22)


def test_an_address_missing_from_the_results_is_an_error_not_a_non_match(runtime, tmp_path, check365):
    check365.inject("drop_result")
    view, results, expected = run(runtime, tmp_path, CASE, seed=23)
    assert view.status == "PARTIAL", view.item.get("error")
    missing = []
    for number, (row, (status, _)) in enumerate(zip(results, expected, strict=True), 1):
        if row["result_status"] == "error":
            assert status in ("matched", "duplicate") and "without a verdict" in row["result_reason"], number
            missing.append(status)
        else:
            assert row["result_status"] == status, f"row {number}"
    assert missing.count("matched") == 1, missing  # one address (and any duplicate of it)
    assert view.item["chunks_failed"] == 0


def test_a_suspended_account_stops_the_job(runtime, tmp_path, check365):
    """Check365 documents no errors: a message saying the account is suspended, whatever its code, stops the job."""
    check365.inject("account_blocked", path=CASE.submit_path)
    view, results, expected = run(runtime, tmp_path, CASE, seed=24)
    assert view.status == "FAILED" and "suspended" in view.item["error"]
    stopped = 0
    for number, (row, (status, _)) in enumerate(zip(results, expected, strict=True), 1):
        if row["result_status"] == "error":
            stopped += 1
            assert status != "invalid_input" and "suspended" in row["result_reason"], number
        else:  # a chunk the vendor accepted before the stop is still collected
            assert row["result_status"] == status, f"row {number}"
    assert stopped
