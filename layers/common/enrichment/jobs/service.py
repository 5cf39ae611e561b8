"""Jobs as the entry points see them: create (from a drop, an upload or inline records), cancel, results."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from enrichment.aws import client, presigning_client
from enrichment.files import layout, storage
from enrichment.jobs.store import JobStore, now_iso
from enrichment.models import AccessCheck, Job, JobStatus, JobStep, Vendor
from enrichment.options import options_to_store
from enrichment.settings import Settings, SettingsError

if TYPE_CHECKING:
    from enrichment.files.reader import InputSource
    from enrichment.pipeline.preview import InputPreview
    from enrichment.pipeline.steps_preview import StepsPreview

CANCELLED = "Cancelled"  # the stop error a cancellation records
PRESIGN_SECONDS = 900
INLINE_RECORDS = "inline records"  # the input's name when the rows came in the request itself


class Conflict(Exception):
    """The job is in the wrong state for the request (HTTP 409)."""


def new_job_id() -> str:
    return f"job-{secrets.token_hex(12)}"


def records_csv(records: list[dict[str, Any]]) -> bytes:
    """Inline records as a CSV file: the columns in the order they first appear."""
    columns = list(dict.fromkeys(key for record in records for key in record))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for record in records:
        writer.writerow(["" if record.get(c) is None else str(record.get(c)) for c in columns])
    return out.getvalue().encode()


def _preview_source(settings: Settings, records: list[dict[str, Any]] | None, input_key: str | None) -> InputSource:
    from enrichment.files.reader import InMemoryFile

    if input_key is None:
        return InMemoryFile(records_csv(records or []))
    return storage.S3Object(settings.data_bucket, input_key)


def preview_job(
    vendor: Vendor,
    options: dict[str, Any],
    settings: Settings,
    *,
    records: list[dict[str, Any]] | None = None,
    input_key: str | None = None,
) -> InputPreview:
    """What a job would do with inline records or an uploaded file: no job is created, nothing is sent."""
    from enrichment.pipeline.preview import preview_input

    source = _preview_source(settings, records, input_key)
    return preview_input(
        source,
        vendor,
        options,
        settings.vendor(vendor),
        settings.input_limits,
        show_file=input_key is not None,
        settings=settings,
    )


def preview_steps_job(
    steps: list[JobStep],
    options: dict[str, Any],
    settings: Settings,
    *,
    records: list[dict[str, Any]] | None = None,
    input_key: str | None = None,
) -> StepsPreview | InputPreview:
    """What a job of steps (options.parse_steps) would do with inline records or an uploaded file, and cost: no job
    is created, nothing is sent. A job of one step is previewed as the single-vendor job it is (start_job)."""
    from enrichment.pipeline.steps_preview import preview_steps

    if len(steps) == 1:
        step = steps[0]
        return preview_job(step.vendor, {**options, **step.options}, settings, records=records, input_key=input_key)
    source = _preview_source(settings, records, input_key)
    return preview_steps(
        source, steps, options, settings.input_limits, show_file=input_key is not None, settings=settings
    )


def start_job(
    *,
    job_id: str,
    vendor: Vendor,
    options: dict[str, Any],
    source: str,
    owner: str | None,
    settings: Settings,
    owner_arn: str | None = None,
    copy_from: storage.ObjectVersion | None = None,
    body: bytes | None = None,
    webhook_url: str | None = None,
    steps: list[JobStep] | None = None,
) -> Job:
    """Create the job item, put its input in the job's folder, and start its execution (named by the job id).
    The input's name, for the report, is the copied object's (the dropped file's, the upload's), else inline.
    `owner` is who may see it (jobs/access.py): the caller's principal id, the dropper's, or schedule:<name>.

    Safe to repeat: a job that exists already is left as it is, or its start is completed. Options are kept in
    their one form when valid; invalid ones (from a drop or a schedule: the API refuses them) fail the job in
    Prepare, naming them. A job of several `steps` (checked by options.parse_steps) is its first step's
    `vendor`, and `options` holds the job's own options only."""
    store = JobStore(settings.jobs_table)
    if steps is not None and len(steps) == 1:  # a job of one step is a single-vendor job, for every entry point
        vendor, options, steps = steps[0].vendor, {**options, **steps[0].options}, None
    job = Job(
        job_id=job_id,
        vendor=steps[0].vendor if steps else vendor,
        options=options_to_store(steps[0].vendor if steps else vendor, options),
        steps=steps or [],
        source=source,
        owner=owner,
        owner_arn=owner_arn,
        input_name=layout.input_name(copy_from.key) if copy_from is not None else INLINE_RECORDS,
        input_key=layout.input_key(job_id),
        output_prefix=layout.output_prefix(job_id),
        created_at=now_iso(),
        webhook_url=webhook_url,
    )
    if not store.create(job):
        job = store.require(job_id)
        if job.status != JobStatus.PENDING:
            return job  # already under way or done
    # Written even when the item existed: an earlier attempt may have stopped between the two steps.
    s3 = client("s3")
    tagging = layout.retention_tag(job.input_key) or ""
    if copy_from is not None:
        try:
            s3.copy_object(
                Bucket=settings.data_bucket,
                Key=job.input_key,
                CopySource=copy_from.copy_source(),
                TaggingDirective="REPLACE",
                Tagging=tagging,
            )
        except s3.exceptions.ClientError as error:
            # A repeat after an earlier attempt copied the file, then deleted it (below): the job has its copy.
            missing = error.response["Error"]["Code"] in storage.MISSING_CODES
            if not (missing and storage.exists(settings.data_bucket, job.input_key)):
                raise
    else:
        s3.put_object(
            Bucket=settings.data_bucket, Key=job.input_key, Body=body or b"", ContentType="text/csv", Tagging=tagging
        )
    sfn = client("stepfunctions")
    with contextlib.suppress(sfn.exceptions.ExecutionAlreadyExists):  # an earlier attempt started it
        sfn.start_execution(
            stateMachineArn=settings.state_machine_arn, name=job.job_id, input=json.dumps({"job_id": job.job_id})
        )
    if copy_from is not None and copy_from.key.startswith(layout.COPIED_THEN_DELETED):
        # The drop or upload is contact data the job now holds a copy of: it goes (a schedule's input stays).
        s3.delete_object(Bucket=copy_from.bucket, Key=copy_from.key, **copy_from.version())
    return job


def execution_arn(settings: Settings, job_id: str) -> str:
    return settings.state_machine_arn.replace(":stateMachine:", ":execution:") + f":{job_id}"


def cancel_job(job_id: str, settings: Settings, *, hard: bool = False) -> Job:
    """Cancel: nothing more is submitted; chunks the vendor already accepted (and charged) are still
    collected, then the state machine settles the job as CANCELLED with every answer it paid for.

    `hard` also stops the execution at once and settles the job now: answers of chunks in flight are then
    lost although the vendor may charge for them. Explicit, for a job that must end immediately."""
    store = JobStore(settings.jobs_table)
    job = store.require(job_id)
    if job.status.is_final:
        raise Conflict(f"job {job_id} has already ended ({job.status.value})")
    store.update(job_id, cancel_requested=True)
    store.stop(job_id, reason="cancelled by the user", error=CANCELLED)
    if hard:
        sfn = client("stepfunctions")
        with contextlib.suppress(sfn.exceptions.ExecutionDoesNotExist):
            sfn.stop_execution(executionArn=execution_arn(settings, job_id), cause="cancelled by the user (hard)")
        # The stopped execution will not reach its Finalize state: finalize here, as the state machine would.
        failure = {"Error": CANCELLED, "Cause": "cancelled by the user (hard cancel: chunks in flight abandoned)"}
        client("lambda").invoke(
            FunctionName=settings.finalize_function,
            InvocationType="Event",
            Payload=json.dumps({"job_id": job_id, "failure": failure, "finalizer": f"hard-cancel-{job_id}"}),
        )
    return store.require(job_id)


def result_urls(job: Job, settings: Settings) -> dict[str, str]:
    if not job.status.is_final:
        raise Conflict(f"job {job.job_id} is {job.status.value}: results are ready once it ends")
    s3 = presigning_client("s3")  # SigV4 on the bucket's regional host, as the upload form
    urls = {}
    for name in layout.OUTPUT_FILES:
        key = job.output_prefix + name
        if storage.exists(settings.data_bucket, key):
            urls[name] = s3.generate_presigned_url(
                "get_object", Params={"Bucket": settings.data_bucket, "Key": key}, ExpiresIn=PRESIGN_SECONDS
            )
    return urls


class UploadRefused(ValueError):
    """The input_key names no usable upload (HTTP 422): an empty file, or one over the limit."""


class UploadMissing(UploadRefused):
    """Nothing was uploaded under the input_key (HTTP 404)."""


@dataclass(frozen=True)
class UploadForm:
    """A presigned S3 POST: send `fields` as form fields, then the file as the field `file`, to `url`."""

    url: str
    fields: dict[str, str]
    input_key: str
    max_bytes: int


def upload_form(settings: Settings, file_name: str | None = None) -> UploadForm:
    """A short-lived presigned POST for one file under a fresh input_key. Its policy holds the size from 1 byte
    to the input limit, so S3 itself refuses an empty or larger file (a presigned PUT cannot bound it)."""
    key = layout.upload_key(secrets.token_hex(12), file_name)
    max_bytes = settings.input_limits.max_bytes
    post = presigning_client("s3").generate_presigned_post(
        settings.data_bucket, key, Conditions=[["content-length-range", 1, max_bytes]], ExpiresIn=PRESIGN_SECONDS
    )
    return UploadForm(url=post["url"], fields=post["fields"], input_key=key, max_bytes=max_bytes)


def check_upload(input_key: str, settings: Settings) -> None:
    """Refuse a job on an upload that is missing, empty or too large, before anything starts. S3 enforces the
    form's size range in AWS; this holds it wherever the storage does not (the emulated S3)."""
    s3 = client("s3")
    try:
        size = s3.head_object(Bucket=settings.data_bucket, Key=input_key)["ContentLength"]
    except s3.exceptions.ClientError:
        raise UploadMissing("no file was uploaded under this input_key") from None
    if size == 0:
        raise UploadRefused("the uploaded file is empty")
    if size > settings.input_limits.max_bytes:
        raise UploadRefused(
            f"the uploaded file is {size:,} bytes, more than the {settings.input_limits.max_bytes:,}-byte limit"
        )


def vendor_access(vendor: Vendor, settings: Settings) -> AccessCheck:
    """Ask the vendor's function (which alone holds the key) to prove the credentials work."""
    function = settings.vendor_functions.get(vendor.value)
    if not function:
        raise SettingsError(f"no function is configured for vendor {vendor.value}")
    answer = client("lambda").invoke(FunctionName=function, Payload=json.dumps({"action": "check_access"}))
    body = json.loads(answer["Payload"].read() or b"null")
    if "FunctionError" in answer:
        reason = body.get("errorMessage") if isinstance(body, dict) else None
        return AccessCheck(vendor=vendor, ok=False, message=f"the {vendor.value} function failed: {reason or body}")
    return AccessCheck.model_validate(body)
