"""Finalize step: write results.csv, results.jsonl and summary.json, and settle the job's status."""

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrichment.models import FinalizeInput
from enrichment.pipeline.finalize import finalize_job
from enrichment.settings import Settings
from enrichment.tracing import Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()


@logger.inject_lambda_context(correlation_id_path="job_id", clear_state=True)
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    job = finalize_job(FinalizeInput.model_validate(event), Settings.load())
    metrics.add_dimension(name="vendor", value=job.vendor.value)
    for status, count in job.counts.items():
        metrics.add_metric(name=f"rows_{status}", unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="credits", unit=MetricUnit.Count, value=job.credits)
    logger.info("job finished", extra={"status": job.status.value, "counts": job.counts, "error": job.error})
    return {"job_id": job.job_id, "status": job.status.value}
