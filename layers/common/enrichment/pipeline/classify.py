"""What a job does with each input row: send it, or not (invalid_input, duplicate) and why.

One pass over the rows, shared by Prepare (which writes the chunks and the plan) and the preview (which
counts them): both see the same options checked, the same columns mapped and the same rows classified.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from enrichment.errors import BadInput
from enrichment.files.columns import ColumnMapping, map_columns
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


@dataclass
class ClassifiedInput:
    mapping: ColumnMapping
    # Classified as they are read. Iterating raises BadInput when no column is one the vendor can match on, when
    # the file breaks midway, or when it has no rows; the mapping is known before, for what reports it.
    rows: Iterator[RowOutcome]


def classify_input(
    header: list[str], rows: Iterator[tuple[int, list[str]]], vendor: Vendor, options: Mapping[str, Any]
) -> ClassifiedInput:
    """Check the options, map the header's columns; the rows are classified as they are read.

    Raises BadInput for invalid options or a `columns` option that does not fit the file."""
    adapter = adapter_class(vendor)
    chosen = job_options(options).columns  # the columns option's own words first: it is about the file
    parse_options(vendor, options)
    mapping = map_columns(header, chosen)
    unmatchable = None
    if not any(f in mapping.fields for f in adapter.input_fields):
        unmatchable = (
            f"no column {vendor.value} can match on. Found columns: {', '.join(mapping.names)[:300]}. "
            f"Expected at least one of: {', '.join(adapter.input_fields)}"
        )
    return ClassifiedInput(mapping=mapping, rows=_classified(adapter, header, mapping.fields, rows, unmatchable))


def _classified(
    adapter: type[VendorAdapter],
    header: list[str],
    columns: dict[str, int],
    rows: Iterator[tuple[int, list[str]]],
    unmatchable: str | None,
) -> Iterator[RowOutcome]:
    if unmatchable:
        raise BadInput(unmatchable)
    first_of: dict[str, tuple[int, int]] = {}  # dedupe key -> (row, position)
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
        elif (twin := first_of.get(key := adapter.dedupe_key(fields))) is not None:
            yield RowOutcome(
                number, RowStatus.DUPLICATE, f"same request as row {twin[0]}", twin=twin[0], position=twin[1]
            )
        else:
            first_of[key] = (number, sent)
            as_sent = row_rules.as_sent(fields)
            yield RowOutcome(
                number, SEND, fields={f: v for f, v in as_sent.items() if f in CANONICAL_FIELDS}, position=sent
            )
            sent += 1
    if number == 0:
        raise BadInput("the file has a header but no rows")
