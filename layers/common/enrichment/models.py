"""pydantic models shared by every function: jobs, chunks, rows and vendor results."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field


class Model(BaseModel):
    """The base of the layer's models. Each builds its validator when first used, not when imported: a function
    uses a few of them. (pydantic builds under a lock since 2.14: the local runtime's threads may race to it.)"""

    model_config = ConfigDict(defer_build=True)


class Vendor(StrEnum):
    PUBRIO = "pubrio"
    PROSPEO = "prospeo"
    CHECK365 = "check365"
    INSIDEVIEW = "insideview"


class JobStatus(StrEnum):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    FINALIZING = "FINALIZING"  # one finalizer has claimed the job and is writing its outputs
    SUCCEEDED = "SUCCEEDED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"

    @property
    def is_final(self) -> bool:
        return self in (JobStatus.SUCCEEDED, JobStatus.PARTIAL, JobStatus.FAILED, JobStatus.CANCELLED)


class RowStatus(StrEnum):
    MATCHED = "matched"
    NOT_MATCHED = "not_matched"
    INVALID_INPUT = "invalid_input"
    DUPLICATE = "duplicate"
    ERROR = "error"
    SKIPPED = "skipped"  # not sent: a credit budget (the job's max_credits, the vendor's month) had no room for it


# The canonical input fields, after header mapping. Adapters read only these.
CANONICAL_FIELDS = (
    "first_name",
    "last_name",
    "full_name",
    "email",
    "linkedin_url",
    "company_name",
    "company_website",
    "company_linkedin_url",
    "person_id",
    "people_search_id",
    "contact_id",
)


class Record(Model):
    """One row to send: its reference (the input row number) and its canonical fields."""

    ref: str
    fields: dict[str, str]


class Chunk(Model):
    job_id: str
    chunk_index: int
    records: list[Record]


class ChunkBatch(Model):
    """The chunks one Map item drives, in one S3 object (layout.batch_key)."""

    job_id: str
    batch_index: int
    chunks: list[Chunk]


class ContactStatus(StrEnum):
    """How far an email or a phone can be trusted, in one vocabulary whatever the vendor
    (vendors/vocabulary.py maps each vendor's own words to it)."""

    VALID = "valid"
    INVALID = "invalid"
    RISKY = "risky"  # the server accepts any address (accept-all, catch-all), a spam trap: delivery is a gamble
    UNKNOWN = "unknown"  # not graded, or graded with a word we do not know


class Email(Model):
    value: str
    type: str | None = None
    status: ContactStatus | None = None
    vendor_status: str | None = Field(default=None, description="the vendor's own word, as it gave it")


class Phone(Model):
    value: str
    type: str | None = None
    status: ContactStatus | None = Field(default=None, description="none when the vendor does not grade phones")
    vendor_status: str | None = None


class EmailVerification(Model):
    status: str | None = None
    safe_to_send: bool | None = None
    risk: str | None = None
    is_role: bool | None = None
    reason: str | None = None
    provider: str | None = None


class Person(Model):
    first_name: str | None = None
    last_name: str | None = None
    full_name: str | None = None
    job_title: str | None = None
    linkedin_url: str | None = None
    location: str | None = None


class Company(Model):
    name: str | None = None
    website: str | None = None
    domain: str | None = None
    linkedin_url: str | None = None
    industry: str | None = None
    size: str | None = None


class RecordResult(Model):
    """A vendor's answer for one record, normalized. `raw` keeps the vendor's own answer."""

    status: Literal[RowStatus.MATCHED, RowStatus.NOT_MATCHED, RowStatus.INVALID_INPUT, RowStatus.ERROR]
    reason: str | None = None
    emails: list[Email] = []
    phones: list[Phone] = []
    person: Person = Field(default_factory=Person)
    company: Company = Field(default_factory=Company)
    verification: EmailVerification | None = None
    credits: float | None = Field(default=None, description="only where the vendor prices single records")
    raw: Any = None


class ChunkResult(Model):
    """What one chunk ended with; written to S3 once, read by finalize."""

    chunk_index: int
    status: Literal["done", "failed", "skipped"]  # skipped: never sent, a credit budget had no room (reason says)
    reason: str | None = None
    credits: float = 0
    results: dict[str, RecordResult] = {}
    # Rows of a done chunk that were not sent: a budget had room for the rows before them only (reason: which).
    skipped_refs: list[str] = []
    skipped_reason: str | None = None
    # When the vendor's answer arrived (ISO 8601, UTC): the rows' result_fetched_at, and their cache entries'.
    answered_at: str | None = None


class BatchResult(Model):
    """Every chunk result of a settled batch (layout.batch_result_key), in chunk order."""

    batch_index: int
    chunks: list[ChunkResult]


class JobStep(Model):
    """One step of a job: a vendor and its own options. A finding step (Pubrio, Prospeo, InsideView) gets the rows
    no earlier step matched that carry what it needs; a validation step (Check365: `validate` "email") gets each
    row's best email so far (pipeline/steps.py)."""

    vendor: Vendor
    options: dict[str, Any] = {}  # the vendor's options for this step (the job's own stay in Job.options)
    # "email": a validation step (given as `validate`, as the API takes it; `validate` is pydantic's own name).
    validation: Literal["email"] | None = Field(
        default=None, validation_alias=AliasChoices("validation", "validate"), serialization_alias="validate"
    )


class Job(Model):
    """The job item in DynamoDB."""

    model_config = ConfigDict(use_enum_values=False)

    job_id: str
    vendor: Vendor  # a job of several steps: its first step's
    status: JobStatus = JobStatus.PENDING
    options: dict[str, Any] = {}  # a job of several steps: the job's own options only (each step has its vendor's)
    # A job of several steps (a waterfall); empty for a job of one vendor, whose step is `vendor` and `options`.
    steps: list[JobStep] = []
    source: str = ""
    # Who created the job (jobs/access.py): the IAM principal id, or schedule:<name>; None for jobs from before.
    owner: str | None = None
    owner_arn: str | None = None  # the principal's ARN where known, for display
    input_name: str | None = None  # the input file's own name (the dropped or uploaded key's), or "inline records"
    input_key: str
    output_prefix: str
    created_at: str
    started_at: str | None = None
    finished_at: str | None = None
    rows_total: int | None = None
    chunks_total: int | None = None
    input_format: dict[str, str] | None = None  # how Prepare read the file: format, encoding, delimiter, compression
    chunks_done: int = 0
    chunks_failed: int = 0
    credits: float = 0  # what the vendor reported charging
    # What the job's budget is held to: reservations of chunks in flight plus what settled chunks cost (an answer
    # that was lost keeps its worst case: the vendor may have charged). pipeline/budget.py.
    credits_committed: float = 0
    credits_reserved: float = 0
    credits_by_vendor: dict[str, float] = {}  # once settled: what each vendor charged the job
    credits_per_matched_row: float | None = None  # once settled; none without a matched row
    # What Prepare expected the rows it sends to cost, and their worst case (pipeline/cost.py); the basis is
    # "observed" (over credits_basis_rows rows of past jobs) or "default" (the vendor's default match rate).
    credits_expected: float | None = None
    credits_worst_case: float | None = None
    credits_basis: str | None = None
    credits_basis_rows: int | None = None
    # A job of steps: each prepared step's chunks and expected credits, by step index ("0", "1", ...).
    steps_prepared: dict[str, dict[str, Any]] = {}
    # Once settled: the rows the vendor answered in this job (matched or not; not cached) and those matched,
    # added once to the observed match rates (match_rate_recorded).
    rows_answered_by_vendor: int = 0
    rows_matched_by_vendor: int = 0
    credits_observed: float | None = None  # a job of steps: what those rows cost (its first step's credits)
    match_rate_recorded: bool = False
    counts: dict[str, int] = {}
    error: str | None = None
    stop_reason: str | None = None
    stop_error: str | None = None
    # Set by a cancel before it stops the job: a job of steps then prepares no further step, even when the stop
    # it finds is a vendor's (which would otherwise stop only that vendor's step: JobStore.pass_stop_on).
    cancel_requested: bool = False
    webhook_url: str | None = None
    webhook_status: str | None = None  # delivering | delivered | failed | refused (jobs/webhooks.py)
    webhook_attempts: int = 0
    webhook_error: str | None = None
    webhook_lease_until: float | None = None  # while delivering: after it, a retry may take the delivery over
    finalizer: str | None = None  # who claimed the job's finalize, and until when the claim holds
    finalize_lease_until: float | None = None
    announced_at: str | None = None

    @property
    def step_list(self) -> list[JobStep]:
        """The job's steps: its own, or the one step of a single-vendor job."""
        return self.steps or [JobStep(vendor=self.vendor, options=self.options)]

    def step_options(self, step_index: int) -> dict[str, Any]:
        """The options a step's vendor and rows are read with: the job's own and the step's (one dict, as the
        options models take them)."""
        if not self.steps:
            return self.options
        return {**self.options, **self.steps[step_index].options}


# ---- state machine payloads (small: S3 keys and counters, never row data) ----


class JobInput(Model):
    job_id: str
    step_index: int = 0


class Limits(Model):
    max_polls: int
    deadline_seconds: int
    retry_wait_seconds: int  # the wait after a check that failed, before checking again


class PreparedJob(Model):
    job_id: str
    step_index: int = 0
    next_step_index: int | None = None  # the step Prepare runs once this one's chunks settle; none: Finalize
    vendor: Vendor
    vendor_function: str
    bucket: str
    manifest_key: str
    chunks_total: int
    batches_total: int = 0
    max_concurrency: int
    limits: Limits


class BatchRef(Model):
    """One Map item, as the manifest lists it: consecutive chunks, stored together at batch_key."""

    batch_index: int
    batch_key: str
    chunk_indexes: list[int]


class ChunkProgress(Model):
    """Where one chunk of a batch stands; settled (done or failed) once its result is in S3."""

    status: Literal["running", "done", "failed"]
    vendor_ref: str | None = None
    wait_seconds: int = 0
    due_at: float = 0  # when its wait ends: a round skips the chunk until then
    polls: int = 0
    throttles: int = 0
    refusals: int = 0
    attempts: int = 0  # submits that failed with a Transient fault, in a row
    started_at: float = 0
    elapsed_seconds: int = 0
    progress: float | None = None
    reason: str | None = None
    # Only the chunk's first `sent_rows` rows were sent: a budget had room for no more (`held_back` says which).
    sent_rows: int | None = None
    held_back: str | None = None

    @property
    def settled(self) -> bool:
        return self.status != "running"


class BatchProgress(Model):
    """Where one batch stands in the poll loop; the Choice state routes on `status`, `polls` (the most checks an
    unsettled chunk has had) and `elapsed_seconds`, and the Wait state sleeps `wait_seconds` (until the first
    chunk's wait ends)."""

    status: Literal["running", "done"]
    wait_seconds: int = 0
    polls: int = 0
    started_at: float = 0
    elapsed_seconds: int = 0
    chunks: dict[str, ChunkProgress] = {}  # by chunk index; a chunk not there has not been started


class AccessCheck(Model):
    """Whether the vendor takes our credentials, from the cheapest call that proves it, in one line."""

    vendor: Vendor
    ok: bool
    message: str


class BatchTask(Model):
    """The vendor function's input: the Map item plus the loop's state."""

    action: Literal["advance", "abandon"]
    job_id: str
    step_index: int = 0  # which of the job's steps the batch belongs to: its options
    batch: BatchRef
    progress: BatchProgress | None = None
    error: dict[str, Any] | None = Field(default=None, description="the Catch's {Error, Cause}")


class FinalizeInput(Model):
    job_id: str
    failure: dict[str, Any] | None = None
    finalizer: str | None = Field(
        default=None, description="who asks (the execution, a cancel, the sweeper): a retry by the same one resumes"
    )
