"""Recurring jobs: each schedule names a vendor (or steps, or a recipe: jobs/steps.py), an input file in the data
bucket and options.

A schedule is an event on ScheduleFunction in template.yaml (its timing) plus an entry in
functions/schedule/schedules.json (what it runs), joined by the rule's name: <stack>-<schedule name>.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from enrichment.errors import BadInput
from enrichment.files import storage
from enrichment.jobs.access import schedule_owner
from enrichment.jobs.ingest import JobRejected, job_id_for
from enrichment.jobs.service import start_job
from enrichment.jobs.steps import job_steps
from enrichment.models import Job, JobStep, Model, Vendor
from enrichment.settings import Settings


class Schedule(Model, extra="forbid"):
    """What a schedule runs: one of `vendor`, `steps` (each {vendor, options, validate}: options.parse_steps) or
    `recipe` (a name in the data bucket's recipes file), on `input_key`, with `options` (the job's own; with steps,
    `<vendor>.<name>` options are that step's)."""

    vendor: Vendor | None = None
    steps: list[dict[str, Any]] | None = Field(default=None, min_length=1)
    recipe: str | None = Field(default=None, min_length=1)
    input_key: str = Field(description="a CSV in the data bucket, e.g. schedules/weekly-revalidation.csv")
    options: dict = {}
    webhook_url: str | None = Field(
        default=None, description="an https URL on the public internet (or in WEBHOOK_ALLOW): checked at each run"
    )

    @model_validator(mode="after")
    def _one_job_kind(self) -> Schedule:
        given = [name for name in ("vendor", "steps", "recipe") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of vendor, steps or recipe (given: {', '.join(given) or 'none'})")
        return self


def load_schedules(path: Path) -> dict[str, Schedule]:
    return {name: Schedule.model_validate(spec) for name, spec in json.loads(path.read_text()).items()}


def schedule_name(rule_arn: str, stack_prefix: str) -> str:
    rule = rule_arn.rsplit("/", 1)[-1]
    return rule.removeprefix(stack_prefix + "-") if stack_prefix else rule


def run_schedule(name: str, schedule: Schedule, event_id: str, settings: Settings) -> Job:
    """One run: a normal job. The same event delivered twice is one job (its id comes from the event)."""
    if schedule.webhook_url is not None:
        from enrichment.jobs.webhook_address import WebhookRefused, check_for  # httpx parses the URL

        try:
            check_for(schedule.webhook_url, settings)
        except WebhookRefused as refused:
            raise JobRejected(f"schedule {name}: {refused}") from None
    if not storage.exists(settings.data_bucket, schedule.input_key):
        raise JobRejected(f"schedule {name}: its input s3://{settings.data_bucket}/{schedule.input_key} does not exist")
    steps: list[JobStep] = []
    options = schedule.options
    if schedule.vendor is None:
        try:
            steps, options = job_steps(schedule.steps, schedule.recipe, schedule.options, settings.data_bucket)
        except BadInput as exc:
            raise JobRejected(f"schedule {name}: {exc}") from None
    return start_job(
        job_id=job_id_for("schedule", name, event_id),
        vendor=steps[0].vendor if steps else schedule.vendor,
        steps=steps or None,
        options=options,
        source=f"schedule:{name}",
        owner=schedule_owner(name),  # seen by admins: no person created it
        settings=settings,
        copy_from=storage.ObjectVersion(settings.data_bucket, schedule.input_key),
        webhook_url=schedule.webhook_url,
    )
