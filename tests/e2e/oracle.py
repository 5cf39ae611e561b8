"""What each input row should end as, computed independently of the pipeline from the input and the
simulators' deterministic answers. The e2e tests compare every row against this."""

from __future__ import annotations

import uuid
from typing import Any

from localrt.simulators.insideview import InsideViewSimulator
from localrt.simulators.prospeo import ProspeoSimulator, matchable
from localrt.simulators.pubrio import PubrioSimulator

PROSPEO_COLUMNS = {
    "firstName": "first_name",
    "last_name": "last_name",
    "Full Name": "full_name",
    "Email Address": "email",
    "LinkedIn": "linkedin_url",
    "Company": "company_name",
    "Website": "company_website",
}


def expected_pubrio(rows: list[dict[str, Any]], contact_types: list[str]) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    first: dict[str, int] = {}
    for number, row in enumerate(rows, 1):
        value = (row.get("People Search ID") or "").strip()
        if not any((v or "").strip() for v in row.values()):
            out.append(("invalid_input", None))
            continue
        try:
            key = str(uuid.UUID(value))
        except ValueError:
            out.append(("invalid_input", None))
            continue
        if key in first:
            out.append(("duplicate", first[key]))
            continue
        first[key] = number
        answer = PubrioSimulator.person(key, contact_types)
        out.append(("matched" if answer["emails"] or answer["phones"] else "not_matched", None))
    return out


def expected_prospeo(rows: list[dict[str, Any]], options: dict[str, Any]) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    first: dict[str, int] = {}
    mobile = bool(options.get("enrich_mobile") or options.get("only_verified_mobile"))
    for number, row in enumerate(rows, 1):
        record = {PROSPEO_COLUMNS[k]: v.strip() for k, v in row.items() if k in PROSPEO_COLUMNS and (v or "").strip()}
        if not record or not matchable(record):
            out.append(("invalid_input", None))
            continue
        key = ProspeoSimulator.record_key(record)
        if key in first:
            out.append(("duplicate", first[key]))
            continue
        first[key] = number
        answer = ProspeoSimulator.person(record, mobile)
        verified = answer is not None and answer["person"]["email"]["status"] == "VERIFIED"
        if answer is None or (options.get("only_verified_email") and not verified):
            out.append(("not_matched", None))
        else:
            out.append(("matched", None))
    return out


def _blank(row: dict[str, Any]) -> bool:
    return not any((v or "").strip() for v in row.values())


def expected_check365(
    rows: list[dict[str, Any]], options: dict[str, Any] | None = None
) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    first: dict[str, int] = {}
    for number, row in enumerate(rows, 1):
        email = (row.get("Email") or "").strip()
        local, _, domain = email.partition("@")
        if _blank(row) or not local or "." not in domain or " " in email:
            out.append(("invalid_input", None))
        elif email.lower() in first:
            out.append(("duplicate", first[email.lower()]))
        else:
            first[email.lower()] = number
            out.append(("matched", None))  # every address gets a verdict
    return out


def expected_insideview(
    rows: list[dict[str, Any]], options: dict[str, Any] | None = None
) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    first: dict[str, int] = {}
    for number, row in enumerate(rows, 1):
        contact_id = (row.get("InsideView Contact ID") or "").strip()
        if _blank(row) or not (contact_id.isascii() and contact_id.isdigit()):  # ids are digits
            out.append(("invalid_input", None))
        elif contact_id in first:
            out.append(("duplicate", first[contact_id]))
        else:
            first[contact_id] = number
            found = InsideViewSimulator.contact(contact_id)
            out.append(("matched" if found and (found["email"] or found["phone"]) else "not_matched", None))
    return out


def assert_rows_match(results: list[dict[str, str]], expected: list[tuple[str, int | None]], vendor: str) -> None:
    assert len(results) == len(expected), "one row out per row in"
    for number, (row, (status, twin)) in enumerate(zip(results, expected, strict=True), 1):
        assert row["result_status"] == status, f"row {number}: {row['result_status']} ({row['result_reason']})"
        assert row["result_vendor"] == vendor
        if status in ("invalid_input", "not_matched"):
            assert row["result_reason"], f"row {number} has no reason"
        if status == "duplicate":
            assert row["result_duplicate_of"] == str(twin)
            original = results[twin - 1]
            assert row["result_email"] == original["result_email"], "a duplicate is answered from its twin"
        if status == "matched":
            assert row["result_email"] or row["result_phone"], f"row {number} matched without details"
