"""Prepare: read the input as a stream, validate and dedupe rows, write vendor-sized chunks."""

from __future__ import annotations

import json

from enrichment.files import layout, storage
from enrichment.files.reader import open_table
from enrichment.jobs.store import JobStore
from enrichment.models import BatchRef, Limits, PreparedJob
from enrichment.pipeline.classify import SEND, classify_input
from enrichment.settings import Settings, SettingsError


def prepare_job(job_id: str, settings: Settings) -> PreparedJob:
    store = JobStore(settings.jobs_table)
    job = store.require(job_id)
    vendor_settings = settings.vendor(job.vendor)
    vendor_function = settings.vendor_functions.get(job.vendor.value)
    if not vendor_function:
        raise SettingsError(f"no function is configured for vendor {job.vendor.value}")

    bucket = settings.data_bucket
    chunk_size = vendor_settings.chunk_size
    # The rows own the open file: it closes once they are read (or left for the garbage collector on failure).
    table = open_table(storage.S3Object(bucket, job.input_key), settings.input_limits)
    classified = classify_input(table.header, table.rows, job.vendor, job.options)
    # Which column feeds which field, and the ties settled: Finalize puts it in summary.json.
    storage.put_json(bucket, layout.columns_key(job_id), classified.mapping.report())

    chunk: list[dict] = []
    chunk_count = 0
    rows_total = 0
    batch: list[dict] = []
    manifest: list[dict] = []

    def flush_batch() -> None:
        nonlocal batch
        if batch:
            index = len(manifest)
            storage.put_json(
                bucket, layout.batch_key(job_id, index), {"job_id": job_id, "batch_index": index, "chunks": batch}
            )
            manifest.append(
                BatchRef(
                    batch_index=index,
                    batch_key=layout.batch_key(job_id, index),
                    chunk_indexes=[c["chunk_index"] for c in batch],
                ).model_dump()
            )
            batch = []

    def flush() -> None:
        nonlocal chunk, chunk_count
        if chunk:
            batch.append({"job_id": job_id, "chunk_index": chunk_count, "records": chunk})
            chunk_count += 1
            chunk = []
            if len(batch) >= vendor_settings.chunks_per_batch:
                flush_batch()

    with storage.spooled_upload(bucket, layout.plan_key(job_id), "application/x-ndjson") as plan:
        for outcome in classified.rows:
            rows_total = outcome.row
            if outcome.status == SEND:
                chunk.append({"ref": str(outcome.row), "fields": outcome.fields})
                if len(chunk) >= chunk_size:
                    flush()
            plan.write(json.dumps(outcome.plan_entry(chunk_size)) + "\n")
        flush()
        flush_batch()

    storage.put_json(bucket, layout.manifest_key(job_id), manifest)
    store.mark_running(job_id, rows_total=rows_total, chunks_total=chunk_count, input_format=table.details)
    return PreparedJob(
        job_id=job_id,
        vendor=job.vendor,
        vendor_function=vendor_function,
        bucket=bucket,
        manifest_key=layout.manifest_key(job_id),
        chunks_total=chunk_count,
        batches_total=len(manifest),
        max_concurrency=vendor_settings.max_concurrency,
        limits=Limits(
            max_polls=vendor_settings.max_polls,
            deadline_seconds=vendor_settings.deadline_seconds,
            retry_wait_seconds=vendor_settings.backoff_max_seconds,
        ),
    )
