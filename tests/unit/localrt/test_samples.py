"""The sample files: the waterfall sample's rows carry the identifiers a job of several steps is about."""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from pathlib import Path

from enrichment.files.columns import map_columns
from localrt.__main__ import main
from localrt.samples import WATERFALL_HEADER, waterfall_csv

ROOT = Path(__file__).resolve().parents[3]


def _kind(row: dict[str, str]) -> str:
    """What a finding vendor could take from the row (by the canonical fields it maps to)."""
    has = {field for field, value in row.items() if value.strip()}
    try:
        uuid.UUID(row["people_search_id"])
        pubrio = True
    except ValueError:
        pubrio = False
    if not has:
        return "blank"
    if pubrio:
        return "id with name and company" if {"first_name", "company_name"} <= has else "id only"
    if "people_search_id" in has:
        return "bad id"
    if {"first_name", "last_name", "company_name"} <= has:
        return "name and company"
    if "linkedin_url" in has:
        return "linkedin"
    if "email" in has:
        return "email" if "@" in row["email"].strip("@") and not row["email"].startswith("@") else "bad email"
    return "name only"


def _rows(text: str) -> list[dict[str, str]]:
    header, *rows = list(csv.reader(io.StringIO(text)))
    fields = map_columns(header).fields
    return [{field: cells[index] for field, index in fields.items()} for cells in rows]


def test_the_waterfall_sample_maps_every_column_to_a_field():
    assert set(map_columns(WATERFALL_HEADER).fields) == {
        "people_search_id",
        "first_name",
        "last_name",
        "full_name",
        "email",
        "linkedin_url",
        "company_name",
        "company_website",
    }


def test_the_waterfall_sample_holds_every_kind_of_row_duplicates_and_bad_rows():
    rows = _rows(waterfall_csv(1000))
    assert len(rows) == 1000
    kinds = Counter(_kind(row) for row in rows)
    assert set(kinds) == {
        "blank",
        "id only",
        "id with name and company",
        "bad id",
        "name and company",
        "linkedin",
        "email",
        "bad email",
        "name only",
    }
    assert kinds["blank"] == 20 and kinds["id with name and company"] > kinds["id only"] >= 100
    cells = [tuple(row.values()) for row in rows if any(row.values())]
    assert len(cells) - len(set(cells)) >= 50  # repeated rows
    emails = Counter(row["email"] for row in rows if row["email"])
    named = {f"{row['first_name']}.{row['last_name']}@{row['company_website']}".lower() for row in rows}
    assert len(set(emails) & named) >= 10  # the same person by email in one row, by name and company in another


def test_the_committed_sample_is_what_the_generator_writes(tmp_path):
    output = tmp_path / "waterfall.csv"
    assert main(["sample", "--waterfall", "--rows", "1000", "--output", str(output)]) == 0
    assert output.read_bytes() == (ROOT / "samples" / "waterfall.csv").read_bytes()
    assert waterfall_csv(300) == waterfall_csv(300)  # seeded
