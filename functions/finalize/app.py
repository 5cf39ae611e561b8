"""Finalize step: write results.csv, results.jsonl and summary.json, and settle the job's status."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrichment.metrics import log_metrics
from enrichment.models import FinalizeInput
from enrichment.pipeline.finalize import finalize_job
from enrichment.settings import Settings
from enrichment.tracing import Tracer

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(correlation_id_path="job_id", clear_state=True)
@tracer.capture_lambda_handler
@log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    job = finalize_job(FinalizeInput.model_validate(event), Settings.load())
    logger.info("job finished", extra={"status": job.status.value, "counts": job.counts, "error": job.error})
    return {"job_id": job.job_id, "status": job.status.value}
