"""S3 drop entry point: a CSV put under inbox/<vendor>/ starts a job, or is moved to rejected/ saying why."""

from urllib.parse import unquote_plus

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import S3Event, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrichment.files.storage import ObjectVersion
from enrichment.jobs.ingest import Rejection, ingest_drop, is_folder_marker
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
    started, rejected = [], []
    for record in event.records:
        obj = record.s3.get_object
        key = unquote_plus(obj.key)  # S3 event keys arrive URL-encoded
        if is_folder_marker(key):
            continue
        principal = (record.get("userIdentity") or {}).get("principalId")  # who dropped it: the job's owner
        drop = ObjectVersion(record.s3.bucket.name, key, obj.version_id)  # the version this event is about
        outcome = ingest_drop(drop, obj.etag or "", principal, settings)
        if isinstance(outcome, Rejection):
            # Nothing to retry: the same object would be refused again. The record is under rejected/.
            logger.warning("dropped file rejected", extra={"key": key, "reason": outcome.reason})
            count(Metric.INGEST_REJECTED)
            rejected.append(outcome.rejected_key)
            continue
        logger.info("job started", extra={"job_id": outcome.job_id, "vendor": outcome.vendor.value, "key": key})
        started.append(outcome.job_id)
    return {"job_ids": started, "rejected": rejected}
