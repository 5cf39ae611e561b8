"""The vendor step: advance a batch of chunks (submit each, check its vendor job), or settle them as failed.

One implementation for every vendor; the adapter is the only vendor-specific part. A Map item is a batch of
consecutive chunks (`chunks_per_batch`): one child execution, one poll loop and one Lambda per round for all of
them, so a job costs a fraction of the state transitions; each chunk keeps its own vendor request, send ledger,
wait and limits.
- A submit goes through the send ledger: recorded before the paid request leaves, its answer kept, so a
  retried step returns the first answer instead of paying the vendor twice. A submit whose answer was
  lost is reconciled: looked up where the vendor allows it, sent again only where a repeat is free (or the
  job allows it), otherwise its rows are reported as errors saying why.
- Throttling never fails a chunk: the step returns "running" with the wait the vendor asked for (or
  a jittered backoff), capped by the time left, and the Wait state sleeps it. A daily or hourly quota
  whose reset comes after the chunk's deadline stops the job instead, saying when it resets.
- A refusal the vendor does not document as final (an unrecognised 400) is tried again after a backoff;
  after `max_refusals` in a row the chunk fails with the vendor's message.
- One chunk's fault never fails its neighbours: a submit that fails is tried again on a later round (a
  Transient fault, up to SUBMIT_ATTEMPTS) or settled as failed; a check that fails counts a poll and checks
  again, since the vendor job is paid for. A Lambda that dies mid-round is retried whole by the state machine:
  the send ledger makes that safe.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import random
import time
from collections.abc import Callable, Iterator

from enrichment.errors import (
    FATAL_ERRORS,
    AccountBlocked,
    JobStopped,
    OutcomeUnknown,
    OutOfCredits,
    QuotaExhausted,
    Refused,
    Throttled,
    Transient,
    caught_message,
)
from enrichment.files import layout, storage
from enrichment.jobs.store import JobStore, now_iso
from enrichment.metrics import Metric, count
from enrichment.models import (
    BatchProgress,
    BatchResult,
    BatchTask,
    Chunk,
    ChunkBatch,
    ChunkProgress,
    ChunkResult,
    Vendor,
)
from enrichment.options import vendor_options
from enrichment.pipeline import budget
from enrichment.pipeline.budget import BudgetReached
from enrichment.pipeline.pacing import RateGate
from enrichment.pipeline.result_cache import Answered, ResultCache, answer_scope
from enrichment.pipeline.send_ledger import SendLedger
from enrichment.settings import Settings, VendorSettings
from enrichment.vendors import ChunkOutcome, VendorAdapter, adapter_class, connect
from enrichment.vendors.base import VendorOptions
from enrichment.vendors.pricing import price_model

# A submit that fails with a Transient fault is tried this many times in all (as the state machine retried it).
SUBMIT_ATTEMPTS = 4
# A turn in the shared budget that comes within this many seconds is waited for in the Lambda: a round through the
# state machine costs three transitions ($0.000075), as much as 22 s of a 256 MB vendor function, and the budget is
# spread by the second, so a batch's requests meet many short waits.
SHORT_WAIT_SECONDS = 10.0

logger = logging.getLogger(__name__)


def run_batch_task(
    task: BatchTask, vendor: Vendor, settings: Settings, time_left: Callable[[], float] | None = None
) -> BatchProgress:
    """`time_left`: seconds before the Lambda times out; a round leaves the chunks it has no time for to the next."""
    step = BatchStep(task, vendor, settings, time_left or (lambda: math.inf))
    return step.abandon() if task.action == "abandon" else step.advance()


class BatchStep:
    def __init__(self, task: BatchTask, vendor: Vendor, settings: Settings, time_left: Callable[[], float]) -> None:
        self.task = task
        self.job_id = task.job_id
        self.vendor = vendor
        self.settings = settings
        self.vendor_settings: VendorSettings = settings.vendor(vendor)
        self.store = JobStore(settings.jobs_table)
        self.gate = RateGate(
            settings.jobs_table,
            vendor,
            self.vendor_settings.requests_per_minute,
            requests_per_hour=self.vendor_settings.requests_per_hour,
            requests_per_day=self.vendor_settings.requests_per_day,
        )
        self.time_left = time_left
        # Room for one more chunk step before the Lambda's timeout: a vendor call and its retry.
        self.reserve = 2 * self.vendor_settings.http_timeout_seconds + 5
        self.progress = (
            task.progress.model_copy(deep=True)
            if task.progress
            else BatchProgress(status="running", started_at=time.time())
        )
        self._chunks: dict[int, Chunk] | None = None

    def acquire(self, cost: int) -> None:
        """A turn in the vendor's shared budget, waiting here for one that comes within SHORT_WAIT_SECONDS;
        Throttled when the wait is longer (the state machine's Wait sleeps it)."""
        while True:
            try:
                self.gate.acquire(cost)
                return
            except Throttled as throttled:
                wait = throttled.retry_after
                if throttled.quota or wait is None or wait > SHORT_WAIT_SECONDS or self.time_left() < self.reserve:
                    raise
                time.sleep(wait)

    def chunk(self, index: int) -> Chunk:
        """A chunk's records: the batch's object is read once per round, and only when a chunk needs them."""
        if self._chunks is None:
            batch = ChunkBatch.model_validate(storage.get_json(self.settings.data_bucket, self.task.batch.batch_key))
            self._chunks = {c.chunk_index: c for c in batch.chunks}
        return self._chunks[index]

    def advance(self) -> BatchProgress:
        """One round: every chunk whose wait is over takes its next step (submit, or check its vendor job)."""
        for index in self.task.batch.chunk_indexes:
            current = self.progress.chunks.get(str(index))
            if current is not None and (current.settled or current.due_at > time.time()):
                continue
            if self.time_left() < self.reserve:
                break  # the next round takes it up
            self.progress.chunks[str(index)] = self._advance_chunk(index, current)
        return self._round_end()

    def abandon(self) -> BatchProgress:
        """Settle every chunk not settled yet as failed (the batch's deadline or poll bound passed, or its round
        kept failing): their rows become errors with the reason."""
        for index in self.task.batch.chunk_indexes:
            current = self.progress.chunks.get(str(index))
            if current is None or not current.settled:
                self.progress.chunks[str(index)] = ChunkStep(self, index, current).abandon(self.task.error)
        return self._round_end()

    def _advance_chunk(self, index: int, current: ChunkProgress | None) -> ChunkProgress:
        step = ChunkStep(self, index, current)
        submitting = current is None or current.vendor_ref is None
        try:
            try:
                progress = step.submit() if submitting else step.check()
            except Throttled as throttled:
                progress = step.throttled(throttled)
            except Refused as refused:
                progress = step.refused(refused)
        except FATAL_ERRORS as error:
            if isinstance(error, OutOfCredits | AccountBlocked):
                count(Metric.OUT_OF_CREDITS_STOPS)
            self.store.stop(self.job_id, reason=str(error), error=type(error).__name__)
            # Nothing more is sent; a vendor job already accepted is paid for and still collected.
            progress = step.abandon(_caught(error)) if submitting else step.check_failed(error)
        except Exception as error:  # noqa: BLE001 - any fault settles or retries this chunk, never its neighbours
            progress = step.submit_failed(error) if submitting else step.check_failed(error)
        else:
            if progress.status == "failed" or (progress.status == "running" and step.out_of_time(progress)):
                progress = step.abandon(None, progress)
        if progress.status == "running":
            progress.due_at = time.time() + progress.wait_seconds
            return progress
        return ChunkProgress(status=progress.status)  # settled: its outcome is in S3, the loop needs no more

    def _round_end(self) -> BatchProgress:
        now = time.time()
        chunks = self.progress.chunks
        pending = [chunks.get(str(i)) for i in self.task.batch.chunk_indexes]
        unsettled = [p for p in pending if p is None or not p.settled]
        if not unsettled:
            self._write_batch_result()
            self.progress.status = "done"
            self.progress.wait_seconds = 0
        else:
            due = min(now if p is None else p.due_at for p in unsettled)
            self.progress.status = "running"
            self.progress.wait_seconds = max(1, math.ceil(due - now))
        self.progress.polls = max((p.polls for p in unsettled if p is not None), default=0)
        self.progress.elapsed_seconds = int(now - self.progress.started_at)
        return self.progress

    def _write_batch_result(self) -> None:
        """Every chunk's result in one object, the one Finalize reads for the batch."""
        bucket = self.settings.data_bucket
        results = [
            ChunkResult.model_validate(storage.get_json(bucket, layout.chunk_result_key(self.job_id, index)))
            for index in self.task.batch.chunk_indexes
        ]
        batch = BatchResult(batch_index=self.task.batch.batch_index, chunks=results)
        storage.put_json(bucket, layout.batch_result_key(self.job_id, batch.batch_index), batch.model_dump(mode="json"))


class ChunkStep:
    """One chunk's next step within its batch's round."""

    def __init__(self, batch: BatchStep, index: int, previous: ChunkProgress | None) -> None:
        self.batch = batch
        self.index = index
        self.previous = previous
        self.job_id = batch.job_id
        self.vendor = batch.vendor
        self.settings = batch.settings
        self.vendor_settings = batch.vendor_settings
        self.store = batch.store
        self.gate = batch.gate
        self.started_at = previous.started_at if previous and previous.started_at else time.time()
        self.options: VendorOptions | None = None  # the job's vendor options, once read

    # ---- actions ----

    def submit(self) -> ChunkProgress:
        ledger = SendLedger(self.settings.jobs_table, self.job_id, self.index)
        record = ledger.get()
        if record and record.state == "accepted" and record.progress:
            return record.progress  # a retried step: the vendor has this chunk already
        job = self.store.require(self.job_id)
        adapter = self._adapter()
        chunk = self._chunk()
        options = self.options = adapter.parse_options(vendor_options(job.step_options(self.batch.task.step_index)))
        if record and record.state == "sending":
            budgeted = bool(job.options.get("max_credits") or self.settings.monthly_credit_budgets.get(self.vendor))
            reconciled = self._reconcile(ledger, adapter, chunk, options, budgeted=budgeted)
            if reconciled is not None:
                return reconciled
        if job.stop_reason:
            raise JobStopped(f"job stopped before this chunk was sent: {job.stop_reason}")
        try:
            self._reserve(job.options, chunk, options)
        except BudgetReached as reached:
            return self.skip(str(reached))
        adapter.before_paid_request = _once(ledger.mark_sending)  # a call repeated with a new token is one send
        try:
            with self._paced(adapter.request_cost(chunk, "submit")):
                outcome = adapter.submit(chunk, options)
        except OutcomeUnknown:
            raise  # the ledger keeps "sending": the retry reconciles instead of sending again
        except Exception:
            ledger.release()  # refused, throttled or never sent: the vendor does not hold it
            raise
        polls = self.previous.polls if self.previous else 0
        progress = self._progress(outcome, polls=polls)
        ledger.accept(progress)
        count(Metric.CHUNKS_SUBMITTED)
        return progress

    def _reserve(self, job_options: dict, chunk: Chunk, options: VendorOptions) -> None:
        """Reserve the chunk's worst case against the job's and the vendor's month's budgets, before the send ledger
        marks it sending; a retried round finds its reservation and takes none more."""
        budget.reserve(
            self.settings.jobs_table,
            self.job_id,
            self.index,
            self.vendor,
            price_model(self.vendor, self.vendor_settings.credit_prices).worst_case(chunk.records, options),
            max_credits=job_options.get("max_credits"),
            monthly_budget=self.settings.monthly_credit_budgets.get(self.vendor),
        )

    def skip(self, reason: str) -> ChunkProgress:
        """Settle the chunk unsent: a budget had no room for it; its rows end skipped with the reason."""
        count(Metric.CHUNKS_SKIPPED)
        storage.put_json(
            self.settings.data_bucket,
            layout.chunk_result_key(self.job_id, self.index),
            ChunkResult(chunk_index=self.index, status="skipped", reason=reason).model_dump(mode="json"),
        )
        self._settle(credits=0, failed=False)
        return ChunkProgress(status="done", reason=reason)

    def _settle(self, *, credits: float, failed: bool, held: bool = False) -> None:
        """Count the chunk settled once; its reservation (if any) replaced by what it cost, in the same transaction.
        `held`: the vendor may have charged without saying what (an answer lost): the worst case stays spent."""
        table = self.settings.jobs_table
        found = budget.reservation(table, self.job_id, self.index)
        also = budget.settle_items(table, self.job_id, found, credits, held=held) if found else None
        self.store.settle_chunk(self.job_id, self.index, credits=credits, failed=failed, also=also)

    def _reconcile(
        self, ledger: SendLedger, adapter: VendorAdapter, chunk: Chunk, options: VendorOptions, *, budgeted: bool
    ) -> ChunkProgress | None:
        """A submission whose answer was lost: its progress if the vendor holds it, a failure if it cannot be
        known and a repeat may cost money, or None when sending (again) is safe or allowed. A paid repeat
        (allow_resend) is not allowed under a credit budget: the lost call's charge is unknown, and the chunk's one
        reservation covers one send."""
        if adapter.can_find_submission:
            outcome = adapter.find_submission(chunk, options)
            if outcome is None:
                ledger.release()  # the vendor has no such submission: it never arrived
                return None
            progress = self._progress(outcome, polls=0)
            ledger.accept(progress)
            return progress
        if adapter.repeat_is_free or (options.allow_resend and not budgeted):
            ledger.release(resend=True)
            return None
        count(Metric.RESUBMITS_REFUSED)
        return ChunkProgress(
            status="failed",
            started_at=self.started_at,
            elapsed_seconds=int(time.time() - self.started_at),
            reason=(
                f"{self.vendor.value} may have accepted this chunk, but its answer was lost; not resent, to avoid "
                "paying twice (the job option allow_resend=true sends it again)"
            ),
        )

    def check(self) -> ChunkProgress:
        # No stop check here: the vendor job is already paid for, so its answer is still collected.
        job = self.store.require(self.job_id)
        progress = self.previous
        if progress is None or not progress.vendor_ref:
            raise ValueError("check needs the progress returned by submit")
        chunk = self._chunk()
        adapter = self._adapter()
        options = self.options = adapter.parse_options(vendor_options(job.step_options(self.batch.task.step_index)))
        with self._paced(adapter.request_cost(chunk, "check")):
            count(Metric.CHUNK_CHECKS)
            outcome = adapter.check(progress.vendor_ref, chunk, options)
        return self._progress(outcome, polls=progress.polls + 1)

    def throttled(self, throttled: Throttled) -> ChunkProgress:
        """Wait and try the same step again: the vendor's hint when it gave one, else a jittered backoff;
        never longer than the backoff cap or the time left before the chunk's deadline."""
        previous = self.previous
        throttles = (previous.throttles if previous else 0) + 1
        cap = self.vendor_settings.backoff_max_seconds
        time_left = self.vendor_settings.deadline_seconds - (time.time() - self.started_at)
        if throttled.quota and throttled.retry_after is not None:
            if throttled.retry_after > time_left:
                raise QuotaExhausted(
                    f"{throttled}; it resets in {_duration(throttled.retry_after)}, after this job's deadline "
                    f"({_duration(max(0, time_left))} left): the job stops, run the rest after the reset"
                )
            cap = time_left  # the vendor's reset is the earliest a request can succeed: wait for all of it
        if throttled.retry_after is not None:
            wait = math.ceil(throttled.retry_after) + random.randint(0, 2)  # spread the chunks that waited together
        else:
            wait = random.randint(1, min(cap, 2**throttles))
        return ChunkProgress(
            status="running",
            vendor_ref=previous.vendor_ref if previous else None,
            wait_seconds=max(1, math.ceil(min(wait, cap, time_left))),
            # Waiting for a turn is not a check of the vendor's job: only the deadline bounds it.
            polls=previous.polls if previous else 0,
            throttles=throttles,
            started_at=self.started_at,
            elapsed_seconds=int(time.time() - self.started_at),
            progress=previous.progress if previous else None,
            reason=str(throttled),
        )

    def refused(self, refused: Refused) -> ChunkProgress:
        """Try the same step again after a backoff, unless the vendor has refused it too many times."""
        previous = self.previous
        refusals = (previous.refusals if previous else 0) + 1
        base = previous or ChunkProgress(status="running", started_at=self.started_at)
        if refusals >= self.vendor_settings.max_refusals:
            return base.model_copy(
                update={
                    "status": "failed",
                    "refusals": refusals,
                    "reason": f"{refused} (refused {refusals} times in a row)",
                    "elapsed_seconds": int(time.time() - self.started_at),
                }
            )
        time_left = self.vendor_settings.deadline_seconds - (time.time() - self.started_at)
        wait = self._next_wait(None, refusals)
        return base.model_copy(
            update={
                "status": "running",
                "refusals": refusals,
                "wait_seconds": max(1, math.ceil(min(wait, time_left))),
                "started_at": self.started_at,
                "elapsed_seconds": int(time.time() - self.started_at),
                "reason": str(refused),
            }
        )

    def abandon(
        self, error: dict | None, progress: ChunkProgress | None = None, *, reason: str | None = None
    ) -> ChunkProgress:
        """Settle the chunk as failed: every row of it becomes an error with the reason (`reason`, else `error`:
        the fault that ended it, as {"Error", "Cause"}, else what its latest progress says)."""
        reason = reason or self._failure_reason(error, progress or self.previous)
        key = layout.chunk_result_key(self.job_id, self.index)
        if not storage.exists(self.settings.data_bucket, key):  # a vendor job that charged, then failed, wrote it
            storage.put_json(
                self.settings.data_bucket,
                key,
                ChunkResult(chunk_index=self.index, status="failed", reason=reason).model_dump(mode="json"),
            )
        ledger = SendLedger(self.settings.jobs_table, self.job_id, self.index).get()
        self._settle(credits=0, failed=True, held=ledger is not None and ledger.state != "released")
        if not (error and error.get("Error") == JobStopped.__name__):  # never sent: the job stopped (a cancel)
            count(Metric.CHUNKS_ABANDONED)
        return ChunkProgress(status="failed", reason=reason)

    def _waiting(self, progress: ChunkProgress, wait: float) -> ChunkProgress:
        return progress.model_copy(
            update={
                "status": "running",
                "wait_seconds": max(1, math.ceil(wait)),
                "started_at": self.started_at,
                "elapsed_seconds": int(time.time() - self.started_at),
            }
        )

    def submit_failed(self, error: Exception) -> ChunkProgress:
        """A submit that raised: a Transient fault is tried again on a later round, a bounded number of times
        (an OutcomeUnknown's ledger stays "sending", so that try reconciles); any other fault settles the chunk."""
        attempts = (self.previous.attempts if self.previous else 0) + 1
        if not isinstance(error, Transient) or attempts >= SUBMIT_ATTEMPTS:
            return self.abandon(_caught(error))
        base = self.previous or ChunkProgress(status="running", started_at=self.started_at)
        return self._waiting(
            base.model_copy(update={"attempts": attempts, "reason": f"{error}; trying again"}),
            min(30, 2**attempts) * random.uniform(0.5, 1.0),
        )

    def check_failed(self, error: Exception) -> ChunkProgress:
        """The vendor job was accepted and is paid for: a check that failed waits and checks again, bounded by
        the poll count and the deadline; its answer is never given up."""
        assert self.previous is not None
        polls = self.previous.polls + 1
        updated = self.previous.model_copy(
            update={"polls": polls, "reason": f"a check failed ({type(error).__name__}: {error}); checking again"}
        )
        if self.out_of_time(updated):
            return self.abandon(None, reason=f"{self._failure_reason(None, updated)}; the last check failed: {error}")
        return self._waiting(updated, self._next_wait(None, polls))

    def out_of_time(self, progress: ChunkProgress) -> bool:
        """Past the chunk's poll bound or deadline: it is settled as failed, saying so."""
        return (
            progress.polls >= self.vendor_settings.max_polls
            or time.time() - self.started_at >= self.vendor_settings.deadline_seconds
        )

    # ---- parts ----

    @contextlib.contextmanager
    def _paced(self, cost: int) -> Iterator[None]:
        """Within the shared budget; a vendor's reset hint is recorded for every other chunk to honour."""
        self.batch.acquire(cost)
        try:
            yield
        except Throttled as throttled:
            if throttled.retry_after:
                # Every chunk of the vendor waits for the hint; a short window's never longer than the backoff
                # cap, a quota's until its reset.
                cap = None if throttled.quota else self.vendor_settings.backoff_max_seconds
                self.gate.block(throttled.retry_after if cap is None else min(throttled.retry_after, cap))
            raise

    def _progress(self, outcome: ChunkOutcome, *, polls: int) -> ChunkProgress:
        progress = ChunkProgress(
            status=outcome.status,
            vendor_ref=outcome.vendor_ref,
            polls=polls,
            started_at=self.started_at,
            elapsed_seconds=int(time.time() - self.started_at),
            progress=outcome.progress,
            reason=outcome.reason,
        )
        if outcome.status == "done":
            self._store_result(outcome)
        elif outcome.status == "failed" and outcome.credits:
            # A vendor job that charged and then failed (an answer we cannot read): its rows become errors when
            # the chunk is abandoned, but what it cost counts for the job now (settling a chunk counts once).
            self._store_result(outcome)
        elif outcome.status == "running":
            progress.wait_seconds = self._next_wait(outcome.wait_hint_seconds, polls)
        return progress

    def _store_result(self, outcome: ChunkOutcome) -> None:
        index = self.index
        failed = outcome.status == "failed"
        if outcome.results:
            price_model(self.vendor, self.vendor_settings.credit_prices).attribute(
                outcome.results, outcome.credits, self._options()
            )
        # A free repeat of a send whose answer was lost says 0: the vendor charged the lost send, how much is not
        # known. The chunk's worst case stays committed against the budgets (held), as for a lost answer.
        held = not outcome.credits and self._adapter().repeat_is_free and self._resent()
        result = ChunkResult(
            chunk_index=index,
            status="failed" if failed else "done",
            credits=outcome.credits,
            results=outcome.results,
            reason=outcome.reason if failed else None,
            answered_at=now_iso(),
        )
        storage.put_json(
            self.settings.data_bucket, layout.chunk_result_key(self.job_id, index), result.model_dump(mode="json")
        )
        if not failed:
            self._keep_answers(result)
        self._settle(credits=outcome.credits, failed=failed, held=held)

    def _keep_answers(self, result: ChunkResult) -> None:
        """The chunk's answers into the result cache, for later jobs. Never fails the chunk: its answer is paid for
        and stored; a cache that could not be written only costs a later job a vendor call."""
        if not self.settings.result_cache_table or result.answered_at is None:
            return
        adapter = adapter_class(self.vendor)
        cache = ResultCache(
            self.settings.result_cache_table,
            self.vendor,
            answer_scope(adapter.answer_options, self._options()),
            retention_days=self.settings.result_cache_days,
        )
        answers = [
            (adapter.dedupe_key(record.fields), Answered(record.fields, found))
            for record in self._chunk().records
            if (found := result.results.get(record.ref)) is not None
        ]
        try:
            kept = cache.store(answers, result.answered_at, self.job_id)
        except Exception as exc:  # noqa: BLE001 - see the docstring
            logger.warning("answers not cached", extra={"job_id": self.job_id, "error": type(exc).__name__})
            return
        count(Metric.ANSWERS_CACHED, kept)

    def _next_wait(self, hint: float | None, polls: int) -> int:
        """The vendor's estimate when it gives one, else a growing backoff; jittered, capped."""
        s = self.vendor_settings
        if hint is not None and hint > 0:
            wait = hint
        elif polls == 0:
            wait = s.first_wait_seconds
        else:
            wait = s.backoff_base_seconds * 2 ** (polls - 1)
        wait = min(wait, s.backoff_max_seconds) * random.uniform(1.0, 1.2)
        return max(1, round(wait))

    def _failure_reason(self, error: dict | None, progress: ChunkProgress | None) -> str:
        if error:
            return caught_message(error)
        if progress and progress.status == "failed":
            return progress.reason or f"the {self.vendor.value} job failed"
        if progress:
            return (
                f"the {self.vendor.value} job did not finish in time "
                f"({progress.polls} checks over {progress.elapsed_seconds}s)"
            )
        return "the chunk was not processed"

    def _resent(self) -> bool:
        """Whether this chunk was sent again after an earlier send's answer was lost (its ledger says)."""
        record = SendLedger(self.settings.jobs_table, self.job_id, self.index).get()
        return record is not None and record.resends > 0

    def _options(self) -> VendorOptions:
        if self.options is None:
            job = self.store.require(self.job_id)
            self.options = self._adapter().parse_options(vendor_options(job.step_options(self.batch.task.step_index)))
        return self.options

    def _chunk(self) -> Chunk:
        return self.batch.chunk(self.index)

    def _adapter(self) -> VendorAdapter:
        return connect(self.vendor, self.settings)


def _duration(seconds: float) -> str:
    minutes = math.ceil(seconds / 60)
    return f"{minutes} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def _once(action: Callable[[], None]) -> Callable[[], None]:
    done = False

    def run() -> None:
        nonlocal done
        if not done:
            action()
            done = True

    return run


def _caught(error: Exception) -> dict[str, str]:
    """An error raised in this round, as a state machine's Catch gives a Lambda's: {"Error", "Cause"}, the Cause
    being the Lambda's error payload (so the reason reads the same whichever caught it)."""
    name = type(error).__name__
    return {"Error": name, "Cause": json.dumps({"errorMessage": str(error), "errorType": name})}
