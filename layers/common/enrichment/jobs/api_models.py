"""The jobs API's request and response bodies (validated by Powertools; the OpenAPI document comes from them)."""

from __future__ import annotations

from typing import Any

from pydantic import AnyHttpUrl, BaseModel, Field, model_validator

from enrichment.models import Job, Vendor

MAX_INLINE_RECORDS = 1000

Cell = str | int | float | bool | None


class JobRequest(BaseModel, extra="forbid"):
    vendor: Vendor
    options: dict[str, Any] = Field(
        default_factory=dict,
        description="the job's options (see the README): the vendor's, and `columns` (field -> column name)",
    )
    records: list[dict[str, Cell]] | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_INLINE_RECORDS,
        description=f"inline rows, at most {MAX_INLINE_RECORDS}; keys are column names",
    )
    input_key: str | None = Field(default=None, description="the input_key from POST /uploads, for a larger file")
    webhook_url: AnyHttpUrl | None = Field(
        default=None,
        description="POSTed the completion event, signed: an https URL on the public internet, or a host:port "
        "in the stack's WEBHOOK_ALLOW (else 422)",
    )
    dry_run: bool = Field(
        default=False,
        description="preview only: answer 200 with what the job would do (columns, rows to send, invalid, "
        "duplicates, chunks); no job is created, nothing is sent, no credit is spent",
    )

    @model_validator(mode="after")
    def _one_input(self) -> JobRequest:
        if (self.records is None) == (self.input_key is None):
            raise ValueError("give exactly one of records or input_key")
        if self.input_key is not None and not self.input_key.startswith("uploads/"):
            raise ValueError("input_key must be one returned by POST /uploads")
        return self


class JobCreated(BaseModel):
    job_id: str
    status: str


class UploadTicket(BaseModel):
    """A presigned S3 POST (multipart/form-data): every field of `fields`, exactly as given, then the file as
    the field `file`, last. With curl: `curl -F key=... -F policy=... (each field) -F file=@contacts.csv <url>`."""

    url: str = Field(description="POST the form here (multipart/form-data); S3 answers 204 when it has the file")
    fields: dict[str, str] = Field(description="form fields to send as they are, before the file")
    input_key: str = Field(description="then POST /jobs with this input_key")
    expires_in: int = Field(description="seconds the form is valid for")
    max_bytes: int = Field(description="the largest file S3 takes with this form; an empty file is refused too")


class Progress(BaseModel):
    chunks_done: int
    chunks_total: int | None
    percent: float | None


class Webhook(BaseModel):
    url: str
    status: str | None
    attempts: int
    error: str | None


class JobView(BaseModel):
    job_id: str
    vendor: str
    status: str
    source: str
    options: dict[str, Any]
    rows: int | None
    progress: Progress
    counts: dict[str, int]
    credits: float
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
        percent = round(100 * job.chunks_done / total, 1) if total else (100.0 if job.status.is_final else None)
        return cls(
            job_id=job.job_id,
            vendor=job.vendor.value,
            status=job.status.value,
            source=job.source,
            options=job.options,
            rows=job.rows_total,
            progress=Progress(chunks_done=job.chunks_done, chunks_total=total, percent=percent),
            counts=job.counts,
            credits=job.credits,
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


class JobPage(BaseModel):
    jobs: list[JobView]
    next_token: str | None = Field(description="pass as next_token for the next page; absent on the last")


class ResultFiles(BaseModel):
    files: dict[str, str] = Field(description="file name -> short-lived download URL")
