"""The sweeper: settles jobs whose execution ended without settling them (timed out, aborted, failed
before finalize), so no job stays RUNNING forever. Runs on a schedule."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time

from enrichment.aws import client
from enrichment.jobs.service import execution_arn
from enrichment.jobs.store import JobStore
from enrichment.metrics import Metric, count
from enrichment.models import FinalizeInput, Job, JobStatus
from enrichment.settings import Settings

logger = logging.getLogger(__name__)
GRACE_SECONDS = 300  # an execution that just ended may still be finalizing (a cancellation does so after)


def _age_seconds(timestamp: str | dt.datetime | None) -> float:
    if timestamp is None:
        return 0.0
    moment = dt.datetime.fromisoformat(timestamp) if isinstance(timestamp, str) else timestamp
    return (dt.datetime.now(dt.UTC) - moment).total_seconds()


def sweep(settings: Settings, grace_seconds: float | None = None) -> list[Job]:
    """Settle every job left unsettled; one job that cannot be settled is logged and never stops the sweep."""
    grace_seconds = GRACE_SECONDS if grace_seconds is None else grace_seconds
    store = JobStore(settings.jobs_table)
    sfn = client("stepfunctions")
    settled = []
    for status in (JobStatus.RUNNING, JobStatus.PENDING, JobStatus.FINALIZING):
        start = None
        while True:
            jobs, start = store.list(status=status.value, limit=100, start=start)
            for job in jobs:
                try:
                    reason = _why_unsettled(job, sfn, settings, grace_seconds)
                    if reason:
                        failure = {"Error": "Unsettled", "Cause": json.dumps({"errorMessage": reason})}
                        request = FinalizeInput(job_id=job.job_id, failure=failure, finalizer=f"sweeper-{job.job_id}")
                        settled.append(_finalize(request, settings))
                except Exception:  # noqa: BLE001 - isolate each job: the next sweep tries it again
                    logger.exception("the sweeper could not settle a job", extra={"job_id": job.job_id})
            if not start:
                break
    count(Metric.JOBS_SETTLED_BY_SWEEPER, len(settled))  # every sweep, none included: a steady zero is good news
    return settled


def _why_unsettled(job: Job, sfn, settings: Settings, grace_seconds: float) -> str | None:
    if job.status == JobStatus.FINALIZING:
        if (job.finalize_lease_until or 0) < time.time():
            return "the job's finalize stopped before it settled the job"
        return None  # a finalizer is at work
    try:
        execution = sfn.describe_execution(executionArn=execution_arn(settings, job.job_id))
    except sfn.exceptions.ExecutionDoesNotExist:
        if _age_seconds(job.created_at) > grace_seconds:
            return "the job's execution never started"
        return None
    if execution["status"] == "RUNNING" or _age_seconds(execution.get("stopDate")) <= grace_seconds:
        return None
    detail = execution.get("cause") or execution.get("error") or ""
    ended = execution["status"].lower().replace("_", " ")
    return f"the job's execution {ended} before the job was settled" + (f": {detail[:300]}" if detail else "")


def _finalize(request: FinalizeInput, settings: Settings) -> Job:
    """Ask the Finalize function, as the state machine would: the sweeper does not carry the pipeline."""
    answer = client("lambda").invoke(FunctionName=settings.finalize_function, Payload=request.model_dump_json())
    body = json.loads(answer["Payload"].read() or b"null")
    if "FunctionError" in answer:
        raise RuntimeError(f"finalize failed for {request.job_id}: {body.get('errorMessage') if body else ''}")
    return JobStore(settings.jobs_table).require(request.job_id)
