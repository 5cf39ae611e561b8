"""Credit reservations in the jobs table (moto): the job's budget and the vendor's month, held by conditional
writes in one transaction, settled once with the chunk."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from enrichment.jobs.store import JobStore
from enrichment.models import Vendor
from enrichment.pipeline import budget
from enrichment.pipeline.budget import BudgetReached
from enrichment.settings import Settings
from localrt.dynamodb import whole_operations
from tests.unit.layer.conftest import new_job


def reserve(settings: Settings, chunk: int, cost: float, *, max_credits=None, monthly=None, job_id="job-1"):
    return budget.reserve(
        settings.jobs_table, job_id, chunk, Vendor.CHECK365, cost, max_credits=max_credits, monthly_budget=monthly
    )


def settle(settings: Settings, chunk: int, credits: float, *, held: bool = False, job_id: str = "job-1") -> bool:
    found = budget.reservation(settings.jobs_table, job_id, chunk)
    also = budget.settle_items(settings.jobs_table, job_id, found, credits, held=held) if found else None
    return JobStore(settings.jobs_table).settle_chunk(job_id, chunk, credits=credits, failed=False, also=also)


def month(settings: Settings) -> budget.MonthCredits:
    (found,) = [m for m in budget.month_totals(settings.jobs_table, "0000-00", {}) if m.vendor == "check365"]
    return found


def test_a_reservation_is_replaced_by_the_actual_charge(emulated_aws: Settings):
    new_job(emulated_aws, Vendor.CHECK365, "email\n")
    reserve(emulated_aws, 0, 100, max_credits=250)
    reserve(emulated_aws, 1, 100, max_credits=250)
    job = JobStore(emulated_aws.jobs_table).require("job-1")
    assert (job.credits_committed, job.credits_reserved) == (200, 200)
    assert settle(emulated_aws, 0, 60)
    job = JobStore(emulated_aws.jobs_table).require("job-1")
    assert (job.credits, job.credits_committed, job.credits_reserved) == (60, 160, 100)
    reserve(emulated_aws, 2, 90, max_credits=250)  # 160 + 90 fits now that chunk 0 cost less than its worst case
    assert month(emulated_aws).spent == 60 and month(emulated_aws).reserved == 190


def test_a_chunk_that_does_not_fit_is_refused_and_reserves_nothing(emulated_aws: Settings):
    new_job(emulated_aws, Vendor.CHECK365, "email\n")
    reserve(emulated_aws, 0, 100, max_credits=150)
    with pytest.raises(BudgetReached, match="^credit budget of 150 reached$"):
        reserve(emulated_aws, 1, 100, max_credits=150)
    with pytest.raises(BudgetReached, match="credit budget of 50 reached"):
        reserve(emulated_aws, 2, 100, max_credits=50)  # more than the whole budget
    assert JobStore(emulated_aws.jobs_table).require("job-1").credits_committed == 100
    assert budget.reservation(emulated_aws.jobs_table, "job-1", 1) is None
    assert month(emulated_aws).reserved == 100  # the refused transaction wrote nothing


def test_a_retried_round_does_not_reserve_twice(emulated_aws: Settings):
    new_job(emulated_aws, Vendor.CHECK365, "email\n")
    first = reserve(emulated_aws, 0, 100, max_credits=100)
    again = reserve(emulated_aws, 0, 100, max_credits=100)  # the budget is full, but this chunk holds its part
    assert again == first
    assert JobStore(emulated_aws.jobs_table).require("job-1").credits_committed == 100
    assert settle(emulated_aws, 0, 80)
    assert not settle(emulated_aws, 0, 80)  # settled once
    job = JobStore(emulated_aws.jobs_table).require("job-1")
    assert (job.credits, job.credits_committed, job.credits_reserved) == (80, 80, 0)


def test_a_lost_answer_keeps_its_reservation_as_spent(emulated_aws: Settings):
    new_job(emulated_aws, Vendor.CHECK365, "email\n")
    reserve(emulated_aws, 0, 100, max_credits=150)
    assert settle(emulated_aws, 0, 0, held=True)
    job = JobStore(emulated_aws.jobs_table).require("job-1")
    assert (job.credits, job.credits_committed, job.credits_reserved) == (0, 100, 0)
    assert month(emulated_aws).held == 100
    with pytest.raises(BudgetReached):
        reserve(emulated_aws, 1, 100, max_credits=150)


def test_the_monthly_budget_holds_across_jobs_in_the_same_transaction(emulated_aws: Settings):
    new_job(emulated_aws, Vendor.CHECK365, "email\n", job_id="job-a")
    new_job(emulated_aws, Vendor.CHECK365, "email\n", job_id="job-b")
    reserve(emulated_aws, 0, 300, monthly=500, job_id="job-a")
    with pytest.raises(BudgetReached, match=r"monthly credit budget of 500 for check365 in \d{4}-\d\d reached"):
        reserve(emulated_aws, 0, 300, monthly=500, job_id="job-b")
    # Refused by the month: the other job's item and reservation were not written either.
    assert JobStore(emulated_aws.jobs_table).require("job-b").credits_committed == 0
    assert budget.reservation(emulated_aws.jobs_table, "job-b", 0) is None
    reserve(emulated_aws, 0, 200, monthly=500, job_id="job-b")
    totals = budget.month_totals(emulated_aws.jobs_table, budget.current_month(), {"check365": 500})
    assert [(t.vendor, t.reserved, t.budget) for t in totals] == [("check365", 500, 500)]


def test_concurrent_reservations_never_exceed_the_budget(emulated_aws: Settings):
    new_job(emulated_aws, Vendor.CHECK365, "email\n")

    def attempt(chunk: int) -> bool:
        try:
            reserve(emulated_aws, chunk, 30, max_credits=100)
        except BudgetReached:
            return False
        return True

    # moto changes items attribute by attribute, unlocked: its operations made whole, as DynamoDB's are.
    with whole_operations(), ThreadPoolExecutor(8) as pool:
        taken = sum(pool.map(attempt, range(16)))
    assert taken == 3
    assert JobStore(emulated_aws.jobs_table).require("job-1").credits_committed == 90


def leading(settings: Settings, chunk: int, rows: int, *, max_credits=None, monthly=None) -> budget.Reservation:
    return budget.reserve_leading(
        settings.jobs_table, "job-1", chunk, Vendor.CHECK365, 10, rows, max_credits=max_credits, monthly_budget=monthly
    )


def test_a_chunk_that_does_not_fit_whole_reserves_the_leading_rows_that_do(emulated_aws: Settings):
    new_job(emulated_aws, Vendor.CHECK365, "email\n")
    assert leading(emulated_aws, 0, 10, max_credits=150).rows is None  # 100: the whole chunk

    partial = leading(emulated_aws, 1, 10, max_credits=150)

    assert (partial.rows, partial.credits, partial.held_back) == (5, 50, "credit budget of 150 reached")
    assert budget.reservation(emulated_aws.jobs_table, "job-1", 1) == partial  # a retried round finds it
    assert leading(emulated_aws, 1, 10, max_credits=150) == partial
    with pytest.raises(BudgetReached, match="credit budget of 150 reached"):
        leading(emulated_aws, 2, 10, max_credits=150)  # nothing left
    assert JobStore(emulated_aws.jobs_table).require("job-1").credits_committed == 150
    # The vendor's month holds it too, whichever is less.
    with pytest.raises(BudgetReached, match="monthly credit budget of 150"):
        leading(emulated_aws, 3, 10, monthly=150)


def test_concurrent_leading_reservations_spend_the_budget_to_its_last_row_and_no_further(emulated_aws: Settings):
    new_job(emulated_aws, Vendor.CHECK365, "email\n")

    def attempt(chunk: int) -> int:
        try:
            return leading(emulated_aws, chunk, 7, max_credits=500).rows or 7
        except BudgetReached:
            return 0

    with whole_operations(), ThreadPoolExecutor(8) as pool:
        rows = sum(pool.map(attempt, range(16)))
    assert rows == 50
    assert JobStore(emulated_aws.jobs_table).require("job-1").credits_committed == 500
