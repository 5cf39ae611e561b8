"""Credit budgets that hold: a chunk's worst-case cost is reserved before it is sent, in one DynamoDB transaction.

Items in the jobs table, moved only by conditional writes:
- `budget#<chunk>` (per job): the chunk's reservation, its worst case and the month it counts in. Put once
  (`attribute_not_exists`): a retried round finds it and reserves nothing more.
- the job item: `credits_committed` (reserved + spent: what the budget is held to) and `credits_reserved`;
  with `max_credits`, the reservation's condition is `credits_committed <= max_credits - cost`. (A condition
  takes no arithmetic, so the sum is kept as one counter.)
- `credits` / `<YYYY-MM>#<vendor>` (one per vendor and month): `committed`, `reserved`, `spent` (what the vendor
  reported charging), `held` (reservations kept because an answer was lost: the vendor may have charged); with
  a monthly budget for the vendor (`MonthlyCreditBudgets`), held to it like the job's. Kept whether or not there
  is a budget: they are the account's totals by vendor and month (`GET /credits`).

Settling a chunk (JobStore.settle_chunk) replaces its reservation by what it cost, in the same transaction as the
chunk's settled marker, so it happens once.
"""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import Any

from enrichment.aws import client
from enrichment.jobs.store import now_iso
from enrichment.models import Model, Vendor

CREDITS_PARTITION = "credits"
RESERVE_ATTEMPTS = 8  # transaction conflicts (chunks reserving at once) are retried


class Reservation(Model):
    chunk_index: int
    credits: float
    vendor: Vendor
    month: str
    # The chunk's leading rows the reservation covers when not all of them fitted (reserve_leading), and why the
    # others are not sent; None: all of them.
    rows: int | None = None
    held_back: str | None = None


class BudgetReached(Exception):
    """The chunk's worst case does not fit in what is left of a budget: it is not sent."""


def current_month() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m")


def reservation_key(job_id: str, chunk_index: int) -> dict[str, Any]:
    return {"job_id": {"S": job_id}, "item": {"S": f"budget#{chunk_index:06d}"}}


def month_key(vendor: Vendor, month: str) -> dict[str, Any]:
    return {"job_id": {"S": CREDITS_PARTITION}, "item": {"S": f"{month}#{vendor.value}"}}


def _n(value: float) -> dict[str, str]:
    return {"N": str(Decimal(str(float(value))))}


def budget_reached_reason(max_credits: float) -> str:
    return f"credit budget of {max_credits:g} reached"


def monthly_reached_reason(vendor: Vendor, month: str, budget: float) -> str:
    return f"monthly credit budget of {budget:g} for {vendor.value} in {month} reached"


def reserve(
    table: str,
    job_id: str,
    chunk_index: int,
    vendor: Vendor,
    cost: float,
    *,
    max_credits: float | None,
    monthly_budget: float | None,
    rows: int | None = None,
    held_back: str | None = None,
) -> Reservation:
    """Reserve the chunk's worst case against the job's budget and the vendor's month, atomically; the chunk's
    reservation if it was taken before (a retried round). BudgetReached (saying which) when it does not fit.
    `rows`: the reservation covers only the chunk's first `rows` rows (the others held back, `held_back` says why)."""
    month = current_month()
    if max_credits is not None and cost > max_credits:
        raise BudgetReached(budget_reached_reason(max_credits))
    if monthly_budget is not None and cost > monthly_budget:
        raise BudgetReached(monthly_reached_reason(vendor, month, monthly_budget))
    job_condition: dict[str, Any] = {}
    if max_credits is not None:
        job_condition = {
            "ConditionExpression": "attribute_not_exists(credits_committed) OR credits_committed <= :room",
            "ExpressionAttributeValues": {":room": _n(max_credits - cost)},
        }
    month_condition: dict[str, Any] = {}
    if monthly_budget is not None:
        month_condition = {
            "ConditionExpression": "attribute_not_exists(committed) OR committed <= :room",
            "ExpressionAttributeValues": {":room": _n(monthly_budget - cost)},
        }
    items = [
        {
            "Put": {
                "TableName": table,
                "Item": reservation_key(job_id, chunk_index)
                | {
                    "state": {"S": "reserved"},
                    "credits": _n(cost),
                    "vendor": {"S": vendor.value},
                    "month": {"S": month},
                    "reserved_at": {"S": now_iso()},
                }
                | ({"rows": {"N": str(rows)}, "held_back": {"S": held_back or ""}} if rows is not None else {}),
                "ConditionExpression": "attribute_not_exists(job_id)",
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": {"job_id": {"S": job_id}, "item": {"S": "job"}},
                "UpdateExpression": "ADD credits_committed :cost, credits_reserved :cost",
                **job_condition,
                "ExpressionAttributeValues": job_condition.get("ExpressionAttributeValues", {}) | {":cost": _n(cost)},
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": month_key(vendor, month),
                "UpdateExpression": "SET vendor = :vendor, #month = :month ADD committed :cost, reserved :cost",
                "ExpressionAttributeNames": {"#month": "month"},
                **month_condition,
                "ExpressionAttributeValues": month_condition.get("ExpressionAttributeValues", {})
                | {":cost": _n(cost), ":vendor": {"S": vendor.value}, ":month": {"S": month}},
            }
        },
    ]
    ddb = client("dynamodb")
    for attempt in range(RESERVE_ATTEMPTS):
        try:
            ddb.transact_write_items(TransactItems=items)
            return Reservation(
                chunk_index=chunk_index, credits=cost, vendor=vendor, month=month, rows=rows, held_back=held_back
            )
        except ddb.exceptions.TransactionCanceledException as cancelled:
            codes = [r.get("Code") for r in cancelled.response.get("CancellationReasons", [])]
            if codes[:1] == ["ConditionalCheckFailed"]:
                taken = reservation(table, job_id, chunk_index)
                if taken is not None:
                    return taken  # reserved by an earlier attempt of this chunk: never twice
            if codes[1:2] == ["ConditionalCheckFailed"] and max_credits is not None:
                raise BudgetReached(budget_reached_reason(max_credits)) from None
            if codes[2:3] == ["ConditionalCheckFailed"] and monthly_budget is not None:
                raise BudgetReached(monthly_reached_reason(vendor, month, monthly_budget)) from None
            if attempt == RESERVE_ATTEMPTS - 1:
                raise
            time.sleep(min(1.0, 0.05 * 2**attempt))
    raise AssertionError("unreachable")


def reservation(table: str, job_id: str, chunk_index: int) -> Reservation | None:
    """The chunk's reservation, if one was taken and not settled yet."""
    item = (
        client("dynamodb")
        .get_item(TableName=table, Key=reservation_key(job_id, chunk_index), ConsistentRead=True)
        .get("Item")
    )
    if not item or item["state"]["S"] != "reserved":
        return None
    return Reservation(
        chunk_index=chunk_index,
        credits=float(item["credits"]["N"]),
        vendor=Vendor(item["vendor"]["S"]),
        month=item["month"]["S"],
        rows=int(item["rows"]["N"]) if "rows" in item else None,
        held_back=item["held_back"]["S"] if "held_back" in item else None,
    )


def reserve_leading(
    table: str,
    job_id: str,
    chunk_index: int,
    vendor: Vendor,
    row_cost: float,
    rows: int,
    *,
    max_credits: float | None,
    monthly_budget: float | None,
) -> Reservation:
    """Reserve the whole chunk if it fits, else as many of its leading rows as fit (a budget is spent in row
    order, to its last row's worth); BudgetReached when not even one does. The room is read, then reserved by
    the same conditional transaction as a whole chunk's: a room another chunk took meanwhile is read again."""
    try:
        return reserve(
            table, job_id, chunk_index, vendor, row_cost * rows, max_credits=max_credits, monthly_budget=monthly_budget
        )
    except BudgetReached as reached:
        refused = reached
    if row_cost <= 0:
        raise refused  # a free chunk that does not fit: the budget is over already (an answer lost)
    for _ in range(RESERVE_ATTEMPTS):
        fitting = min(rows - 1, int(_room(table, job_id, vendor, max_credits, monthly_budget) / row_cost + 1e-9))
        if fitting <= 0:
            break
        try:
            return reserve(
                table,
                job_id,
                chunk_index,
                vendor,
                row_cost * fitting,
                max_credits=max_credits,
                monthly_budget=monthly_budget,
                rows=fitting,
                held_back=str(refused),
            )
        except BudgetReached as reached:
            refused = reached
    raise refused


def _room(table: str, job_id: str, vendor: Vendor, max_credits: float | None, monthly_budget: float | None) -> float:
    """What is left of the job's budget and of the vendor's month, whichever is less."""
    ddb = client("dynamodb")
    room = float("inf")
    if max_credits is not None:
        job = ddb.get_item(
            TableName=table, Key={"job_id": {"S": job_id}, "item": {"S": "job"}}, ConsistentRead=True
        ).get("Item", {})
        room = max_credits - float(job.get("credits_committed", {}).get("N", "0"))
    if monthly_budget is not None:
        month = ddb.get_item(TableName=table, Key=month_key(vendor, current_month()), ConsistentRead=True)
        room = min(room, monthly_budget - float(month.get("Item", {}).get("committed", {}).get("N", "0")))
    return room


def settle_items(
    table: str, job_id: str, found: Reservation, credits: float, *, held: bool
) -> tuple[list[dict[str, Any]], str, dict[str, Any]]:
    """What settling a reservation adds to the chunk's settle transaction: the reservation and month items' writes,
    and the job item's part (an update expression's ADD terms and their values), since the transaction writes the
    job item once. `held`: the answer was lost, the vendor may have charged: the worst case stays committed."""
    kept = found.credits if held else credits
    delta = kept - found.credits
    reservation_update = {
        "Update": {
            "TableName": table,
            "Key": reservation_key(job_id, found.chunk_index),
            "UpdateExpression": "SET #state = :settled, spent = :spent, held = :held, settled_at = :now",
            "ConditionExpression": "#state = :reserved",
            "ExpressionAttributeNames": {"#state": "state"},
            "ExpressionAttributeValues": {
                ":settled": {"S": "settled"},
                ":reserved": {"S": "reserved"},
                ":spent": _n(credits),
                ":held": {"BOOL": held},
                ":now": {"S": now_iso()},
            },
        }
    }
    month_update = {
        "Update": {
            "TableName": table,
            "Key": month_key(found.vendor, found.month),
            "UpdateExpression": "ADD committed :delta, reserved :unreserve, spent :spent, held :held",
            "ExpressionAttributeValues": {
                ":delta": _n(delta),
                ":unreserve": _n(-found.credits),
                ":spent": _n(credits),
                ":held": _n(found.credits if held else 0),
            },
        }
    }
    job_terms = "credits_committed :committed_delta, credits_reserved :unreserve"
    job_values = {":committed_delta": _n(delta), ":unreserve": _n(-found.credits)}
    return [reservation_update, month_update], job_terms, job_values


class MonthCredits(Model):
    vendor: str
    month: str
    spent: float = 0
    held: float = 0
    reserved: float = 0
    budget: float | None = None


def month_totals(table: str, since: str, budgets: dict[str, float]) -> list[MonthCredits]:
    """Credits by vendor and month, from `since` (YYYY-MM) on, oldest first."""
    ddb = client("dynamodb")
    kwargs: dict[str, Any] = {
        "TableName": table,
        "KeyConditionExpression": "job_id = :p AND item >= :since",
        "ExpressionAttributeValues": {":p": {"S": CREDITS_PARTITION}, ":since": {"S": since}},
        "ConsistentRead": True,
    }
    totals = []
    while True:
        answer = ddb.query(**kwargs)
        for item in answer.get("Items", []):
            month, _, vendor = item["item"]["S"].partition("#")

            def number(name: str, item: dict[str, Any] = item) -> float:
                return float(item.get(name, {}).get("N", 0))

            totals.append(
                MonthCredits(
                    vendor=vendor,
                    month=month,
                    spent=number("spent"),
                    held=number("held"),
                    reserved=number("reserved"),
                    budget=budgets.get(vendor) if month == current_month() else None,
                )
            )
        if "LastEvaluatedKey" not in answer:
            return totals
        kwargs["ExclusiveStartKey"] = answer["LastEvaluatedKey"]
