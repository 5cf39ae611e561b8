"""Preview of a job of steps: what each step could take from the file, and what the job can cost at worst and is
likely to cost, before anything is sent. No job is created, no vendor is called, nothing is written.

Each finding step's rows are classified by its vendor's rules and options (pipeline.classify, as Prepare does)
and looked up in the result cache (prepare.cache_lookups); a row an earlier step's cache answered with a match
is not given to it, as Prepare would not. The file is read once per step; what a step made of each row is kept
in one byte a row (`_Codes`), which is all the later steps need of it.

- Worst case of a finding step: every row it can take reaches it (no earlier step matched any), so its distinct
  requests not cached x the price model's row worst case. Distinct requests over every row bound those of any
  subset of them, so the bound holds whatever the earlier steps match.
- Expected (inferred: steps are taken to match independently, at the rates of past jobs): a row reaches a step
  with the product of (1 - match rate) of the earlier finding steps that could take it (a cached answer is
  certain); rows sent = the chances of the rows sent first of their request (a duplicate is answered from its
  twin); credits = rows sent x the observed credits a sent row (`cost.read_observed`), else the price model's
  `row_expected` at `cost.DEFAULT_MATCH_RATE`.
- Validation step: at worst one address for each row some finding step could take (what it finds, else the
  row's own), plus the distinct addresses given on the rows no step can take (not cached, addresses only).
  Expected: rows that send their own address + for the others the chance some step finds one (inferred: a match
  carries an email, unless the step asked for none: Pubrio with phone only).
- The job: sums of the steps, each capped by max_credits (the job never spends beyond it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from pydantic import Field

from enrichment.errors import BadInput
from enrichment.files.columns import ColumnTie, ColumnUse
from enrichment.files.reader import InputSource, open_table
from enrichment.models import JobStep, Model, RowStatus, Vendor
from enrichment.options import job_options, vendor_options
from enrichment.pipeline.classify import SEND, classify_input
from enrichment.pipeline.cost import read_observed, row_basis, scope_of
from enrichment.pipeline.preview import TOP_REASONS, InvalidReason, count_reason, looked_up, top_reasons
from enrichment.pipeline.steps import (
    FIND,
    VALIDATION_HEADER,
    check_columns,
    email_column_of,
    own_email,
    role,
    validation_options,
)
from enrichment.settings import InputLimits, Settings, vendor_settings
from enrichment.vendors import adapter_class
from enrichment.vendors.pricing import price_model

# What a finding step made of a row, one byte a row (bytearray): the later steps' chances are read from it.
NOT_GIVEN = 0  # an earlier step's cached answer matched it: never given to this step
NOT_TAKEN = 1  # invalid for this step's vendor (lacking what it needs)
SENT = 2  # the first row of its request: sent
DUPLICATE = 3  # answered from an earlier row asking the same
CACHED_EMAIL = 4  # the cache answers it: matched, with an email
CACHED_MATCH = 5  # the cache answers it: matched, no email
CACHED_NO_MATCH = 6  # the cache answers it: not matched (passed on)
_REACHES = (SENT, DUPLICATE)  # the step may or may not match it
_MATCHED = (CACHED_EMAIL, CACHED_MATCH)  # certain matches: the row goes no further


class StepPreview(Model):
    step: int = Field(description="1 = the first step")
    vendor: Vendor
    role: Literal["find", "validate"]
    rows_can_take: int = Field(
        description="find: rows given it that carry what its vendor needs (sent, duplicates, cached); validate: "
        "rows with an address to grade, at most (some step could find one, or the row has its own)"
    )
    rows_not_taken: int = Field(description="rows given it that lack what its vendor needs: never sent")
    duplicate: int = Field(description="rows asking what an earlier row asks: answered from it")
    cached_rows: int = Field(description="rows the result cache would answer: not sent, no credit")
    cached_matched: int = Field(description="of those, matched: not passed on to the next step")
    invalid_reasons: list[InvalidReason] = Field(description=f"why rows are not taken: the {TOP_REASONS} most frequent")
    worst_case_rows: int = Field(description="rows sent if every row it can take reaches it")
    worst_case_credits: float = Field(description="credits at worst: worst_case_rows x the vendor's worst case a row")
    expected_rows_sent: float = Field(description="rows expected to reach it and be sent (the earlier steps' rates)")
    expected_credits: float
    chunk_size: int
    chunks_at_worst: int
    basis: Literal["observed", "default"] = Field(
        description="observed: the match rate and credits a row of past jobs of this vendor and answer options; "
        "default: no history yet"
    )
    basis_rows: int = Field(description="observed: the rows sent in past jobs the estimate is based on; default: 0")
    match_rate: float = Field(description="the match rate assumed for this step")


class StepsPreview(Model):
    """What a job of steps would do with a file: nothing is sent, no job is created."""

    steps: list[StepPreview] = Field(description="each step's rows and credits, in order")
    file: dict[str, str] | None = Field(
        description="how the file is read (format, encoding, delimiter, line_ends, compression, or sheet); "
        "none for inline records or a file that cannot be opened"
    )
    columns: list[ColumnUse] = Field(description="each input column and the field read from it, if any")
    ties: list[ColumnTie] = Field(description="columns naming one field, and the one read")
    rows: int = Field(description="rows read (up to the error, if the file breaks)")
    worst_case_credits: float = Field(
        description="the most the job can cost: the steps' worst cases added, capped by max_credits"
    )
    expected_credits: float = Field(description="the credits the job is expected to cost: the steps' added")
    max_credits: float | None = Field(description="the job's budget, if set: it caps both")
    error: str | None = Field(description="why the job would fail, if it would")


class _Step:
    """One step's options, prices and rate, as the job would run it."""

    def __init__(self, number: int, step: JobStep, job: dict[str, Any], settings: Settings | None) -> None:
        self.number, self.step, self.vendor = number, step, step.vendor
        self.options = {**job, **step.options}
        self.parsed = adapter_class(self.vendor).parse_options(vendor_options(self.options))
        chosen = settings.vendor(self.vendor) if settings else vendor_settings(self.vendor)
        self.chunk_size = chosen.chunk_size
        self.model = price_model(self.vendor, chosen.credit_prices)
        observed = (
            read_observed(settings.jobs_table, self.vendor, scope_of(self.vendor, self.options)) if settings else None
        )
        self.rate, self.row_credits, self.basis, self.basis_rows = row_basis(
            self.vendor, self.parsed, self.model, observed
        )
        # Inferred: a match carries an email unless the step asked for none (Pubrio's contact_types: phone only).
        types = getattr(self.parsed, "contact_types", None)
        self.finds_email = types is None or any(str(t).startswith("email") for t in types)

    def preview(self, counts: Counter[int], reasons: dict[str, InvalidReason], worst: int, expected: float) -> Any:
        worst_credits = worst * self.model.row_worst_case(self.parsed)
        return StepPreview(
            step=self.number,
            vendor=self.vendor,
            role=role(self.step),
            rows_can_take=worst if role(self.step) != FIND else counts.total() - counts[NOT_TAKEN],
            rows_not_taken=counts[NOT_TAKEN],
            duplicate=counts[DUPLICATE],
            cached_rows=counts[CACHED_EMAIL] + counts[CACHED_MATCH] + counts[CACHED_NO_MATCH],
            cached_matched=counts[CACHED_EMAIL] + counts[CACHED_MATCH],
            invalid_reasons=top_reasons(reasons),
            worst_case_rows=worst,
            worst_case_credits=round(worst_credits, 4),
            expected_rows_sent=round(expected, 2),
            expected_credits=round(min(expected * self.row_credits, worst_credits), 4),
            chunk_size=self.chunk_size,
            chunks_at_worst=-(-worst // self.chunk_size),
            basis=self.basis,
            basis_rows=self.basis_rows,
            match_rate=round(self.rate, 4),
        )


class _Codes:
    """What each finding step made of each row, one byte a row a step."""

    def __init__(self) -> None:
        self.steps: list[tuple[_Step, bytearray]] = []

    def add(self, step: _Step) -> bytearray:
        codes = bytearray()
        self.steps.append((step, codes))
        return codes

    def of(self, row: int) -> Iterator[tuple[_Step, int]]:
        for step, codes in self.steps:
            yield step, codes[row - 1] if row <= len(codes) else NOT_GIVEN

    def matched_before(self, row: int) -> bool:
        return any(code in _MATCHED for _, code in self.of(row))

    def chances(self, row: int) -> tuple[float, float, bool]:
        """(the chance the row reaches the next step, the chance some step finds it an email, whether some step
        could give it an address of its own finding)."""
        reach, email, could_find = 1.0, 0.0, False
        for step, code in self.of(row):
            if code == CACHED_EMAIL:
                return 0.0, email + reach, True
            if code == CACHED_MATCH:
                return 0.0, email, could_find
            if code in _REACHES:
                email += reach * step.rate * step.finds_email
                reach *= 1 - step.rate
                could_find = could_find or step.finds_email
        return reach, email, could_find


def _record(code: int, outcome: Any, codes: bytearray) -> int:
    if len(codes) < outcome.row - 1:
        codes.extend(bytes(outcome.row - 1 - len(codes)))  # rows not given it (matched earlier): NOT_GIVEN
    if code == DUPLICATE and outcome.twin and codes[outcome.twin - 1] >= CACHED_EMAIL:
        code = codes[outcome.twin - 1]  # answered from a cached twin: as certain as it
    codes.append(code)
    return code


def _code(outcome: Any, cached: Any) -> int:
    if cached is not None:
        if RowStatus(cached.result.status) != RowStatus.MATCHED:
            return CACHED_NO_MATCH
        return CACHED_EMAIL if cached.result.emails else CACHED_MATCH
    return {SEND: SENT, RowStatus.DUPLICATE: DUPLICATE}.get(outcome.status, NOT_TAKEN)


class _FirstRead(Model):
    """What the first finding step's read tells of the file itself."""

    file: dict[str, str] | None = None
    columns: list[ColumnUse] = []
    ties: list[ColumnTie] = []
    rows: int = 0


def _finding_pass(
    source: InputSource,
    limits: InputLimits,
    step: _Step,
    codes: _Codes,
    settings: Settings | None,
    first: _FirstRead | None,
    steps: Sequence[JobStep],
) -> StepPreview:
    """One read of the file for one finding step: its rows' codes kept, its figures counted; on the first, what
    the file is (`first`, filled in)."""
    counts: Counter[int] = Counter()
    reasons: dict[str, InvalidReason] = {}
    worst, expected = 0, 0.0
    earlier = _Codes()
    earlier.steps = list(codes.steps)
    mine = codes.add(step)
    with open_table(source, limits) as table:
        if first is not None:
            check_columns(steps, table.header, step.options)  # as Prepare checks the file before the first step
        given = ((n, cells) for n, cells in table.rows if not earlier.matched_before(n))
        classified = classify_input(
            table.header, given, step.vendor, step.options, empty_ok=first is None, require_column=False
        )
        if first is not None:
            first.columns, first.ties = classified.mapping.columns, classified.mapping.ties
        for outcome, cached in looked_up(step.vendor, step.options, settings)(classified.rows):
            code = _record(_code(outcome, cached), outcome, mine)
            counts[code] += 1
            if code == NOT_TAKEN:
                count_reason(reasons, outcome)
            elif code == SENT:
                worst += 1
                expected += earlier.chances(outcome.row)[0]
        if first is not None:
            first.rows = counts.total()
            first.file = table.details  # final once the rows are read (a late accent decides the encoding)
    return step.preview(counts, reasons, worst, expected)


def _validation_pass(
    source: InputSource, limits: InputLimits, step: _Step, codes: _Codes, settings: Settings | None
) -> StepPreview:
    """One read of the file for the validation step: an address a row, its own where no step can find one."""
    adapter = adapter_class(step.vendor)
    counts: Counter[int] = Counter()
    reasons: dict[str, InvalidReason] = {}
    found_rows, expected = 0, 0.0
    with open_table(source, limits) as table:
        email_column = email_column_of(table.header, step.options)

        def own_addresses() -> Iterator[tuple[int, list[str]]]:
            nonlocal found_rows, expected
            for number, cells in table.rows:
                own = own_email(cells, email_column)
                _, email, could_find = codes.chances(number)
                if could_find or email:
                    found_rows += 1  # some step may find it an address: one to grade, whatever it is
                    valid_own = own is not None and adapter.validate({"email": own}) is None
                    expected += email + (1 - email) * valid_own
                elif own:
                    yield number, [own]

        options = validation_options(step.options)
        classified = classify_input(VALIDATION_HEADER, own_addresses(), step.vendor, options, empty_ok=True)
        sent_own = 0
        for outcome, cached in looked_up(step.vendor, step.options, settings)(classified.rows):
            code = _code(outcome, cached)
            counts[code] += 1
            if code == NOT_TAKEN:
                count_reason(reasons, outcome)
            elif code == SENT:
                sent_own += 1
    preview = step.preview(counts, reasons, found_rows + sent_own, expected + sent_own)
    preview.rows_can_take = found_rows + counts.total() - counts[NOT_TAKEN]
    return preview


def preview_steps(
    source: InputSource,
    steps: Sequence[JobStep],
    options: dict[str, Any],
    limits: InputLimits,
    *,
    show_file: bool = True,
    settings: Settings | None = None,
) -> StepsPreview:
    """What a job of these steps (options.parse_steps) and the job's own options would make of the file, and cost.

    With `settings` (the deployment's), cached rows count as Prepare would find them and the rates are those
    observed in past jobs; without, nothing is cached and each vendor's default applies. A problem that would
    fail the job is the preview's `error`, with what was learned before it."""
    codes = _Codes()
    done: list[StepPreview] = []
    first = _FirstRead()
    error = None
    try:
        prepared = [_Step(n, step, options, settings) for n, step in enumerate(steps, start=1)]
        for step in prepared:
            if role(step.step) != FIND:
                done.append(_validation_pass(source, limits, step, codes, settings))
            else:
                done.append(_finding_pass(source, limits, step, codes, settings, None if done else first, steps))
    except (BadInput, ValueError) as bad:  # what would fail the job: the steps read so far are shown
        error = str(bad)
    max_credits = job_options(options).max_credits
    worst = sum(s.worst_case_credits for s in done)
    expected = sum(s.expected_credits for s in done)
    if max_credits is not None:
        worst = min(worst, float(max_credits))
        for step in done:
            step.worst_case_credits = min(step.worst_case_credits, float(max_credits))
            step.expected_credits = min(step.expected_credits, step.worst_case_credits)
    return StepsPreview(
        steps=done,
        file=first.file if show_file else None,
        columns=first.columns,
        ties=first.ties,
        rows=first.rows,
        worst_case_credits=round(worst, 4),
        expected_credits=round(min(expected, worst), 4),
        max_credits=float(max_credits) if max_credits is not None else None,
        error=error,
    )
