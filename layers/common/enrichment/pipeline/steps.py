"""A job of several steps: what each step is given, and how the steps' answers make one row.

A finding step (Pubrio, Prospeo, InsideView) after the first is given only the rows no earlier step matched; of
those, the rows without what its vendor needs are `invalid_input` for that step alone (never sent). A validation
step is given, per row, the best email found so far (the top email of the step that matched the row) or else the
row's own email, deduplicated across the whole job as any step's rows are; rows with neither are not given to it.

Merged, each row's status is the first finding step's match (else its error, its budget skip, its "not matched",
its invalid input, in that order), the result fields are that step's, and the validation step's verdict joins it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from enrichment.errors import BadInput
from enrichment.files import layout, storage
from enrichment.files.columns import map_columns
from enrichment.files.output import CACHE_SOURCE
from enrichment.models import ContactStatus, JobStep, RecordResult, RowStatus
from enrichment.options import job_options
from enrichment.pipeline import row_rules
from enrichment.pipeline.step_outcomes import NO_ORIGIN, Origin, RowAnswer, StepOutcomes
from enrichment.vendors import adapter_class

FIND, VALIDATE = "find", "validate"
VALIDATION_HEADER = ["email"]  # a validation step's rows: the one email each gets


def role(step: JobStep) -> str:
    return VALIDATE if step.validation else FIND


def check_columns(steps: Sequence[JobStep], header: list[str], options: dict[str, Any]) -> None:
    """Before anything is sent: some finding step has a column its vendor can match on (BadInput otherwise). A step
    whose vendor has none takes no row (each says what it lacks) and the next goes on: a recipe meets files of
    many shapes."""
    mapping = map_columns(header, job_options(options).columns)
    finders = [step for step in steps if role(step) == FIND]
    wanted = {f: None for step in finders for f in adapter_class(step.vendor).input_fields}
    if finders and not any(f in mapping.fields for f in wanted):
        raise BadInput(
            f"no column any step ({', '.join(s.vendor.value for s in finders)}) can match on. Found columns: "
            f"{', '.join(mapping.names)[:300]}. Expected at least one of: {', '.join(wanted)}"
        )


def found(answer: RowAnswer) -> RowStatus:
    """What a step found for a row: a duplicate's is its twin's."""
    if answer.status == RowStatus.DUPLICATE and answer.result is not None:
        return RowStatus(answer.result.status)
    return answer.status


def _matched(answer: RowAnswer | None) -> bool:
    return answer is not None and found(answer) == RowStatus.MATCHED


def best_email(steps: Sequence[JobStep], answers: Sequence[RowAnswer | None]) -> str | None:
    """The email of the finding step that matched the row, if it found one."""
    for step, answer in zip(steps, answers, strict=False):
        if role(step) == FIND and _matched(answer) and answer.result and answer.result.emails:  # type: ignore[union-attr]
            return answer.result.emails[0].value  # type: ignore[union-attr]
    return None


def step_rows(
    bucket: str,
    job_id: str,
    steps: Sequence[JobStep],
    step_index: int,
    header: list[str],
    rows: Iterator[tuple[int, list[str]]],
    options: dict[str, Any],
) -> tuple[list[str], Iterator[tuple[int, list[str]]], dict[str, Any]]:
    """The header, rows and options step `step_index` is classified with, read as the earlier steps answered
    them: a finding step's are the input's rows not matched yet; a validation step's are one email a row."""
    step = steps[step_index]
    if role(step) == FIND:
        return header, _unmatched_rows(bucket, job_id, steps, step_index, rows), options
    email_column = email_column_of(header, options)
    emails = _emails_to_validate(bucket, job_id, steps, step_index, rows, email_column)
    return VALIDATION_HEADER, emails, validation_options(options)


def email_column_of(header: list[str], options: dict[str, Any]) -> int | None:
    """The input's email column, as the job's columns option and the header map it."""
    return map_columns(header, job_options(options).columns).fields.get("email")


def own_email(cells: list[str], email_column: int | None) -> str | None:
    """The row's own email (a placeholder read as none)."""
    if email_column is None or email_column >= len(cells):
        return None
    given, _ = row_rules.without_placeholders({"email": cells[email_column]})
    return given.get("email", "").strip() or None


def validation_options(options: dict[str, Any]) -> dict[str, Any]:
    """A validation step's rows are one email each (VALIDATION_HEADER): the columns option is the input's."""
    return {k: v for k, v in options.items() if k != "columns"}


def _earlier_answers(
    bucket: str, job_id: str, steps: Sequence[JobStep], step_index: int, rows: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str], list[RowAnswer | None]]]:
    with ExitStack() as stack:
        outcomes = [
            stack.enter_context(StepOutcomes(bucket, job_id, k, steps[k].vendor, None)) for k in range(step_index)
        ]
        for number, cells in rows:
            yield number, cells, [o.answer(number) for o in outcomes]


def _unmatched_rows(
    bucket: str, job_id: str, steps: Sequence[JobStep], step_index: int, rows: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    for number, cells, answers in _earlier_answers(bucket, job_id, steps, step_index, rows):
        if not any(_matched(a) for s, a in zip(steps, answers, strict=False) if role(s) == FIND):
            yield number, cells


def _emails_to_validate(
    bucket: str,
    job_id: str,
    steps: Sequence[JobStep],
    step_index: int,
    rows: Iterator[tuple[int, list[str]]],
    email_column: int | None,
) -> Iterator[tuple[int, list[str]]]:
    for number, cells, answers in _earlier_answers(bucket, job_id, steps, step_index, rows):
        email = best_email(steps, answers) or own_email(cells, email_column)
        if email:
            yield number, [email]


def step_exists(bucket: str, job_id: str, step: int) -> bool:
    """Whether Prepare wrote the step's plan (a step the job never reached has none)."""
    return storage.exists(bucket, layout.plan_key(job_id, step))


@dataclass
class MergedRow:
    """One input row's answer from all the steps."""

    status: RowStatus
    reason: str | None
    result: RecordResult | None
    twin: int | None
    origin: Origin
    vendor: str  # the finding step that decided the row (its match, or the first that answered)
    email_source: str | None
    phone_source: str | None
    validation: RowAnswer | None


_DECIDING = (RowStatus.ERROR, RowStatus.SKIPPED, RowStatus.NOT_MATCHED, RowStatus.INVALID_INPUT)


def merge_row(steps: Sequence[JobStep], answers: Sequence[RowAnswer | None]) -> MergedRow:
    finders = [(s, a) for s, a in zip(steps, answers, strict=False) if role(s) == FIND and a is not None]
    validation = next((a for s, a in zip(steps, answers, strict=False) if role(s) == VALIDATE and a is not None), None)
    deciding = next(((s, a) for s, a in finders if _matched(a)), None)
    for status in _DECIDING:
        deciding = deciding or next(((s, a) for s, a in finders if found(a) == status), None)
    if deciding is None:
        step, answer = None, RowAnswer(RowStatus.INVALID_INPUT, "no step took this row", None, None, NO_ORIGIN)
    else:
        step, answer = deciding
    status, reason, result, twin, origin = answer
    vendor = step.vendor.value if step else ""
    matched = _matched(answer)
    if not matched and len(finders) > 1:
        if status in (RowStatus.ERROR, RowStatus.SKIPPED):
            reason = f"{vendor}: {reason}"  # what kept the row from being answered, and where
        else:
            reason = "; ".join(f"{s.vendor.value}: {a.reason or found(a).value}" for s, a in finders)  # each step
    merged = result.model_copy(deep=True) if result is not None and matched else None
    if validation is not None and validation.result is not None:
        merged = merged or RecordResult(status=RowStatus.NOT_MATCHED)  # the verdict on the row's own email
        merged.verification = validation.result.verification
    if merged is not None:
        merged.credits = _credits([a for _, a in finders] + ([validation] if validation else []))
    source = vendor if matched else None
    return MergedRow(
        status=status,
        reason=reason,
        result=merged,
        twin=twin,
        origin=origin,
        vendor=vendor,
        email_source=source if merged and merged.emails else None,
        phone_source=source if merged and merged.phones else None,
        validation=validation,
    )


def _credits(answers: Sequence[RowAnswer]) -> float | None:
    """What the row cost across the steps, where vendors price single rows (a duplicate cost nothing)."""
    priced = [a.result.credits for a in answers if a.twin is None and a.result and a.result.credits is not None]
    return sum(priced) if priced else None


def verdict(validation: RowAnswer | None) -> str:
    """The validation step's grade of the row's email (valid, invalid, risky, unknown): `invalid` for an address
    it could not take as one (its reason says why), empty when there was none to grade."""
    if validation is None:
        return ""
    if validation.status == RowStatus.INVALID_INPUT:
        return ContactStatus.INVALID.value
    if validation.result is None or not validation.result.emails:
        return ""
    return validation.result.emails[0].status or ""


def step_cells(merged: MergedRow) -> dict[str, str]:
    """A job of steps' own columns for a row (files.output.STEP_COLUMNS)."""
    cells = {
        "result_email_source": merged.email_source or "",
        "result_phone_source": merged.phone_source or "",
        "result_email_validation": verdict(merged.validation),
    }
    if merged.validation is not None and merged.validation.result is None and merged.validation.reason:
        cells["result_email_verification_reason"] = merged.validation.reason  # not graded: why (a bad address)
    return cells


@dataclass
class StepTally:
    """One step's figures for the summary's waterfall."""

    step: JobStep
    received: Counter[str] = field(default_factory=Counter)  # the rows it was given, by what it found
    cached: int = 0
    duplicates: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    credits: float = 0.0
    unanswered: Counter[str] = field(default_factory=Counter)  # rows given it that got no answer, by why
    answered: int = 0  # rows its vendor answered in this job (not from the cache, not duplicates)
    answered_matched: int = 0

    @property
    def unfinished(self) -> str | None:
        """A validation step that left rows ungraded (their chunks failed, or a budget kept them), saying why: the
        job is then PARTIAL, though every row has its find."""
        if role(self.step) != VALIDATE or not self.unanswered:
            return None
        why = "; ".join(sorted(self.unanswered))
        return f"{self.unanswered.total()} emails not validated by {self.step.vendor.value}: {why}"

    def add(self, answer: RowAnswer | None) -> None:
        if answer is None:
            return
        self.received[found(answer)] += 1
        if answer.status == RowStatus.DUPLICATE:
            self.duplicates += 1
        elif answer.origin.source == CACHE_SOURCE:
            self.cached += 1
        elif answer.status in (RowStatus.MATCHED, RowStatus.NOT_MATCHED):
            self.answered += 1
            self.answered_matched += answer.status == RowStatus.MATCHED
        if role(self.step) == VALIDATE and (grade := verdict(answer)):
            self.verdicts[grade] += 1
        if found(answer) in (RowStatus.ERROR, RowStatus.SKIPPED):
            self.unanswered[answer.reason or found(answer).value] += 1

    def summary(self, number: int, rows_total: int) -> dict[str, Any]:
        received = self.received.total()
        matched = self.received[RowStatus.MATCHED]
        not_taken = self.received[RowStatus.INVALID_INPUT]
        skipped = self.received[RowStatus.SKIPPED]
        entry: dict[str, Any] = {
            "step": number,
            "vendor": self.step.vendor.value,
            "role": role(self.step),
            "rows_received": received,
            "rows_not_taken": not_taken,
            "rows_sent": received - not_taken - self.duplicates - self.cached - skipped,
            "cached_rows": self.cached,
            "duplicates": self.duplicates,
            "matched": matched,
            "not_matched": self.received[RowStatus.NOT_MATCHED],
            "errors": self.received[RowStatus.ERROR],
            "skipped": skipped,
            "credits": self.credits,
        }
        if role(self.step) == FIND:
            entry["passed_on"] = received - matched
            entry["match_rate_added"] = round(matched / rows_total, 4) if rows_total else None
        else:
            entry["verdicts"] = dict(sorted(self.verdicts.items()))
        return entry
