"""The service's CloudWatch metrics (EMF, through Powertools Metrics), recorded where each event happens.

Powertools' Metrics instances share one metric set per process: the layer records into it with the functions
below, and the handler, decorated with this module's `log_metrics`, writes it at the end of the invocation (one
EMF line on stdout, which CloudWatch Logs turns into metrics) and clears it. Namespace and the `service` dimension
are the function's POWERTOOLS_METRICS_NAMESPACE and POWERTOOLS_SERVICE_NAME. The README's "Metrics" section lists
every metric, its dimensions, the function emitting it and what it means.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit

from enrichment.models import JobStatus, RowStatus, Vendor
from enrichment.settings import environ

metrics = Metrics()

VENDOR_DIMENSION = "vendor"


class Metric(StrEnum):
    # Finalize, dimensions service and vendor: once per settled job.
    JOBS_SUCCEEDED = "JobsSucceeded"
    JOBS_PARTIAL = "JobsPartial"
    JOBS_FAILED = "JobsFailed"
    JOBS_CANCELLED = "JobsCancelled"
    ROWS = "Rows"
    ROWS_MATCHED = "RowsMatched"
    ROWS_NOT_MATCHED = "RowsNotMatched"
    ROWS_INVALID_INPUT = "RowsInvalidInput"
    ROWS_DUPLICATE = "RowsDuplicate"
    ROWS_ERROR = "RowsError"
    ROWS_SKIPPED = "RowsSkipped"
    CREDITS = "Credits"
    JOB_DURATION = "JobDuration"
    # The vendor functions, dimensions service and vendor.
    CHUNKS_SUBMITTED = "ChunksSubmitted"
    CHUNK_CHECKS = "ChunkChecks"
    VENDOR_REQUESTS = "VendorRequests"
    VENDOR_THROTTLES = "VendorThrottles"
    CHUNKS_ABANDONED = "ChunksAbandoned"
    RESUBMITS_REFUSED = "ResubmitsRefused"
    OUT_OF_CREDITS_STOPS = "OutOfCreditsStops"
    CHUNKS_SKIPPED = "ChunksSkipped"  # not sent: a credit budget had no room
    ANSWERS_CACHED = "AnswersCached"  # answers written to the result cache, for later jobs
    # Webhook, Sweeper, Ingest: dimension service.
    WEBHOOK_DELIVERIES = "WebhookDeliveries"
    WEBHOOK_DELIVERY_FAILURES = "WebhookDeliveryFailures"
    JOBS_SETTLED_BY_SWEEPER = "JobsSettledBySweeper"
    INGEST_REJECTED = "IngestRejected"


JOBS_BY_STATUS = {
    JobStatus.SUCCEEDED: Metric.JOBS_SUCCEEDED,
    JobStatus.PARTIAL: Metric.JOBS_PARTIAL,
    JobStatus.FAILED: Metric.JOBS_FAILED,
    JobStatus.CANCELLED: Metric.JOBS_CANCELLED,
}
ROWS_BY_STATUS = {
    RowStatus.MATCHED: Metric.ROWS_MATCHED,
    RowStatus.NOT_MATCHED: Metric.ROWS_NOT_MATCHED,
    RowStatus.INVALID_INPUT: Metric.ROWS_INVALID_INPUT,
    RowStatus.DUPLICATE: Metric.ROWS_DUPLICATE,
    RowStatus.ERROR: Metric.ROWS_ERROR,
    RowStatus.SKIPPED: Metric.ROWS_SKIPPED,
}


def log_metrics[Handler: Callable[..., Any]](handler: Handler) -> Handler:
    """What Powertools' `log_metrics` does, the handler's metrics written (and cleared) when it returns or raises,
    except that an invocation with nothing to count (a job without a webhook, a finalizer that lost the claim)
    writes nothing and warns nothing: its dimensions are cleared. Namespace and service are read from the
    function's environment at each invocation, as its settings are."""

    @functools.wraps(handler)
    def invocation(*args: Any, **kwargs: Any) -> Any:
        env = environ()
        metrics.namespace = env.get("POWERTOOLS_METRICS_NAMESPACE")
        metrics.service = env.get("POWERTOOLS_SERVICE_NAME")
        try:
            return handler(*args, **kwargs)
        finally:
            if metrics.provider.metric_set:
                metrics.flush_metrics()
            else:
                metrics.clear_metrics()

    return invocation  # type: ignore[return-value]


def for_vendor(vendor: Vendor) -> None:
    """Every metric of this invocation is the vendor's (the vendor functions, Finalize)."""
    metrics.add_dimension(name=VENDOR_DIMENSION, value=vendor.value)


def count(metric: Metric, value: float = 1) -> None:
    metrics.add_metric(name=metric.value, unit=MetricUnit.Count, value=value)


def job_settled(
    vendor: Vendor, status: JobStatus, counts: Mapping[str, int], credits: float, duration_seconds: float
) -> None:
    """A job settled (once: by the finalizer that settled it): its outcome, its rows by outcome, credits, duration."""
    for_vendor(vendor)
    count(JOBS_BY_STATUS[status])
    count(Metric.ROWS, sum(counts.get(s.value, 0) for s in RowStatus))
    for row_status, metric in ROWS_BY_STATUS.items():
        count(metric, counts.get(row_status.value, 0))
    count(Metric.CREDITS, credits)
    metrics.add_metric(name=Metric.JOB_DURATION.value, unit=MetricUnit.Seconds, value=max(0.0, duration_seconds))
