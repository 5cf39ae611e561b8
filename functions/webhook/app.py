"""Webhooks: each job-ended event is POSTed, signed, to the job's webhook_url (if it has one)."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrichment.jobs.webhooks import deliver
from enrichment.metrics import log_metrics
from enrichment.settings import Settings
from enrichment.tracing import Tracer

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@log_metrics
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict:
    job_id = event.detail["job_id"]
    outcome = deliver(job_id, event.detail, Settings.load())
    logger.info("webhook", extra={"job_id": job_id, "outcome": outcome, "detail_type": event.detail_type})
    return {"job_id": job_id, "webhook": outcome}
