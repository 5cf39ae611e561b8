"""What each vendor charges, one interface for all: the worst case of a chunk (reserved against a budget before
it is sent), the credits attributable to each answered row (`result_credits`), and the expected credits of rows
(the preview's estimate).

The facts come from /work/shared/vendors.md and the vendors' pages; each is marked documented or inferred in
`FACTS` (the README's price table is this table).
- Pubrio: charged per contact detail returned, per type; prices are per workspace (documented example: email 15,
  phone 30). Inferred: a person gets at most one detail of each type asked for (the documented example has one
  of each), so a person's worst case is the sum of the asked types' prices.
- Prospeo: 1 credit a match, 10 when a mobile is included, 0 for no match, re-enriching is free (documented).
- Check365: one credit an address, charged whatever the verdict (inferred: the issue and the simulator; the
  bulk-status page's example says `creditsUsed: 12` for `total: 2`, which no per-address price explains).
- InsideView: one credit a contact returned, none for an id without details (inferred: `creditsConsumed` is
  documented only on the sibling job types).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import ClassVar

from enrichment.models import Model, RecordResult, RowStatus, Vendor


class PriceFact(Model):
    """One line of the price table: what is charged, for what, and whether a vendor's page says so."""

    vendor: Vendor
    charge: str
    credits: str
    source: str  # "documented" or "inferred"
    note: str = ""


class PriceModel(abc.ABC):
    vendor: ClassVar[Vendor]

    @abc.abstractmethod
    def row_worst_case(self, options: object) -> float:
        """The most one sent row can cost with these options: the vendor never charges a row more."""

    @abc.abstractmethod
    def row_credits(self, result: RecordResult, options: object) -> float:
        """What the price model says an answered row cost (before checking it against the vendor's charge)."""

    @abc.abstractmethod
    def row_expected(self, options: object, match_rate: float) -> float:
        """What a sent row costs on average when `match_rate` of the rows match."""

    def attribute(self, results: Mapping[str, RecordResult], charged: float, options: object) -> None:
        """Set each answered row's `credits` from the price model when the rows add up to what the vendor charged
        for the chunk; otherwise none is attributed (a re-enrichment that was free, a workspace's own prices)."""
        priced = {ref: self.row_credits(r, options) for ref, r in results.items() if r.status != RowStatus.ERROR}
        if abs(sum(priced.values()) - charged) > 1e-9:
            for result in results.values():
                result.credits = None
            return
        for ref, result in results.items():
            result.credits = priced.get(ref)


PUBRIO_PRICES = {"email-work": 15.0, "email-personal": 15.0, "phone": 30.0}


class PubrioPrices(PriceModel):
    vendor = Vendor.PUBRIO

    def __init__(self, prices: Mapping[str, float] | None = None) -> None:
        self.prices = PUBRIO_PRICES | dict(prices or {})  # the workspace's own, where configured

    def row_worst_case(self, options: object) -> float:
        return sum(self.prices[t] for t in set(getattr(options, "contact_types", PUBRIO_PRICES)))

    def row_credits(self, result: RecordResult, options: object) -> float:
        details = [e.type for e in result.emails] + [p.type or "phone" for p in result.phones]
        return sum(self.prices.get(t or "email-work", 0.0) for t in details)

    def row_expected(self, options: object, match_rate: float) -> float:
        # A matched person is taken to carry every type asked for: the estimate leans to the worst case.
        return match_rate * self.row_worst_case(options)


class ProspeoPrices(PriceModel):
    vendor = Vendor.PROSPEO

    @staticmethod
    def _match_price(options: object) -> float:
        mobile = getattr(options, "enrich_mobile", False) or getattr(options, "only_verified_mobile", False)
        return 10.0 if mobile else 1.0

    def row_worst_case(self, options: object) -> float:
        return self._match_price(options)

    def row_credits(self, result: RecordResult, options: object) -> float:
        if result.status != RowStatus.MATCHED:
            return 0.0
        return 10.0 if self._match_price(options) == 10.0 and result.phones else 1.0

    def row_expected(self, options: object, match_rate: float) -> float:
        return match_rate * self._match_price(options)


class Check365Prices(PriceModel):
    vendor = Vendor.CHECK365

    def row_worst_case(self, options: object) -> float:
        return 1.0

    def row_credits(self, result: RecordResult, options: object) -> float:
        return 1.0

    def row_expected(self, options: object, match_rate: float) -> float:
        return 1.0  # every address sent is validated, and charged, whatever its verdict


class InsideViewPrices(PriceModel):
    vendor = Vendor.INSIDEVIEW

    def row_worst_case(self, options: object) -> float:
        return 1.0

    def row_credits(self, result: RecordResult, options: object) -> float:
        return 1.0 if result.status == RowStatus.MATCHED else 0.0

    def row_expected(self, options: object, match_rate: float) -> float:
        return match_rate


PRICE_MODELS: dict[Vendor, PriceModel] = {
    model.vendor: model for model in (PubrioPrices(), ProspeoPrices(), Check365Prices(), InsideViewPrices())
}


def price_model(vendor: Vendor | str, prices: Mapping[str, float] | None = None) -> PriceModel:
    """The vendor's price model; `prices`: the account's own (VendorSettings.credit_prices), where the vendor sets
    them per account (Pubrio's per workspace). Other vendors' prices are the same for every account."""
    vendor = Vendor(vendor)
    if prices and vendor == Vendor.PUBRIO:
        unknown = set(prices) - set(PUBRIO_PRICES)
        if unknown:
            raise ValueError(f"pubrio credit_prices: {sorted(unknown)} are not contact types ({sorted(PUBRIO_PRICES)})")
        return PubrioPrices(prices)
    return PRICE_MODELS[vendor]


FACTS: tuple[PriceFact, ...] = (
    PriceFact(
        vendor=Vendor.PUBRIO,
        charge="each email returned",
        credits="15",
        source="documented",
        note="per workspace; 15 is the documented example profile's price",
    ),
    PriceFact(
        vendor=Vendor.PUBRIO,
        charge="each phone returned",
        credits="30",
        source="documented",
        note="per workspace; 30 is the documented example profile's price",
    ),
    PriceFact(vendor=Vendor.PUBRIO, charge="a person with nothing returned", credits="0", source="documented"),
    PriceFact(
        vendor=Vendor.PUBRIO,
        charge="at most one detail per type asked (`contact_types`)",
        credits="worst case: the sum of the asked types",
        source="inferred",
        note="the documented example returns one of each type",
    ),
    PriceFact(vendor=Vendor.PROSPEO, charge="a match", credits="1", source="documented"),
    PriceFact(
        vendor=Vendor.PROSPEO,
        charge="a match with a mobile (`enrich_mobile`, `only_verified_mobile`)",
        credits="10",
        source="documented",
    ),
    PriceFact(vendor=Vendor.PROSPEO, charge="no match, invalid datapoints", credits="0", source="documented"),
    PriceFact(vendor=Vendor.PROSPEO, charge="re-enriching a record", credits="0", source="documented"),
    PriceFact(
        vendor=Vendor.CHECK365,
        charge="each address validated, whatever the verdict",
        credits="1",
        source="inferred",
        note="the page's example (creditsUsed 12 for 2 addresses) is not explained by any per-address price",
    ),
    PriceFact(
        vendor=Vendor.INSIDEVIEW,
        charge="each contact returned",
        credits="1",
        source="inferred",
        note="creditsConsumed is documented for the sibling job types only",
    ),
    PriceFact(vendor=Vendor.INSIDEVIEW, charge="an id without details", credits="0", source="inferred"),
)
