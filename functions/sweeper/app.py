"""The sweeper: on a schedule, settles jobs whose execution ended without settling them."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrichment.jobs.sweeper import sweep
from enrichment.metrics import log_metrics
from enrichment.settings import Settings
from enrichment.tracing import Tracer

logger = Logger()
tracer = Tracer()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:  # the schedule's event says nothing it needs
    settled = sweep(Settings.load())
    for job in settled:
        logger.warning("job settled by the sweeper", extra={"job_id": job.job_id, "error": job.error})
    return {"settled": [job.job_id for job in settled]}
