"""Prepare: read the input as a stream, validate and dedupe rows, write vendor-sized chunks in batches.

Chunks are `chunk_size` rows to send, numbered 0..n-1 in row order; consecutive chunks go together in batches of
`chunks_per_batch`, one S3 object each (a ChunkBatch at layout.batch_key): one Map item drives one batch. The
manifest (layout.manifest_key) lists the batches (BatchRef), for the Map's ItemReader.

Bounded in time and memory whatever the file (up to settings.InputLimits): the file is read as a stream; the
dedupe index is on disk (classify.DedupeIndex); batch objects are put by a few threads with at most a few waiting
(storage.ParallelPuts), so one batch being filled and PUT_PENDING waiting are held; the plan, the manifest and the
twins list are streamed to S3 (storage.streamed_upload: one 8 MiB part in memory each).

A file over the limits is refused before anything is sent: reader.open_table refuses one over max_bytes before
reading it (and a gzip file whose content goes over it, as it is read); csvio.tabulate refuses the row past
max_rows as it is read. Either raises BadInput out of this step, which then writes no manifest, so the Map has
nothing to send and the job ends FAILED saying why.

A job of several steps is prepared a step at a time, as the state machine reaches it (pipeline/steps.py says what
each step is given); a step's working files are its own (layout.plan_key(job, step) ...) and its chunks and
batches are numbered from layout.first_index(step), so each names one chunk in the whole job.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, Any

from enrichment.files import layout, storage
from enrichment.files.reader import open_table
from enrichment.jobs.store import JobStore
from enrichment.models import Limits, PreparedJob, Vendor
from enrichment.options import job_options, vendor_options
from enrichment.pipeline.classify import SEND, RowOutcome, classify_input
from enrichment.pipeline.cost import CostEstimate, estimate, read_observed, scope_of
from enrichment.pipeline.result_cache import GET_BATCH, LOOKUP_THREADS, CachedAnswer, ResultCache, answer_scope
from enrichment.pipeline.steps import check_columns, step_rows
from enrichment.settings import Settings, SettingsError, VendorSettings
from enrichment.vendors import VendorAdapter, adapter_class

logger = logging.getLogger(__name__)

PUT_THREADS = 8
PUT_PENDING = 16  # batches built and waiting for a thread, at most


class _Batches:
    """Rows to send, cut into chunks of `chunk_size` and batches of `chunks_per_batch` chunks; each full batch is
    put at once, and listed in the manifest (a JSON array streamed a line an entry)."""

    def __init__(
        self,
        job_id: str,
        chunk_size: int,
        chunks_per_batch: int,
        puts: storage.ParallelPuts,
        manifest: IO[str],
        first_index: int = 0,
    ) -> None:
        self.job_id, self.chunk_size, self.chunks_per_batch = job_id, chunk_size, chunks_per_batch
        self._puts, self._manifest = puts, manifest
        self.first_index = first_index  # a later step's chunks and batches are numbered from its own start
        self._chunks: list[dict[str, Any]] = []
        self.chunks_total = 0
        self.batches_total = 0

    def chunk_of(self, position: int) -> int:
        """The chunk of the `position`-th row sent."""
        return self.first_index + position // self.chunk_size

    def add(self, record: dict[str, Any]) -> None:
        if not self._chunks or len(self._chunks[-1]["records"]) >= self.chunk_size:
            if len(self._chunks) >= self.chunks_per_batch:
                self._put()
            index = self.first_index + self.chunks_total
            self._chunks.append({"job_id": self.job_id, "chunk_index": index, "records": []})
            self.chunks_total += 1
        self._chunks[-1]["records"].append(record)

    def finish(self) -> None:
        if self._chunks:
            self._put()
        self._manifest.write("]\n" if self.batches_total else "[]\n")

    def _put(self) -> None:
        index = self.first_index + self.batches_total
        key = layout.batch_key(self.job_id, index)
        self._puts.put(key, {"job_id": self.job_id, "batch_index": index, "chunks": self._chunks})
        entry = {"batch_index": index, "batch_key": key, "chunk_indexes": [c["chunk_index"] for c in self._chunks]}
        self._manifest.write(("[\n" if not self.batches_total else ",\n") + json.dumps(entry, separators=(",", ":")))
        self._chunks = []
        self.batches_total += 1


class _CacheLookups:
    """The classified rows, in order, each with its answer from the result cache if it has one (rows to send only).

    The rows to send are looked up in calls of GET_BATCH keys, each call put on a few threads as soon as it is
    full; the rows wait in order until their call has answered, with at most LOOKAHEAD calls in flight (so memory
    stays at a few thousand rows whatever the file)."""

    LOOKAHEAD = 2 * LOOKUP_THREADS

    def __init__(self, cache: ResultCache, adapter: type[VendorAdapter], max_age_days: int) -> None:
        self.cache, self.adapter, self.max_age_days = cache, adapter, max_age_days

    def __call__(self, rows: Iterator[RowOutcome]) -> Iterator[tuple[RowOutcome, CachedAnswer | None]]:
        in_flight: deque[tuple[list[tuple[RowOutcome, str | None]], Future[dict[str, CachedAnswer]]]] = deque()
        segment: list[tuple[RowOutcome, str | None]] = []
        keys: list[str] = []
        with ThreadPoolExecutor(max_workers=LOOKUP_THREADS, thread_name_prefix="cache") as pool:
            for outcome in rows:
                key = None
                if outcome.status == SEND and outcome.fields is not None:
                    key = self.cache.key(self.adapter.dedupe_key(outcome.fields))
                    keys.append(key)
                segment.append((outcome, key))
                if len(keys) >= GET_BATCH:
                    in_flight.append(
                        (segment, pool.submit(self.cache.lookup, list(dict.fromkeys(keys)), self.max_age_days))
                    )
                    segment, keys = [], []
                    if len(in_flight) > self.LOOKAHEAD:
                        yield from self._answered(*in_flight.popleft())
            in_flight.append((segment, pool.submit(self.cache.lookup, list(dict.fromkeys(keys)), self.max_age_days)))
            while in_flight:
                yield from self._answered(*in_flight.popleft())

    @staticmethod
    def _answered(
        segment: list[tuple[RowOutcome, str | None]], lookup: Future[dict[str, CachedAnswer]]
    ) -> Iterator[tuple[RowOutcome, CachedAnswer | None]]:
        found = lookup.result()
        for outcome, key in segment:
            yield outcome, (found.get(key) if key is not None else None)


def _uncached(rows: Iterator[RowOutcome]) -> Iterator[tuple[RowOutcome, CachedAnswer | None]]:
    for outcome in rows:
        yield outcome, None


def cache_lookups(
    vendor: Vendor, options: dict[str, Any], settings: Settings
) -> Callable[[Iterator[RowOutcome]], Iterator[tuple[RowOutcome, Any]]]:
    """How a job's rows meet the result cache: looked up, or not at all (no cache, or cache_max_age_days 0).
    The preview looks rows up through this too, so it counts the cached rows Prepare would."""
    max_age = job_options(options).cache_max_age_days
    if not settings.result_cache_table or max_age <= 0:
        return _uncached
    adapter = adapter_class(vendor)
    scope = answer_scope(adapter.answer_options, adapter.parse_options(vendor_options(options)))
    cache = ResultCache(settings.result_cache_table, vendor, scope, retention_days=settings.result_cache_days)
    return _CacheLookups(cache, adapter, max_age)


def _from_cache(answer: CachedAnswer) -> dict[str, Any]:
    """A cached answer as this job's: it cost this job nothing."""
    return answer.result.model_copy(update={"credits": 0.0}).model_dump(mode="json")


def prepare_job(job_id: str, settings: Settings, step_index: int = 0) -> PreparedJob:
    """Prepare one step of the job (a single-vendor job has one): its plan, its chunks, its manifest."""
    store = JobStore(settings.jobs_table)
    job = store.require(job_id)
    steps = job.step_list
    if not 0 <= step_index < len(steps):
        raise ValueError(f"job {job_id} has no step {step_index + 1}")
    step = steps[step_index]
    vendor, options = step.vendor, job.step_options(step_index)
    vendor_settings = settings.vendor(vendor)
    vendor_function = settings.vendor_functions.get(vendor.value)
    if not vendor_function:
        raise SettingsError(f"no function is configured for vendor {vendor.value}")
    next_step = step_index + 1 if step_index + 1 < len(steps) else None

    bucket = settings.data_bucket
    stopped = job.cancel_requested or job.stop_reason is not None
    if step_index and job.stop_reason and not job.cancel_requested:
        # A vendor stopped the step before (out of credits, bad credentials): that vendor's step ends there, and
        # the next vendor may still find the rows it left.
        stopped = not store.pass_stop_on(job_id, step_index - 1, job.stop_reason)
    if step_index and stopped:
        # Cancelled during an earlier step: this one sends nothing, and there is no next one; Finalize merges the
        # steps that ran.
        storage.put_text(bucket, layout.manifest_key(job_id, step_index), "[]\n", "application/json")
        return _prepared(job_id, step_index, None, vendor, vendor_function, bucket, 0, 0, vendor_settings)
    chunk_size = vendor_settings.chunk_size
    rows_total = 0
    sent = cached_rows = 0
    # The rows own the open file: it closes once they are read (or left for the garbage collector on failure).
    table = open_table(storage.S3Object(bucket, job.input_key), settings.input_limits)
    header, rows = table.header, table.rows
    if job.steps:
        if step_index == 0:
            check_columns(steps, header, job.options)
        header, rows, options = step_rows(bucket, job_id, steps, step_index, header, rows, options)
    with classify_input(
        header, rows, vendor, options, keep_twins=True, empty_ok=step_index > 0, require_column=not job.steps
    ) as classified:
        if step_index == 0:
            # Which column feeds which field, and the ties settled: Finalize puts it in summary.json.
            storage.put_json(bucket, layout.columns_key(job_id), classified.mapping.report())
        # Blocks end in reverse: every batch is stored before the manifest, the manifest and the twins before the
        # plan, so a plan (what Finalize starts from) always has them.
        # Rows answered from the result cache go to the cached file (Finalize reads it alongside the plan), never
        # to a chunk: the rows sent are numbered without them.
        lookups = cache_lookups(vendor, options, settings)
        with (
            storage.streamed_upload(bucket, layout.plan_key(job_id, step_index), "application/x-ndjson") as plan,
            storage.streamed_upload(bucket, layout.cached_key(job_id, step_index), "application/x-ndjson") as cached,
            storage.streamed_upload(bucket, layout.manifest_key(job_id, step_index), "application/json") as manifest,
            storage.ParallelPuts(bucket, threads=PUT_THREADS, pending=PUT_PENDING) as puts,
        ):
            batches = _Batches(
                job_id, chunk_size, vendor_settings.chunks_per_batch, puts, manifest, layout.first_index(step_index)
            )
            for outcome, answer in lookups(classified.rows):
                rows_total = max(rows_total, outcome.row)
                entry = outcome.plan_entry(chunk_size)
                entry.pop("chunk", None)  # a duplicate is answered from its twin, whatever the twin's chunk
                if answer is not None:
                    entry["status"] = layout.CACHED
                    line = {"row": outcome.row, "fetched_at": answer.fetched_at, "result": _from_cache(answer)}
                    cached.write(json.dumps(line, ensure_ascii=False) + "\n")
                    cached_rows += 1
                elif outcome.status == SEND:
                    batches.add({"ref": str(outcome.row), "fields": outcome.fields})
                    entry["chunk"] = batches.chunk_of(sent)
                    sent += 1
                plan.write(json.dumps(entry) + "\n")
            batches.finish()
            with storage.streamed_upload(bucket, layout.twins_key(job_id, step_index), "text/plain") as twins:
                for row in classified.twins():
                    twins.write(f"{row}\n")

    # What the rows it sends are expected to cost, and at most: summary.json sets them against what they cost.
    cost = estimate(
        vendor,
        options,
        to_send=sent,
        cached_rows=cached_rows,
        observed=read_observed(settings.jobs_table, vendor, scope_of(vendor, options)),
        prices=vendor_settings.credit_prices,
    )
    figures = {
        "credits_expected": cost.expected_credits,
        "credits_worst_case": cost.worst_case_credits,
        "credits_basis": cost.basis,
        "credits_basis_rows": cost.basis_rows,
    }
    if step_index == 0:
        store.mark_running(
            job_id,
            rows_total=rows_total,
            chunks_total=batches.chunks_total,
            input_format=table.details,
            **figures,
            **({"steps_prepared": {"0": _step_figures(batches.chunks_total, cost)}} if job.steps else {}),
        )
    else:
        store.record_step(job_id, step_index, _step_figures(batches.chunks_total, cost))
    if cached_rows:
        logger.info(
            "rows answered from the result cache",
            extra={"job_id": job_id, "step": step_index + 1, "cached_rows": cached_rows},
        )
    return _prepared(
        job_id,
        step_index,
        next_step,
        vendor,
        vendor_function,
        bucket,
        batches.chunks_total,
        batches.batches_total,
        vendor_settings,
    )


def _step_figures(chunks: int, cost: CostEstimate) -> dict[str, Any]:
    """What a step's Prepare records on the job item (Job.steps_prepared): the job's figures are their sums."""
    return {
        "chunks": chunks,
        "credits_expected": cost.expected_credits,
        "credits_worst_case": cost.worst_case_credits,
        "credits_basis": cost.basis,
    }


def _prepared(
    job_id: str,
    step_index: int,
    next_step: int | None,
    vendor: Vendor,
    vendor_function: str,
    bucket: str,
    chunks_total: int,
    batches_total: int,
    vendor_settings: VendorSettings,
) -> PreparedJob:
    return PreparedJob(
        job_id=job_id,
        step_index=step_index,
        next_step_index=next_step,
        vendor=vendor,
        vendor_function=vendor_function,
        bucket=bucket,
        manifest_key=layout.manifest_key(job_id, step_index),
        chunks_total=chunks_total,
        batches_total=batches_total,
        max_concurrency=vendor_settings.max_concurrency,
        limits=Limits(
            max_polls=vendor_settings.max_polls,
            deadline_seconds=vendor_settings.deadline_seconds,
            retry_wait_seconds=vendor_settings.backoff_max_seconds,
        ),
    )
