"""The body shared by the per-vendor functions: each is this handler bound to its vendor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrichment.metrics import for_vendor, log_metrics
from enrichment.models import BatchTask, Vendor
from enrichment.pipeline.chunks import run_batch_task
from enrichment.settings import Settings
from enrichment.tracing import Tracer
from enrichment.vendors import check_access


def chunk_step_handler(vendor: Vendor) -> Callable[[dict[str, Any], LambdaContext], dict[str, Any]]:
    logger = Logger()
    tracer = Tracer()

    @logger.inject_lambda_context(correlation_id_path="job_id", clear_state=True)
    @tracer.capture_lambda_handler
    @log_metrics
    def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
        for_vendor(vendor)
        if event.get("action") == "check_access":  # `enrich check-vendor`: this function holds the key
            access = check_access(vendor, Settings.load())
            logger.info("access check", extra={"vendor": vendor.value, "ok": access.ok})
            return access.model_dump(mode="json")
        task = BatchTask.model_validate(event)
        progress = run_batch_task(
            task, vendor, Settings.load(), time_left=lambda: context.get_remaining_time_in_millis() / 1000
        )
        logger.info(
            "batch step",
            extra={
                "vendor": vendor.value,
                "batch": task.batch.batch_index,
                "action": task.action,
                "status": progress.status,
                "chunks": {
                    s: sum(c.status == s for c in progress.chunks.values()) for s in ("running", "done", "failed")
                },
                "polls": progress.polls,
            },
        )
        return progress.model_dump(mode="json")

    return lambda_handler
