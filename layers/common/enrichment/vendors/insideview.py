"""InsideView (Demandbase): contact details by contact id (asynchronous jobs, results as a CSV file).

Documented: the token from POST {login}/Auth/login/v1/token.json?clientId&clientSecret&grantType=cred
answering {accessTokenDetails {accessToken, tokenType, expirationTime}}, with expirationTime written like
"Tue, Jul 21, 2015 09:08:17 PM GMT"; the token sent back as header `accessToken`; POST /api/v1/contact/job
with `Content-Type: text/plain`, up to 10,000 ids separated by commas or newlines, `Accept: application/json`
(the default answer is XML); job status accepted | processing | finished | failed | aborted; errors with
{errorType, status, errorNumber, message, diagnosticCode}: 400 (input validation failed, insufficient
transaction quota, too many jobs: "2 jobs are already running. Please try again once the previous jobs are
finished."), 401 (no valid accessToken), 404 (unknown job), 405 (not allowed to access this API), 415 (no
Content-Type), 429 (throttled, per token over 5-minute windows).
Inferred (flagged): GET /api/v1/contact/job/{id}/results giving {creditsConsumed, resultsUrl} (from the
sibling job types), the CSV's columns, that a 4xx on the signed results link means it expired (a fresh
one is asked for), that a login refused with a 4xx means the client credentials are wrong, and that any
status word not documented means the job is still running. Contact ids are digits, as in the documented
example `13496440,8802619,225`.
"""

from __future__ import annotations

import csv
import datetime as dt
import email.utils
import io
import logging
import re
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from enrichment.errors import (
    AccountBlocked,
    BadChunk,
    BadCredentials,
    OutOfCredits,
    Refused,
    Throttled,
    Transient,
)
from enrichment.files.output import EMAIL_COLUMNS
from enrichment.models import Chunk, Company, Model, Person, RecordResult, RowStatus, Vendor
from enrichment.pipeline import row_rules
from enrichment.vendors import vocabulary
from enrichment.vendors.base import ChunkOutcome, VendorAdapter, VendorOptions, raise_for_status, retry_after_seconds

if TYPE_CHECKING:
    import httpx

logger = logging.getLogger(__name__)

DEFAULT_LOGIN_URL = "https://login.insideview.com"
TOKEN_MARGIN_SECONDS = 60
# A token whose expirationTime cannot be read is renewed this soon (a 401 renews it earlier anyway).
UNREADABLE_EXPIRY_SECONDS = 5 * 60

# The documented 400s, by their words. "2 jobs are already running..." is the documented answer to a third job;
# "Too many job submitted to the processing queue" is how the submit page words the same cause.
JOBS_RUNNING = re.compile(r"already running|too many jobs?\b", re.IGNORECASE)
QUOTA_SHORT = re.compile(r"(insufficient|not enough)\b.*\bquota", re.IGNORECASE)
INPUT_REJECTED = re.compile(r"validation of input data failed", re.IGNORECASE)
FAILED_STATUSES = ("failed", "aborted")
# The columns a results file must have for its rows to mean anything (inferred from the contact object).
REQUIRED_COLUMNS = ("contactId", "email", "phone")
# The documented token time: "Tue, Jul 21, 2015 09:08:17 PM GMT" (RFC 1123-like, with a 12-hour clock).
DOCUMENTED_TIME = re.compile(
    r"(?:[a-z]{3},\s*)?(?P<month>[a-z]{3})\s+(?P<day>\d{1,2}),?\s+(?P<year>\d{4})\s+"
    r"(?P<hour>\d{1,2}):(?P<minute>\d{2}):(?P<second>\d{2})\s*(?P<half>am|pm)\s*(?:gmt|utc|z)?",
    re.IGNORECASE,
)
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")

_tokens: dict[tuple[str, str], tuple[str, float]] = {}  # (login url, client id) -> (token, expires at)
_tokens_lock = threading.Lock()


class InsideViewOptions(VendorOptions):
    pass


class _TokenDetails(Model):
    accessToken: str
    tokenType: str | None = None
    expirationTime: str | float | None = None


class _TokenAnswer(Model):
    accessTokenDetails: _TokenDetails


class _JobAnswer(Model):
    jobId: str
    status: str
    totalProcessed: int | None = None


class _ResultsAnswer(Model):
    jobId: str | None = None
    jobStatus: str | None = None
    creditsConsumed: float | None = None
    resultsUrl: str


class _LinkRefused(Exception):
    """The signed results link was refused (expired or wrong): a fresh link is asked for."""


def _parse_time(value: str | float) -> float | None:
    """The documented form first, then epoch seconds or milliseconds, RFC 1123 and ISO 8601; UTC unless said."""
    text = str(value).strip()
    try:
        number = float(text)
        return number / 1000 if number > 1e11 else number
    except ValueError:
        pass
    if match := DOCUMENTED_TIME.fullmatch(text):
        month = match["month"].lower()
        if month in MONTHS:
            hour = int(match["hour"]) % 12 + (12 if match["half"].lower() == "pm" else 0)
            date = dt.date(int(match["year"]), MONTHS.index(month) + 1, int(match["day"]))
            clock = dt.time(hour, int(match["minute"]), int(match["second"]), tzinfo=dt.UTC)
            return dt.datetime.combine(date, clock).timestamp()
    for parse in (email.utils.parsedate_to_datetime, lambda t: dt.datetime.fromisoformat(t.replace("Z", "+00:00"))):
        try:
            when = parse(text)
        except (TypeError, ValueError, IndexError):
            continue
        return (when if when.tzinfo else when.replace(tzinfo=dt.UTC)).timestamp()
    return None


def _expires_at(value: str | float | None) -> float:
    """When the token stops working; a value we cannot read gives it a short life (logged, never the token)."""
    now = time.time()
    expires = None if value is None else _parse_time(value)
    if expires is None:
        logger.warning(
            "insideview: token expirationTime %r not understood; renewing the token after %d s",
            str(value)[:40],
            UNREADABLE_EXPIRY_SECONDS,
        )
        return now + UNREADABLE_EXPIRY_SECONDS
    return expires


class InsideViewAdapter(VendorAdapter):
    vendor = Vendor.INSIDEVIEW
    input_fields = ("contact_id",)
    result_columns = (
        *EMAIL_COLUMNS,
        "result_phone",
        "result_phone_type",
        "result_first_name",
        "result_last_name",
        "result_full_name",
        "result_linkedin_url",
        "result_company_name",
        "result_credits",
    )
    credits_unit = "InsideView credits"
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
            f"{login}/Auth/login/v1/token.json",
            self._classify_login,
            params={
                "clientId": self.credentials["client_id"],
                "clientSecret": self.credentials["client_secret"],
                "grantType": "cred",
            },
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

    # ---- errors ----

    @staticmethod
    def _message(response: httpx.Response, body: Any) -> str:
        body = body if isinstance(body, dict) else {}
        return str(body.get("message") or body.get("errorType") or response.reason_phrase or "error")[:300]

    @classmethod
    def _classify(cls, response: httpx.Response, body: Any) -> None:
        code = response.status_code
        if code < 400:
            return
        message = cls._message(response, body)
        retry_after = retry_after_seconds(response)
        where = f"insideview: HTTP {code}"
        if code == 400 and JOBS_RUNNING.search(message):
            # Not a refusal of the chunk: InsideView runs a few jobs at once; ours waits for a turn.
            raise Throttled(f"{where}, waiting for a running job to finish: {message}", retry_after)
        if code == 400 and QUOTA_SHORT.search(message):
            raise OutOfCredits(f"{where}, out of transaction quota: {message}")
        if code == 400 and INPUT_REJECTED.search(message):
            raise BadChunk(f"{where}, the contact ids were rejected: {message}")
        if code == 405:
            raise AccountBlocked(f"{where}, this account is not allowed to use the API: {message}")
        if code == 429:
            raise Throttled(
                f"{where}, throttled (requests are counted per token over 5 minutes): {message}", retry_after
            )
        raise_for_status(Vendor.INSIDEVIEW, code, message, retry_after)  # 401 BadCredentials, other 4xx Refused

    @classmethod
    def _classify_login(cls, response: httpx.Response, body: Any) -> None:
        """Inferred: the token endpoint refusing us (any 4xx but 429, and 405: the account may not use the API)
        means the client credentials are wrong."""
        code = response.status_code
        if 400 <= code < 500 and code not in (405, 429):
            message = cls._message(response, body)
            raise BadCredentials(f"insideview: HTTP {code}, the login refused the client credentials: {message}")
        cls._classify(response, body)

    @classmethod
    def _classify_link(cls, response: httpx.Response, body: Any) -> None:
        """The results link is signed and carries no token of ours: a 4xx there says the link expired or is
        wrong (inferred), never that our credentials are."""
        code = response.status_code
        if code < 400:
            return
        if code == 429:
            message = cls._message(response, body)
            raise Throttled(f"insideview: HTTP 429 on the results file: {message}", retry_after_seconds(response))
        if code < 500:
            raise _LinkRefused(f"insideview: HTTP {code} on the results link (expired or wrong)")
        raise Transient(f"insideview: HTTP {code} on the results file")

    # ---- jobs ----

    def check_access(self) -> str:
        """A new token (free), then the status of a job that does not exist (free): 404 (unknown job, documented)
        proves the API takes the token; 401 twice means it does not, 405 that the account may not use the API."""
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
        status = job.status.strip().lower()
        if status in FAILED_STATUSES:
            return ChunkOutcome(status="failed", vendor_ref=vendor_ref, reason=f"the InsideView job was {status}")
        if status != "finished":
            # accepted, processing, or a word InsideView does not document: still running (polls and deadline bound it)
            done = (job.totalProcessed or 0) / max(1, len(chunk.records)) * 100
            return ChunkOutcome(status="running", vendor_ref=vendor_ref, progress=round(min(done, 100), 1))
        return self._collect(vendor_ref, chunk)

    def _collect(self, vendor_ref: str, chunk: Chunk) -> ChunkOutcome:
        """Ask for the results link and download the file; a refused link is asked for again, once."""
        for attempt in (1, 2):
            answer = self.parse(
                _ResultsAnswer,
                self._call("GET", f"/api/v1/contact/job/{vendor_ref}/results", headers={"Accept": "application/json"}),
            )
            try:
                # The link is signed: fetched as it is, without our token.
                text = self.request("GET", answer.resultsUrl, self._classify_link, text=True)
                break
            except _LinkRefused as refused:
                if attempt == 2:
                    raise Transient(f"{refused}, a fresh link was refused too: checked again later") from None
        credits = answer.creditsConsumed or 0
        reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
        columns = [name.strip() for name in reader.fieldnames or []]
        missing = [name for name in REQUIRED_COLUMNS if name not in columns]
        if missing:
            # Never read as "no details": a file we cannot read fails the chunk, saying what it holds.
            return ChunkOutcome(
                status="failed",
                vendor_ref=vendor_ref,
                credits=credits,
                reason=(
                    f"InsideView's results file lacks the column(s) {', '.join(missing)} "
                    f"(columns found: {', '.join(columns)[:300] or 'none'}); InsideView counted {credits:g} credits"
                ),
            )
        reader.fieldnames = columns
        rows = ({k: v for k, v in row.items() if k} for row in reader)  # cells past the header have no name
        found = {(row.get("contactId") or "").strip(): row for row in rows}
        results = {r.ref: self._normalize(found.get(self.dedupe_key(r.fields))) for r in chunk.records}
        return ChunkOutcome(status="done", vendor_ref=vendor_ref, results=results, credits=credits)

    @staticmethod
    def _normalize(row: dict[str, str] | None) -> RecordResult:
        if row is None:
            return RecordResult(status=RowStatus.NOT_MATCHED, reason="InsideView returned no details for this id")
        value = {k: (v or "").strip() or None for k, v in row.items()}
        emails = (
            [vocabulary.email(Vendor.INSIDEVIEW, value["email"], type="work", word=value.get("emailValidationStatus"))]
            if value.get("email")
            else []
        )
        phones = [vocabulary.phone(Vendor.INSIDEVIEW, value["phone"], type="work")] if value.get("phone") else []
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
            raw=row,
        )
