"""What a job is expected to cost before it runs, from the match rates observed in past jobs.

Observed match rates are account items of the jobs table, one per vendor and answer scope (the options that change
the answer: result_cache.answer_scope): job_id `account`, item `match-rate#<vendor>#<scope>`, with `rows_sent`,
`rows_matched` and `credits` ADDed by the finalizer that settled a job, once (JobStore.settle then
`record_observed`'s conditional marker on the job item, in one transaction with the ADD). Only the rows the vendor
answered in that job count: not cached rows, invalid ones, duplicates, errors or rows a budget skipped.

Expected credits: rows to send x the observed credits per sent row when there is history ("observed over N
rows"), else the price model's `expected_credits` at the vendor's DEFAULT_MATCH_RATE ("default"). Worst case: rows
to send x the price model's row worst case, capped by `max_credits` (a job never spends beyond it).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Literal, NamedTuple

from pydantic import Field

from enrichment.aws import client
from enrichment.jobs.store import JOB_ITEM
from enrichment.models import Model, Vendor
from enrichment.options import job_options, vendor_options
from enrichment.pipeline.result_cache import answer_scope
from enrichment.vendors import adapter_class
from enrichment.vendors.pricing import PriceModel, price_model

ACCOUNT_PARTITION = "account"

# Inferred (no vendor documents a typical match rate): the share of sent rows matched when no job has been seen
# yet, on the side of cost (a higher rate is a higher estimate for the vendors charging matches only). Check365
# charges every address whatever the verdict, so its rate changes nothing.
DEFAULT_MATCH_RATE: dict[Vendor, float] = {
    Vendor.PUBRIO: 0.6,
    Vendor.PROSPEO: 0.6,
    Vendor.CHECK365: 1.0,
    Vendor.INSIDEVIEW: 0.8,
}


class Observed(Model):
    """What past jobs of a vendor and answer scope were charged for the rows the vendor answered."""

    rows_sent: int
    rows_matched: int
    credits: float

    @property
    def match_rate(self) -> float:
        return self.rows_matched / self.rows_sent if self.rows_sent else 0.0

    @property
    def credits_per_row(self) -> float:
        return self.credits / self.rows_sent if self.rows_sent else 0.0


class CostEstimate(Model):
    cached_rows: int = Field(description="rows the result cache would answer: not sent, no credit")
    to_send: int = Field(description="rows that would be sent (cached rows excluded)")
    worst_case_credits: float = Field(
        description="the most the job can cost: rows to send x the vendor's worst case a row, capped by max_credits"
    )
    expected_credits: float = Field(description="the credits the job is expected to cost")
    basis: Literal["observed", "default"] = Field(
        description="observed: from past jobs of this vendor and these answer options; default: no history yet, "
        "the vendor's default match rate"
    )
    basis_rows: int = Field(description="observed: the rows sent in past jobs the estimate is based on; default: 0")
    match_rate: float = Field(description="the match rate the estimate assumes (observed or the default)")


def scope_of(vendor: Vendor, options: dict[str, Any]) -> str:
    adapter = adapter_class(vendor)
    return answer_scope(adapter.answer_options, adapter.parse_options(vendor_options(options)))


def rate_key(vendor: Vendor, scope: str) -> dict[str, Any]:
    return {"job_id": {"S": ACCOUNT_PARTITION}, "item": {"S": f"match-rate#{vendor.value}#{scope}"}}


def _n(value: float) -> dict[str, str]:
    return {"N": str(Decimal(str(float(value))))}


def read_observed(table: str, vendor: Vendor, scope: str) -> Observed | None:
    """The observed totals, or None when no job of this vendor and scope has settled with a row sent."""
    item = client("dynamodb").get_item(TableName=table, Key=rate_key(vendor, scope), ConsistentRead=True).get("Item")
    if not item or not float(item.get("rows_sent", {}).get("N", "0")):
        return None
    return Observed(
        rows_sent=int(float(item["rows_sent"]["N"])),
        rows_matched=int(float(item.get("rows_matched", {}).get("N", "0"))),
        credits=float(item.get("credits", {}).get("N", "0")),
    )


def record_observed(table: str, job_id: str, vendor: Vendor, scope: str, observed: Observed) -> bool:
    """Add one settled job's rows to its vendor and scope, once: the job item's `match_rate_recorded` marker is
    set in the same transaction, on condition it is not yet. False when it was recorded before."""
    ddb = client("dynamodb")
    try:
        ddb.transact_write_items(
            TransactItems=[
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"job_id": {"S": job_id}, "item": {"S": JOB_ITEM}},
                        "UpdateExpression": "SET match_rate_recorded = :yes",
                        # The job item is written whole (the marker false) when created.
                        "ConditionExpression": "attribute_exists(job_id) AND "
                        "(attribute_not_exists(match_rate_recorded) OR match_rate_recorded = :no)",
                        "ExpressionAttributeValues": {":yes": {"BOOL": True}, ":no": {"BOOL": False}},
                    }
                },
                {
                    "Update": {
                        "TableName": table,
                        "Key": rate_key(vendor, scope),
                        "UpdateExpression": "ADD rows_sent :sent, rows_matched :matched, credits :credits",
                        "ExpressionAttributeValues": {
                            ":sent": {"N": str(observed.rows_sent)},
                            ":matched": {"N": str(observed.rows_matched)},
                            ":credits": _n(observed.credits),
                        },
                    }
                },
            ]
        )
    except ddb.exceptions.TransactionCanceledException as exc:
        reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        if reasons and reasons[0] == "ConditionalCheckFailed":
            return False
        raise
    return True


def estimate(
    vendor: Vendor,
    options: dict[str, Any],
    *,
    to_send: int,
    cached_rows: int,
    observed: Observed | None,
    prices: Mapping[str, float] | None = None,
) -> CostEstimate:
    """Expected and worst-case credits of sending `to_send` rows with these options (job options included), at
    the account's own `prices` where configured (VendorSettings.credit_prices)."""
    parsed = adapter_class(vendor).parse_options(vendor_options(options))
    model = price_model(vendor, prices)
    worst = to_send * model.row_worst_case(parsed)
    max_credits = job_options(options).max_credits
    if max_credits is not None:
        worst = min(worst, float(max_credits))
    per_row = row_basis(vendor, parsed, model, observed)
    return CostEstimate(
        cached_rows=cached_rows,
        to_send=to_send,
        worst_case_credits=round(worst, 4),
        expected_credits=round(min(to_send * per_row.credits, worst), 4),
        basis=per_row.basis,
        basis_rows=per_row.basis_rows,
        match_rate=round(per_row.match_rate, 4),
    )


class RowBasis(NamedTuple):
    """What a sent row is expected to cost, and the match rate behind it: observed in past jobs, or the default."""

    match_rate: float
    credits: float
    basis: Literal["observed", "default"]
    basis_rows: int


def row_basis(vendor: Vendor, parsed: object, model: PriceModel, observed: Observed | None) -> RowBasis:
    """The observed rate and credits a sent row when past jobs have them, else the vendor's default rate priced
    by the price model (`parsed`: the vendor's options, parsed)."""
    if observed is not None:
        return RowBasis(observed.match_rate, observed.credits_per_row, "observed", observed.rows_sent)
    rate = DEFAULT_MATCH_RATE[vendor]
    return RowBasis(rate, model.row_expected(parsed, rate), "default", 0)
