"""The faults every vendor must survive, run end to end through the state machine.

Each scenario drops a file of two chunks, injects a fault into the vendor's simulator (or the local
Lambda runtime), and checks every row of results.csv against the oracle: rows the fault did not touch have
their true outcome, rows it did are `error` with the reason, and, from the simulator's ledger, nothing is
paid for twice and every answer the vendor was paid for is collected.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from localrt.runtime import JobView
from localrt.simulators.base import Simulator
from tests.conftest import parse_csv, read_results, run_job
from tests.e2e.oracle import assert_rows_match

Oracle = Callable[[list[dict[str, Any]], dict[str, Any]], list[tuple[str, int | None]]]


@dataclass
class VendorCase:
    vendor: str
    sample: Callable[..., str]
    oracle: Oracle
    submit_path: str
    check_path: str  # where a timeout is safe to retry (a check, or a submit the vendor dedupes)
    timeout_path: str
    # What a submission whose answer was lost becomes: looked up with the vendor, sent again because a
    # repeat is free, or reported on its rows (a repeat would be paid twice).
    answer_lost: Literal["looked_up", "resent", "reported"]
    rows: int = 150


def run(runtime, tmp_path, case: VendorCase, seed: int, options: dict | None = None):
    text = case.sample(case.rows, seed=seed)
    view, out = run_job(runtime, tmp_path, case.vendor, text, options)
    return view, read_results(out), case.oracle(parse_csv(text), {})


def assert_all_answered(
    runtime, tmp_path, case: VendorCase, sim: Simulator, seed: int, options: dict | None = None, repeats: int = 0
) -> None:
    jobs_before = sim.jobs_created()
    view, results, expected = run(runtime, tmp_path, case, seed, options)
    reasons = {r["result_reason"] for r in results if r["result_status"] == "error"}
    assert view.status == "SUCCEEDED", (view.item.get("error"), reasons)
    assert_rows_match(results, expected, case.vendor)
    # nothing paid twice (unless a repeat was allowed), every credit charged is on the job
    ledger = sim.ledger()
    assert ledger["duplicate_paid_submissions"] == repeats, ledger
    if jobs_before is not None:
        assert sim.jobs_created() - jobs_before == view.item["chunks_total"] + repeats
    if case.answer_lost == "resent" and ledger["submissions"] > view.item["chunks_total"]:
        # A free repeat answers with no cost: what the lost answer charged is known to the vendor only.
        assert ledger["credits_charged"] >= view.item["credits"], ledger
    else:
        assert ledger["credits_charged"] == view.item["credits"], ledger
    assert not sim.faults, "every injected fault was met"
    assert not runtime.runtime_faults(), "every runtime fault was met"


def assert_answer_lost(runtime, tmp_path, case: VendorCase, sim: Simulator, seed: int) -> None:
    """A submission the vendor accepted, whose answer never reached us: reconciled, never paid twice."""
    if case.answer_lost == "reported":
        assert_one_chunk_lost(runtime, tmp_path, case, seed, reason="its answer was lost; not resent")
        ledger = sim.ledger()
        assert ledger["duplicate_paid_submissions"] == 0, ledger
        # the lost one was accepted (and is paid for), but nobody can collect an answer no one knows of
        assert ledger["paid_submissions"] == ledger["answers_served"] + 1, ledger
    else:
        assert_all_answered(runtime, tmp_path, case, sim, seed)


def assert_one_chunk_lost(
    runtime, tmp_path, case: VendorCase, seed: int, reason: str, options: dict | None = None
) -> JobView:
    view, results, expected = run(runtime, tmp_path, case, seed, options)
    assert view.status == "PARTIAL", view.item.get("error")
    assert len(results) == case.rows
    errors = 0
    for number, (row, (status, _)) in enumerate(zip(results, expected, strict=True), 1):
        if row["result_status"] == "error":
            errors += 1
            # a duplicate of a row without an answer has none either
            assert status in ("matched", "not_matched", "duplicate"), f"row {number} should have been {status}"
            assert reason in row["result_reason"], row["result_reason"]
        elif row["result_status"] == "duplicate":
            assert status == "duplicate"
        else:
            assert row["result_status"] == status, f"row {number}"
    assert errors and view.item["counts"]["error"] == errors
    # the lost chunk (or chunks: concurrent calls to a synchronous vendor may all meet the fault) is settled
    assert view.item["chunks_failed"] >= 1 and view.item["chunks_done"] == view.item["chunks_total"], view.item
    return view


def assert_out_of_credits_fails(runtime, tmp_path, case: VendorCase, sim: Simulator, seed: int, says: str) -> None:
    sim.inject("out_of_credits")
    before = sim.served(case.submit_path)
    view, results, expected = run(runtime, tmp_path, case, seed)
    assert view.status == "FAILED"
    assert says.lower() in view.item["error"].lower()
    assert len(results) == case.rows
    for row, (status, _) in zip(results, expected, strict=True):
        if status == "invalid_input":
            assert row["result_status"] == "invalid_input"
        else:
            assert row["result_status"] == "error" and says.lower() in row["result_reason"].lower()
    assert sim.served(case.submit_path) == before, "nothing was accepted once credits ran out"


def assert_out_of_credits_midway(runtime, tmp_path, case: VendorCase, sim: Simulator, seed: int, says: str) -> None:
    """Credits run out after the first chunk was accepted: that chunk is still collected, the rest stop."""
    sim.inject("out_of_credits", after=1)
    view, results, expected = run(runtime, tmp_path, case, seed)
    assert view.status == "FAILED" and says.lower() in view.item["error"].lower()
    assert len(results) == case.rows
    answered = 0
    for number, (row, (status, _)) in enumerate(zip(results, expected, strict=True), 1):
        if row["result_status"] == "error":
            assert status != "invalid_input" and says.lower() in row["result_reason"].lower(), number
        else:
            assert row["result_status"] == status, f"row {number}"
            answered += status in ("matched", "not_matched")
    assert answered, "the chunk accepted before the credits ran out was collected"
    ledger = sim.ledger()
    assert ledger["paid_submissions"] == 1 and ledger["duplicate_paid_submissions"] == 0, ledger
    assert ledger["answers_served"] == 1 and ledger["credits_charged"] == view.item["credits"], ledger


def fault_tests(
    case: VendorCase,
    fixture: str,
    *,
    fail_reason: str,
    deadline_reason: str,
    credits_say: str,
    never_complete: Callable[[Simulator], None] | None = None,
):
    """The seven fault tests for one vendor, as module-level test functions."""

    def sim_of(request):
        return request.getfixturevalue(fixture)

    def test_429_burst(runtime, tmp_path, request):
        sim = sim_of(request)
        sim.inject("429", times=3, path=case.submit_path)
        sim.inject("429", times=1, path=case.check_path)
        assert_all_answered(runtime, tmp_path, case, sim, seed=1)

    def test_5xx(runtime, tmp_path, request):
        sim = sim_of(request)
        sim.inject("500", times=2, path=case.check_path)
        assert_all_answered(runtime, tmp_path, case, sim, seed=2)

    def test_5xx_at_submit_is_an_answer_lost(runtime, tmp_path, request):
        sim = sim_of(request)
        sim.inject("500", times=1, path=case.submit_path)
        if case.answer_lost == "reported":
            assert_one_chunk_lost(runtime, tmp_path, case, seed=8, reason="its answer was lost; not resent")
            assert sim.ledger()["duplicate_paid_submissions"] == 0
        else:
            assert_all_answered(runtime, tmp_path, case, sim, seed=8)

    def test_accept_then_drop(runtime, tmp_path, request):
        sim = sim_of(request)
        sim.inject("accept_then_drop", times=1, path=case.submit_path)
        assert_answer_lost(runtime, tmp_path, case, sim, seed=9)

    def test_crash_after_accept(runtime, tmp_path, request):
        sim = sim_of(request)
        sim.inject("crash_after_accept", times=1, path=case.submit_path)
        assert_answer_lost(runtime, tmp_path, case, sim, seed=10)

    def test_out_of_credits_after_the_first_chunk(runtime, tmp_path, request):
        assert_out_of_credits_midway(runtime, tmp_path, case, sim_of(request), seed=11, says=credits_say)

    def test_timeout(runtime, tmp_path, request):
        sim = sim_of(request)
        sim.inject("timeout", times=1, path=case.timeout_path, seconds=3)
        assert_all_answered(runtime, tmp_path, case, sim, seed=3)

    def test_malformed_answer(runtime, tmp_path, request):
        sim = sim_of(request)
        sim.inject("malformed", times=1, path=case.check_path)
        assert_all_answered(runtime, tmp_path, case, sim, seed=4)

    def test_vendor_job_fails(runtime, tmp_path, request):
        sim_of(request).inject("fail_job", times=1, path=case.submit_path)
        assert_one_chunk_lost(runtime, tmp_path, case, seed=5, reason=fail_reason)

    def test_vendor_job_never_completes(runtime, tmp_path, request):
        sim = sim_of(request)
        if never_complete:
            never_complete(sim)
        else:
            sim.inject("never_complete", times=1, path=case.submit_path)
        assert_one_chunk_lost(runtime, tmp_path, case, seed=6, reason=deadline_reason)

    def test_out_of_credits(runtime, tmp_path, request):
        assert_out_of_credits_fails(runtime, tmp_path, case, sim_of(request), seed=7, says=credits_say)

    if case.answer_lost == "reported":

        def test_accept_then_drop_resent_when_the_job_allows_it(runtime, tmp_path, request):
            sim = sim_of(request)
            sim.inject("accept_then_drop", times=1, path=case.submit_path)
            assert_all_answered(runtime, tmp_path, case, sim, seed=12, options={"allow_resend": True}, repeats=1)

        def test_accept_then_drop_not_resent_under_a_credit_budget(runtime, tmp_path, request):
            """The lost send's charge is unknown and the chunk's one reservation covers one send: a paid repeat
            could pass the budget, so allow_resend does not resend under one."""
            sim = sim_of(request)
            sim.inject("accept_then_drop", times=1, path=case.submit_path)
            options = {"allow_resend": True, "max_credits": 1_000_000}
            assert_one_chunk_lost(
                runtime, tmp_path, case, seed=16, reason="its answer was lost; not resent", options=options
            )
            assert sim.ledger()["duplicate_paid_submissions"] == 0

    if case.check_path != case.submit_path:  # a vendor with jobs to check

        def test_check_times_out(runtime, tmp_path, request):
            sim = sim_of(request)
            runtime.inject_fault("check_timeout", vendor=case.vendor, times=2)
            assert_all_answered(runtime, tmp_path, case, sim, seed=13)

        def test_check_5xx_outlasting_the_retries(runtime, tmp_path, request):
            sim = sim_of(request)
            sim.inject("500", times=8, path=case.check_path)  # more than one Check state's retries, twice
            assert_all_answered(runtime, tmp_path, case, sim, seed=14)

    return {name: fn for name, fn in locals().items() if name.startswith("test_")}
