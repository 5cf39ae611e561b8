"""The jobs API: uploads, jobs (create, list, show, cancel) and their results. IAM auth is API Gateway's."""

from __future__ import annotations

import base64
import json
from typing import Annotated

from aws_lambda_powertools import Logger, Tracer
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.params import Header, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrichment.aws import client
from enrichment.jobs.api_models import JobCreated, JobPage, JobRequest, JobView, ResultFiles, UploadTicket
from enrichment.jobs.service import (
    PRESIGN_SECONDS,
    Conflict,
    UploadRefused,
    cancel_job,
    check_upload,
    new_job_id,
    preview_job,
    records_csv,
    result_urls,
    upload_form,
    vendor_access,
)
from enrichment.jobs.service import start_job as start
from enrichment.jobs.store import JobStore
from enrichment.jobs.webhook_address import WebhookRefused, check_for
from enrichment.models import AccessCheck, JobStatus, Vendor
from enrichment.pipeline.preview import InputPreview
from enrichment.settings import Settings

logger = Logger()
tracer = Tracer()
app = APIGatewayRestResolver(enable_validation=True)
app.enable_swagger(
    path="/swagger",
    title="Contact enrichment jobs API",
    version="1.0.0",
    description="Submit files of contacts to enrichment and validation vendors, follow the jobs, fetch the results.",
)


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response:
    """422 naming each failing field and saying why (Powertools' default leaves the why out)."""
    problems = [
        {
            "field": ".".join(str(part) for part in e["loc"][1:]) or e["loc"][0],
            "in": e["loc"][0],
            "message": e.get("msg", ""),
            "type": e.get("type", ""),
        }
        for e in error.errors()
    ]
    body = {"statusCode": 422, "message": "the request is not valid", "errors": problems}
    return Response(422, content_types.APPLICATION_JSON, json.dumps(body))


class ConflictError(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__(409, message)


def _job_or_404(job_id: str, settings: Settings):
    job = JobStore(settings.jobs_table).get(job_id)
    if job is None:
        raise NotFoundError(f"job {job_id} does not exist")
    return job


@app.post("/uploads", summary="A presigned S3 POST form to upload a large CSV with (1 byte to the input limit)")
def create_upload() -> Response[UploadTicket]:
    form = upload_form(Settings.load())
    body = UploadTicket(
        url=form.url, fields=form.fields, input_key=form.input_key, expires_in=PRESIGN_SECONDS, max_bytes=form.max_bytes
    )
    return Response(201, content_types.APPLICATION_JSON, body)


def _invalid_field(field: str, message: str) -> RequestValidationError:
    """A 422 naming a body field, as a failed validation is answered."""
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


@app.post(
    "/jobs",
    summary="Start a job from inline records or an uploaded file; with dry_run, preview it instead",
    responses={
        202: {"description": "the job was created", "content": {"application/json": {"model": JobCreated}}},
        200: {
            "description": "dry_run: what the job would do; no job is created, nothing is sent",
            "content": {"application/json": {"model": InputPreview}},
        },
    },
)
def create_job(
    request: JobRequest,
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)] = None,
) -> Response[JobCreated | InputPreview]:
    settings = Settings.load()
    if request.input_key is not None:
        try:
            check_upload(request.input_key, settings)
        except UploadRefused as refused:
            raise _invalid_field("input_key", str(refused)) from None
    if request.webhook_url is not None:
        try:
            check_for(str(request.webhook_url), settings)
        except WebhookRefused as refused:
            raise _invalid_field("webhook_url", str(refused)) from None
    if request.dry_run:
        preview = preview_job(
            request.vendor, request.options, settings, records=request.records, input_key=request.input_key
        )
        return Response(200, content_types.APPLICATION_JSON, preview)

    def create(call: dict) -> dict:
        if request.input_key is not None:
            inputs = {"copy_from": (settings.data_bucket, request.input_key)}
        else:
            inputs = {"body": records_csv(request.records or [])}
        job = start(
            job_id=new_job_id(),
            vendor=request.vendor,
            options=request.options,
            source="api",
            settings=settings,
            webhook_url=str(request.webhook_url) if request.webhook_url else None,
            **inputs,
        )
        return JobCreated(job_id=job.job_id, status=job.status.value).model_dump()

    # A repeat is compared on what it asks for; its input_key may differ (each upload gets a new one).
    call = {"key": idempotency_key, "request": request.model_dump(mode="json", exclude={"input_key", "dry_run"})}
    if idempotency_key:
        # The same key and body return the first answer instead of starting a second job.
        create = idempotent_function(
            data_keyword_argument="call",
            persistence_store=DynamoDBPersistenceLayer(
                table_name=settings.idempotency_table, boto3_client=client("dynamodb")
            ),
            config=IdempotencyConfig(
                event_key_jmespath="key", payload_validation_jmespath="request", expires_after_seconds=24 * 3600
            ),
        )(create)
    try:
        created = JobCreated.model_validate(create(call=call))
    except IdempotencyValidationError:
        raise ConflictError("this Idempotency-Key was used with a different request") from None
    # A replay answers with the job as it stands now, not as it stood when it was created.
    if (current := JobStore(settings.jobs_table).get(created.job_id)) is not None:
        created.status = current.status.value
    return Response(202, content_types.APPLICATION_JSON, created)


@app.get("/jobs", summary="Jobs, newest first")
def list_jobs(
    status: Annotated[JobStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    next_token: Annotated[str | None, Query(max_length=2000)] = None,
) -> JobPage:
    start_key = None
    if next_token:
        try:
            start_key = json.loads(base64.urlsafe_b64decode(next_token.encode()))
        except ValueError:
            raise ServiceError(422, "next_token is not one this API gave") from None
    jobs, last = JobStore(Settings.load().jobs_table).list(
        status=status.value if status else None, limit=limit, start=start_key
    )
    token = base64.urlsafe_b64encode(json.dumps(last).encode()).decode() if last else None
    return JobPage(jobs=[JobView.of(j) for j in jobs], next_token=token)


@app.get("/jobs/<job_id>", summary="A job's status, progress, counts, credits and error")
def get_job(job_id: str) -> JobView:
    return JobView.of(_job_or_404(job_id, Settings.load()))


@app.get("/jobs/<job_id>/results", summary="Download links for results.csv, results.jsonl and summary.json")
def get_results(job_id: str) -> ResultFiles:
    settings = Settings.load()
    try:
        return ResultFiles(files=result_urls(_job_or_404(job_id, settings), settings))
    except Conflict as conflict:
        raise ConflictError(str(conflict)) from None


@app.delete(
    "/jobs/<job_id>",
    summary="Cancel: submit nothing more, collect what the vendor already accepted, keep what was answered",
)
def delete_job(
    job_id: str,
    hard: Annotated[
        bool,
        Query(description="stop at once: chunks in flight are abandoned although the vendor may charge for them"),
    ] = False,
) -> Response[JobView]:
    settings = Settings.load()
    _job_or_404(job_id, settings)
    try:
        job = cancel_job(job_id, settings, hard=hard)
    except Conflict as conflict:
        raise ConflictError(str(conflict)) from None
    return Response(202, content_types.APPLICATION_JSON, JobView.of(job))


@app.get(
    "/vendors/<vendor>/access",
    summary="Prove the vendor takes our credentials: its cheapest call, spending no credits where it allows",
)
def get_vendor_access(vendor: Vendor) -> AccessCheck:
    return vendor_access(vendor, Settings.load())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
