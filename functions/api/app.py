"""The jobs API: uploads, jobs (create, list, show, cancel) and their results. IAM auth is API Gateway's.

Each caller sees only the jobs it created, admins (a session of the stack's admin role) every job: another
principal's job is answered 404 with the same body as a job that does not exist (enrichment.jobs.access).

Every answer it gives is in the OpenAPI document (GET /swagger?format=json), errors included: one body
(`ErrorBody`: statusCode, message, errors) for every status from 400 to 500.
"""

from __future__ import annotations

import functools
import inspect
import re
import threading
from typing import Annotated, Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import OpenAPIRequestValidationMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyValidationError
from aws_lambda_powertools.utilities.typing import LambdaContext

from enrichment.aws import client
from enrichment.files.storage import ObjectVersion
from enrichment.jobs.access import Caller, NoCaller, caller_of, may_see
from enrichment.jobs.api_models import (
    JOB_REQUEST_EXAMPLES,
    MAX_BODY_BYTES,
    MONTH_PATTERN,
    PAGE_POSITION_PATTERN,
    BodyTooLarge,
    CachePurge,
    CachePurged,
    CreditTotals,
    ErrorBody,
    JobCreated,
    JobPage,
    JobRequest,
    JobView,
    ResultFiles,
    StepsJobRequest,
    UploadTicket,
    VendorMonthCredits,
    field_problems,
    page_position,
    page_token,
    parse_json_body,
)
from enrichment.jobs.service import (
    PRESIGN_SECONDS,
    Conflict,
    UploadMissing,
    UploadRefused,
    cancel_job,
    check_upload,
    new_job_id,
    preview_job,
    preview_steps_job,
    records_csv,
    result_urls,
    upload_form,
    vendor_access,
)
from enrichment.jobs.service import start_job as start
from enrichment.jobs.store import JobStore, UnreadableJob
from enrichment.models import AccessCheck, JobStatus, JobStep, Vendor
from enrichment.options import StepsRefused, options_as_stored, parse_steps
from enrichment.pipeline import budget
from enrichment.pipeline.preview import InputPreview
from enrichment.pipeline.result_cache import PurgeRequest, purge
from enrichment.pipeline.steps_preview import StepsPreview
from enrichment.settings import Settings
from enrichment.tracing import Tracer

logger = Logger()
tracer = Tracer()


class BodyNotText(ValueError):
    """A body whose bytes are not UTF-8 (API Gateway hands such a body over base64-encoded)."""


class JsonBodiesOnly(OpenAPIRequestValidationMiddleware):
    """Powertools' request validation, for UTF-8 JSON bodies only: it would parse a form or multipart body into the
    same model, so any other Content-Type is refused (415) before its body is read. No Content-Type means JSON."""

    def _get_body(self, app: APIGatewayRestResolver) -> dict[str, Any]:
        content_type = app.current_event.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in ("", content_types.APPLICATION_JSON):
            raise RequestUnsupportedContentType(
                "Unsupported content type",
                errors=[{"type": "unsupported_content_type", "loc": ("body",), "msg": content_type, "input": {}}],
            )
        try:
            return super()._get_body(app)
        except UnicodeDecodeError as error:
            byte = f"byte {error.start}: 0x{error.object[error.start]:02x}"
            raise BodyNotText(f"the body is not UTF-8 text ({byte})") from None


app = APIGatewayRestResolver(enable_validation=True, json_body_deserializer=parse_json_body)
app._request_validation_middleware = JsonBodiesOnly()  # the resolver's own, in its place in the middleware stack

SWAGGER_PATH = "/swagger"
_swagger_lock = threading.Lock()
_swagger_served = False


def serve_swagger() -> None:
    """Powertools' Swagger UI and OpenAPI document at GET /swagger, registered by the first request for it: the
    OpenAPI models it imports cost more than the rest of the API's start (powertools-lambda-python#4372), and
    the other routes never need them."""
    global _swagger_served
    with _swagger_lock:
        if _swagger_served:
            return
        from aws_lambda_powertools.event_handler.openapi.models import Tag

        app.enable_swagger(
            path=SWAGGER_PATH,
            title="Contact enrichment jobs API",
            version="1.0.0",
            description="Submit files of contacts to enrichment and validation vendors, follow the jobs, fetch the "
            "results. Every error is an ErrorBody: statusCode, a message, and for 422 each failing field.",
            tags=[
                Tag(name="jobs", description="create (or preview), list, show and cancel jobs; their results"),
                Tag(name="uploads", description="upload a file too large to send inline"),
                Tag(name="vendors", description="whether a vendor takes the stack's credentials"),
                Tag(name="credits", description="the account's credits by vendor and month"),
                Tag(name="cache", description="the result cache across jobs (admins only)"),
            ],
        )
        _swagger_served = True


# ---- errors: every one answers an ErrorBody ----

ERRORS = {
    400: "the body is not UTF-8 JSON (or holds NaN, Infinity or text that is not Unicode)",
    403: "only admins (sessions of the stack's admin role) may do this",
    404: "no such job (or one another principal created: only its owner and admins see it)",
    409: "the job is in the wrong state for this",
    413: f"the body is larger than {MAX_BODY_BYTES:,} bytes",
    415: "the body is not application/json",
    422: "a parameter or a field of the body is invalid: `errors` names each and says what it takes",
    500: "an unexpected failure of the API; it is logged under the request id the message gives",
}


def errors(*statuses: int, **descriptions: str) -> dict[int, dict[str, Any]]:
    """OpenAPI responses for error statuses (422 and 500 always); `descriptions` (s404=...) replace the defaults."""
    documented = {}
    for status in sorted({*statuses, 422, 500}):
        description = descriptions.get(f"s{status}", ERRORS[status])
        documented[status] = {"description": description, "content": {"application/json": {"model": ErrorBody}}}
    return documented


def answer(status: int, model: Any, description: str, **links: dict[str, Any]) -> dict[int, dict[str, Any]]:
    documented: dict[str, Any] = {"description": description, "content": {"application/json": {"model": model}}}
    if links:
        documented["links"] = links
    return {status: documented}


# What a client (and schemathesis' stateful tests) can do next with the job_id an answer gives.
JOB_LINKS = {
    name: {"operationId": operation, "parameters": {"job_id": "$response.body#/job_id"}}
    for name, operation in (("GetJob", "getJob"), ("GetResults", "getResults"), ("CancelJob", "cancelJob"))
}


def error_response(status: int, message: str, problems: list | None = None) -> Response:
    body = ErrorBody(statusCode=status, message=message, errors=problems or [])
    return Response(status, content_types.APPLICATION_JSON, body.model_dump(mode="json", by_alias=True))


@app.exception_handler(RequestValidationError)
def invalid_request(error: RequestValidationError) -> Response:
    """422 naming each failing field and what it takes; a body that is not JSON at all is 400."""
    raw = error.errors()
    if any(e.get("type") == "json_invalid" for e in raw):
        why = next(e.get("ctx", {}).get("error", "") for e in raw if e.get("type") == "json_invalid")
        return error_response(400, f"the body is not JSON: {why}")
    problems = field_problems(list(raw))
    summary = "; ".join(f"{p.field}: {p.message}" for p in problems[:3])
    return error_response(422, f"the request is not valid: {summary}", problems)


@app.exception_handler(RequestUnsupportedContentType)
def unsupported_content_type(error: RequestUnsupportedContentType) -> Response:
    return error_response(415, "the body must be JSON, sent with Content-Type: application/json")


@app.exception_handler(BodyNotText)
def not_utf8(error: BodyNotText) -> Response:
    return error_response(400, str(error))


@app.exception_handler(BodyTooLarge)
def too_large(error: BodyTooLarge) -> Response:
    return error_response(413, str(error))


@app.exception_handler(ServiceError)
def service_error(error: ServiceError) -> Response:
    return error_response(error.status_code, error.msg)


@app.exception_handler(NoCaller)
def no_caller(error: NoCaller) -> Response:
    """Behind IAM auth every request has a caller: one without is refused, never served as nobody's."""
    return error_response(403, str(error))


@app.exception_handler(UnreadableJob)
def unreadable_job(error: UnreadableJob) -> Response:
    logger.warning("a job item this version cannot read", extra={"reason": str(error)})
    return error_response(500, str(error))


@app.exception_handler(Exception)
def unexpected(error: Exception) -> Response:
    """A failure of ours: logged with its traceback; the caller gets the request id to quote, never the details."""
    logger.exception("the request failed")
    request_id = app.lambda_context.aws_request_id if getattr(app, "lambda_context", None) else "unknown"
    return error_response(500, f"the API failed unexpectedly; it is logged under request id {request_id}")


class ForbiddenError(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__(403, message)


class ConflictError(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__(409, message)


JobId = Annotated[str, Path(min_length=1, max_length=100, description="a job id, as POST /jobs answered it")]


def current_caller(settings: Settings) -> Caller:
    """The IAM principal API Gateway authenticated (requestContext.identity), and whether it is an admin."""
    context = app.current_event.request_context
    return caller_of(context.identity.user, context.identity.user_arn, context.account_id, settings.admin_role_name)


def _job_or_404(job_id: str, settings: Settings):
    """The job, if the caller may see it; another principal's job is 404 with the body of a job that does not
    exist, so a job id tells nothing to whoever may not see the job."""
    job = JobStore(settings.jobs_table).get(job_id)
    if job is None or not may_see(current_caller(settings), job):
        raise NotFoundError(f"job {job_id} does not exist")
    return job


@app.post(
    "/uploads",
    operation_id="createUpload",
    summary="A presigned S3 POST form to upload a large CSV with (1 byte to the input limit)",
    tags=["uploads"],
    responses=answer(
        201, UploadTicket, "POST the form (its fields, then the file) to url, then POST /jobs with input_key"
    )
    | errors(),
)
def create_upload(
    file_name: Annotated[
        str | None,
        Query(max_length=256, description="the file's own name, kept (in safe characters) as the job's input name"),
    ] = None,
) -> Response[UploadTicket]:
    form = upload_form(Settings.load(), file_name)
    body = UploadTicket(
        url=form.url, fields=form.fields, input_key=form.input_key, expires_in=PRESIGN_SECONDS, max_bytes=form.max_bytes
    )
    return Response(201, content_types.APPLICATION_JSON, body)


def _invalid_field(field: str, message: str) -> RequestValidationError:
    """A 422 naming a body field, as a failed validation is answered."""
    return RequestValidationError([{"loc": ("body", field), "msg": message, "type": "value_error"}])


@app.post(
    "/jobs",
    operation_id="createJob",
    summary="Start a job from inline records or an uploaded file; with dry_run, preview it instead",
    description="The body names the vendor, its options (checked here: a wrong one is a 422 naming it and what it "
    "takes) and exactly one of records (inline rows) or input_key (from POST /uploads); or, instead of vendor, steps "
    "(each {vendor, options, validate}, checked here too) and the job's own options. An Idempotency-Key header "
    "makes a repeat return the same job.",
    tags=["jobs"],
    responses=answer(202, JobCreated, "the job was created (or, with the same Idempotency-Key, found)", **JOB_LINKS)
    | answer(
        200,
        InputPreview | StepsPreview,
        "dry_run: what the job would do (a job of steps: each step's rows and credits); no job is created, nothing "
        "is sent",
    )
    | errors(
        400,
        404,
        409,
        413,
        415,
        s404="input_key names no uploaded file",
        s409="this Idempotency-Key was used with a different request",
    ),
)
def create_job(
    request: Annotated[JobRequest, Body(openapi_examples=JOB_REQUEST_EXAMPLES)],
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="the same key and body return the first answer instead of starting a second job",
        ),
    ] = None,
) -> Response[JobCreated | InputPreview | StepsPreview]:
    settings = Settings.load()
    caller = current_caller(settings)
    steps: list[JobStep] | None = None
    if isinstance(request, StepsJobRequest):
        try:
            steps = parse_steps(request.steps_as_given(), request.options)
        except StepsRefused as refused:
            raise _invalid_field(refused.field, refused.message) from None
        options, vendor = request.options, steps[0].vendor
    else:
        options, vendor = options_as_stored(request.options), Vendor(request.vendor)
    if request.input_key is not None:
        try:
            check_upload(request.input_key, settings)
        except UploadMissing as missing:
            raise NotFoundError(f"input_key {request.input_key}: {missing}") from None
        except UploadRefused as refused:
            raise _invalid_field("input_key", str(refused)) from None
    if request.webhook_url is not None:
        from enrichment.jobs.webhook_address import WebhookRefused, check_for  # httpx parses the URL

        try:
            check_for(str(request.webhook_url), settings)
        except WebhookRefused as refused:
            raise _invalid_field("webhook_url", str(refused)) from None
    if request.dry_run:
        preview: InputPreview | StepsPreview
        if steps:
            preview = preview_steps_job(steps, options, settings, records=request.records, input_key=request.input_key)
        else:
            preview = preview_job(vendor, options, settings, records=request.records, input_key=request.input_key)
        return Response(200, content_types.APPLICATION_JSON, preview)

    def create(call: dict) -> dict:
        if request.input_key is not None:
            inputs = {"copy_from": ObjectVersion(settings.data_bucket, request.input_key)}
        else:
            inputs = {"body": records_csv(request.records or [])}
        job = start(
            job_id=new_job_id(),
            vendor=vendor,
            options=options,
            source="api",
            owner=caller.principal,
            owner_arn=caller.arn,
            settings=settings,
            webhook_url=request.webhook_url,
            steps=steps,
            **inputs,
        )
        return JobCreated(job_id=job.job_id, status=job.status.value).model_dump()

    # A repeat is compared on what it asks for; its input_key may differ (each upload gets a new one). Keys are
    # each caller's own: another principal's same key starts its own job, never answers with someone else's.
    call = {
        "key": [caller.principal, idempotency_key],
        "request": request.model_dump(mode="json", exclude={"input_key", "dry_run"}),
    }
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


@app.get(
    "/jobs",
    operation_id="listJobs",
    summary="Your jobs, newest first (an admin: every job)",
    tags=["jobs"],
    responses=answer(200, JobPage, "a page of jobs") | errors(),
)
def list_jobs(
    status: Annotated[JobStatus | None, Query(description="only jobs of this status")] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="jobs on the page")] = 25,
    next_token: Annotated[
        str | None,
        Query(pattern=PAGE_POSITION_PATTERN, description="the next_token of the page before: where this page starts"),
    ] = None,
) -> JobPage:
    settings = Settings.load()
    caller = current_caller(settings)
    jobs, last = JobStore(settings.jobs_table).list(
        status=status.value if status else None,
        owner=None if caller.admin else caller.principal,
        limit=limit,
        start=page_position(next_token) if next_token else None,
    )
    token = page_token(last) if last else None
    return JobPage(jobs=[JobView.of(j) for j in jobs], next_token=token)


@app.get(
    "/jobs/<job_id>",
    operation_id="getJob",
    summary="A job's status, progress, counts, credits and error",
    tags=["jobs"],
    responses=answer(200, JobView, "the job") | errors(404),
)
def get_job(job_id: JobId) -> JobView:
    return JobView.of(_job_or_404(job_id, Settings.load()))


@app.get(
    "/jobs/<job_id>/results",
    operation_id="getResults",
    summary="Download links for results.csv, results.jsonl and summary.json",
    tags=["jobs"],
    responses=answer(200, ResultFiles, "short-lived download links")
    | errors(404, 409, s409="the job has not ended: results are ready once it ends"),
)
def get_results(job_id: JobId) -> ResultFiles:
    settings = Settings.load()
    try:
        return ResultFiles(files=result_urls(_job_or_404(job_id, settings), settings))
    except Conflict as conflict:
        raise ConflictError(str(conflict)) from None


@app.post(
    "/jobs/<job_id>/cancel",
    operation_id="cancelJob",
    summary="Cancel: submit nothing more, collect what the vendor already accepted, keep what was answered",
    tags=["jobs"],
    responses=answer(202, JobView, "the job, stopping") | errors(404, 409, s409="the job has already ended"),
)
def cancel(
    job_id: JobId,
    hard: Annotated[
        bool,
        Query(description="stop at once: chunks in flight are abandoned although the vendor may charge for them"),
    ] = False,
) -> Response[JobView]:
    settings = Settings.load()
    _job_or_404(job_id, settings)  # another principal's job is not there for this caller
    try:
        job = cancel_job(job_id, settings, hard=hard)
    except Conflict as conflict:
        raise ConflictError(str(conflict)) from None
    return Response(202, content_types.APPLICATION_JSON, JobView.of(job))


@app.get(
    "/vendors/<vendor>/access",
    operation_id="getVendorAccess",
    summary="Prove the vendor takes our credentials: its cheapest call, spending no credits where it allows",
    tags=["vendors"],
    responses=answer(200, AccessCheck, "ok, or what is wrong in the vendor's words") | errors(),
)
def get_vendor_access(vendor: Vendor) -> AccessCheck:
    return vendor_access(vendor, Settings.load())


@app.get(
    "/credits",
    operation_id="getCredits",
    summary="The account's credits by vendor and month (every caller's: it is the account's money)",
    tags=["credits"],
    responses=answer(200, CreditTotals, "totals by vendor and month") | errors(),
)
def get_credits(
    since: Annotated[
        str | None,
        Query(pattern=MONTH_PATTERN, description="the first month (YYYY-MM, UTC); default: the current month"),
    ] = None,
) -> CreditTotals:
    settings = Settings.load()
    current_caller(settings)  # a signed caller, as every route
    first = since or budget.current_month()
    budgets = {v.value: amount for v, amount in settings.monthly_credit_budgets.items()}
    months = budget.month_totals(settings.jobs_table, first, budgets)
    return CreditTotals(since=first, months=[VendorMonthCredits(**m.model_dump()) for m in months])


@app.post(
    "/cache/purge",
    operation_id="purgeCache",
    summary="Delete result cache entries: by vendor, by age, or one person's (a data subject request); admins only",
    tags=["cache"],
    responses=answer(200, CachePurged, "what was deleted; a next_token when the purge stopped early")
    | errors(400, 403, 413, 415),
)
def purge_cache(request: Annotated[CachePurge, Body(embed=False)]) -> CachePurged:
    settings = Settings.load()
    caller = current_caller(settings)
    if not caller.admin:
        raise ForbiddenError("only admins (sessions of the stack's admin role) may purge the result cache")
    purged = purge(
        settings.result_cache_table,
        PurgeRequest(
            vendor=request.vendor,
            older_than_days=request.older_than_days,
            subject=request.subject(),
            start=request.next_token,
        ),
        time_left=lambda: app.lambda_context.get_remaining_time_in_millis() / 1000,
    )
    logger.info("result cache purged", extra={"deleted": purged.deleted, "by": caller.principal})
    return CachePurged(deleted=purged.deleted, scanned=purged.scanned, next_token=purged.next_token)


# Each path's methods; any other method reaches the function too (the template routes ANY) and is answered 405.
METHODS = {
    "/uploads": ("POST",),
    "/jobs": ("GET", "POST"),
    "/jobs/<job_id>": ("GET",),
    "/jobs/<job_id>/results": ("GET",),
    "/jobs/<job_id>/cancel": ("POST",),
    "/vendors/<vendor>/access": ("GET",),
    "/credits": ("GET",),
    "/cache/purge": ("POST",),
}
ALL_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "QUERY")


def _method_not_allowed(path: str, allowed: tuple[str, ...]):
    def method_not_allowed(**_: str) -> Response[ErrorBody]:
        method = app.current_event.http_method
        refusal = error_response(405, f"{method} is not a method of this path; it takes {', '.join(allowed)}")
        refusal.headers["Allow"] = ", ".join(allowed)
        return refusal

    # Its parameters are the path's own (Powertools passes them and reads the signature for validation).
    names = re.findall(r"<(\w+)>", path)
    parameter = functools.partial(inspect.Parameter, kind=inspect.Parameter.KEYWORD_ONLY, annotation=str)
    method_not_allowed.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [parameter(name) for name in names], return_annotation=Response[ErrorBody]
    )
    return method_not_allowed


for _path, _allowed in METHODS.items():
    app.route(_path, method=[m for m in ALL_METHODS if m not in _allowed], include_in_schema=False)(
        _method_not_allowed(_path, _allowed)
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST, clear_state=True)
@tracer.capture_lambda_handler
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    if event.get("resource") == SWAGGER_PATH:
        serve_swagger()
    return app.resolve(event, context)
