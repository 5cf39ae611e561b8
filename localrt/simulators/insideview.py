"""InsideView simulator: the login token, contact-details jobs and their CSV results file.

Follows the documented parts (token endpoint and `accessToken` header, text/plain ids up to 10,000,
JSON only when asked with Accept, XML otherwise, 415 without Content-Type, job statuses, the error
body) and the inferred ones (the results endpoint with a signed `resultsUrl`, the CSV's columns, at
most `max_running_jobs` jobs at once, "too many jobs" as a 400). Tokens expire after
`token_ttl_seconds`; quota is debited when a job's results are produced.
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

from localrt.simulators.base import Fault, Request, Response, Simulator, stable_fraction

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
    signature: str = ""


class InsideViewSimulator(Simulator):
    name = "insideview"
    submit_path = "/api/v1/contact/job"

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
        return super().fault_response(fault)

    def take_fault(self, path: str, kinds: tuple[str, ...] = ("429", "500", "malformed", "timeout")) -> Fault | None:
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
        return error(405, "METHOD_NOT_ALLOWED", "You are not allowed to access this API.")

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
        expiration = dt.datetime.fromtimestamp(expires, dt.UTC).isoformat(timespec="milliseconds")
        return Response(
            200,
            {
                "accessTokenDetails": {
                    "accessToken": token,
                    "tokenType": "bearer",
                    "expirationTime": expiration.replace("+00:00", "Z"),
                }
            },
        )

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
                return error(400, "BAD_REQUEST", "Too many jobs submitted to the processing queue.", 4002)
            if self.credits < len(ids):
                return error(400, "BAD_REQUEST", "Insufficient transaction quota available.", 4003)
            job = ContactJob(
                job_id=uuid.uuid4().hex[:20],
                ids=ids,
                submitted_at=time.time(),
                fail=bool(super().take_fault("/api/v1/contact/job", ("fail_job",))),
                never_complete=bool(super().take_fault("/api/v1/contact/job", ("never_complete",))),
                signature=secrets.token_hex(8),
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
                self.credits -= job.credits
                self.charged_total += job.credits
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
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=COLUMNS)
        writer.writeheader()
        for contact_id in dict.fromkeys(job.ids):
            if (row := self.contact(contact_id)) is not None:
                writer.writerow(row)
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
