"""Scheduled jobs: an EventBridge schedule fires, and the job its rule names starts like any other."""

from pathlib import Path

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent, event_source
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrichment.jobs.schedules import load_schedules, run_schedule, schedule_name
from enrichment.settings import Settings, environ
from enrichment.tracing import Tracer

logger = Logger()
tracer = Tracer()
SCHEDULES = Path(__file__).with_name("schedules.json")


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_source(data_class=EventBridgeEvent)
def lambda_handler(event: EventBridgeEvent, context: LambdaContext) -> dict:
    schedules = load_schedules(SCHEDULES)
    name = schedule_name(event.resources[0], environ().get("STACK_NAME", ""))
    if name not in schedules:
        raise KeyError(f"no schedule named {name!r} in schedules.json")
    job = run_schedule(name, schedules[name], event.get_id, Settings.load())
    logger.info("scheduled job started", extra={"schedule": name, "job_id": job.job_id})
    return {"schedule": name, "job_id": job.job_id}
