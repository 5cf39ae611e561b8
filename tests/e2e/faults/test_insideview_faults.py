from localrt.samples import insideview_csv
from tests.e2e.faults.scenarios import VendorCase, assert_all_answered, assert_one_chunk_lost, fault_tests, run
from tests.e2e.oracle import expected_insideview

CASE = VendorCase(
    vendor="insideview",
    answer_lost="reported",
    sample=insideview_csv,
    oracle=expected_insideview,
    submit_path="/api/v1/contact/job",
    check_path="/api/v1/contact/job/*",  # every job's status path
    timeout_path="/api/v1/contact/job/*",
)
globals().update(
    fault_tests(
        CASE,
        "insideview",
        fail_reason="InsideView job was failed",
        deadline_reason="did not finish in time",
        credits_say="quota",
    )
)


# ---- InsideView's own answers ----


def test_an_undocumented_status_is_read_as_still_running(runtime, tmp_path, insideview):
    insideview.inject("unknown_status", times=3)
    assert_all_answered(runtime, tmp_path, CASE, insideview, seed=21)


def test_an_expired_results_link_is_asked_for_again(runtime, tmp_path, insideview):
    """A 403 on the signed link is a stale link, not rejected credentials: a fresh link is fetched."""
    insideview.inject("expired_link", times=2)
    assert_all_answered(runtime, tmp_path, CASE, insideview, seed=22)


def test_a_results_file_without_contact_id_fails_its_chunk_loudly(runtime, tmp_path, insideview):
    """Never every row not_matched: the chunk's rows are errors naming the missing column and those found."""
    insideview.inject("missing_column")
    view = assert_one_chunk_lost(
        runtime, tmp_path, CASE, seed=23, reason="lacks the column(s) contactId (columns found: id,"
    )
    # The lost chunk's job was charged all the same: the job's credits say what InsideView debited.
    assert view.item["credits"] == insideview.ledger()["credits_charged"] > 0


def test_an_account_not_allowed_to_use_the_api_stops_the_job(runtime, tmp_path, insideview):
    """The documented 405 "not allowed to access this API" is the account, not a chunk: the job stops, FAILED."""
    insideview.inject("account_blocked")
    view, results, expected = run(runtime, tmp_path, CASE, seed=24)
    assert view.status == "FAILED" and "not allowed to access this API" in view.item["error"]
    stopped = 0
    for number, (row, (status, _)) in enumerate(zip(results, expected, strict=True), 1):
        if row["result_status"] == "error":
            stopped += 1
            assert status != "invalid_input" and "not allowed to access this API" in row["result_reason"], number
        else:  # a chunk the vendor accepted before the stop is still collected
            assert row["result_status"] == status, f"row {number}"
    assert stopped
