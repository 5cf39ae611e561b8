"""Check365: validate email addresses (asynchronous bulk validation).

Documented: POST /api/validation/bulk-upload {emails, api_key, job_id} with a job_id the client
chooses; GET /api/validation/bulk-status?api_key=...&job_id=... answering {success, message, data
{jobId, status, creditsUsed, progress, total, results [...]}}; status "completed".
Inferred (Check365 documents no more): the statuses "pending"/"processing"/"failed", the batch size,
rate limits and error codes (429 and 5xx retried, 401/403 fatal, 402 or a credits message is out of
credits, `success: false` is an error even on HTTP 200).

The API key travels in the body and the query string: it is never put in a message, and httpx's
request log is kept quiet (see base.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from pydantic import BaseModel

from enrichment.errors import Refused
from enrichment.models import Chunk, Email, EmailVerification, RecordResult, RowStatus, Vendor
from enrichment.pipeline import row_rules
from enrichment.vendors.base import ChunkOutcome, VendorAdapter, VendorOptions, raise_for_status, retry_after_seconds

RUNNING = {"pending", "queued", "processing", "in_progress", "running"}


class Check365Options(VendorOptions):
    pass


class _Verdict(BaseModel):
    email: str
    emailProvider: str | None = None
    emailType: str | None = None
    status: str | None = None
    safeToSend: bool | None = None
    risk: str | None = None
    isRole: bool | None = None
    statusReason: str | None = None


class _StatusData(BaseModel):
    jobId: str | None = None
    status: str
    creditsUsed: float | None = None
    progress: float | None = None
    total: int | None = None
    results: list[_Verdict] | None = None


class _StatusAnswer(BaseModel):
    success: bool
    message: str | None = None
    data: _StatusData


def normalize_email(value: str) -> str:
    return value.strip().lower()


class Check365Adapter(VendorAdapter):
    vendor = Vendor.CHECK365
    input_fields = ("email",)
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

    @staticmethod
    def _classify(response: httpx.Response, body: Any) -> None:
        body = body if isinstance(body, dict) else {}
        message = str(body.get("message") or response.reason_phrase or "error")[:300]
        code = response.status_code
        if code < 400 and body.get("success") is False:
            lowered = message.lower()
            if "credit" in lowered:
                code = 402
            elif "api key" in lowered or "api_key" in lowered or "unauthor" in lowered:
                code = 401
            elif "not found" in lowered:
                code = 404
            else:
                code = 400
        elif code == 400 and "credit" in message.lower():
            code = 402
        raise_for_status(Vendor.CHECK365, code, message, retry_after_seconds(response))

    def submit(self, chunk: Chunk, options: BaseModel) -> ChunkOutcome:
        job_id = self.vendor_job_id(chunk)
        emails = [normalize_email(r.fields["email"]) for r in chunk.records]
        body = self.request(
            "POST",
            "/api/validation/bulk-upload",
            self._classify,
            json={"emails": emails, "api_key": self.credentials["api_key"], "job_id": job_id},
            paid=True,
        )
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
        data = self.parse(_StatusAnswer, body).data
        status = data.status.lower()
        if status in RUNNING:
            return ChunkOutcome(status="running", vendor_ref=vendor_ref, progress=data.progress)
        if status != "completed":
            return ChunkOutcome(
                status="failed", vendor_ref=vendor_ref, reason=f"the Check365 job ended {data.status!r}"
            )
        verdicts = {normalize_email(v.email): v for v in data.results or []}
        results = {}
        for record in chunk.records:
            verdict = verdicts.get(normalize_email(record.fields["email"]))
            results[record.ref] = self._normalize(verdict)
        return ChunkOutcome(status="done", vendor_ref=vendor_ref, results=results, credits=data.creditsUsed or 0)

    @staticmethod
    def _normalize(verdict: _Verdict | None) -> RecordResult:
        if verdict is None:
            return RecordResult(status=RowStatus.NOT_MATCHED, reason="Check365 returned no verdict for this address")
        return RecordResult(
            status=RowStatus.MATCHED,
            emails=[Email(value=verdict.email, type=verdict.emailType, status=verdict.status)],
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
