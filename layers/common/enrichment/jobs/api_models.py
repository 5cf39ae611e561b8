"""The jobs API's request and response bodies (validated by Powertools; the OpenAPI document comes from them).

The request body is one model per vendor (chosen by `vendor`), each carrying that vendor's options model, so the
options are checked when the job is created and the OpenAPI document says exactly what each vendor's job takes;
or, for a job of several steps, `StepsJobRequest` (chosen by `steps`), whose steps options.parse_steps checks.
Every bound is here, and documented in the README ("The jobs API").
"""

from __future__ import annotations

import json
import math
from typing import Annotated, Any, Literal, Union

from annotated_types import Interval
from pydantic import (
    ConfigDict,
    Discriminator,
    Field,
    PlainValidator,
    StringConstraints,
    Tag,
    WithJsonSchema,
    create_model,
    model_validator,
)

from enrichment.models import Job, Model, Vendor
from enrichment.option_types import MAX_OPTION_TEXT, Flag
from enrichment.options import JOB_OPTION_NAMES, MAX_STEPS, option_problems, options_model
from enrichment.pipeline.result_cache import SUBJECT_FIELDS, normalized_subject

MAX_BODY_BYTES = 2_000_000  # a request body; a larger file goes through POST /uploads
MAX_INLINE_RECORDS = 1000
MAX_RECORD_COLUMNS = 200
MAX_CELL_CHARACTERS = 32_767  # what an Excel cell holds
MAX_WEBHOOK_URL = 2048

ColumnName = Annotated[str, StringConstraints(max_length=MAX_OPTION_TEXT)]


def _cell(value: Any) -> Any:
    """One check, one message for a cell (a union of types would report each type's own failure)."""
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, str):
        if len(value) > MAX_CELL_CHARACTERS:
            raise ValueError(f"text of at most {MAX_CELL_CHARACTERS:,} characters")
        return value
    raise ValueError("a cell is text, a number, true, false or null")


Cell = Annotated[
    Any,
    PlainValidator(_cell),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "maxLength": MAX_CELL_CHARACTERS},
                {"type": "number"},
                {"type": "boolean"},
                {"type": "null"},
            ]
        }
    ),
]
Record = Annotated[dict[ColumnName, Cell], Field(max_length=MAX_RECORD_COLUMNS)]
# What POST /uploads answers: uploads/<name>, one path segment.
InputKey = Annotated[str, StringConstraints(pattern=r"^uploads/[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")]
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
_PORT = r"(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})"
# An http(s) URL with a host name or IPv4 address, an optional port and a path of printable ASCII: checked by this
# pattern alone, so the OpenAPI document and the API accept exactly the same URLs.
WebhookUrl = Annotated[
    str,
    StringConstraints(max_length=MAX_WEBHOOK_URL, pattern=rf"^https?://{_LABEL}(\.{_LABEL})*(:{_PORT})?(/[!-~]*)?$"),
]

RECORDS_EXAMPLE = [{"email": "ada@initech.com"}, {"full_name": "Grace Hopper", "company": "Navy"}]


def _exactly_one_input(schema: dict[str, Any]) -> None:
    schema["oneOf"] = [{"required": ["records"]}, {"required": ["input_key"]}]
    schema["description"] = (schema.get("description") or "") + " Give exactly one of records or input_key."


class _JobRequestBase(Model):
    """A job for one vendor from inline records or an uploaded file; with dry_run, its preview instead."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_exactly_one_input)

    @model_validator(mode="after")
    def _one_input(self) -> _JobRequestBase:
        if (self.records is None) == (self.input_key is None):  # type: ignore[attr-defined]
            raise ValueError("give exactly one of records or input_key")
        return self


def _input_fields() -> dict[str, Any]:
    """The fields every job request has besides what it runs: its input, its webhook, dry_run."""
    # records and input_key are absent or given, never null: the schema's oneOf counts them by presence.
    return {
        "records": (
            list[Record],
            Field(
                default=None,
                min_length=1,
                max_length=MAX_INLINE_RECORDS,
                description=f"inline rows, at most {MAX_INLINE_RECORDS:,} of at most {MAX_RECORD_COLUMNS} columns; "
                f"keys are column names (at most {MAX_OPTION_TEXT} characters), values text (at most "
                f"{MAX_CELL_CHARACTERS:,} characters), numbers, booleans or null",
                examples=[RECORDS_EXAMPLE],
            ),
        ),
        "input_key": (InputKey, Field(default=None, description="the input_key from POST /uploads, for a larger file")),
        "webhook_url": (
            WebhookUrl | None,
            Field(
                default=None,
                description=f"POSTed the completion event, signed: an https URL of at most {MAX_WEBHOOK_URL} "
                "characters on the public internet (a private, loopback, link-local or metadata address is refused "
                "with 422), or a host:port in the stack's WEBHOOK_ALLOW (then http too)",
            ),
        ),
        "dry_run": (
            Flag,
            Field(
                default=False,
                description="preview only: answer 200 with what the job would do (columns, rows to send, invalid, "
                "duplicates, chunks, credits); no job is created, nothing is sent, no credit is spent. A job of steps: "
                "each step's rows and its credits at worst and expected (StepsPreview)",
            ),
        ),
    }


def _request_model(vendor: Vendor) -> type[_JobRequestBase]:
    options = options_model(vendor)
    return create_model(
        options.__name__.replace("JobOptions", "JobRequest"),
        __base__=_JobRequestBase,
        __doc__=f"A {vendor.value} job from inline records or an uploaded file; with dry_run, its preview instead.",
        vendor=(Literal[vendor.value], ...),
        options=(options, Field(default_factory=options, description=f"the options of a {vendor.value} job")),
        **_input_fields(),
    )


JOB_OPTIONS_TEXT = ", ".join(sorted(JOB_OPTION_NAMES))


class StepRequest(Model, extra="forbid"):
    """One step of a job of steps: a vendor, its options, and for a validating vendor what it validates."""

    vendor: Vendor = Field(description="the step's vendor")
    options: dict[Annotated[str, StringConstraints(max_length=MAX_OPTION_TEXT)], Any] = Field(
        default_factory=dict,
        description="the vendor's own options, as its single-vendor request's options take them (ProspeoJobRequest "
        f"and the others), without the job's ({JOB_OPTIONS_TEXT}: given once, in the request's options)",
    )
    validate_: Literal["email"] | None = Field(
        default=None,
        alias="validate",
        description='"email": the step validates the best email found so far (check365 only, and its default); '
        "one validation step at most, and last",
    )


STEPS_TAG = "steps_job"  # the union's tag for a job of steps (named in pydantic's error locations)


def _one_of_vendor_or_steps(body: Any) -> Any:
    if isinstance(body, dict) and "vendor" in body and "steps" in body:
        raise ValueError("give vendor (a job of one vendor) or steps (a job of several), not both")
    return body


_StepsRequestBase = create_model(
    "StepsJobRequest",
    __base__=_JobRequestBase,
    __doc__="A job of several steps (a waterfall, then validation) from inline records or an uploaded file. Each "
    "step gets the rows no earlier step matched that carry what its vendor needs; a validation step (check365) "
    "the best email found so far. With dry_run, each step's rows and credits at worst and expected.",
    steps=(
        list[StepRequest],
        Field(min_length=1, max_length=MAX_STEPS, description="the steps in order, each {vendor, options, validate}"),
    ),
    options=(
        dict[Annotated[str, StringConstraints(max_length=MAX_OPTION_TEXT)], Any],
        Field(default_factory=dict, description=f"the job's own options: {JOB_OPTIONS_TEXT} (see the README)"),
    ),
    **_input_fields(),
)


class StepsJobRequest(_StepsRequestBase):  # type: ignore[misc,valid-type]
    __doc__ = _StepsRequestBase.__doc__

    @model_validator(mode="before")
    @classmethod
    def _not_vendor_too(cls, body: Any) -> Any:
        return _one_of_vendor_or_steps(body)

    def steps_as_given(self) -> list[dict[str, Any]]:
        """The steps as options.parse_steps takes them."""
        return [step.model_dump(mode="json", by_alias=True, exclude_unset=True) for step in self.steps]  # type: ignore[attr-defined]


JOB_REQUESTS = {vendor: _request_model(vendor) for vendor in Vendor}


def _request_kind(body: Any) -> str | None:
    """The union's tag: `steps` makes a job of steps, else the vendor names the model."""
    if isinstance(body, dict):
        return STEPS_TAG if "steps" in body else body.get("vendor")
    return STEPS_TAG if hasattr(body, "steps") else getattr(body, "vendor", None)


JobRequest = Annotated[
    Union[  # noqa: UP007
        tuple(Annotated[model, Tag(vendor.value)] for vendor, model in JOB_REQUESTS.items())
        + (Annotated[StepsJobRequest, Tag(STEPS_TAG)],)
    ],
    Discriminator(
        _request_kind,
        custom_error_type="job_kind",
        custom_error_message="give vendor (one of pubrio, prospeo, check365, insideview) or steps",
    ),
]

# Shown by Swagger UI's "Try it out": each is a valid request.
JOB_REQUEST_EXAMPLES = {
    "records": {
        "summary": "inline records (Prospeo, mobiles too)",
        "value": {"vendor": "prospeo", "options": {"enrich_mobile": True}, "records": RECORDS_EXAMPLE},
    },
    "dry_run": {
        "summary": "a preview of inline records: nothing is sent",
        "value": {"vendor": "check365", "records": [{"Email": "ada@initech.com"}], "dry_run": True},
    },
    "steps": {
        "summary": "a job of steps: Pubrio, then Prospeo for the rows Pubrio did not match, then Check365",
        "value": {
            "steps": [
                {"vendor": "pubrio", "options": {"contact_types": "email-work"}},
                {"vendor": "prospeo"},
                {"vendor": "check365", "validate": "email"},
            ],
            "options": {"max_credits": 500},
            "records": [
                {
                    "people_search_id": "0b4c8f9e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
                    "full_name": "Ada Lovelace",
                    "company": "Initech",
                }
            ],
        },
    },
    "upload": {
        "summary": "an uploaded file (its input_key from POST /uploads)",
        "value": {
            "vendor": "pubrio",
            "options": {"contact_types": "email-work,phone"},
            "input_key": "uploads/0123456789abcdef01234567.csv",
        },
    },
}


class FieldProblem(Model):
    model_config = ConfigDict(populate_by_name=True)

    field: str = Field(description="the field, dotted for a nested one (options.contact_types), or the parameter")
    location: str = Field(alias="in", description="body, query, header or path")
    message: str = Field(description="what is wrong, naming what the field takes")
    type: str = Field(description="the kind of problem (pydantic's error type)")


class ErrorBody(Model):
    """Every error the API answers: its status, a message saying what is wrong, and for 422 each failing field."""

    statusCode: int  # camelCase: the name Powertools' own error bodies use
    message: str
    errors: list[FieldProblem] = Field(default_factory=list, description="each failing field (422), else empty")


class JobCreated(Model):
    job_id: str
    status: str


class UploadTicket(Model):
    """A presigned S3 POST (multipart/form-data): every field of `fields`, exactly as given, then the file as
    the field `file`, last. With curl: `curl -F key=... -F policy=... (each field) -F file=@contacts.csv <url>`."""

    url: str = Field(description="POST the form here (multipart/form-data); S3 answers 204 when it has the file")
    fields: dict[str, str] = Field(description="form fields to send as they are, before the file")
    input_key: str = Field(description="then POST /jobs with this input_key")
    expires_in: int = Field(description="seconds the form is valid for")
    max_bytes: int = Field(description="the largest file S3 takes with this form; an empty file is refused too")


class Progress(Model):
    chunks_done: int
    chunks_total: int | None = Field(description="null until the input is read")
    percent: float | None = Field(description="chunks done of total; null until the input is read")


class Webhook(Model):
    url: str
    status: str | None
    attempts: int
    error: str | None


class StepView(Model):
    vendor: str
    options: dict[str, Any] = Field(description="the step's vendor options (the job's own are the job's options)")
    validate_: str | None = Field(alias="validate", description='"email": a validation step; null: a finding step')


class JobView(Model):
    job_id: str
    vendor: str = Field(description="the job's vendor; a job of steps: its first step's")
    steps: list[StepView] = Field(
        default_factory=list, description="a job of steps: each step, in order; empty for a job of one vendor"
    )
    status: str
    source: str
    owner: str | None = Field(
        default=None,
        description="who created it and may see it: an IAM principal id (AIDA... a user, AROA...:session a role "
        "session) or schedule:<name>; null for jobs from before owners were recorded (admins only)",
    )
    owner_arn: str | None = Field(default=None, description="the owner's ARN, where known")
    options: dict[str, Any] = Field(
        description="the job's options, each in its one form (a job of steps: the job's own; each step has its own)"
    )
    rows: int | None = Field(description="rows in the input; null until it is read")
    progress: Progress
    counts: dict[str, int]
    credits: float = Field(description="what the vendor reported charging the job so far")
    credits_by_vendor: dict[str, float] = Field(default_factory=dict, description="once ended: credits per vendor")
    credits_per_matched_row: float | None = Field(default=None, description="once ended; null without a match")
    credits_committed: float = Field(
        default=0,
        description="what the job's budget (options.max_credits) is held to: the worst case of chunks in flight "
        "plus what settled chunks cost (an answer that was lost counts its worst case)",
    )
    credits_expected: float | None = Field(
        default=None,
        description="once its input is read: what the rows it sends are expected to cost (see credits_basis)",
    )
    credits_worst_case: float | None = Field(
        default=None, description="once its input is read: the most the rows it sends can cost (max_credits caps it)"
    )
    credits_basis: str | None = Field(
        default=None,
        description="observed: from the match rates of past jobs (over credits_basis_rows rows); default: the "
        "vendor's default match rate",
    )
    credits_basis_rows: int | None = Field(default=None, description="the rows of past jobs the estimate is based on")
    created_at: str
    started_at: str | None
    finished_at: str | None
    error: str | None
    stop_reason: str | None = Field(
        default=None,
        description="why the job sends nothing more (a cancel, the vendor's credits or credentials); "
        "chunks the vendor already accepted are still collected before it ends",
    )
    webhook: Webhook | None = None

    @classmethod
    def of(cls, job: Job) -> JobView:
        total = job.chunks_total
        # A job that ended before its input was read (chunks_total unknown) made no progress: not a full bar.
        percent = round(100 * job.chunks_done / total, 1) if total else (100.0 if total == 0 else None)
        return cls(
            job_id=job.job_id,
            vendor=job.vendor.value,
            steps=[
                StepView(vendor=step.vendor.value, options=step.options, validate=step.validation) for step in job.steps
            ],
            status=job.status.value,
            source=job.source,
            owner=job.owner,
            owner_arn=job.owner_arn,
            options=job.options,
            rows=job.rows_total,
            progress=Progress(chunks_done=job.chunks_done, chunks_total=total, percent=percent),
            counts=job.counts,
            credits=job.credits,
            credits_by_vendor=job.credits_by_vendor,
            credits_per_matched_row=job.credits_per_matched_row,
            credits_committed=job.credits_committed,
            credits_expected=job.credits_expected,
            credits_worst_case=job.credits_worst_case,
            credits_basis=job.credits_basis,
            credits_basis_rows=job.credits_basis_rows,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
            error=job.error,
            stop_reason=job.stop_reason,
            webhook=Webhook(
                url=job.webhook_url, status=job.webhook_status, attempts=job.webhook_attempts, error=job.webhook_error
            )
            if job.webhook_url
            else None,
        )


# A page token is the position where a page stopped: the created_at and job_id of its last job. Any token of this
# form is a place in the listing, so the OpenAPI document's pattern says exactly which tokens the API takes.
PAGE_POSITION_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z~[A-Za-z0-9_-]{1,100}$"


def page_token(position: tuple[str, str]) -> str:
    created_at, job_id = position
    return f"{created_at}~{job_id}"


def page_position(token: str) -> tuple[str, str]:
    created_at, _, job_id = token.partition("~")
    return created_at, job_id


class JobPage(Model):
    jobs: list[JobView]
    next_token: str | None = Field(description="pass as next_token for the next page; null on the last")


PURGE_POSITION_PATTERN = r"^[a-z0-9]{1,20}#[0-9a-f]{64}$"  # where a purge stopped: a cache entry's key


class CachePurge(Model, extra="forbid"):
    """Which result cache entries to delete: those matching every field given (none given: all of them)."""

    vendor: Vendor | None = Field(default=None, description="only this vendor's entries")
    older_than_days: Annotated[int, Interval(ge=0, le=100_000)] | None = Field(
        default=None, description="only entries the vendor gave more than this many days ago"
    )
    email: Annotated[str, StringConstraints(min_length=1, max_length=254)] | None = Field(
        default=None, description="one person's entries: those whose request named this email (any vendor, any options)"
    )
    linkedin_url: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = Field(
        default=None, description="one person's entries, by the LinkedIn URL the request named"
    )
    person_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        default=None, description="one person's entries, by Prospeo person_id"
    )
    contact_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        default=None, description="one person's entries, by InsideView contact_id"
    )
    people_search_id: Annotated[str, StringConstraints(min_length=1, max_length=256)] | None = Field(
        default=None, description="one person's entries, by Pubrio people_search_id"
    )
    name: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = Field(
        default=None, description="one person's entries, by the full name the request named (any company)"
    )
    everything: Flag = Field(default=False, description="true: every entry (when no other field names which)")
    next_token: Annotated[str, StringConstraints(pattern=PURGE_POSITION_PATTERN)] | None = Field(
        default=None, description="the next_token of a purge that stopped early: it goes on from there"
    )

    @model_validator(mode="after")
    def _one_person(self) -> CachePurge:
        named = [f for f in SUBJECT_FIELDS if getattr(self, f) is not None]
        if not (named or self.vendor or self.older_than_days is not None or self.everything):
            raise ValueError(
                "name a vendor, an age (older_than_days) or a person, or purge everything (everything: true)"
            )
        if len(named) > 1:
            raise ValueError(f"name one person by one identifier, not {' and '.join(named)}")
        for field in named:
            normalized_subject(field, getattr(self, field))  # a ValueError says what is wrong with it
        return self

    def subject(self) -> tuple[str, str] | None:
        """The one person named, as (identifier, value)."""
        named = [(f, v) for f in SUBJECT_FIELDS if (v := getattr(self, f)) is not None]
        return named[0] if named else None


class CachePurged(Model):
    deleted: int = Field(description="entries deleted by this call")
    scanned: int = Field(description="entries this call looked at")
    next_token: str | None = Field(
        description="not null: the purge stopped early (time); call again with this next_token to go on"
    )


class ResultFiles(Model):
    files: dict[str, str] = Field(description="file name -> short-lived download URL")


# ---- reading a request body, and saying what is wrong with it ----


class BodyTooLarge(ValueError):
    """A request body over MAX_BODY_BYTES (HTTP 413)."""


def parse_json_body(text: str) -> Any:
    """The body as JSON: strict (no NaN or Infinity), bounded in size, text that is valid Unicode. Anything else
    raises json.JSONDecodeError (answered 400) or BodyTooLarge (413)."""
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BODY_BYTES:
        raise BodyTooLarge(f"the body is {size:,} bytes; at most {MAX_BODY_BYTES:,} (upload a larger file)")
    try:
        value = json.loads(text, parse_constant=_not_json, parse_float=_finite)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:  # an integer of thousands of digits, a body nested too deep
        raise json.JSONDecodeError(str(exc)[:200], text[:100], 0) from None
    if not _valid_unicode(value):
        raise json.JSONDecodeError("a string holds an unpaired surrogate (\\ud800-\\udfff), which is not text", "", 0)
    return value


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not JSON")


def _finite(number: str) -> float:
    value = float(number)
    if math.isinf(value):  # 1e400: JSON, but no double holds it
        raise ValueError(f"the number {number[:40]} is too large")
    return value


def _valid_unicode(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return False
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
    return True


PATTERN_HINTS = {
    "input_key": "the input_key POST /uploads answered (uploads/<name>)",
    "webhook_url": "an http or https URL: a host name or IPv4 address, an optional port, a path of printable ASCII",
    "next_token": "the next_token a page of GET /jobs gave",
}
VENDOR_NAMES = [vendor.value for vendor in Vendor]


def field_problems(errors: list[dict[str, Any]]) -> list[FieldProblem]:
    """A failed validation's errors (Powertools' RequestValidationError) as fields and what is wrong, in words:
    the vendor's model a body was checked against is left out of the field's name, options are named as the
    options' own check names them (enrichment.options)."""
    problems = []
    for error in errors:
        where, *rest = error["loc"] or ("body",)
        path = [str(part) for part in rest]
        vendor = path.pop(0) if where == "body" and path[:1] and path[0] in VENDOR_NAMES else None
        if where == "body" and path[:1] == [STEPS_TAG]:  # the union's tag for a job of steps, not a field
            path.pop(0)
        kind = error.get("type", "")
        message = str(error.get("msg", "")).removeprefix("Value error, ")
        if path[-1:] == ["[key]"]:  # a dict key: named by where it is, not by itself (it may be long)
            path, message = path[:-2], f"a key: {message}"
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            path, message = ["vendor"], f"vendor is one of {', '.join(VENDOR_NAMES)}"
        elif kind == "job_kind":  # neither a known vendor nor steps
            path = ["vendor"]
        elif vendor and path[:1] == ["options"]:
            detail = dict(error) | {"loc": tuple(error["loc"])[3:]}
            option, message = option_problems(Vendor(vendor), [detail])[0]  # type: ignore[list-item]
            path = ["options", option] if option != "options" else ["options"]
        elif kind == "string_pattern_mismatch" and path and path[-1] in PATTERN_HINTS:
            message = PATTERN_HINTS[path[-1]]
        elif kind == "bool_type":
            message = "takes true or false (JSON booleans, not text)"
        elif kind == "missing" and not path and where == "body":
            message = "a JSON object is required"
        field = ".".join(part if len(part) <= 60 else part[:57] + "..." for part in path) or where
        problems.append(FieldProblem(field=field, location=where, message=message, type=kind))
    return problems


MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class VendorMonthCredits(Model):
    vendor: str
    month: str = Field(description="YYYY-MM, UTC")
    spent: float = Field(description="what the vendor reported charging, over every job of the month")
    held: float = Field(
        description="worst cases kept as spent: answers that were lost after the vendor may have charged"
    )
    reserved: float = Field(description="worst cases of chunks in flight now")
    budget: float | None = Field(
        default=None, description="this month's budget (MonthlyCreditBudgets), for the current month only"
    )


class CreditTotals(Model):
    """The account's credits by vendor and month: every job's, whoever ran it (it is the account's money)."""

    since: str
    months: list[VendorMonthCredits] = Field(description="oldest month first, vendors by name within a month")
