"""The chunk step's rules for what vendors leave open: refusals tried again then failed, quotas waited for or
stopping the job. Pure decisions on the step's state: no AWS and no vendor is called."""

import time

import pytest

from enrichment.errors import QuotaExhausted, Refused, Throttled
from enrichment.models import BatchRef, BatchTask, ChunkProgress, Vendor
from enrichment.pipeline.chunks import BatchStep, ChunkStep
from enrichment.settings import Settings

SETTINGS = Settings(
    data_bucket="bucket",
    jobs_table="jobs",
    idempotency_table="idempotency",
    vendor_overrides={"check365": {"deadline_seconds": 3600, "backoff_max_seconds": 120, "max_refusals": 3}},
)


def step(progress: ChunkProgress | None = None) -> ChunkStep:
    task = BatchTask(action="advance", job_id="job-1", batch=BatchRef(batch_index=0, batch_key="k", chunk_indexes=[0]))
    return ChunkStep(BatchStep(task, Vendor.CHECK365, SETTINGS, time_left=lambda: 60), 0, progress)


def test_a_refusal_is_tried_again_after_a_wait():
    progress = step().refused(Refused("check365: HTTP 400, request refused: Something new"))
    assert progress.status == "running" and progress.refusals == 1
    assert progress.wait_seconds >= 1 and progress.vendor_ref is None  # the Route sends it to Submit again
    assert "Something new" in progress.reason


def test_a_refusal_that_persists_fails_the_chunk_with_the_vendors_words():
    progress = None
    for _ in range(3):
        progress = step(progress).refused(Refused("check365: HTTP 400, request refused: Something new"))
    assert progress.status == "failed"
    assert progress.reason == "check365: HTTP 400, request refused: Something new (refused 3 times in a row)"


def test_a_daily_quota_that_resets_before_the_deadline_is_waited_for_in_full():
    progress = step().throttled(Throttled("prospeo: daily limit reached", retry_after=1800, quota="daily"))
    assert progress.status == "running"
    assert 1800 <= progress.wait_seconds <= 1802  # beyond the 120 s backoff cap: nothing succeeds before the reset


def test_a_daily_quota_that_resets_after_the_deadline_stops_the_job_saying_when():
    started = ChunkProgress(status="running", started_at=time.time() - 3000)  # 600 s of the hour left
    with pytest.raises(
        QuotaExhausted, match=r"daily limit reached; it resets in 5.0 h, after this job.s deadline \(10 min left\)"
    ):
        step(started).throttled(Throttled("prospeo: daily limit reached", retry_after=18000, quota="daily"))


def test_a_short_window_hint_is_capped_by_the_backoff_limit():
    progress = step().throttled(Throttled("check365: HTTP 429", retry_after=900))
    assert progress.wait_seconds == 120


def test_a_round_without_time_left_leaves_every_chunk_to_the_next_round():
    task = BatchTask(
        action="advance", job_id="job-1", batch=BatchRef(batch_index=0, batch_key="k", chunk_indexes=[0, 1])
    )
    progress = BatchStep(task, Vendor.CHECK365, SETTINGS, time_left=lambda: 1).advance()
    assert progress.status == "running" and progress.chunks == {} and progress.wait_seconds == 1
