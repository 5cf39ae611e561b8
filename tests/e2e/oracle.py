"""What each input row should end as, computed independently of the pipeline from the input and the
simulators' deterministic answers. The e2e tests compare every row against this."""

from __future__ import annotations

import csv
import json
import uuid
from pathlib import Path
from typing import Any

from enrichment.files.output import csv_columns, result_cells
from enrichment.models import RecordResult, RowStatus
from enrichment.vendors import adapter_class
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
            assert row["result_email"] or row.get("result_phone"), f"row {number} matched without details"


# The common word for each word the simulators use (the README's vocabulary table), written out here rather
# than taken from the layer's tables; "" is no word at all.
EMAIL_STATUS = {
    "pubrio": {"Verified": "valid", "": "unknown"},
    "prospeo": {"VERIFIED": "valid", "UNVERIFIED": "unknown", "": "unknown"},
    "check365": {
        "active": "valid",
        "inactive": "invalid",
        "invalid": "invalid",
        "spam trap": "risky",
        "unvalidated": "unknown",
    },
    "insideview": {"ValidEmail": "valid", "AcceptAll": "risky", "": "unknown"},
}
PHONE_STATUS = {  # the vendors that grade phones
    "pubrio": {"Verified": "valid", "": "unknown"},
    "prospeo": {"VERIFIED": "valid", "UNVERIFIED": "unknown", "": "unknown"},
}


def assert_output_columns(folder: Path, vendor: str) -> None:
    """results.csv has the row columns and the vendor's own, dropping none that a row's full answer (in
    results.jsonl) fills; its email and phone statuses speak the common vocabulary, the vendor's word beside."""
    with open(folder / "results.csv", newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        results = [dict(zip(header, row, strict=True)) for row in reader]
    result_header = [c for c in header if c.startswith("result_")]
    assert tuple(result_header) == csv_columns(adapter_class(vendor).result_columns)
    lines = (folder / "results.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == len(results)
    for line, row in zip(lines, results, strict=True):
        record = json.loads(line)
        result = RecordResult.model_validate(record["result"]) if record["result"] else None
        cells = result_cells(RowStatus(record["status"]), record["reason"], vendor, result, record["duplicate_of"])
        dropped = sorted(c for c, value in cells.items() if value and c not in result_header)
        assert not dropped, f"row {record['row']}: results.csv left out {dropped}, which this row fills"
        for kind, vocabulary in (("email", EMAIL_STATUS[vendor]), ("phone", PHONE_STATUS.get(vendor))):
            status, word = row.get(f"result_{kind}_status"), row.get(f"result_{kind}_vendor_status")
            if vocabulary is None:
                assert status is None and word is None, f"{vendor} does not grade {kind}s: no such columns"
            elif row[f"result_{kind}"]:
                assert status == vocabulary[word], f"row {record['row']}: {kind} {word!r} read as {status!r}"
            else:
                assert status == word == "", f"row {record['row']}: a {kind} status without a {kind}"
