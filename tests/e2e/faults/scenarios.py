"""The faults every vendor must survive, run end to end through the state machine.

Each scenario drops a file of two chunks, injects a fault into the vendor's simulator, and checks
every row of results.csv against the oracle: rows the fault did not touch have their true outcome,
rows it did are `error` with the reason, and nothing is lost or paid for twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

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
    rows: int = 150


def run(runtime, tmp_path, case: VendorCase, seed: int):
    text = case.sample(case.rows, seed=seed)
    view, out = run_job(runtime, tmp_path, case.vendor, text)
    return view, read_results(out), case.oracle(parse_csv(text), {})


def assert_all_answered(runtime, tmp_path, case: VendorCase, sim: Simulator, seed: int) -> None:
    jobs_before, charged_before = sim.jobs_created(), sim.charged_total
    view, results, expected = run(runtime, tmp_path, case, seed)
    assert view.status == "SUCCEEDED", view.item.get("error")
    assert_rows_match(results, expected, case.vendor)
    # nothing paid twice: one vendor job a chunk, and every credit charged is on the job
    if jobs_before is not None:
        assert sim.jobs_created() - jobs_before == view.item["chunks_total"]
    assert sim.charged_total - charged_before == view.item["credits"]
    assert not sim.faults, "every injected fault was met"


def assert_one_chunk_lost(runtime, tmp_path, case: VendorCase, seed: int, reason: str) -> None:
    view, results, expected = run(runtime, tmp_path, case, seed)
    assert view.status == "PARTIAL", view.item.get("error")
    assert len(results) == case.rows
    errors = 0
    for number, (row, (status, _)) in enumerate(zip(results, expected, strict=True), 1):
        if row["result_status"] == "error":
            errors += 1
            assert status in ("matched", "not_matched"), f"row {number} should have been {status}"
            assert reason in row["result_reason"], row["result_reason"]
        elif row["result_status"] == "duplicate":
            assert status == "duplicate"
        else:
            assert row["result_status"] == status, f"row {number}"
    assert errors and view.item["counts"]["error"] == errors
    # the lost chunk (or chunks: concurrent calls to a synchronous vendor may all meet the fault) is settled
    assert view.item["chunks_failed"] >= 1 and view.item["chunks_done"] == view.item["chunks_total"]


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
            assert row["result_status"] in ("error", "duplicate") and says.lower() in row["result_reason"].lower()
    assert sim.served(case.submit_path) == before, "nothing was accepted once credits ran out"


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
        sim.inject("500", times=2, path=case.submit_path)
        sim.inject("500", times=1, path=case.check_path)
        assert_all_answered(runtime, tmp_path, case, sim, seed=2)

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

    return {name: fn for name, fn in locals().items() if name.startswith("test_")}
