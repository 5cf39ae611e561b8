"""Check365: validate email addresses (asynchronous bulk validation).

Documented: POST /api/validation/bulk-upload {emails, api_key, job_id} with a job_id the client
chooses, answering {success, message, job_id}; GET /api/validation/bulk-status?api_key=...&job_id=...
answering {success, message, data {jobId, status, creditsUsed, progress, total, results [{email,
emailProvider, emailType, status, safeToSend, risk, isRole, statusReason}]}}; the job status "completed".
Inferred (Check365 documents no more; flagged):
- any other status word means the job is still running (bounded by the poll limit and the deadline),
  except words of failure (failed, error, cancelled, aborted, expired, rejected);
- `success` may come as a boolean or a string: "false", "0" and false are a refusal, even on HTTP 200;
- errors by their words at any status code: a suspended or disabled account stops the job, a rejected
  key too, a message about credits means out of credits; 429 and 5xx are retried, "not found" and other
  refusals are tried again and then fail the chunk;
- a re-upload of a job_id Check365 already has (an error such as "job_id already exists") means it holds
  the chunk: its status is followed by that job_id, and nothing is paid twice;
- the batch size and rate limits.

The API key travels in the body and the query string: it is never put in a message (a vendor message
that echoes it is redacted), and httpx's request log is kept quiet (see base.py).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from enrichment.errors import Refused, Transient
from enrichment.files.output import EMAIL_COLUMNS, VERIFICATION_COLUMNS
from enrichment.models import Chunk, EmailVerification, Model, RecordResult, RowStatus, Vendor
from enrichment.pipeline import row_rules
from enrichment.vendors import vocabulary
from enrichment.vendors.base import (
    ChunkOutcome,
    VendorAdapter,
    VendorOptions,
    raise_for_status,
    refusal_in_words,
    retry_after_seconds,
)

if TYPE_CHECKING:
    import httpx

DONE_STATUS = "completed"  # the one documented status
FAILED_STATUS = re.compile(r"fail|error|cancel|abort|expire|reject", re.IGNORECASE)
# Words in an error message, whatever its status code (inferred: Check365 documents no error codes).
ALREADY_HELD = re.compile(r"already (exist|been (used|uploaded|submitted)|in use|uploaded|submitted)", re.IGNORECASE)
TRUE_WORDS, FALSE_WORDS = ("true", "1", "yes"), ("false", "0", "no")


class Check365Options(VendorOptions):
    pass


class _Verdict(Model):
    email: str
    emailProvider: str | None = None
    emailType: str | None = None
    status: str | None = None
    safeToSend: bool | None = None
    risk: str | None = None
    isRole: bool | None = None
    statusReason: str | None = None


class _StatusData(Model):
    jobId: str | None = None
    status: str
    creditsUsed: float | None = None
    progress: float | None = None
    total: int | None = None
    results: list[_Verdict] | None = None


class _StatusAnswer(Model):
    success: bool | str | int | None = None  # read by `flag` (the upload page leaves its type open)
    message: str | None = None
    data: _StatusData


def flag(value: Any) -> bool | None:
    """`success` read strictly: true/"true"/"1" and false/"false"/"0"; None when absent or anything else."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        word = value.strip().lower()
        return True if word in TRUE_WORDS else False if word in FALSE_WORDS else None
    return None


def normalize_email(value: str) -> str:
    return value.strip().lower()


class Check365Adapter(VendorAdapter):
    vendor = Vendor.CHECK365
    input_fields = ("email",)
    # The verdict reads as result_email_status (valid, invalid, risky, unknown); Check365's word beside it.
    result_columns = (*EMAIL_COLUMNS, *VERIFICATION_COLUMNS, "result_credits")
    credits_unit = "Check365 credits"
    options_model = Check365Options
    can_find_submission = True  # the job_id is ours: a lost upload is looked up by it

    @classmethod
    def validate(cls, fields: Mapping[str, str]) -> str | None:
        value = fields.get("email", "").strip()
        if not value:
            return "email is missing"
        try:
            row_rules.email_address(value)
        except row_rules.InvalidValue as invalid:
            return str(invalid)
        return None

    @classmethod
    def dedupe_key(cls, fields: Mapping[str, str]) -> str:
        return row_rules.email_key(fields["email"])

    @staticmethod
    def vendor_job_id(chunk: Chunk) -> str:
        """Ours to choose, and the same for every upload of this chunk: a retried upload is one vendor job."""
        return f"{chunk.job_id}-c{chunk.chunk_index:06d}"

    def _redact(self, text: str) -> str:
        key = self.credentials.get("api_key", "")
        return text.replace(key, "[redacted]") if key else text

    def _classify(self, response: httpx.Response, body: Any) -> None:
        body = body if isinstance(body, dict) else {}
        code = response.status_code
        success = flag(body.get("success"))
        if code < 400 and success is not False:
            if "success" in body and success is None:
                raise Transient(
                    f"check365: HTTP {code} with success={str(body['success'])[:20]!r}, neither true nor false"
                )
            return
        message = self._redact(str(body.get("message") or response.reason_phrase or "error"))[:300]
        where = f"check365: HTTP {code}" + (", success false" if code < 400 else "")
        if final := refusal_in_words(where, message):  # inferred: Check365 documents no error codes
            raise final
        if code < 400:  # refused on a 200: "not found" and anything else are refusals, tried again
            raise Refused(f"{where}, request refused: {message}")
        raise_for_status(Vendor.CHECK365, code, message, retry_after_seconds(response))

    def submit(self, chunk: Chunk, options: BaseModel) -> ChunkOutcome:
        job_id = self.vendor_job_id(chunk)
        emails = [normalize_email(r.fields["email"]) for r in chunk.records]
        try:
            body = self.request(
                "POST",
                "/api/validation/bulk-upload",
                self._classify,
                json={"emails": emails, "api_key": self.credentials["api_key"], "job_id": job_id},
                paid=True,
            )
        except Refused as refused:
            if not ALREADY_HELD.search(str(refused)):
                raise
            # Inferred: Check365 has this job_id (an earlier upload of ours arrived): follow it, never upload again.
            return self.check(job_id, chunk, options)
        return ChunkOutcome(status="running", vendor_ref=str(body.get("job_id") or job_id))

    def find_submission(self, chunk: Chunk, options: BaseModel) -> ChunkOutcome | None:
        """The upload's job_id is ours: ask for its status. "Not found" means the upload never arrived."""
        try:
            return self.check(self.vendor_job_id(chunk), chunk, options)
        except Refused as rejected:
            if "not found" in str(rejected).lower():
                return None
            raise

    def check_access(self) -> str:
        """Ask the status of a job that does not exist (free). Inferred: Check365 documents no such probe; a key
        it rejects raises BadCredentials, an answer about the job means the key got through."""
        try:
            self.request(
                "GET",
                "/api/validation/bulk-status",
                self._classify,
                params={"api_key": self.credentials["api_key"], "job_id": "access-check-no-such-job"},
            )
        except Refused as refused:
            return f"check365: the API key works (the probe for no job was answered: {refused})"
        return "check365: the API key works"

    def check(self, vendor_ref: str, chunk: Chunk, options: BaseModel) -> ChunkOutcome:
        body = self.request(
            "GET",
            "/api/validation/bulk-status",
            self._classify,
            params={"api_key": self.credentials["api_key"], "job_id": vendor_ref},
        )
        answer = self.parse(_StatusAnswer, body)
        data = answer.data
        status = data.status.strip().lower()
        if status == DONE_STATUS:
            return self._completed(vendor_ref, chunk, data)
        if FAILED_STATUS.search(status):
            said = f": {self._redact(answer.message)[:200]}" if answer.message else ""
            return ChunkOutcome(
                status="failed", vendor_ref=vendor_ref, reason=f"the Check365 job ended {data.status!r}{said}"
            )
        # Not documented (uploaded, validating, in-progress, ...): still running, bounded by polls and the deadline.
        return ChunkOutcome(status="running", vendor_ref=vendor_ref, progress=data.progress)

    def _completed(self, vendor_ref: str, chunk: Chunk, data: _StatusData) -> ChunkOutcome:
        if not data.results:
            # Never read as "no verdicts": checked again (bounded by polls and the deadline) until they come.
            raise Transient(
                f"check365: job {vendor_ref} is completed but its answer carries no results "
                f"({len(chunk.records)} addresses sent)"
            )
        verdicts = {normalize_email(v.email): v for v in data.results}
        results = {
            record.ref: self._normalize(verdicts.get(normalize_email(record.fields["email"])))
            for record in chunk.records
        }
        return ChunkOutcome(status="done", vendor_ref=vendor_ref, results=results, credits=data.creditsUsed or 0)

    @staticmethod
    def _normalize(verdict: _Verdict | None) -> RecordResult:
        if verdict is None:
            return RecordResult(
                status=RowStatus.ERROR, reason="Check365 completed the job without a verdict for this address"
            )
        return RecordResult(
            status=RowStatus.MATCHED,
            emails=[vocabulary.email(Vendor.CHECK365, verdict.email, type=verdict.emailType, word=verdict.status)],
            verification=EmailVerification(
                status=verdict.status,
                safe_to_send=verdict.safeToSend,
                risk=verdict.risk,
                is_role=verdict.isRole,
                reason=verdict.statusReason,
                provider=verdict.emailProvider,
            ),
            raw=verdict.model_dump(mode="json"),
        )
