"""Preview: what a job would do with a file, before anything is sent or any credit spent.

The rows go through Prepare's own classification (pipeline.classify) and, given the deployment's settings, its
own result cache lookups (prepare.cache_lookups); the cost is estimated as Prepare estimates it (pipeline.cost:
the observed match rates of past jobs, else the vendor's default). Nothing is written, no job is created, no
vendor is called.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import Field

from enrichment.errors import BadInput
from enrichment.files.columns import ColumnTie, ColumnUse
from enrichment.files.reader import InputSource, open_table
from enrichment.models import Model, RowStatus, Vendor
from enrichment.pipeline.classify import SEND, RowOutcome, classify_input
from enrichment.pipeline.cost import CostEstimate, estimate, read_observed, scope_of
from enrichment.pipeline.row_rules import reason_kind
from enrichment.settings import InputLimits, Settings, VendorSettings
from enrichment.vendors import adapter_class

TOP_REASONS = 10
FIRST_ROWS = 5
FIRST_DUPLICATES = 10
CACHED = "cached"  # a row to send that the result cache answers (counted apart: it is not sent)


class InvalidReason(Model):
    reason: str = Field(description="the rule broken, the values quoted in it shown as '…'")
    rows: int = Field(description="how many rows break it")
    first_rows: list[int] = Field(description=f"the first {FIRST_ROWS} of them (1 = the first row after the header)")


class DuplicateRow(Model):
    row: int
    of: int = Field(description="the earlier row it asks the same as: answered from it, sent once")


class InputPreview(CostEstimate):
    vendor: Vendor
    file: dict[str, str] | None = Field(
        description="how the file is read (format, encoding, delimiter, line_ends, compression, or sheet); "
        "none for inline records or a file that cannot be opened"
    )
    vendor_fields: list[str] = Field(description="the fields this vendor can match on")
    columns: list[ColumnUse] = Field(description="each input column and the field read from it, if any")
    ties: list[ColumnTie] = Field(description="columns naming one field, and the one read")
    rows: int = Field(description="rows read (up to the error, if the file breaks)")
    invalid_input: int
    duplicate: int
    invalid_reasons: list[InvalidReason] = Field(description=f"the {TOP_REASONS} most frequent reasons")
    duplicates: list[DuplicateRow] = Field(description=f"the first {FIRST_DUPLICATES} duplicates")
    chunk_size: int
    chunks: int = Field(description="the chunks the job would send")
    error: str | None = Field(description="why the job would fail, if it would")


def looked_up(vendor: Vendor, options: Mapping[str, Any], settings: Settings | None) -> Callable[..., Any]:
    """Prepare's own result cache lookups for the rows (a row and its cached answer, if any); without the
    deployment's settings, none is cached."""
    from enrichment.pipeline.prepare import cache_lookups  # prepare's own lookups (it imports much of the layer)

    if settings is None:
        return lambda rows: ((outcome, None) for outcome in rows)
    return cache_lookups(vendor, dict(options), settings)


def count_reason(reasons: dict[str, InvalidReason], outcome: RowOutcome) -> None:
    """Count an invalid row under its reason's kind (values quoted in it shown as '…'), keeping its first rows."""
    found = reasons.setdefault(
        kind := reason_kind(outcome.reason or ""), InvalidReason(reason=kind, rows=0, first_rows=[])
    )
    found.rows += 1
    if len(found.first_rows) < FIRST_ROWS:
        found.first_rows.append(outcome.row)


def top_reasons(reasons: dict[str, InvalidReason]) -> list[InvalidReason]:
    return sorted(reasons.values(), key=lambda r: (-r.rows, r.first_rows[0]))[:TOP_REASONS]


def preview_input(
    source: InputSource,
    vendor: Vendor,
    options: Mapping[str, Any],
    vendor_settings: VendorSettings,
    limits: InputLimits,
    *,
    show_file: bool = True,
    settings: Settings | None = None,
) -> InputPreview:
    """What a job with these options would make of this file: columns, rows to send, invalid, duplicates, chunks.

    With `settings` (the deployment's), rows the result cache would answer are counted as Prepare would find them
    and the expected credits use the match rates observed in past jobs; without, nothing is cached and the
    estimate is the vendor's default. A problem that would fail the job is the preview's `error`, with what was
    learned before it."""
    file_format: dict[str, str] | None = None
    columns: list[ColumnUse] = []
    ties: list[ColumnTie] = []
    counts: Counter[str] = Counter()
    reasons: dict[str, InvalidReason] = {}
    duplicates: list[DuplicateRow] = []
    error = None
    try:
        with open_table(source, limits) as table:
            classified = classify_input(table.header, table.rows, vendor, options)
            columns, ties = classified.mapping.columns, classified.mapping.ties
            for outcome, cached_answer in looked_up(vendor, options, settings)(classified.rows):
                counts[CACHED if cached_answer is not None else outcome.status] += 1
                if outcome.status == RowStatus.INVALID_INPUT:
                    count_reason(reasons, outcome)
                elif outcome.status == RowStatus.DUPLICATE and len(duplicates) < FIRST_DUPLICATES:
                    duplicates.append(DuplicateRow(row=outcome.row, of=outcome.twin or 0))
            if show_file:
                file_format = table.details  # final once the rows are read (a late accent decides the encoding)
    except BadInput as bad:
        error = str(bad)
    to_send = counts[SEND]
    try:
        observed = read_observed(settings.jobs_table, vendor, scope_of(vendor, dict(options))) if settings else None
        cost = estimate(
            vendor,
            dict(options),
            to_send=to_send,
            cached_rows=counts[CACHED],
            observed=observed,
            prices=vendor_settings.credit_prices,
        )
    except (BadInput, ValueError) as bad:  # options the job would refuse: the error says so, no cost is guessed
        error = error or str(bad)
        cost = estimate(vendor, {}, to_send=0, cached_rows=0, observed=None)
    return InputPreview(
        **cost.model_dump(),
        vendor=vendor,
        file=file_format,
        vendor_fields=list(adapter_class(vendor).input_fields),
        columns=columns,
        ties=ties,
        rows=counts.total(),
        invalid_input=counts[RowStatus.INVALID_INPUT],
        duplicate=counts[RowStatus.DUPLICATE],
        invalid_reasons=top_reasons(reasons),
        duplicates=duplicates,
        chunk_size=vendor_settings.chunk_size,
        chunks=-(-to_send // vendor_settings.chunk_size),
        error=error,
    )
