"""Prepare step: validate, dedupe and chunk the job's input."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrichment.models import JobInput
from enrichment.pipeline.prepare import prepare_job
from enrichment.settings import Settings
from enrichment.tracing import Tracer

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(correlation_id_path="job_id", clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    request = JobInput.model_validate(event)
    prepared = prepare_job(request.job_id, Settings.load(), request.step_index)
    logger.info(
        "job prepared",
        extra={"step": prepared.step_index + 1, "chunks": prepared.chunks_total, "vendor": prepared.vendor.value},
    )
    return prepared.model_dump(mode="json")
