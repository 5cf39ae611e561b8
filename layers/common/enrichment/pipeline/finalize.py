"""Finalize: merge chunk results into one row out per row in, write the outputs, settle the job.

One pass: the input, each step's plan and results are each read once, in order (pipeline/step_outcomes.py), and
results.csv and results.jsonl are streamed to S3 as they are written (multipart uploads, nothing spooled to disk).
A job of several steps merges each row's answers into one row (pipeline/steps.py); a step it never reached
answered no row. Memory is bounded whatever the file: per step, what step_outcomes holds; one part of each output
being filled (storage.PART_BYTES).

A failure that is not Transient (an input that can no longer be read, a result that does not parse) still leaves
summary.json and report.html saying why, and the job FAILED with that reason; a Transient one (S3 throttling, a
5xx, a dropped connection) is raised for the state machine to try again.

A job settles exactly once: the finalizer first claims it (FINALIZING, conditional), only the claimant writes
the outputs, and only the write that moves the job to its final status announces it (one event, so one
webhook). A retry by the same finalizer resumes its claim; a dead finalizer's claim lapses after its lease.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import json
import logging
import uuid
from collections import Counter
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries.standard import (
    OrRetryChecker,
    RetryContext,
    ThrottledRetryableChecker,
    ThrottlingStatusCodeChecker,
    TransientRetryableChecker,
)
from pydantic import ValidationError

from enrichment.errors import BadInput, Transient, caught_message
from enrichment.files import layout, storage
from enrichment.files.columns import unique_names
from enrichment.files.csvio import safe_cell
from enrichment.files.output import STEP_COLUMNS, csv_columns, result_cells
from enrichment.files.reader import InputTable, open_table
from enrichment.files.report import RowTally, render_report
from enrichment.files.retention import delete_working_files
from enrichment.jobs.events import emit_job_ended
from enrichment.jobs.service import CANCELLED
from enrichment.jobs.store import JobStore, now_iso
from enrichment.metrics import job_settled
from enrichment.models import FinalizeInput, Job, JobStatus, JobStep, RowStatus
from enrichment.pipeline.cost import Observed, record_observed, scope_of
from enrichment.pipeline.step_outcomes import RowAnswer, StepOutcomes
from enrichment.pipeline.steps import StepTally, merge_row, step_cells, step_exists
from enrichment.settings import Settings
from enrichment.vendors import adapter_class

# Longer than the Finalize function's timeout: a claim outlives any finalizer still at work.
LEASE_SECONDS = 16 * 60

logger = logging.getLogger(__name__)


def failure_reason(failure: dict[str, Any] | None, job: Job) -> str | None:
    """The reason a person should read: a vendor's stop reason first, then the error the state machine caught."""
    if job.stop_reason and not _stopped_step(job):
        return job.stop_reason
    return caught_message(failure) if failure else None


def _stopped_step(job: Job) -> bool:
    """Whether the job's stop is a vendor's in a job of steps: it stopped that step only (its rows not answered
    are errors), not the job."""
    return bool(job.steps) and job.stop_reason is not None and job.stop_error != CANCELLED


def step_stops(job: Job) -> dict[int, str]:
    """The steps a vendor stopped (out of credits, bad credentials), by index, with the vendor's words."""
    stops = {int(k): figures["stopped"] for k, figures in job.steps_prepared.items() if figures.get("stopped")}
    if _stopped_step(job):
        stops[max((int(k) for k in job.steps_prepared), default=0)] = job.stop_reason  # type: ignore[assignment]
    return stops


def finalize_job(request: FinalizeInput, settings: Settings) -> Job:
    store = JobStore(settings.jobs_table)
    finalizer = request.finalizer or f"finalize-{uuid.uuid4()}"
    job = store.require(request.job_id)
    if job.status.is_final:
        if job.finalizer == finalizer and not job.announced_at:
            _announce(store, job, settings)  # a retry after the job settled but before it was announced
        if job.finalizer == finalizer:
            _record_observed(job, settings)  # a retry after the job settled: if the first died before it
            _delete_working_files(job, settings)  # a retry after the job settled: what the first left, if any
        return store.require(job.job_id)
    if not store.claim_finalize(job.job_id, finalizer, LEASE_SECONDS):
        return store.require(job.job_id)  # another finalizer holds the job: it writes and announces
    job = store.require(job.job_id)
    bucket = settings.data_bucket
    reason = failure_reason(request.failure, job)
    prefix = layout.output_prefix(job.job_id)
    adapter = adapter_class(job.vendor)
    tally: RowTally | None = None
    step_tallies: list[StepTally] = []
    credits = 0.0
    columns = None
    unfinished = None  # why the outputs could not be written, if they could not
    try:
        columns = storage.get_json_if_any(bucket, layout.columns_key(job.job_id))
        if storage.exists(bucket, layout.plan_key(job.job_id)):
            tally = RowTally(_result_columns(job))
            credits, step_tallies = _write_results(job, settings, prefix, reason, tally)
        elif reason is None:
            reason = "the job ended before its input was read"
    except Exception as exc:
        if _transient(exc):
            raise
        # The type only: a message may quote the row data (a result that does not validate).
        logger.warning("the results could not be written", extra={"job_id": job.job_id, "error": type(exc).__name__})
        unfinished = f"the job could not be finalized: {_explain(exc)}"
        reason = unfinished + (f" (it had ended: {reason})" if reason else "")
        tally, credits = None, job.credits  # the credits its chunks recorded as they settled
    counts: Counter[str] = tally.counts if tally is not None else Counter()

    if unfinished is not None:
        status = JobStatus.FAILED
    elif job.stop_error == CANCELLED:
        status = JobStatus.CANCELLED
    elif reason is not None:
        status = JobStatus.FAILED
    elif counts[RowStatus.ERROR] or counts[RowStatus.SKIPPED]:
        status = JobStatus.PARTIAL
    else:
        status = JobStatus.SUCCEEDED
    stops = step_stops(job)
    if reason is None:
        # What kept a job that ran from being whole, each part saying why: rows a budget kept from being sent; a
        # job of steps' vendor that stopped its step (the other steps did theirs, the rows nobody answered are
        # errors) and emails its validation step left ungraded (every row keeps its find).
        notes = [f"step {k + 1} ({job.steps[k].vendor.value}) stopped: {why}" for k, why in stops.items()]
        notes += [ungraded for t in step_tallies if (ungraded := t.unfinished)]
        if notes:
            status = JobStatus.PARTIAL if status == JobStatus.SUCCEEDED else status
        if counts[RowStatus.SKIPPED] and tally is not None:
            notes.insert(0, _skipped_reason(tally, counts[RowStatus.SKIPPED]))  # PARTIAL: why rows were not sent
        reason = "; ".join(notes) or None
    finished_at = now_iso()
    summary = {
        "job_id": job.job_id,
        "vendor": job.vendor.value,
        "status": status.value,
        "error": reason,
        "rows": sum(counts.values()),
        "counts": {s.value: counts.get(s.value, 0) for s in RowStatus},
        "credits": credits,
        "credits_unit": adapter.credits_unit,
        # What Prepare expected the rows it sent to cost, and at most (pipeline/cost.py), against `credits`.
        "credits_expected": job.credits_expected,
        "credits_worst_case": job.credits_worst_case,
        "credits_basis": job.credits_basis,
        "credits_basis_rows": job.credits_basis_rows,
        "credits_by_vendor": _credits_by_vendor(job, credits, step_tallies),
        "credits_per_matched_row": round(credits / matched, 4) if (matched := counts[RowStatus.MATCHED]) else None,
        "max_credits": job.options.get("max_credits"),
        "skipped_rows": counts[RowStatus.SKIPPED],
        # Rows answered from the result cache: no vendor call, no credit (their duplicates count as duplicates).
        "cached_rows": tally.cached if tally is not None else 0,
        "chunks": {"total": job.chunks_total or 0, "failed": job.chunks_failed},
        "options": job.options,
        # A job of steps: its steps, and per step what it was given, sent, found, passed on and cost.
        **(
            {
                "steps": [step.model_dump(mode="json", by_alias=True, exclude_none=True) for step in job.steps],
                "waterfall": [
                    t.summary(n, sum(counts.values())) | ({"stopped": stops[n - 1]} if n - 1 in stops else {})
                    for n, t in enumerate(step_tallies, start=1)
                ],
            }
            if job.steps
            else {}
        ),
        # Each input column and the field read from it (none: ignored); ties: columns naming one field, and which
        # was read. Null when the job ended before its header was read.
        "columns": columns["columns"] if columns else None,
        "column_ties": columns["ties"] if columns else None,
        "input_name": job.input_name,
        "input_key": job.input_key,
        "input_format": job.input_format,
        "timings": {
            "created_at": job.created_at,
            "started_at": job.started_at,
            "finished_at": finished_at,
            "duration_seconds": _seconds_between(job.created_at, finished_at),
        },
    }
    storage.put_json(bucket, prefix + "summary.json", summary)
    storage.put_text(bucket, prefix + "report.html", render_report(summary, tally), "text/html; charset=utf-8")
    settled = store.settle(
        job.job_id,
        finalizer,
        status,
        finished_at=finished_at,
        counts=summary["counts"],
        credits=credits,
        credits_by_vendor=summary["credits_by_vendor"],
        **({"credits_per_matched_row": summary["credits_per_matched_row"]} if matched else {}),
        **({"error": reason} if reason else {}),
        # Kept on the item so a retry of this finalizer can still add them to the observed match rates.
        **_observed_figures(job, tally, step_tallies),
    )
    ended = store.require(job.job_id)
    if settled:
        job_settled(job.vendor, status, summary["counts"], credits, summary["timings"]["duration_seconds"])
        _record_observed(ended, settings)
        _announce(store, ended, settings)
        _delete_working_files(ended, settings)
    return ended


def _observed_figures(job: Job, tally: RowTally | None, step_tallies: list[StepTally]) -> dict[str, Any]:
    """The rows the vendor answered and matched, for the observed match rates (a job of steps: its first step's,
    and what that step cost)."""
    if job.steps and step_tallies:
        first = step_tallies[0]
        return {
            "rows_answered_by_vendor": first.answered,
            "rows_matched_by_vendor": first.answered_matched,
            "credits_observed": first.credits,
        }
    return {
        "rows_answered_by_vendor": tally.vendor_answered if tally is not None and not job.steps else 0,
        "rows_matched_by_vendor": tally.vendor_matched if tally is not None and not job.steps else 0,
    }


def _result_columns(job: Job) -> tuple[str, ...]:
    """results.csv's result columns: the vendor's; a job of steps, every step's vendor's and the steps' own."""
    wanted = set().union(*(adapter_class(step.vendor).result_columns for step in job.step_list))
    return csv_columns(wanted | set(STEP_COLUMNS) if job.steps else wanted)


def _credits_by_vendor(job: Job, credits: float, step_tallies: list[StepTally]) -> dict[str, float]:
    if not job.steps:
        return {job.vendor.value: credits}
    spent: dict[str, float] = {}
    for step_tally in step_tallies:
        spent[step_tally.step.vendor.value] = spent.get(step_tally.step.vendor.value, 0.0) + step_tally.credits
    return spent


def _record_observed(job: Job, settings: Settings) -> None:
    """Add the rows the vendor answered in this job, and what they cost, to the observed match rates: once (a
    marker on the job item, in the same transaction). A job whose vendor answered nothing adds nothing. A job of
    steps adds its first step's (given every row, as a job of that vendor; a later step sees only the rows the
    steps before it missed, not its vendor's rate)."""
    if job.match_rate_recorded or not job.rows_answered_by_vendor:
        return
    credits = job.credits_observed if job.credits_observed is not None else job.credits
    observed = Observed(rows_sent=job.rows_answered_by_vendor, rows_matched=job.rows_matched_by_vendor, credits=credits)
    try:
        scope = scope_of(job.vendor, job.step_options(0))
        record_observed(settings.jobs_table, job.job_id, job.vendor, scope, observed)
    except (BadInput, ValueError):  # options no longer valid: the job failed on them, and sent nothing
        return


def _skipped_reason(tally: RowTally, skipped: int) -> str:
    """Why rows were not sent, in the budget's own words ("credit budget of 500 reached")."""
    budgets = sorted({r.reason for r in tally.reasons.values() if r.status == RowStatus.SKIPPED})
    return f"{skipped} rows not sent: {'; '.join(budgets) or 'a credit budget was reached'}"


def _delete_working_files(job: Job, settings: Settings) -> None:
    """Once the job has settled (the job item says so first: a finalizer that comes later finds it final and
    reads nothing), its working files go. A failure is logged, never raised: the job is settled, and the bucket's
    lifecycle rule deletes what is left."""
    try:
        deleted = delete_working_files(settings.data_bucket, job.job_id)
    except Exception as exc:  # noqa: BLE001 - the job is settled; the lifecycle rule is the safety net
        logger.warning("working files not deleted", extra={"job_id": job.job_id, "error": type(exc).__name__})
        return
    logger.info("working files deleted", extra={"job_id": job.job_id, "deleted": deleted})


def _announce(store: JobStore, job: Job, settings: Settings) -> None:
    emit_job_ended(job, settings)
    store.update(job.job_id, announced_at=now_iso())


def _seconds_between(start: str, end: str) -> float:
    return round((dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds(), 3)


_TRANSIENT = OrRetryChecker([TransientRetryableChecker(), ThrottledRetryableChecker(), ThrottlingStatusCodeChecker()])


def _transient(exc: Exception) -> bool:
    """Whether trying again may succeed: a Transient error, or an AWS error botocore's standard retry mode counts
    as transient or throttled (it has already retried it, so it may pass by the state machine's retry)."""
    if isinstance(exc, Transient):
        return True
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        answer = SimpleNamespace(status_code=status) if status else None
        return _TRANSIENT.is_retryable(RetryContext(1, parsed_response=exc.response, http_response=answer))
    if isinstance(exc, BotoCoreError):
        return _TRANSIENT.is_retryable(RetryContext(1, caught_exception=exc))
    return False


def _explain(exc: Exception) -> str:
    """A finalize failure in words a person can show: no values quoted from the data."""
    if isinstance(exc, ValidationError):
        return f"a stored {exc.title} is not valid ({exc.error_count()} errors)"
    return (str(exc) or type(exc).__name__)[:500]


def _write_results(
    job: Job, settings: Settings, prefix: str, job_error: str | None, tally: RowTally
) -> tuple[float, list[StepTally]]:
    """Write results.csv and results.jsonl, counting each row into `tally` on the way; the job's credits, and each
    step's figures for a job of steps (pipeline/steps.py: one row out per row in, the steps' answers merged)."""
    bucket = settings.data_bucket
    table = _reopen_input(job, settings)
    header, rows = table.header, table.rows
    names = unique_names(header)  # two columns named alike stay two columns, in both files
    result_columns = tally.columns
    steps = job.step_list
    step_tallies = [StepTally(step) for step in steps] if job.steps else []
    with contextlib.ExitStack() as stack:
        # A step the job never reached (it failed or was cancelled before) has no plan: it answered no row.
        outcomes = [
            stack.enter_context(StepOutcomes(bucket, job.job_id, k, step.vendor, job_error))
            if k == 0 or step_exists(bucket, job.job_id, k)
            else None
            for k, step in enumerate(steps)
        ]
        csv_out = stack.enter_context(
            storage.streamed_upload(bucket, prefix + "results.csv", "text/csv; charset=utf-8")
        )
        jsonl_out = stack.enter_context(
            storage.streamed_upload(bucket, prefix + "results.jsonl", "application/x-ndjson")
        )
        writer = csv.writer(csv_out, lineterminator="\r\n")
        writer.writerow([safe_cell(name) for name in names] + list(result_columns))
        for number, cells in rows:
            answers = [o.answer(number) if o is not None else None for o in outcomes]
            if answers[0] is None:
                raise BadInput(_INPUT_CHANGED)
            if job.steps:
                merged = merge_row(steps, answers)
                status, reason, result, twin, origin = (
                    merged.status,
                    merged.reason,
                    merged.result,
                    merged.twin,
                    merged.origin,
                )
                out = result_cells(status, reason, merged.vendor, result, twin, origin.source, origin.fetched_at)
                out |= step_cells(merged)
                for step_tally, answer in zip(step_tallies, answers, strict=True):
                    step_tally.add(answer)
            else:
                status, reason, result, twin, origin = answers[0]
                out = result_cells(status, reason, job.vendor.value, result, twin, origin.source, origin.fetched_at)
            tally.add(number, out)
            padded = cells[: len(header)] + [""] * (len(header) - len(cells))
            writer.writerow([safe_cell(c) for c in padded] + [safe_cell(out[c]) for c in result_columns])
            record = {
                "row": number,
                "status": status.value,
                "reason": reason,
                "vendor": out["result_vendor"],
                "duplicate_of": twin,
                "source": origin.source,
                "fetched_at": origin.fetched_at,
                "input": dict(zip(names, cells, strict=False))
                | ({"_extra": cells[len(header) :]} if len(cells) > len(header) else {}),
                "result": result.model_dump(mode="json", exclude={"raw"}) if result else None,
                "vendor_answer": result.raw if result and not job.steps else None,
            }
            if job.steps:
                record["steps"] = [
                    _step_record(k, step, a) for k, (step, a) in enumerate(zip(steps, answers, strict=True))
                ]
            jsonl_out.write(json.dumps(record, ensure_ascii=False) + "\n")
        if not outcomes[0].finish():  # type: ignore[union-attr]
            raise BadInput(_INPUT_CHANGED)
        for k, found in enumerate(outcomes):
            if found is not None and k:
                found.finish()
        for step_tally, found in zip(step_tallies, outcomes, strict=False):
            step_tally.credits = found.credits if found is not None else 0.0
    return sum(o.credits for o in outcomes if o is not None), step_tallies


_INPUT_CHANGED = "the input file is not the one the job read: its rows differ from the job's plan"


def _step_record(index: int, step: JobStep, answer: RowAnswer | None) -> dict[str, Any]:
    """A step's answer for a row, as results.jsonl keeps it (none: the row was not given to the step)."""
    entry: dict[str, Any] = {"step": index + 1, "vendor": step.vendor.value}
    if answer is None:
        return entry | {"status": None}
    return entry | {
        "status": answer.status.value,
        "reason": answer.reason,
        "duplicate_of": answer.twin,
        "source": answer.origin.source,
        "fetched_at": answer.origin.fetched_at,
        "result": answer.result.model_dump(mode="json", exclude={"raw"}) if answer.result else None,
        "vendor_answer": answer.result.raw if answer.result else None,
    }


def _reopen_input(job: Job, settings: Settings) -> InputTable:
    """The input, read as Prepare read it: the same bytes decide the same format, encoding and delimiter."""
    try:
        return open_table(storage.S3Object(settings.data_bucket, job.input_key), settings.input_limits)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            raise BadInput(
                f"the input file {job.input_key} is no longer in the bucket: it cannot be read again"
            ) from None
        raise
