"""Expected and worst-case credits (pipeline/cost.py): the observed match-rate item's arithmetic, added once per
job; the estimate with and without history; the worst case as a bound, capped by max_credits."""

from __future__ import annotations

import pytest

from enrichment.models import Vendor
from enrichment.pipeline.cost import DEFAULT_MATCH_RATE, Observed, estimate, read_observed, record_observed, scope_of
from enrichment.settings import Settings
from tests.unit.layer.conftest import new_job


def test_each_settled_job_adds_its_rows_once(emulated_aws: Settings):
    table, scope = emulated_aws.jobs_table, scope_of(Vendor.PROSPEO, {"enrich_mobile": True})
    assert read_observed(table, Vendor.PROSPEO, scope) is None
    new_job(emulated_aws, Vendor.PROSPEO, "email\n", job_id="job-1")
    new_job(emulated_aws, Vendor.PROSPEO, "email\n", job_id="job-2")

    assert record_observed(table, "job-1", Vendor.PROSPEO, scope, Observed(rows_sent=100, rows_matched=60, credits=600))
    assert not record_observed(
        table, "job-1", Vendor.PROSPEO, scope, Observed(rows_sent=100, rows_matched=60, credits=600)
    )
    assert record_observed(
        table, "job-2", Vendor.PROSPEO, scope, Observed(rows_sent=300, rows_matched=100, credits=999)
    )

    found = read_observed(table, Vendor.PROSPEO, scope)
    assert found == Observed(rows_sent=400, rows_matched=160, credits=1599)
    assert found.match_rate == pytest.approx(0.4) and found.credits_per_row == pytest.approx(1599 / 400)
    # Another answer scope (no mobile asked) is another item: its history is its own.
    assert read_observed(table, Vendor.PROSPEO, scope_of(Vendor.PROSPEO, {})) is None


def test_without_history_the_default_match_rate_and_the_price_model():
    cost = estimate(Vendor.PROSPEO, {"enrich_mobile": True}, to_send=1000, cached_rows=5, observed=None)
    assert cost.basis == "default" and cost.basis_rows == 0
    assert cost.match_rate == DEFAULT_MATCH_RATE[Vendor.PROSPEO]
    assert cost.expected_credits == pytest.approx(1000 * DEFAULT_MATCH_RATE[Vendor.PROSPEO] * 10)
    assert cost.worst_case_credits == 10_000 and (cost.to_send, cost.cached_rows) == (1000, 5)
    assert estimate(Vendor.CHECK365, {}, to_send=250, cached_rows=0, observed=None).expected_credits == 250


def test_with_history_the_observed_credits_per_sent_row():
    observed = Observed(rows_sent=2000, rows_matched=900, credits=9000)
    cost = estimate(Vendor.PROSPEO, {"enrich_mobile": True}, to_send=500, cached_rows=0, observed=observed)
    assert (cost.basis, cost.basis_rows) == ("observed", 2000)
    assert cost.expected_credits == pytest.approx(500 * 4.5) and cost.match_rate == pytest.approx(0.45)
    assert cost.worst_case_credits == 5000


@pytest.mark.parametrize(
    ("vendor", "options"),
    [
        (Vendor.PUBRIO, {"contact_types": ["email-work", "phone"]}),
        (Vendor.PROSPEO, {}),
        (Vendor.PROSPEO, {"enrich_mobile": True}),
        (Vendor.CHECK365, {}),
        (Vendor.INSIDEVIEW, {}),
    ],
)
def test_the_worst_case_bounds_the_expected_and_max_credits_caps_both(vendor, options):
    for observed in (None, Observed(rows_sent=10, rows_matched=10, credits=10_000)):  # history above the worst
        cost = estimate(vendor, options, to_send=1000, cached_rows=0, observed=observed)
        assert 0 <= cost.expected_credits <= cost.worst_case_credits
        capped = estimate(vendor, options | {"max_credits": 7}, to_send=1000, cached_rows=0, observed=observed)
        assert capped.worst_case_credits == 7 and capped.expected_credits <= 7
    assert estimate(vendor, options, to_send=0, cached_rows=3, observed=None).worst_case_credits == 0
