"""One step's answer for each row it was given, read in row order from what Prepare and the chunks wrote.

A step's plan (layout.plan_key) has a line per row the step was given: every row for a job's first step, the
rows passed on for a later one. Each row's answer comes from its chunk's result (the step's batches, in the
manifest's order), from the result cache (the step's cached file) or, for a duplicate, from its twin's answer.

The results are found with one listing of the job's results folder; then each batch's BatchResult is read, or,
for a batch that never settled (the job failed or was cancelled mid-Map), the ChunkResults of its chunks that
exist: no request per row, and none per chunk when batches settled. A duplicate is answered from its twin's
answer, kept on disk as the pass goes by it (Prepare lists the rows that have duplicates; a twin always comes
before its duplicates), never read again. Memory is bounded whatever the file: the batches fetched ahead
(PREFETCH_BATCHES, as bytes), one batch's results parsed, the manifest (one small entry per batch) and the sets
of result objects listed (one int each).
"""

from __future__ import annotations

import json
import zlib
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NamedTuple

from enrichment.files import layout, storage
from enrichment.files.output import CACHE_SOURCE
from enrichment.files.scratch import ScratchDb
from enrichment.models import BatchResult, ChunkResult, RecordResult, RowStatus, Vendor

PREFETCH_BATCHES = 8  # batches' results fetched ahead of the pass
FETCH_THREADS = 4


class Origin(NamedTuple):
    """Who answered a row (result_source: the vendor, or the cache) and when the answer was given."""

    source: str | None
    fetched_at: str | None


NO_ORIGIN = Origin(None, None)


class RowAnswer(NamedTuple):
    """A step's answer for one row: its status and why, the vendor's result, the row it is a duplicate of."""

    status: RowStatus
    reason: str | None
    result: RecordResult | None
    twin: int | None
    origin: Origin


class StepOutcomes:
    """A step's answers, asked for in ascending row order: `answer(row)` is None for a row the step was not given.
    Every line of the plan is answered in turn (a row asked past is still read, so its duplicates have its
    answer); `finish()` says whether the plan had lines for rows never asked (the input is not the one read)."""

    def __init__(self, bucket: str, job_id: str, step: int, vendor: Vendor, job_error: str | None) -> None:
        self.vendor, self.job_error = vendor, job_error
        self._plan = storage.iter_jsonl(bucket, layout.plan_key(job_id, step))
        # Jobs prepared before the result cache have no cached file: none of their rows is cached.
        has_cached = storage.exists(bucket, layout.cached_key(job_id, step))
        self._cached = CachedAnswers(
            storage.iter_jsonl(bucket, layout.cached_key(job_id, step)) if has_cached else iter(())
        )
        self._results = BatchResults(bucket, job_id, layout.manifest_key(job_id, step))
        self._twins = TwinAnswers(storage.iter_lines(bucket, layout.twins_key(job_id, step)))
        self._entry: dict[str, Any] | None = next(self._plan, None)

    @property
    def credits(self) -> float:
        """What the step's chunks charged, as far as the rows asked reach."""
        return self._results.credits

    def answer(self, row: int) -> RowAnswer | None:
        while self._entry is not None and self._entry["row"] < row:
            self._outcome(self._entry)  # a row nobody asks for: read for its duplicates
            self._entry = next(self._plan, None)
        if self._entry is None or self._entry["row"] != row:
            return None
        found, self._entry = self._outcome(self._entry), next(self._plan, None)
        return found

    def finish(self) -> bool:
        """Read the rest of the plan; False if it had rows past the last asked."""
        rest = self._entry is None
        while self._entry is not None:
            self._outcome(self._entry)
            self._entry = next(self._plan, None)
        return rest

    def _outcome(self, entry: dict[str, Any]) -> RowAnswer:
        return RowAnswer(*_row_outcome(entry, self._results, self._twins, self._cached, self.vendor, self.job_error))

    def __enter__(self) -> StepOutcomes:
        self._results.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._results.__exit__(*exc)
        self._twins.__exit__(*exc)


class BatchResults:
    """The chunk results, a batch at a time as the pass reaches them (the plan's chunks only go up). One listing
    of the results folder says what exists; then, per batch in the manifest's order, its BatchResult if it exists,
    else the ChunkResults of its chunks that exist, else nothing (its rows were not processed). A few threads
    fetch the next PREFETCH_BATCHES batches' bytes ahead of the pass. Each chunk's credits are counted once, the
    first time a sent row asks for it, in chunk order."""

    def __init__(self, bucket: str, job_id: str, manifest_key: str) -> None:
        self.bucket, self.job_id = bucket, job_id
        self.credits = 0.0
        self._settled: set[int] = set()  # batches with a BatchResult
        self._chunks: set[int] = set()  # chunks with a ChunkResult
        for key in storage.list_keys(bucket, layout.results_prefix(job_id)):
            if (found := layout.result_index(job_id, key)) is not None:
                (self._settled if found[0] == "batch" else self._chunks).add(found[1])
        manifest = storage.get_json_if_any(bucket, manifest_key) or []
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

    def __enter__(self) -> BatchResults:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class TwinAnswers:
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

    def __enter__(self) -> TwinAnswers:
        return self

    def __exit__(self, *exc: object) -> None:
        self._scratch.close()


class CachedAnswers:
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
    results: BatchResults,
    twins: TwinAnswers,
    cached: CachedAnswers,
    vendor: Vendor,
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
        status, reason, result, origin = _answer(results.chunk(entry["chunk"]), str(row), vendor, job_error)
    if twins.wanted(row):
        twins.keep(row, status, reason, result, origin)
    return status, reason, result, None, origin


def _answer(
    found: ChunkResult | None, ref: str, vendor: Vendor, job_error: str | None
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
    return RowStatus(result.status), result.reason, result, Origin(vendor.value, found.answered_at)
