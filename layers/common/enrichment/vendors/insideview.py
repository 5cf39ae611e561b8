"""InsideView (Demandbase): contact details by contact id (asynchronous jobs, results as a CSV file).

Documented: the token from POST {login}/Auth/login/v1/token.json?clientId&clientSecret&grantType=cred,
sent back as header `accessToken`; POST /api/v1/contact/job with `Content-Type: text/plain`, up to
10,000 ids separated by newlines, `Accept: application/json` (the default answer is XML); job status
accepted | processing | finished | failed | aborted; errors 400 (bad input, quota, too many jobs
queued), 401, 404, 405, 415, 429 with {errorType, status, errorNumber, message, diagnosticCode}.
Inferred (from the sibling job types; flagged): GET /api/v1/contact/job/{id}/results giving
{creditsConsumed, resultsUrl}, the CSV's columns, the token's `expirationTime` format, that at most
two jobs run at once. Contact ids are digits, as in the documented example `13496440,8802619,225`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import BaseModel

from enrichment.errors import BadCredentials, Refused, Throttled
from enrichment.models import Chunk, Company, Email, EmailVerification, Person, Phone, RecordResult, RowStatus, Vendor
from enrichment.pipeline import row_rules
from enrichment.vendors.base import ChunkOutcome, VendorAdapter, VendorOptions, raise_for_status, retry_after_seconds

DEFAULT_LOGIN_URL = "https://login.insideview.com"
TOKEN_MARGIN_SECONDS = 60

_tokens: dict[tuple[str, str], tuple[str, float]] = {}  # (login url, client id) -> (token, expires at)
_tokens_lock = threading.Lock()


class InsideViewOptions(VendorOptions):
    pass


class _TokenDetails(BaseModel):
    accessToken: str
    tokenType: str | None = None
    expirationTime: str | float | None = None


class _TokenAnswer(BaseModel):
    accessTokenDetails: _TokenDetails


class _JobAnswer(BaseModel):
    jobId: str
    status: str
    totalProcessed: int | None = None


class _ResultsAnswer(BaseModel):
    jobId: str | None = None
    jobStatus: str | None = None
    creditsConsumed: float | None = None
    resultsUrl: str


def _expires_at(value: str | float | None) -> float:
    """`expirationTime` is not specified: epoch seconds, epoch milliseconds or ISO 8601 are accepted."""
    now = time.time()
    if value is None:
        return now + 15 * 60
    try:
        number = float(value)
        return number / 1000 if number > 1e11 else number
    except (TypeError, ValueError):
        pass
    try:
        return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return now + 15 * 60


class InsideViewAdapter(VendorAdapter):
    vendor = Vendor.INSIDEVIEW
    input_fields = ("contact_id",)
    options_model = InsideViewOptions

    @classmethod
    def validate(cls, fields: Mapping[str, str]) -> str | None:
        value = fields.get("contact_id", "").strip()
        if not value:
            return "contact_id is missing (InsideView looks contacts up by their id)"
        return row_rules.insideview_id_reason(value)

    @classmethod
    def dedupe_key(cls, fields: Mapping[str, str]) -> str:
        return fields["contact_id"].strip()

    # ---- token ----

    def _token(self, *, renew: bool = False) -> str:
        login = self.extra_urls.get("login", DEFAULT_LOGIN_URL).rstrip("/")
        key = (login, self.credentials["client_id"])
        with _tokens_lock:
            cached = _tokens.get(key)
            if cached and not renew and cached[1] - TOKEN_MARGIN_SECONDS > time.time():
                return cached[0]
        body = self.request(
            "POST",
            f"{login}/Auth/login/v1/token.json?clientId={quote(self.credentials['client_id'])}"
            f"&clientSecret={quote(self.credentials['client_secret'])}&grantType=cred",
            self._classify,
            headers={"Accept": "application/json"},
        )
        details = self.parse(_TokenAnswer, body).accessTokenDetails
        with _tokens_lock:
            _tokens[key] = (details.accessToken, _expires_at(details.expirationTime))
        return details.accessToken

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        """A call with the cached token; a 401 renews the token once (it may have expired early)."""
        headers = dict(kwargs.pop("headers", {}))
        for renew in (False, True):
            headers["accessToken"] = self._token(renew=renew)
            try:
                return self.request(method, path, self._classify, headers=headers, **kwargs)
            except BadCredentials:
                if renew:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _classify(response: httpx.Response, body: Any) -> None:
        code = response.status_code
        if code < 400:
            return
        body = body if isinstance(body, dict) else {}
        message = str(body.get("message") or body.get("errorType") or response.reason_phrase)[:300]
        lowered = message.lower()
        if code == 400 and "too many job" in lowered:
            # Documented as a 400; it only means "wait for a running job to finish".
            raise Throttled(f"insideview: {message}", retry_after_seconds(response))
        if code == 400 and ("quota" in lowered or "credit" in lowered):
            code = 402
        elif code == 405:
            code = 403  # "not allowed to access this API": the account, not the chunk
        raise_for_status(Vendor.INSIDEVIEW, code, message, retry_after_seconds(response))

    # ---- jobs ----

    def check_access(self) -> str:
        """A new token (free), then the status of a job that does not exist: 404 "unknown job" (documented)
        proves the API host takes the token."""
        self._token(renew=True)
        try:
            self._call("GET", "/api/v1/contact/job/access-check", headers={"Accept": "application/json"})
        except Refused as refused:
            if "HTTP 404" not in str(refused):
                raise
        return "insideview: the credentials work (a token was issued and the API accepts it)"

    def submit(self, chunk: Chunk, options: BaseModel) -> ChunkOutcome:
        ids = "\n".join(self.dedupe_key(r.fields) for r in chunk.records)
        body = self._call(
            "POST",
            "/api/v1/contact/job",
            content=ids.encode(),
            headers={"Content-Type": "text/plain", "Accept": "application/json"},
            paid=True,  # quota is debited when the job starts processing
        )
        job = self.parse(_JobAnswer, body, paid=True)
        return ChunkOutcome(status="running", vendor_ref=job.jobId)

    def check(self, vendor_ref: str, chunk: Chunk, options: BaseModel) -> ChunkOutcome:
        job = self.parse(
            _JobAnswer, self._call("GET", f"/api/v1/contact/job/{vendor_ref}", headers={"Accept": "application/json"})
        )
        status = job.status.lower()
        if status in ("accepted", "processing"):
            done = (job.totalProcessed or 0) / max(1, len(chunk.records)) * 100
            return ChunkOutcome(status="running", vendor_ref=vendor_ref, progress=round(min(done, 100), 1))
        if status in ("failed", "aborted"):
            return ChunkOutcome(status="failed", vendor_ref=vendor_ref, reason=f"the InsideView job was {status}")
        if status != "finished":
            return ChunkOutcome(status="failed", vendor_ref=vendor_ref, reason=f"unknown InsideView status {status!r}")
        answer = self.parse(
            _ResultsAnswer,
            self._call("GET", f"/api/v1/contact/job/{vendor_ref}/results", headers={"Accept": "application/json"}),
        )
        # The results file is a signed link: fetched as it is, without our token.
        text = self.request("GET", answer.resultsUrl, self._classify, text=True)
        found = {row.get("contactId", "").strip(): row for row in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
        results = {r.ref: self._normalize(found.get(self.dedupe_key(r.fields))) for r in chunk.records}
        return ChunkOutcome(status="done", vendor_ref=vendor_ref, results=results, credits=answer.creditsConsumed or 0)

    @staticmethod
    def _normalize(row: dict[str, str] | None) -> RecordResult:
        if row is None:
            return RecordResult(status=RowStatus.NOT_MATCHED, reason="InsideView returned no details for this id")
        value = {k: (v or "").strip() or None for k, v in row.items()}
        emails = (
            [Email(value=value["email"], type="work", status=value.get("emailValidationStatus"))]
            if value.get("email")
            else []
        )
        phones = [Phone(value=value["phone"], type="work")] if value.get("phone") else []
        handle = value.get("linkedinHandle")
        linkedin = handle if not handle or handle.startswith("http") else f"https://www.linkedin.com/in/{handle}"
        if not emails and not phones:
            return RecordResult(status=RowStatus.NOT_MATCHED, reason="no email or phone for this contact", raw=row)
        return RecordResult(
            status=RowStatus.MATCHED,
            emails=emails,
            phones=phones,
            person=Person(
                first_name=value.get("firstName"),
                last_name=value.get("lastName"),
                full_name=value.get("fullName"),
                linkedin_url=linkedin,
            ),
            company=Company(name=value.get("companyName")),
            verification=EmailVerification(status=value.get("emailValidationStatus")) if emails else None,
            raw=row,
        )
