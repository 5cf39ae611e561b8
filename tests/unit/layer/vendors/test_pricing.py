"""The price model against the vendors' documented prices and examples (vendors.md, the seeds)."""

from __future__ import annotations

import pytest

from enrichment.models import Email, Phone, RecordResult, RowStatus, Vendor
from enrichment.vendors.check365 import Check365Options
from enrichment.vendors.insideview import InsideViewOptions
from enrichment.vendors.pricing import FACTS, PRICE_MODELS, price_model
from enrichment.vendors.prospeo import ProspeoOptions
from enrichment.vendors.pubrio import PubrioOptions


def matched(*, emails: tuple[str, ...] = (), phones: int = 0) -> RecordResult:
    return RecordResult(
        status=RowStatus.MATCHED,
        emails=[Email(value=f"{t}@x.example", type=t) for t in emails],
        phones=[Phone(value="+1555", type="phone") for _ in range(phones)],
    )


def test_pubrio_the_documented_example_person_costs_its_three_details():
    # The redeem query page's person: a personal email, a work email and a phone, at the example profile's prices.
    person = matched(emails=("email-personal", "email-work"), phones=1)
    options = PubrioOptions(contact_types=["email-work", "email-personal", "phone"])
    assert price_model(Vendor.PUBRIO).row_credits(person, options) == 15 + 15 + 30
    assert price_model(Vendor.PUBRIO).row_worst_case(options) == 60


def test_pubrio_the_worst_case_counts_only_the_types_asked_for():
    assert price_model(Vendor.PUBRIO).row_worst_case(PubrioOptions()) == 30  # two emails by default
    assert price_model(Vendor.PUBRIO).row_worst_case(PubrioOptions(contact_types=["phone"])) == 30


def test_pubrio_a_workspaces_own_prices_price_the_worst_case_and_the_rows():
    # Pubrio sets prices per workspace (VendorSettings.credit_prices); unset types keep the documented example's.
    workspace = price_model(Vendor.PUBRIO, {"phone": 45, "email-work": 20})
    options = PubrioOptions(contact_types=["email-work", "phone"])
    assert workspace.row_worst_case(options) == 20 + 45
    assert workspace.row_credits(matched(emails=("email-personal",), phones=1), options) == 15 + 45
    assert price_model(Vendor.PUBRIO).row_worst_case(options) == 15 + 30  # the defaults, untouched
    with pytest.raises(ValueError, match="fax"):
        price_model(Vendor.PUBRIO, {"fax": 1})


def test_prospeo_one_credit_a_match_ten_with_a_mobile_none_without_a_match():
    model = price_model(Vendor.PROSPEO)
    plain, mobile = ProspeoOptions(), ProspeoOptions(enrich_mobile=True)
    assert model.row_credits(matched(emails=("work",)), plain) == 1
    assert model.row_credits(matched(phones=1), mobile) == 10
    assert model.row_credits(matched(), mobile) == 1  # no mobile found: the plain match price
    assert model.row_credits(RecordResult(status=RowStatus.NOT_MATCHED), plain) == 0
    assert model.row_worst_case(plain) == 1
    assert model.row_worst_case(ProspeoOptions(only_verified_mobile=True)) == 10


def test_prospeo_rows_are_attributed_only_when_they_add_up_to_total_cost():
    # The bulk page's example: 4 matched, 2 not matched, 1 invalid, total_cost 10. No mix of 1s and 10s makes 10
    # of 4 matches (re-enrichments were free, or the example is made up): the rows are not attributed.
    results = {str(i): matched() for i in (1, 5, 6, 7)} | {
        "2": RecordResult(status=RowStatus.NOT_MATCHED),
        "3": RecordResult(status=RowStatus.NOT_MATCHED),
        "4": RecordResult(status=RowStatus.INVALID_INPUT),
    }
    price_model(Vendor.PROSPEO).attribute(results, 10, ProspeoOptions())
    assert all(r.credits is None for r in results.values())
    price_model(Vendor.PROSPEO).attribute(results, 4, ProspeoOptions())
    assert [results[k].credits for k in "1234567"] == [1, 0, 0, 0, 1, 1, 1]


def test_check365_one_credit_an_address_whatever_the_verdict():
    model = price_model(Vendor.CHECK365)
    assert model.row_worst_case(Check365Options()) == 1
    assert model.row_expected(Check365Options(), 0.3) == 1
    results = {"1": matched(), "2": RecordResult(status=RowStatus.NOT_MATCHED)}
    model.attribute(results, 2, Check365Options())
    assert [r.credits for r in results.values()] == [1, 1]
    model.attribute(results, 12, Check365Options())  # the page's own example: 12 for 2 addresses, not attributable
    assert [r.credits for r in results.values()] == [None, None]


def test_insideview_a_credit_a_contact_returned():
    model = price_model(Vendor.INSIDEVIEW)
    assert model.row_worst_case(InsideViewOptions()) == 1
    assert model.row_expected(InsideViewOptions(), 0.4) == pytest.approx(0.4)
    results = {"1": matched(), "2": RecordResult(status=RowStatus.NOT_MATCHED)}
    model.attribute(results, 1, InsideViewOptions())
    assert [r.credits for r in results.values()] == [1, 0]


def test_an_error_row_is_never_attributed_a_price():
    results = {"1": matched(), "2": RecordResult(status=RowStatus.ERROR, reason="left out")}
    price_model(Vendor.CHECK365).attribute(results, 1, Check365Options())
    assert results["1"].credits == 1 and results["2"].credits is None


@pytest.mark.parametrize("vendor", list(Vendor))
def test_the_worst_case_is_never_below_any_answer_the_model_prices(vendor: Vendor):
    model = PRICE_MODELS[vendor]
    options = {
        Vendor.PUBRIO: PubrioOptions(contact_types=["email-work", "email-personal", "phone"]),
        Vendor.PROSPEO: ProspeoOptions(enrich_mobile=True),
        Vendor.CHECK365: Check365Options(),
        Vendor.INSIDEVIEW: InsideViewOptions(),
    }[vendor]
    richest = matched(emails=("email-work", "email-personal"), phones=1)
    assert model.row_credits(richest, options) <= model.row_worst_case(options)
    assert model.row_expected(options, 1.0) <= model.row_worst_case(options)


def test_every_vendor_has_its_facts_marked_documented_or_inferred():
    assert {f.vendor for f in FACTS} == set(Vendor)
    assert {f.source for f in FACTS} == {"documented", "inferred"}
