"""Prepare: read the input as a stream, validate and dedupe rows, write vendor-sized chunks."""

from __future__ import annotations

import json

from pydantic import ValidationError

from enrichment.errors import BadInput
from enrichment.files import layout, storage
from enrichment.files.csvio import map_header
from enrichment.files.reader import open_table
from enrichment.jobs.store import JobStore
from enrichment.models import CANONICAL_FIELDS, Limits, PreparedJob, RowStatus
from enrichment.pipeline import row_rules
from enrichment.settings import Settings, SettingsError
from enrichment.vendors import adapter_class


def prepare_job(job_id: str, settings: Settings) -> PreparedJob:
    store = JobStore(settings.jobs_table)
    job = store.require(job_id)
    adapter = adapter_class(job.vendor)
    vendor_settings = settings.vendor(job.vendor)
    try:
        adapter.parse_options(job.options)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'options'}: {e['msg']}" for e in exc.errors())
        raise BadInput(f"invalid options for {job.vendor.value}: {problems}") from None
    vendor_function = settings.vendor_functions.get(job.vendor.value)
    if not vendor_function:
        raise SettingsError(f"no function is configured for vendor {job.vendor.value}")

    bucket = settings.data_bucket
    # The rows own the open file: it closes once they are read (or left for the garbage collector on failure).
    table = open_table(storage.S3Object(bucket, job.input_key), settings.input_limits)
    header, rows = table.header, table.rows
    columns = map_header(header)
    usable = [f for f in adapter.input_fields if f in columns]
    if not usable:
        raise BadInput(
            f"no column {job.vendor.value} can match on. Found columns: {', '.join(header)[:300]}. "
            f"Expected at least one of: {', '.join(adapter.input_fields)}"
        )

    chunk: list[dict] = []
    chunk_count = 0
    first_row_of: dict[str, tuple[int, int]] = {}  # dedupe key -> (row, chunk)
    rows_total = 0

    def flush() -> None:
        nonlocal chunk, chunk_count
        if chunk:
            storage.put_json(
                bucket,
                layout.chunk_key(job_id, chunk_count),
                {"job_id": job_id, "chunk_index": chunk_count, "records": chunk},
            )
            chunk_count += 1
            chunk = []

    with storage.spooled_upload(bucket, layout.plan_key(job_id), "application/x-ndjson") as plan:
        for number, cells in rows:
            rows_total = number
            entry: dict = {"row": number}
            # Placeholders ("n/a", "#N/A", "-") are read as empty before the vendor's rules see the row.
            fields, placeholders = row_rules.without_placeholders(
                {f: cells[i] for f, i in columns.items() if i < len(cells)}
            )
            if not any(c.strip() for c in cells):
                entry |= {"status": RowStatus.INVALID_INPUT, "reason": "blank row"}
            elif row_rules.repeats_header(header, cells):
                entry |= {"status": RowStatus.INVALID_INPUT, "reason": row_rules.REPEATED_HEADER}
            elif len(cells) > len(header):
                entry |= {
                    "status": RowStatus.INVALID_INPUT,
                    "reason": f"row has {len(cells)} fields but the header has {len(header)} (unquoted comma?)",
                }
            elif reason := adapter.validate(fields):
                note = row_rules.placeholder_note(placeholders, adapter.input_fields)
                entry |= {"status": RowStatus.INVALID_INPUT, "reason": reason + note}
            elif (twin := first_row_of.get(key := adapter.dedupe_key(fields))) is not None:
                entry |= {
                    "status": RowStatus.DUPLICATE,
                    "reason": f"same request as row {twin[0]}",
                    "twin": twin[0],
                    "chunk": twin[1],
                }
            else:
                first_row_of[key] = (number, chunk_count)
                entry |= {"status": "send", "chunk": chunk_count}
                sent = row_rules.as_sent(fields)
                chunk.append({"ref": str(number), "fields": {f: v for f, v in sent.items() if f in CANONICAL_FIELDS}})
                if len(chunk) >= vendor_settings.chunk_size:
                    flush()
            plan.write(json.dumps(entry) + "\n")
        flush()

    if rows_total == 0:
        raise BadInput("the file has a header but no rows")
    manifest = [{"chunk_index": i, "chunk_key": layout.chunk_key(job_id, i)} for i in range(chunk_count)]
    storage.put_json(bucket, layout.manifest_key(job_id), manifest)
    store.mark_running(job_id, rows_total=rows_total, chunks_total=chunk_count, input_format=table.details)
    return PreparedJob(
        job_id=job_id,
        vendor=job.vendor,
        vendor_function=vendor_function,
        bucket=bucket,
        manifest_key=layout.manifest_key(job_id),
        chunks_total=chunk_count,
        max_concurrency=vendor_settings.max_concurrency,
        limits=Limits(
            max_polls=vendor_settings.max_polls,
            deadline_seconds=vendor_settings.deadline_seconds,
            retry_wait_seconds=vendor_settings.backoff_max_seconds,
        ),
    )
