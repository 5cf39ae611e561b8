"""Finalize: merge chunk results into one row out per row in, write the outputs, settle the job.

A job settles exactly once: the finalizer first claims it (FINALIZING, conditional), only the claimant writes
the outputs, and only the write that moves the job to its final status announces it (one event, so one
webhook). A retry by the same finalizer resumes its claim; a dead finalizer's claim lapses after its lease.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import json
import uuid
from collections import Counter
from typing import Any

from enrichment.errors import caught_message
from enrichment.files import layout, storage
from enrichment.files.columns import unique_names
from enrichment.files.csvio import safe_cell
from enrichment.files.output import csv_columns, result_cells
from enrichment.files.reader import open_table
from enrichment.files.report import RowTally, render_report
from enrichment.jobs.events import emit_job_ended
from enrichment.jobs.service import CANCELLED
from enrichment.jobs.store import JobStore, now_iso
from enrichment.models import ChunkResult, FinalizeInput, Job, JobStatus, RecordResult, RowStatus
from enrichment.settings import Settings
from enrichment.vendors import adapter_class

# Longer than the Finalize function's timeout: a claim outlives any finalizer still at work.
LEASE_SECONDS = 16 * 60


def failure_reason(failure: dict[str, Any] | None, job: Job) -> str | None:
    """The reason a person should read: a vendor's stop reason first, then the error the state machine caught."""
    if job.stop_reason:
        return job.stop_reason
    return caught_message(failure) if failure else None


def finalize_job(request: FinalizeInput, settings: Settings) -> Job:
    store = JobStore(settings.jobs_table)
    finalizer = request.finalizer or f"finalize-{uuid.uuid4()}"
    job = store.require(request.job_id)
    if job.status.is_final:
        if job.finalizer == finalizer and not job.announced_at:
            _announce(store, job, settings)  # a retry after the job settled but before it was announced
        return store.require(job.job_id)
    if not store.claim_finalize(job.job_id, finalizer, LEASE_SECONDS):
        return store.require(job.job_id)  # another finalizer holds the job: it writes and announces
    job = store.require(job.job_id)
    bucket = settings.data_bucket
    reason = failure_reason(request.failure, job)
    prefix = layout.output_prefix(job.job_id)
    adapter = adapter_class(job.vendor)
    tally: RowTally | None = None
    credits = 0.0
    columns_key = layout.columns_key(job.job_id)
    columns = storage.get_json(bucket, columns_key) if storage.exists(bucket, columns_key) else None
    if storage.exists(bucket, layout.plan_key(job.job_id)):
        tally = RowTally(csv_columns(adapter.result_columns))
        credits = _write_results(job, settings, prefix, reason, tally)
    elif reason is None:
        reason = "the job ended before its input was read"
    counts: Counter[str] = tally.counts if tally is not None else Counter()

    if job.stop_error == CANCELLED:
        status = JobStatus.CANCELLED
    elif reason is not None:
        status = JobStatus.FAILED
    elif counts[RowStatus.ERROR]:
        status = JobStatus.PARTIAL
    else:
        status = JobStatus.SUCCEEDED
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
        "chunks": {"total": job.chunks_total or 0, "failed": job.chunks_failed},
        "options": job.options,
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
        **({"error": reason} if reason else {}),
    )
    ended = store.require(job.job_id)
    if settled:
        _announce(store, ended, settings)
    return ended


def _announce(store: JobStore, job: Job, settings: Settings) -> None:
    emit_job_ended(job, settings)
    store.update(job.job_id, announced_at=now_iso())


def _seconds_between(start: str, end: str) -> float:
    return round((dt.datetime.fromisoformat(end) - dt.datetime.fromisoformat(start)).total_seconds(), 3)


def _write_results(job: Job, settings: Settings, prefix: str, job_error: str | None, tally: RowTally) -> float:
    """Write results.csv and results.jsonl, counting each row into `tally` on the way; the job's credits."""
    bucket = settings.data_bucket

    @functools.lru_cache(maxsize=8)
    def chunk_result(index: int) -> ChunkResult | None:
        key = layout.chunk_result_key(job.job_id, index)
        if not storage.exists(bucket, key):
            return None
        return ChunkResult.model_validate(storage.get_json(bucket, key))

    # Read as Prepare read it: the same bytes decide the same format, encoding and delimiter.
    table = open_table(storage.S3Object(bucket, job.input_key), settings.input_limits)
    header, rows = table.header, table.rows
    names = unique_names(header)  # two columns named alike stay two columns, in both files
    result_columns = tally.columns
    credited_chunks: set[int] = set()
    plan = storage.iter_jsonl(bucket, layout.plan_key(job.job_id))
    with (
        storage.spooled_upload(bucket, prefix + "results.csv", "text/csv; charset=utf-8") as csv_out,
        storage.spooled_upload(bucket, prefix + "results.jsonl", "application/x-ndjson") as jsonl_out,
    ):
        writer = csv.writer(csv_out, lineterminator="\r\n")
        writer.writerow([safe_cell(name) for name in names] + list(result_columns))
        for (number, cells), entry in zip(rows, plan, strict=True):
            status, reason, result, twin = _row_outcome(entry, chunk_result, job_error)
            if entry.get("chunk") is not None and entry["status"] == "send":
                credited_chunks.add(entry["chunk"])
            out = result_cells(status, reason, job.vendor.value, result, twin)
            tally.add(number, out)
            padded = cells[: len(header)] + [""] * (len(header) - len(cells))
            writer.writerow([safe_cell(c) for c in padded] + [safe_cell(out[c]) for c in result_columns])
            record = {
                "row": number,
                "status": status.value,
                "reason": reason,
                "vendor": job.vendor.value,
                "duplicate_of": twin,
                "input": dict(zip(names, cells, strict=False))
                | ({"_extra": cells[len(header) :]} if len(cells) > len(header) else {}),
                "result": result.model_dump(mode="json", exclude={"raw"}) if result else None,
                "vendor_answer": result.raw if result else None,
            }
            jsonl_out.write(json.dumps(record, ensure_ascii=False) + "\n")
    credits = 0.0
    for index in sorted(credited_chunks):
        if (found := chunk_result(index)) is not None:
            credits += found.credits
    return credits


def _row_outcome(
    entry: dict[str, Any], chunk_result: Any, job_error: str | None
) -> tuple[RowStatus, str | None, RecordResult | None, int | None]:
    planned = entry["status"]
    if planned == RowStatus.INVALID_INPUT:
        return RowStatus.INVALID_INPUT, entry.get("reason"), None, None
    ref = str(entry.get("twin") or entry["row"])
    found = chunk_result(entry["chunk"])
    result: RecordResult | None = None
    if found is None:
        status, reason = RowStatus.ERROR, (f"not processed: {job_error}" if job_error else "not processed")
    elif found.status == "failed":
        status, reason = RowStatus.ERROR, found.reason
    elif (result := found.results.get(ref)) is None:
        status, reason = RowStatus.ERROR, "the vendor's answer left this row out"
    else:
        status, reason = RowStatus(result.status), result.reason
    if planned == RowStatus.DUPLICATE:
        # Answered from its twin: same data, and the twin's outcome in the reason. A twin without an
        # answer leaves its duplicates without one too: they are errors, not duplicates.
        twin = entry["twin"]
        detail = f"{status.value}: {reason}" if reason else status.value
        duplicate = RowStatus.ERROR if status == RowStatus.ERROR else RowStatus.DUPLICATE
        return duplicate, f"same request as row {twin} ({detail})", result, twin
    return status, reason, result, None
