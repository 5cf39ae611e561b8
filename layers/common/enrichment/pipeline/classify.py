"""What a job does with each input row: send it, or not (invalid_input, duplicate) and why.

One pass over the rows, shared by Prepare (which writes the chunks and the plan) and the preview (which
counts them): both see the same options checked, the same columns mapped and the same rows classified.

Memory does not grow with the file: the first row of each distinct request (what a duplicate is answered from)
is remembered on disk (DedupeIndex), not in a dict.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from enrichment.errors import BadInput
from enrichment.files.columns import ColumnMapping, map_columns
from enrichment.files.scratch import ScratchDb
from enrichment.models import CANONICAL_FIELDS, RowStatus, Vendor
from enrichment.options import job_options, parse_options
from enrichment.pipeline import row_rules
from enrichment.vendors import VendorAdapter, adapter_class

SEND = "send"


@dataclass(frozen=True)
class RowOutcome:
    row: int  # 1 = the first row after the header
    status: str  # SEND, RowStatus.INVALID_INPUT or RowStatus.DUPLICATE
    reason: str | None = None
    fields: dict[str, str] | None = None  # a row to send: its canonical fields as the vendor receives them
    twin: int | None = None  # a duplicate: the row it is answered from
    # Its place among the rows sent (a duplicate: its twin's); rows are chunked in order, so its chunk is
    # position // chunk_size.
    position: int | None = None

    def chunk(self, chunk_size: int) -> int | None:
        return None if self.position is None else self.position // chunk_size

    def plan_entry(self, chunk_size: int) -> dict[str, Any]:
        """The row's line in the plan Finalize merges the answers by."""
        entry: dict[str, Any] = {"row": self.row, "status": self.status}
        if self.reason is not None:
            entry["reason"] = self.reason
        if self.twin is not None:
            entry["twin"] = self.twin
        if self.position is not None:
            entry["chunk"] = self.chunk(chunk_size)
        return entry


class DedupeIndex:
    """The first row of each distinct request and its place among the rows sent, and whether a later row
    repeated it. On disk (files.scratch): a 16-byte digest of the request a row, about 40 bytes a row sent with
    sqlite's overhead (40 MB for a million), and memory bounded by sqlite's page cache (scratch.CACHE_KIB)."""

    def __init__(self) -> None:
        self._scratch = ScratchDb(
            "CREATE TABLE first (request BLOB PRIMARY KEY, row INTEGER NOT NULL, position INTEGER NOT NULL,"
            " repeated INTEGER NOT NULL DEFAULT 0) WITHOUT ROWID;"
        )
        self._db = self._scratch.db

    def twin_of(self, request: str, row: int, position: int) -> tuple[int, int] | None:
        """(row, position) of the earlier row asking the same, now marked as repeated; None if `row` is the first
        (then remembered as such)."""
        digest = hashlib.blake2b(request.encode(), digest_size=16).digest()
        first = self._db.execute(
            "INSERT INTO first (request, row, position) VALUES (?, ?, ?)"
            " ON CONFLICT (request) DO UPDATE SET repeated = 1 RETURNING row, position",
            (digest, row, position),
        ).fetchone()
        return None if first[0] == row else (first[0], first[1])

    def repeated_rows(self) -> Iterator[int]:
        """The rows that have duplicates, ascending."""
        for (row,) in self._db.execute("SELECT row FROM first WHERE repeated ORDER BY row"):
            yield row

    def close(self) -> None:
        self._scratch.close()


@dataclass
class ClassifiedInput:
    """With keep_twins, close it (or use a with block) once done with twins(); without, the dedupe index is
    deleted as soon as the rows are read (or left)."""

    mapping: ColumnMapping
    # Classified as they are read. Iterating raises BadInput when no column is one the vendor can match on, when
    # the file breaks midway, or when it has no rows; the mapping is known before, for what reports it.
    rows: Iterator[RowOutcome]
    dedupe: DedupeIndex = field(repr=False)

    def twins(self) -> Iterator[int]:
        """Once the rows are read (with keep_twins): the rows sent that have duplicates, ascending (each
        duplicate's `twin`)."""
        return self.dedupe.repeated_rows()

    def close(self) -> None:
        self.dedupe.close()

    def __enter__(self) -> ClassifiedInput:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def classify_input(
    header: list[str],
    rows: Iterator[tuple[int, list[str]]],
    vendor: Vendor,
    options: Mapping[str, Any],
    *,
    keep_twins: bool = False,
    empty_ok: bool = False,
    require_column: bool = True,
) -> ClassifiedInput:
    """Check the options, map the header's columns; the rows are classified as they are read. `keep_twins` keeps
        the dedupe index once the rows are read, for ClassifiedInput.twins(). `empty_ok`: no rows is not an error (a
        later step of a job, given no row). Without `require_column`, a file with no column the vendor can match on is
    not refused: each row is invalid for it, saying what it lacks (a step of several: the next may take the row).

        Raises BadInput for invalid options or a `columns` option that does not fit the file."""
    adapter = adapter_class(vendor)
    chosen = job_options(options).columns  # the columns option's own words first: it is about the file
    parse_options(vendor, options)
    mapping = map_columns(header, chosen)
    unmatchable = None
    if require_column and not any(f in mapping.fields for f in adapter.input_fields):
        unmatchable = (
            f"no column {vendor.value} can match on. Found columns: {', '.join(mapping.names)[:300]}. "
            f"Expected at least one of: {', '.join(adapter.input_fields)}"
        )
    dedupe = DedupeIndex()
    return ClassifiedInput(
        mapping=mapping,
        rows=_classified(adapter, header, mapping.fields, rows, unmatchable, dedupe, keep_twins, empty_ok),
        dedupe=dedupe,
    )


def _classified(
    adapter: type[VendorAdapter],
    header: list[str],
    columns: dict[str, int],
    rows: Iterator[tuple[int, list[str]]],
    unmatchable: str | None,
    dedupe: DedupeIndex,
    keep_twins: bool,
    empty_ok: bool,
) -> Iterator[RowOutcome]:
    try:
        yield from _outcomes(adapter, header, columns, rows, unmatchable, dedupe, empty_ok)
    finally:
        if not keep_twins:
            dedupe.close()


def _outcomes(
    adapter: type[VendorAdapter],
    header: list[str],
    columns: dict[str, int],
    rows: Iterator[tuple[int, list[str]]],
    unmatchable: str | None,
    dedupe: DedupeIndex,
    empty_ok: bool = False,
) -> Iterator[RowOutcome]:
    if unmatchable:
        raise BadInput(unmatchable)
    sent = 0
    number = 0
    for number, cells in rows:
        # Placeholders ("n/a", "#N/A", "-") are read as empty before the vendor's rules see the row.
        fields, placeholders = row_rules.without_placeholders(
            {f: cells[i] for f, i in columns.items() if i < len(cells)}
        )
        if not any(c.strip() for c in cells):
            yield RowOutcome(number, RowStatus.INVALID_INPUT, "blank row")
        elif row_rules.repeats_header(header, cells):
            yield RowOutcome(number, RowStatus.INVALID_INPUT, row_rules.REPEATED_HEADER)
        elif len(cells) > len(header):
            reason = f"row has {len(cells)} fields but the header has {len(header)} (unquoted comma?)"
            yield RowOutcome(number, RowStatus.INVALID_INPUT, reason)
        elif reason := adapter.validate(fields):
            note = row_rules.placeholder_note(placeholders, adapter.input_fields)
            yield RowOutcome(number, RowStatus.INVALID_INPUT, reason + note)
        elif (twin := dedupe.twin_of(adapter.dedupe_key(fields), number, sent)) is not None:
            yield RowOutcome(
                number, RowStatus.DUPLICATE, f"same request as row {twin[0]}", twin=twin[0], position=twin[1]
            )
        else:
            as_sent = row_rules.as_sent(fields)
            yield RowOutcome(
                number, SEND, fields={f: v for f, v in as_sent.items() if f in CANONICAL_FIELDS}, position=sent
            )
            sent += 1
    if number == 0 and not empty_ok:
        raise BadInput("the file has a header but no rows")
