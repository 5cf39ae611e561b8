"""Completion events: every job end is announced on the jobs' EventBridge bus.

detail-type: "Job Succeeded" | "Job Partial" | "Job Failed" | "Job Cancelled"; source: "contact-enrichment";
detail: the JobEnded model below (documented in the README). Webhooks receive the same detail.
"""

from __future__ import annotations

import json
import logging

from enrichment.aws import client
from enrichment.files.layout import OUTPUT_FILES
from enrichment.models import Job, Model
from enrichment.settings import Settings

SOURCE = "contact-enrichment"
logger = logging.getLogger(__name__)


class JobOutputs(Model):
    bucket: str
    prefix: str
    files: dict[str, str]  # file name -> S3 key


class JobEnded(Model):
    job_id: str
    vendor: str  # a job of steps: its first step's (`steps` names them all, in order)
    steps: list[str] = []
    status: str
    error: str | None
    source: str
    rows: int
    counts: dict[str, int]
    credits: float
    credits_by_vendor: dict[str, float] = {}
    credits_per_matched_row: float | None = None
    max_credits: int | None = None
    skipped_rows: int = 0
    created_at: str
    finished_at: str | None
    outputs: JobOutputs


def detail_type(status: str) -> str:
    return f"Job {status.title()}"


def job_ended(job: Job, settings: Settings) -> JobEnded:
    return JobEnded(
        job_id=job.job_id,
        vendor=job.vendor.value,
        steps=[step.vendor.value for step in job.steps],
        status=job.status.value,
        error=job.error,
        source=job.source,
        rows=sum(job.counts.values()),
        counts=job.counts,
        credits=job.credits,
        credits_by_vendor=job.credits_by_vendor,
        credits_per_matched_row=job.credits_per_matched_row,
        max_credits=job.options.get("max_credits"),
        skipped_rows=job.counts.get("skipped", 0),
        created_at=job.created_at,
        finished_at=job.finished_at,
        outputs=JobOutputs(
            bucket=settings.data_bucket,
            prefix=job.output_prefix,
            files={name: job.output_prefix + name for name in OUTPUT_FILES},
        ),
    )


def emit_job_ended(job: Job, settings: Settings) -> None:
    """Announce the end; a failure to announce is logged, never allowed to change the job's outcome."""
    if not settings.event_bus:
        return
    detail = job_ended(job, settings)
    try:
        answer = client("events").put_events(
            Entries=[
                {
                    "Source": SOURCE,
                    "DetailType": detail_type(job.status.value),
                    "Detail": detail.model_dump_json(),
                    "EventBusName": settings.event_bus,
                    "Resources": [],
                }
            ]
        )
        if answer.get("FailedEntryCount"):
            logger.warning("completion event not accepted: %s", json.dumps(answer.get("Entries"))[:500])
    except Exception as error:  # noqa: BLE001 - the job has ended either way
        logger.warning("completion event not sent: %s", type(error).__name__)
