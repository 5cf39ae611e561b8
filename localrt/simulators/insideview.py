"""InsideView simulator: the login token, contact-details jobs and their CSV results file.

Follows the documented parts (token endpoint and `accessToken` header, the token's `expirationTime`
written as the docs do, "Tue, Jul 21, 2015 09:08:17 PM GMT"; text/plain ids up to 10,000, JSON only when
asked with Accept, XML otherwise, 415 without Content-Type, job statuses, the error body and the
documented messages: "2 jobs are already running. Please try again once the previous jobs are finished."
for a job over `max_running_jobs`, "Insufficient transaction quota available.", "Validation of input data
failed", 401 "Cannot use API's without setting a valid accessToken in header.", 405 "Your are not allowed
to access this API.", 429 "Request is throttled.") and the inferred ones (the results endpoint with a
signed `resultsUrl`, the CSV's columns). Tokens expire after `token_ttl_seconds`; quota is debited when a
job's results are produced.

Its own faults (`inject`), besides the shared ones:
- `unknown_status`: a job's status answer says "queued", a word InsideView does not document;
- `expired_link`: the results link is refused (403, "Request has expired") and a new one is signed, so only
  asking `.../results` again gets a link that works;
- `missing_column`: the results file comes without its `contactId` column (named `id`).
The shared `account_blocked` is answered with the documented 405.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

from localrt.simulators.base import ANSWER_FAULTS, FAULT_KINDS, Fault, Request, Response, Simulator, stable_fraction

COLUMNS = [
    "contactId",
    "firstName",
    "lastName",
    "fullName",
    "email",
    "phone",
    "companyId",
    "companyName",
    "linkedinHandle",
    "confidenceScore",
    "emailValidationStatus",
]
CHECK_PATHS = "/api/v1/contact/job/**"  # a fault path that matches every job's status and results paths
FIRST = ["Maya", "Omar", "Lena", "Ravi", "Sofia", "Jonas", "Amara", "Theo"]
LAST = ["Okafor", "Lindqvist", "Moreau", "Tanaka", "Silva", "Novak", "Haddad", "Byrne"]
COMPANIES = ["Acme Corp", "Vandelay Industries", "Stark Logistics", "Wayne Analytics"]
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
UNDOCUMENTED_STATUS = "queued"
JOBS_RUNNING = "{n} jobs are already running. Please try again once the previous jobs are finished."
NOT_ALLOWED = "Your are not allowed to access this API."  # sic, as documented


def documented_time(epoch: float) -> str:
    """A time as InsideView's token answer writes it: "Tue, Jul 21, 2015 09:08:17 PM GMT"."""
    when = dt.datetime.fromtimestamp(epoch, dt.UTC)
    clock = f"{when.hour % 12 or 12:02d}:{when.minute:02d}:{when.second:02d} {'PM' if when.hour >= 12 else 'AM'}"
    return f"{WEEKDAYS[when.weekday()]}, {MONTHS[when.month - 1]} {when.day:02d}, {when.year} {clock} GMT"


def error(status: int, error_type: str, message: str, number: int = 0) -> Response:
    return Response(
        status,
        {
            "errorType": error_type,
            "status": status,
            "errorNumber": number,
            "message": message,
            "diagnosticCode": uuid.uuid4().hex[:12],
        },
    )


@dataclass
class ContactJob:
    job_id: str
    ids: list[str]
    submitted_at: float
    fail: bool = False
    never_complete: bool = False
    credits: float | None = None
    submitted_by: str | None = None  # the job that submitted it: its ledger is charged
    signature: str = ""


class InsideViewSimulator(Simulator):
    name = "insideview"
    submit_path = "/api/v1/contact/job"
    fault_kinds = (*FAULT_KINDS, "unknown_status", "expired_link", "missing_column")

    def __init__(
        self,
        *,
        client_id: str = "sim-client",
        client_secret: str = "sim-secret",
        processing_seconds: float = 1.5,
        max_running_jobs: int = 2,
        token_ttl_seconds: float = 3600,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.client_id = client_id
        self.client_secret = client_secret
        self.processing_seconds = processing_seconds
        self.max_running_jobs = max_running_jobs
        self.token_ttl_seconds = token_ttl_seconds
        self.tokens: dict[str, float] = {}
        self.logins = 0
        self.jobs: dict[str, ContactJob] = {}
        self.charged_total = 0.0

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "429":
            return error(429, "THROTTLED", "Request is throttled.")
        if fault.kind == "500":
            return error(503, "SERVICE_UNAVAILABLE", "Service temporarily unavailable.")
        if fault.kind == "account_blocked":
            return error(405, "METHOD_NOT_ALLOWED", NOT_ALLOWED)
        return super().fault_response(fault)

    def take_fault(self, path: str, kinds: tuple[str, ...] = ANSWER_FAULTS) -> Fault | None:
        # Faults aimed at "/api/v1/contact/job/*" match every job's status path; faults aimed at
        # "/api/v1/contact/job/**" match every path under it (status and results: every check).
        if re.fullmatch(r"/api/v1/contact/job/[^/]+", path):
            return (
                super().take_fault(path, kinds)
                or super().take_fault("/api/v1/contact/job/*", kinds)
                or super().take_fault(CHECK_PATHS, kinds)
            )
        if path.startswith("/api/v1/contact/job/"):
            return super().take_fault(path, kinds) or super().take_fault(CHECK_PATHS, kinds)
        return super().take_fault(path, kinds)

    def carries_results(self, request: Request, response: Response) -> bool:
        return request.path.startswith("/files/") and response.status == 200

    def reset(self) -> None:
        super().reset()
        with self.lock:  # a job left unfinished on purpose would hold a running slot for good
            for job in self.jobs.values():
                job.never_complete = False

    def expire_tokens(self) -> None:
        """Every token handed out so far stops working (as at expiry): the next call gets 401."""
        with self.lock:
            self.tokens = dict.fromkeys(self.tokens, 0.0)

    def credentials(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self.client_secret}

    # ---- routes ----

    def jobs_created(self) -> int:
        with self.lock:
            return len(self.jobs)

    def route(self, request: Request) -> Response:
        if request.path == "/Auth/login/v1/token.json" and request.method == "POST":
            return self._login(request)
        if request.path.startswith("/files/"):
            return self._file(request)
        if not request.path.startswith("/api/v1/contact/job"):
            return error(404, "NOT_FOUND", "Resource not found.")
        if not self._token_ok(request.headers.get("accesstoken")):
            return error(401, "UNAUTHORIZED", "Cannot use API's without setting a valid accessToken in header.")
        if request.path == "/api/v1/contact/job" and request.method == "POST":
            return self._submit(request)
        match = re.fullmatch(r"/api/v1/contact/job/([^/]+)(/results)?", request.path)
        if match and request.method == "GET":
            job = self.jobs.get(match.group(1))
            if job is None:
                return error(404, "NOT_FOUND", "Job not found.")
            return self._results(job) if match.group(2) else self._status(job, request)
        return error(405, "METHOD_NOT_ALLOWED", NOT_ALLOWED)

    def _login(self, request: Request) -> Response:
        query = {k: v[0] for k, v in request.query.items()}
        if (query.get("clientId"), query.get("clientSecret"), query.get("grantType")) != (
            self.client_id,
            self.client_secret,
            "cred",
        ):
            return error(401, "UNAUTHORIZED", "Invalid client credentials.")
        token = secrets.token_hex(16)
        expires = time.time() + self.token_ttl_seconds
        with self.lock:
            self.tokens[token] = expires
            self.logins += 1
        details = {"accessToken": token, "tokenType": "bearer", "expirationTime": documented_time(expires)}
        return Response(200, {"accessTokenDetails": details})

    def _token_ok(self, token: str | None) -> bool:
        with self.lock:
            return bool(token) and self.tokens.get(token, 0) > time.time()

    def _submit(self, request: Request) -> Response:
        content_type = request.headers.get("content-type", "").split(";")[0].strip()
        if content_type not in ("text/plain", "application/octet-stream"):
            return error(415, "UNSUPPORTED_MEDIA_TYPE", "The Content-Type mandatory header is not provided.")
        ids = [i.strip() for i in re.split(r"[,\n\r]+", request.body.decode("utf-8", "replace")) if i.strip()]
        if not ids or len(ids) > 10_000:
            return error(400, "BAD_REQUEST", "Validation of input data failed: 1 to 10000 contact ids.", 4001)
        with self.lock:
            running = sum(1 for j in self.jobs.values() if not self._finished(j))
            if running >= self.max_running_jobs:
                return error(400, "BAD_REQUEST", JOBS_RUNNING.format(n=self.max_running_jobs), 4002)
            if self.credits < len(ids):
                return error(400, "BAD_REQUEST", "Insufficient transaction quota available.", 4003)
            job = ContactJob(
                job_id=uuid.uuid4().hex[:20],
                ids=ids,
                submitted_at=time.time(),
                fail=bool(super().take_fault("/api/v1/contact/job", ("fail_job",))),
                never_complete=bool(super().take_fault("/api/v1/contact/job", ("never_complete",))),
                signature=secrets.token_hex(8),
                submitted_by=self.caller_job(),
            )
            self.jobs[job.job_id] = job
            self.record_paid(ids)
        answer = {"jobId": job.job_id, "status": "accepted", "type": "contacts"}
        return self._answer(request, answer, "BulkLeadEnrichmentStatus")

    def _finished(self, job: ContactJob) -> bool:
        return not job.never_complete and time.time() - job.submitted_at >= self.processing_seconds

    def _status(self, job: ContactJob, request: Request) -> Response:
        elapsed = time.time() - job.submitted_at
        if self._finished(job):
            status = "failed" if job.fail else "finished"
        else:
            status = "accepted" if elapsed < self.processing_seconds * 0.2 else "processing"
        if self.take_fault(request.path, ("unknown_status",)):
            status = UNDOCUMENTED_STATUS
        processed = (
            len(job.ids) if status == "finished" else int(len(job.ids) * min(0.99, elapsed / self.processing_seconds))
        )
        answer = {"jobId": job.job_id, "status": status, "totalProcessed": processed, "type": "contacts"}
        return self._answer(request, answer, "BulkLeadEnrichmentStatus")

    def _results(self, job: ContactJob) -> Response:
        if not self._finished(job) or job.fail:
            return error(400, "BAD_REQUEST", "The job has no results.", 4004)
        with self.lock:
            if job.credits is None:
                job.credits = float(sum(1 for i in job.ids if self.contact(i) is not None))
                self.charge(job.credits, job.submitted_by)
        created = dt.datetime.fromtimestamp(job.submitted_at, dt.UTC).isoformat()
        return Response(
            200,
            {
                "jobId": job.job_id,
                "jobType": "contacts",
                "jobStatus": "finished",
                "createdDate": created,
                "creditsConsumed": job.credits,
                "resultsUrl": f"{self.url}/files/{job.job_id}.csv?signature={job.signature}",
            },
        )

    def _file(self, request: Request) -> Response:
        job = self.jobs.get(request.path.removeprefix("/files/").removesuffix(".csv"))
        if job is None or request.query.get("signature", [""])[0] != job.signature:
            return Response(403, raw=b"<Error><Code>AccessDenied</Code></Error>", content_type="application/xml")
        if self.take_fault(request.path, ("expired_link",)):
            job.signature = secrets.token_hex(8)  # this link is dead; the results endpoint signs a new one
            expired = b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>"
            return Response(403, raw=expired, content_type="application/xml")
        renamed = {"contactId": "id"} if self.take_fault(request.path, ("missing_column",)) else {}
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow([renamed.get(name, name) for name in COLUMNS])
        for contact_id in dict.fromkeys(job.ids):
            if (row := self.contact(contact_id)) is not None:
                writer.writerow([row[name] for name in COLUMNS])
        return Response(200, raw=out.getvalue().encode(), content_type="text/csv")

    @staticmethod
    def _answer(request: Request, answer: dict[str, Any], root: str) -> Response:
        if "application/json" in request.headers.get("accept", ""):
            return Response(200, answer)
        fields = "".join(f"<{k}>{v}</{k}>" for k, v in answer.items())
        xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{root}>{fields}</{root}>'
        return Response(200, raw=xml.encode(), content_type="application/xml")

    @staticmethod
    def contact(contact_id: str) -> dict[str, Any] | None:
        """The details InsideView holds for an id: the same every time; about 1 in 5 ids has none."""
        luck = stable_fraction("insideview", contact_id)
        if luck < 0.2:
            return None
        first, last = FIRST[int(luck * 97) % len(FIRST)], LAST[int(luck * 89) % len(LAST)]
        company = COMPANIES[int(luck * 83) % len(COMPANIES)]
        domain = company.split()[0].lower() + ".com"
        return {
            "contactId": contact_id,
            "firstName": first,
            "lastName": last,
            "fullName": f"{first} {last}",
            "email": f"{first}.{last}@{domain}".lower() if luck >= 0.3 else "",
            "phone": f"+1 415 555 {int(luck * 1e4):04d}" if luck >= 0.5 else "",
            "companyId": str(int(luck * 1e6)),
            "companyName": company,
            "linkedinHandle": f"{first}-{last}-{contact_id}".lower(),
            "confidenceScore": str(round(0.5 + luck / 2, 2)),
            "emailValidationStatus": "ValidEmail" if luck >= 0.45 else "AcceptAll" if luck >= 0.3 else "",
        }
