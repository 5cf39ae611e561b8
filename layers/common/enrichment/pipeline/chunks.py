"""The vendor step: submit a chunk, check its vendor job, or settle it as failed.

One implementation for every vendor; the adapter is the only vendor-specific part.
- A submit goes through the send ledger: recorded before the paid request leaves, its answer kept, so a
  retried step returns the first answer instead of paying the vendor twice. A submit whose answer was
  lost is reconciled: looked up where the vendor allows it, sent again only where a repeat is free (or the
  job allows it), otherwise its rows are reported as errors saying why.
- Throttling never fails a chunk: the step returns "running" with the wait the vendor asked for (or
  a jittered backoff), capped by the time left, and the Wait state sleeps it. A daily or hourly quota
  whose reset comes after the chunk's deadline stops the job instead, saying when it resets.
- A refusal the vendor does not document as final (an unrecognised 400) is tried again after a backoff;
  after `max_refusals` in a row the chunk fails with the vendor's message.
"""

from __future__ import annotations

import contextlib
import math
import random
import time
from collections.abc import Callable, Iterator

from enrichment.errors import (
    FATAL_ERRORS,
    JobStopped,
    OutcomeUnknown,
    QuotaExhausted,
    Refused,
    Throttled,
    caught_message,
)
from enrichment.files import layout, storage
from enrichment.jobs.store import JobStore
from enrichment.models import Chunk, ChunkProgress, ChunkResult, ChunkTask, Vendor
from enrichment.options import vendor_options
from enrichment.pipeline.pacing import RateGate
from enrichment.pipeline.send_ledger import SendLedger
from enrichment.settings import Settings, VendorSettings
from enrichment.vendors import ChunkOutcome, VendorAdapter, connect
from enrichment.vendors.base import VendorOptions


def run_chunk_task(task: ChunkTask, vendor: Vendor, settings: Settings) -> ChunkProgress:
    step = ChunkStep(task, vendor, settings)
    if task.action == "abandon":
        return step.abandon()
    try:
        try:
            return step.submit() if task.action == "submit" else step.check()
        except Throttled as throttled:
            return step.throttled(throttled)
        except Refused as refused:
            return step.refused(refused)
    except FATAL_ERRORS as error:
        step.store.stop(task.job_id, reason=str(error), error=type(error).__name__)
        raise


class ChunkStep:
    def __init__(self, task: ChunkTask, vendor: Vendor, settings: Settings) -> None:
        self.task = task
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
        previous = task.progress
        self.started_at = previous.started_at if previous and previous.started_at else time.time()

    # ---- actions ----

    def submit(self) -> ChunkProgress:
        ledger = SendLedger(self.settings.jobs_table, self.task.job_id, self.task.chunk.chunk_index)
        record = ledger.get()
        if record and record.state == "accepted" and record.progress:
            return record.progress  # a retried step: the vendor has this chunk already
        job = self.store.require(self.task.job_id)
        adapter = self._adapter()
        chunk = self._chunk()
        options = adapter.parse_options(vendor_options(job.options))
        if record and record.state == "sending":
            reconciled = self._reconcile(ledger, adapter, chunk, options)
            if reconciled is not None:
                return reconciled
        if job.stop_reason:
            raise JobStopped(f"job stopped before this chunk was sent: {job.stop_reason}")
        adapter.before_paid_request = _once(ledger.mark_sending)  # a call repeated with a new token is one send
        try:
            with self._paced(adapter.request_cost(chunk, "submit")):
                outcome = adapter.submit(chunk, options)
        except OutcomeUnknown:
            raise  # the ledger keeps "sending": the retry reconciles instead of sending again
        except Exception:
            ledger.release()  # refused, throttled or never sent: the vendor does not hold it
            raise
        polls = self.task.progress.polls if self.task.progress else 0
        progress = self._progress(outcome, polls=polls)
        ledger.accept(progress)
        return progress

    def _reconcile(
        self, ledger: SendLedger, adapter: VendorAdapter, chunk: Chunk, options: VendorOptions
    ) -> ChunkProgress | None:
        """A submission whose answer was lost: its progress if the vendor holds it, a failure if it cannot be
        known and a repeat may cost money, or None when sending (again) is safe or allowed."""
        if adapter.can_find_submission:
            outcome = adapter.find_submission(chunk, options)
            if outcome is None:
                ledger.release()  # the vendor has no such submission: it never arrived
                return None
            progress = self._progress(outcome, polls=0)
            ledger.accept(progress)
            return progress
        if adapter.repeat_is_free or options.allow_resend:
            ledger.release(resend=True)
            return None
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
        job = self.store.require(self.task.job_id)
        progress = self.task.progress
        if progress is None or not progress.vendor_ref:
            raise ValueError("check needs the progress returned by submit")
        chunk = self._chunk()
        adapter = self._adapter()
        with self._paced(adapter.request_cost(chunk, "check")):
            outcome = adapter.check(progress.vendor_ref, chunk, adapter.parse_options(vendor_options(job.options)))
        return self._progress(outcome, polls=progress.polls + 1)

    def throttled(self, throttled: Throttled) -> ChunkProgress:
        """Wait and try the same step again: the vendor's hint when it gave one, else a jittered backoff;
        never longer than the backoff cap or the time left before the chunk's deadline."""
        previous = self.task.progress
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
        previous = self.task.progress
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

    def abandon(self) -> ChunkProgress:
        """Settle the chunk as failed: every row of it becomes an error with the reason."""
        reason = self._failure_reason()
        index = self.task.chunk.chunk_index
        key = layout.chunk_result_key(self.task.job_id, index)
        if not storage.exists(self.settings.data_bucket, key):
            storage.put_json(
                self.settings.data_bucket,
                key,
                ChunkResult(chunk_index=index, status="failed", reason=reason).model_dump(mode="json"),
            )
        self.store.settle_chunk(self.task.job_id, index, credits=0, failed=True)
        previous = self.task.progress or ChunkProgress(status="failed")
        return previous.model_copy(update={"status": "failed", "reason": reason})

    # ---- parts ----

    @contextlib.contextmanager
    def _paced(self, cost: int) -> Iterator[None]:
        """Within the shared budget; a vendor's reset hint is recorded for every other chunk to honour."""
        self.gate.acquire(cost)
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
        index = self.task.chunk.chunk_index
        failed = outcome.status == "failed"
        result = ChunkResult(
            chunk_index=index,
            status="failed" if failed else "done",
            credits=outcome.credits,
            results=outcome.results,
            reason=outcome.reason if failed else None,
        )
        storage.put_json(
            self.settings.data_bucket, layout.chunk_result_key(self.task.job_id, index), result.model_dump(mode="json")
        )
        self.store.settle_chunk(self.task.job_id, index, credits=outcome.credits, failed=failed)

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

    def _failure_reason(self) -> str:
        if self.task.error:
            return caught_message(self.task.error)
        progress = self.task.progress
        if progress and progress.status == "failed":
            return progress.reason or f"the {self.vendor.value} job failed"
        if progress:
            return (
                f"the {self.vendor.value} job did not finish in time "
                f"({progress.polls} checks over {progress.elapsed_seconds}s)"
            )
        return "the chunk was not processed"

    def _chunk(self) -> Chunk:
        return Chunk.model_validate(storage.get_json(self.settings.data_bucket, self.task.chunk.chunk_key))

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
