"""Credit budgets end to end: the real state machine, the vendor simulators' own ledgers of what they charged.

With `max_credits` at half of what a file would cost, the vendor never charges more than the budget, whatever
the concurrency, chunking and faults, the budget is spent to its last row (a chunk that does not fit whole sends
its leading rows that do), and the rows not sent end `skipped` with the budget's reason. A monthly
budget (MonthlyCreditBudgets) holds across jobs the same way, and GET /credits shows the month's totals."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import random
from collections.abc import Iterator

import httpx
import pytest

from localrt import faults
from localrt.runtime import LocalRuntime
from localrt.samples import check365_csv, prospeo_csv
from tests.conftest import TEST_VENDOR_SETTINGS, api_auth, read_results, run_job

SAMPLES = {"check365": check365_csv, "prospeo": prospeo_csv}
FAULTS = [None, "429", "500", "accept_then_drop", "timeout", "crash_after_accept", "malformed", "check_timeout"]
SENT = ("matched", "not_matched", "error")  # rows the job meant to send (not invalid, not duplicates)


@contextlib.contextmanager
def deployed_with(runtime: LocalRuntime, **variables: str) -> Iterator[None]:
    """Every function's environment as if the stack were deployed with these settings (template parameters that
    become environment variables: VENDOR_SETTINGS, MONTHLY_CREDIT_BUDGETS); restored after."""
    assert runtime.deployment is not None
    saved = [(spec, dict(spec.environment)) for spec in runtime.deployment.functions]
    for spec, _ in saved:
        spec.environment.update(variables)
    try:
        yield
    finally:
        for spec, environment in saved:
            spec.environment.clear()
            spec.environment.update(environment)


def test_a_job_never_spends_more_than_max_credits(runtime, check365, prospeo, tmp_path):
    rng = random.Random(1313)
    simulators = {"check365": check365, "prospeo": prospeo}
    skipped_jobs = 0
    for run in range(20):
        vendor = rng.choice(sorted(SAMPLES))
        rows = rng.randint(40, 120)
        text = SAMPLES[vendor](rows, seed=rng.randint(0, 10**6))
        max_credits = rows // 2  # half of what the file would cost at most (one credit a row sent, for both)
        settings = TEST_VENDOR_SETTINGS | {
            vendor: TEST_VENDOR_SETTINGS[vendor]
            | {
                "chunk_size": rng.randint(4, 15),
                "chunks_per_batch": rng.randint(1, 3),
                "max_concurrency": rng.randint(1, 4),
            }
        }
        simulator = simulators[vendor]
        simulator.reset()
        runtime.reset_faults()
        fault = rng.choice(FAULTS)
        with deployed_with(runtime, VENDOR_SETTINGS=json.dumps(settings)):
            if fault:
                faults.inject(runtime, vendor, faults.parse_all([f"{fault}*{rng.randint(1, 2)}"]))
            view, out = run_job(runtime, tmp_path, vendor, text, options={"max_credits": max_credits})
        charged = simulator.ledger()["credits_charged"]
        case = f"run {run}: {vendor}, {rows} rows, {settings[vendor]}, fault {fault}: charged {charged}"
        assert charged <= max_credits, case
        assert view.item["credits"] <= max_credits, case
        results = read_results(out)
        assert len(results) == rows, case
        skipped = [r for r in results if r["result_status"] == "skipped"]
        assert {r["result_reason"] for r in skipped} <= {f"credit budget of {max_credits} reached"}, case
        sent = sum(1 for r in results if r["result_status"] in SENT)
        if vendor == "check365" and sent + len(skipped) > max_credits:  # one credit an address: it cannot all fit
            assert skipped, case
            if fault is None:  # spent to its last address: a chunk that did not fit whole sent what did
                assert charged == max_credits, case
        if skipped:
            skipped_jobs += 1
            assert view.status == "PARTIAL", case
            assert view.item["error"].startswith(f"{len(skipped)} rows not sent: credit budget of"), case
            assert view.item["counts"]["skipped"] == len(skipped), case
        summary = json.loads((out / "summary.json").read_text())
        assert summary["max_credits"] == max_credits and summary["skipped_rows"] == len(skipped), case
        assert summary["credits_by_vendor"] == {vendor: view.item["credits"]}, case
    assert skipped_jobs >= 5  # the budget did bind, in many of the runs


def test_a_monthly_budget_holds_across_jobs_and_the_credits_route_totals_it(runtime, api, check365, tmp_path):
    def month_of_check365() -> dict:
        answer = httpx.get(f"{api.url}/credits", auth=api_auth())
        assert answer.status_code == 200, answer.text
        (found,) = [m for m in answer.json()["months"] if m["vendor"] == "check365"] or [
            {"spent": 0, "held": 0, "reserved": 0, "budget": None}
        ]
        return found

    before = month_of_check365()
    used = before["spent"] + before["held"] + before["reserved"]
    budget = used + 30
    first = check365_csv(40, seed=5)
    month = dt.datetime.now(dt.UTC).strftime("%Y-%m")
    settings = TEST_VENDOR_SETTINGS | {"check365": TEST_VENDOR_SETTINGS["check365"] | {"chunk_size": 8}}
    with deployed_with(
        runtime, MONTHLY_CREDIT_BUDGETS=json.dumps({"check365": budget}), VENDOR_SETTINGS=json.dumps(settings)
    ):
        view, out = run_job(runtime, tmp_path, "check365", first)
        charged = check365.ledger()["credits_charged"]
        assert charged <= 30
        results = read_results(out)
        skipped = [r for r in results if r["result_status"] == "skipped"]
        assert skipped and view.status == "PARTIAL"
        assert {r["result_reason"] for r in skipped} == {
            f"monthly credit budget of {budget:g} for check365 in {month} reached"
        }
        # a second job finds the month's budget as the first left it: only what is left fits
        check365.reset()
        second, out2 = run_job(runtime, tmp_path, "check365", check365_csv(40, seed=6))
        assert charged + check365.ledger()["credits_charged"] <= 30
        assert all(r["result_status"] in ("skipped", "invalid_input", "duplicate") for r in read_results(out2)) or (
            second.item["credits"] <= 30 - charged
        )
    after = month_of_check365()
    assert after["spent"] == before["spent"] + view.item["credits"] + second.item["credits"]
    assert after["budget"] is None  # the stack is back to no monthly budget


@pytest.mark.parametrize("since", ["2024-13", "24-01", "next"])
def test_the_credits_route_refuses_a_month_that_is_not_one(api, since):
    answer = httpx.get(f"{api.url}/credits", params={"since": since}, auth=api_auth())
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "since"
