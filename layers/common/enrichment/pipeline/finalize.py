"""Finalize: merge chunk results into one row out per row in, write the outputs, settle the job.

One pass: the input, the plan and the results are each read once, in order, and results.csv and results.jsonl are
streamed to S3 as they are written (multipart uploads, nothing spooled to disk). The results are found with one
listing of the job's results folder; then each batch's BatchResult is read, or, for a batch that never settled
(the job failed or was cancelled mid-Map), the ChunkResults of its chunks that exist: no request per row, and none
per chunk when batches settled. A duplicate is answered from its twin's answer, kept on disk as the pass goes by
it (Prepare lists the rows that have duplicates; a twin always comes before its duplicates), never read again.

Memory is bounded whatever the file: the batches fetched ahead of the pass (PREFETCH_BATCHES, as bytes), one
batch's results parsed, one part of each output being filled (storage.PART_BYTES), the manifest (one small entry
per batch: 2,000 for a million Prospeo rows) and the sets of result objects listed (one int each).

A failure that is not Transient (an input that can no longer be read, a result that does not parse) still leaves
summary.json and report.html saying why, and the job FAILED with that reason; a Transient one (S3 throttling, a
5xx, a dropped connection) is raised for the state machine to try again.

A job settles exactly once: the finalizer first claims it (FINALIZING, conditional), only the claimant writes
the outputs, and only the write that moves the job to its final status announces it (one event, so one
webhook). A retry by the same finalizer resumes its claim; a dead finalizer's claim lapses after its lease.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import logging
import uuid
import zlib
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any, NamedTuple

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
from enrichment.files.output import CACHE_SOURCE, csv_columns, result_cells
from enrichment.files.reader import InputTable, open_table
from enrichment.files.report import RowTally, render_report
from enrichment.files.retention import delete_working_files
from enrichment.files.scratch import ScratchDb
from enrichment.jobs.events import emit_job_ended
from enrichment.jobs.service import CANCELLED
from enrichment.jobs.store import JobStore, now_iso
from enrichment.metrics import job_settled
from enrichment.models import BatchResult, ChunkResult, FinalizeInput, Job, JobStatus, RecordResult, RowStatus
from enrichment.pipeline.cost import Observed, record_observed, scope_of
from enrichment.settings import Settings
from enrichment.vendors import adapter_class


class Origin(NamedTuple):
    """Who answered a row (result_source: the vendor, or the cache) and when the answer was given."""

    source: str | None
    fetched_at: str | None


NO_ORIGIN = Origin(None, None)

# Longer than the Finalize function's timeout: a claim outlives any finalizer still at work.
LEASE_SECONDS = 16 * 60
PREFETCH_BATCHES = 8  # batches' results fetched ahead of the pass
FETCH_THREADS = 4

logger = logging.getLogger(__name__)


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
    credits = 0.0
    columns = None
    unfinished = None  # why the outputs could not be written, if they could not
    try:
        columns = storage.get_json_if_any(bucket, layout.columns_key(job.job_id))
        if storage.exists(bucket, layout.plan_key(job.job_id)):
            tally = RowTally(csv_columns(adapter.result_columns))
            credits = _write_results(job, settings, prefix, reason, tally)
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
    if reason is None and counts[RowStatus.SKIPPED] and tally is not None:
        reason = _skipped_reason(tally, counts[RowStatus.SKIPPED])  # PARTIAL, saying why rows were not sent
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
        "credits_by_vendor": {job.vendor.value: credits},
        "credits_per_matched_row": round(credits / matched, 4) if (matched := counts[RowStatus.MATCHED]) else None,
        "max_credits": job.options.get("max_credits"),
        "skipped_rows": counts[RowStatus.SKIPPED],
        # Rows answered from the result cache: no vendor call, no credit (their duplicates count as duplicates).
        "cached_rows": tally.cached if tally is not None else 0,
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
        credits_by_vendor=summary["credits_by_vendor"],
        **({"credits_per_matched_row": summary["credits_per_matched_row"]} if matched else {}),
        **({"error": reason} if reason else {}),
        # Kept on the item so a retry of this finalizer can still add them to the observed match rates.
        rows_answered_by_vendor=tally.vendor_answered if tally is not None else 0,
        rows_matched_by_vendor=tally.vendor_matched if tally is not None else 0,
    )
    ended = store.require(job.job_id)
    if settled:
        job_settled(job.vendor, status, summary["counts"], credits, summary["timings"]["duration_seconds"])
        _record_observed(ended, settings)
        _announce(store, ended, settings)
        _delete_working_files(ended, settings)
    return ended


def _record_observed(job: Job, settings: Settings) -> None:
    """Add the rows the vendor answered in this job, and what they cost, to the observed match rates: once (a
    marker on the job item, in the same transaction). A job whose vendor answered nothing adds nothing."""
    if job.match_rate_recorded or not job.rows_answered_by_vendor:
        return
    observed = Observed(
        rows_sent=job.rows_answered_by_vendor, rows_matched=job.rows_matched_by_vendor, credits=job.credits
    )
    try:
        record_observed(settings.jobs_table, job.job_id, job.vendor, scope_of(job.vendor, job.options), observed)
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


def _write_results(job: Job, settings: Settings, prefix: str, job_error: str | None, tally: RowTally) -> float:
    """Write results.csv and results.jsonl, counting each row into `tally` on the way; the job's credits."""
    bucket = settings.data_bucket
    table = _reopen_input(job, settings)
    header, rows = table.header, table.rows
    names = unique_names(header)  # two columns named alike stay two columns, in both files
    result_columns = tally.columns
    plan = storage.iter_jsonl(bucket, layout.plan_key(job.job_id))
    # Jobs prepared before the result cache have no cached file: none of their rows is cached.
    has_cached = storage.exists(bucket, layout.cached_key(job.job_id))
    cached = _CachedAnswers(storage.iter_jsonl(bucket, layout.cached_key(job.job_id)) if has_cached else iter(()))
    with (
        _BatchResults(bucket, job.job_id) as results,
        _TwinAnswers(storage.iter_lines(bucket, layout.twins_key(job.job_id))) as twins,
        storage.streamed_upload(bucket, prefix + "results.csv", "text/csv; charset=utf-8") as csv_out,
        storage.streamed_upload(bucket, prefix + "results.jsonl", "application/x-ndjson") as jsonl_out,
    ):
        writer = csv.writer(csv_out, lineterminator="\r\n")
        writer.writerow([safe_cell(name) for name in names] + list(result_columns))
        for (number, cells), entry in _aligned(rows, plan):
            status, reason, result, twin, origin = _row_outcome(entry, results, twins, cached, job, job_error)
            out = result_cells(status, reason, job.vendor.value, result, twin, origin.source, origin.fetched_at)
            tally.add(number, out)
            padded = cells[: len(header)] + [""] * (len(header) - len(cells))
            writer.writerow([safe_cell(c) for c in padded] + [safe_cell(out[c]) for c in result_columns])
            record = {
                "row": number,
                "status": status.value,
                "reason": reason,
                "vendor": job.vendor.value,
                "duplicate_of": twin,
                "source": origin.source,
                "fetched_at": origin.fetched_at,
                "input": dict(zip(names, cells, strict=False))
                | ({"_extra": cells[len(header) :]} if len(cells) > len(header) else {}),
                "result": result.model_dump(mode="json", exclude={"raw"}) if result else None,
                "vendor_answer": result.raw if result else None,
            }
            jsonl_out.write(json.dumps(record, ensure_ascii=False) + "\n")
    return results.credits


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


def _aligned(
    rows: Iterator[tuple[int, list[str]]], plan: Iterator[dict[str, Any]]
) -> Iterator[tuple[tuple[int, list[str]], dict[str, Any]]]:
    """Each input row with its line of the plan; BadInput when they do not match (the input changed)."""
    ended = object()
    while True:
        row, entry = next(rows, ended), next(plan, ended)
        if row is ended and entry is ended:
            return
        if row is ended or entry is ended or row[0] != entry["row"]:  # type: ignore[index]
            raise BadInput("the input file is not the one the job read: its rows differ from the job's plan")
        yield row, entry  # type: ignore[misc]


class _BatchResults:
    """The chunk results, a batch at a time as the pass reaches them (the plan's chunks only go up). One listing
    of the results folder says what exists; then, per batch in the manifest's order, its BatchResult if it exists,
    else the ChunkResults of its chunks that exist, else nothing (its rows were not processed). A few threads
    fetch the next PREFETCH_BATCHES batches' bytes ahead of the pass. Each chunk's credits are counted once, the
    first time a sent row asks for it, in chunk order."""

    def __init__(self, bucket: str, job_id: str) -> None:
        self.bucket, self.job_id = bucket, job_id
        self.credits = 0.0
        self._settled: set[int] = set()  # batches with a BatchResult
        self._chunks: set[int] = set()  # chunks with a ChunkResult
        for key in storage.list_keys(bucket, layout.results_prefix(job_id)):
            if (found := layout.result_index(job_id, key)) is not None:
                (self._settled if found[0] == "batch" else self._chunks).add(found[1])
        manifest = storage.get_json_if_any(bucket, layout.manifest_key(job_id)) or []
        self._batches = iter([(ref["batch_index"], ref["chunk_indexes"]) for ref in manifest])
        self._pool = ThreadPoolExecutor(max_workers=FETCH_THREADS, thread_name_prefix="results")
        self._ahead: deque[tuple[list[int], Future[tuple[bool, list[bytes]]]]] = deque()
        self._current: dict[int, ChunkResult] = {}
        self._last = -1  # the last chunk of the current batch
        self._credited = -1  # the last chunk whose credits are counted
        self._top_up()

    def _top_up(self) -> None:
        while len(self._ahead) < PREFETCH_BATCHES and (batch := next(self._batches, None)) is not None:
            self._ahead.append((batch[1], self._pool.submit(self._fetch, *batch)))

    def _fetch(self, batch_index: int, chunk_indexes: list[int]) -> tuple[bool, list[bytes]]:
        """(settled, the BatchResult's bytes) or (unsettled, the bytes of each ChunkResult there is)."""
        if batch_index in self._settled:
            return True, [storage.get_bytes(self.bucket, layout.batch_result_key(self.job_id, batch_index))]
        keys = [layout.chunk_result_key(self.job_id, i) for i in chunk_indexes if i in self._chunks]
        return False, [storage.get_bytes(self.bucket, key) for key in keys]

    def chunk(self, index: int) -> ChunkResult | None:
        if index < self._credited:
            raise ValueError(f"the plan goes back to chunk {index} after chunk {self._credited}")
        while index > self._last and self._ahead:
            chunk_indexes, fetched = self._ahead.popleft()
            self._top_up()
            self._current = self._parse(chunk_indexes, *fetched.result())
            self._last = max(chunk_indexes, default=self._last)
        found = self._current.get(index) if index <= self._last else None
        if index > self._credited:
            self._credited = index
            self.credits += found.credits if found is not None else 0.0
        return found

    @staticmethod
    def _parse(chunk_indexes: list[int], settled: bool, fetched: list[bytes]) -> dict[int, ChunkResult]:
        if settled:
            chunks = BatchResult.model_validate_json(fetched[0]).chunks
        else:
            chunks = [ChunkResult.model_validate_json(raw) for raw in fetched]
        return {c.chunk_index: c for c in chunks if c.chunk_index in chunk_indexes}

    def __enter__(self) -> _BatchResults:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class _TwinAnswers:
    """The answers of the rows that have duplicates (Prepare's twins list, ascending), kept as the pass reaches
    them, for their duplicates further on. On disk (files.scratch): one compressed answer per twin, a few hundred
    bytes each; memory stays at sqlite's page cache."""

    def __init__(self, twin_rows: Iterator[bytes]) -> None:
        self._rows = (int(line) for line in twin_rows if line.strip())
        self._next = next(self._rows, None)
        self._scratch = ScratchDb("CREATE TABLE answer (row INTEGER PRIMARY KEY, answer BLOB NOT NULL);")

    def wanted(self, row: int) -> bool:
        while self._next is not None and self._next < row:
            self._next = next(self._rows, None)
        return self._next == row

    def keep(
        self, row: int, status: RowStatus, reason: str | None, result: RecordResult | None, origin: Origin
    ) -> None:
        answer = json.dumps(
            [status.value, reason, result.model_dump_json() if result else None, origin.source, origin.fetched_at]
        )
        self._scratch.db.execute(
            "INSERT OR REPLACE INTO answer VALUES (?, ?)", (row, zlib.compress(answer.encode(), 1))
        )

    def answer(self, row: int) -> tuple[RowStatus, str | None, RecordResult | None, Origin]:
        found = self._scratch.db.execute("SELECT answer FROM answer WHERE row = ?", (row,)).fetchone()
        if found is None:
            raise ValueError(f"row {row} has duplicates but is not in the job's twins list")
        status, reason, result, source, fetched_at = json.loads(zlib.decompress(found[0]))
        parsed = RecordResult.model_validate_json(result) if result else None
        return RowStatus(status), reason, parsed, Origin(source, fetched_at)

    def __enter__(self) -> _TwinAnswers:
        return self

    def __exit__(self, *exc: object) -> None:
        self._scratch.close()


class _CachedAnswers:
    """The rows Prepare answered from the result cache (layout.cached_key), in row order, read as the pass
    reaches them."""

    def __init__(self, lines: Iterator[dict[str, Any]]) -> None:
        self._lines = lines

    def answer(self, row: int) -> tuple[RecordResult, str]:
        line = next(self._lines, None)
        if line is None or line["row"] != row:
            raise ValueError(f"row {row} is planned as cached but the cached answers do not have it next")
        return RecordResult.model_validate(line["result"]), line["fetched_at"]


def _row_outcome(
    entry: dict[str, Any],
    results: _BatchResults,
    twins: _TwinAnswers,
    cached: _CachedAnswers,
    job: Job,
    job_error: str | None,
) -> tuple[RowStatus, str | None, RecordResult | None, int | None, Origin]:
    planned = entry["status"]
    if planned == RowStatus.INVALID_INPUT:
        return RowStatus.INVALID_INPUT, entry.get("reason"), None, None, NO_ORIGIN
    if planned == RowStatus.DUPLICATE:
        # Answered from its twin: same data, and the twin's outcome in the reason. A twin without an
        # answer leaves its duplicates without one too: they are errors, not duplicates.
        twin = entry["twin"]
        status, reason, result, origin = twins.answer(twin)
        detail = f"{status.value}: {reason}" if reason else status.value
        if status == RowStatus.SKIPPED:  # a twin never sent (a budget had no room): nor was its duplicate
            return RowStatus.SKIPPED, reason, result, twin, origin
        duplicate = RowStatus.ERROR if status == RowStatus.ERROR else RowStatus.DUPLICATE
        return duplicate, f"same request as row {twin} ({detail})", result, twin, origin
    row = entry["row"]
    if planned == layout.CACHED:
        result, fetched_at = cached.answer(row)
        status, reason, origin = RowStatus(result.status), result.reason, Origin(CACHE_SOURCE, fetched_at)
    else:
        status, reason, result, origin = _answer(results.chunk(entry["chunk"]), str(row), job, job_error)
    if twins.wanted(row):
        twins.keep(row, status, reason, result, origin)
    return status, reason, result, None, origin


def _answer(
    found: ChunkResult | None, ref: str, job: Job, job_error: str | None
) -> tuple[RowStatus, str | None, RecordResult | None, Origin]:
    """A sent row's outcome from its chunk's result."""
    if found is None:
        return RowStatus.ERROR, (f"not processed: {job_error}" if job_error else "not processed"), None, NO_ORIGIN
    if found.status == "failed":
        return RowStatus.ERROR, found.reason, None, NO_ORIGIN
    if found.status == "skipped":
        return RowStatus.SKIPPED, found.reason, None, NO_ORIGIN
    if (result := found.results.get(ref)) is None:
        return RowStatus.ERROR, "the vendor's answer left this row out", None, NO_ORIGIN
    return RowStatus(result.status), result.reason, result, Origin(job.vendor.value, found.answered_at)
