"""S3 drop entry point: a CSV put under inbox/<vendor>/ starts a job."""

from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrichment.jobs.ingest import JobRejected, start_job_from_s3
from enrichment.metrics import Metric, count, log_metrics
from enrichment.settings import Settings
from enrichment.tracing import Tracer

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@log_metrics
@event_source(data_class=S3Event)
def lambda_handler(event: S3Event, context: LambdaContext) -> dict:
    settings = Settings.load()
    started = []
    for record in event.records:
        obj = record.s3.get_object
        key = unquote_plus(obj.key)  # S3 event keys arrive URL-encoded
        try:
            dropped_by = record.get("userIdentity", {}).get("principalId")  # who put the object: the job's owner
            job = start_job_from_s3(record.s3.bucket.name, key, obj.etag or "", settings, dropped_by=dropped_by)
        except JobRejected as exc:
            # Nothing to retry: S3 would deliver the same event again and again.
            logger.warning("dropped file ignored", extra={"key": key, "reason": str(exc)})
            count(Metric.INGEST_REJECTED)
            continue
        logger.info("job started", extra={"job_id": job.job_id, "vendor": job.vendor.value, "key": key})
        started.append(job.job_id)
    return {"job_ids": started}
