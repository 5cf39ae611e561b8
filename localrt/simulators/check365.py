"""Check365 simulator: bulk-upload with a client-chosen job_id, then bulk-status, as documented.

A job moves uploaded -> validating -> in-progress -> completed over `processing_seconds`, reporting
progress: only "completed" is documented, the words before it are the undocumented ones a client must
read as "still running". One credit per address, charged at completion. Undocumented, inferred: uploading
again with a job_id it knows is refused, 400 "job_id already exists" (the job is not created twice); 401 for
a bad key, 402 when out of credits, 429 over `requests_per_minute`, 404 "Job not found".

Its own faults (`inject`), besides the shared ones:
- `success_false`: an upload answered HTTP 200 with `success: "false"` (a string) and nothing created;
- `no_results`: a completed job's status answer comes without its `results`;
- `drop_result`: a completed job's results lack the verdict for its first address, for good.
The shared `account_blocked` is answered 403 "Your account has been suspended" (inferred wording).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from localrt.simulators.base import FAULT_KINDS, Fault, Request, Response, Simulator, stable_fraction

VERDICTS = [  # (status, safeToSend, risk, statusReason)
    ("active", True, "low", "accepted_email"),
    ("inactive", False, "high", "mailbox_not_found"),
    ("invalid", False, "high", "invalid_domain"),
    ("spam trap", False, "high", "spam_trap"),
    ("unvalidated", False, "medium", "timeout"),
]
ROLE_PREFIXES = ("info", "sales", "support", "admin", "hello", "contact")
# The words before "completed", by the share of the processing time gone (none of them documented).
RUNNING_WORDS = ((0.2, "uploaded"), (0.6, "validating"), (1.0, "in-progress"))


@dataclass
class BulkJob:
    job_id: str
    emails: list[str]
    submitted_at: float
    fail: bool = False
    never_complete: bool = False
    drop_first: bool = False
    charged: float | None = None
    submitted_by: str | None = None  # the job that submitted it: its ledger is charged
    results: list[dict[str, Any]] = field(default_factory=list)


class Check365Simulator(Simulator):
    name = "check365"
    submit_path = "/api/validation/bulk-upload"
    fault_kinds = (*FAULT_KINDS, "success_false", "no_results", "drop_result")

    def __init__(self, *, processing_seconds: float = 1.5, requests_per_minute: int = 600, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.processing_seconds = processing_seconds
        self.requests_per_minute = requests_per_minute
        self.jobs: dict[str, BulkJob] = {}
        self.uploads = 0
        self.charged_total = 0.0

    def fault_response(self, fault: Fault) -> Response:
        if fault.kind == "429":
            return Response(429, {"success": False, "message": "Too many requests"}, headers={"Retry-After": "1"})
        if fault.kind == "500":
            return Response(502, {"success": False, "message": "Bad gateway"})
        if fault.kind == "account_blocked":  # inferred: Check365 documents no error answers
            return Response(403, {"success": False, "message": "Your account has been suspended"})
        return super().fault_response(fault)

    def jobs_created(self) -> int:
        with self.lock:
            return len(self.jobs)

    def route(self, request: Request) -> Response:
        if not self.admit(self.requests_per_minute)[0]:
            return Response(429, {"success": False, "message": "Too many requests"}, headers={"Retry-After": "1"})
        if request.method == "POST" and request.path == "/api/validation/bulk-upload":
            try:
                body = request.json()
            except ValueError:
                return Response(400, {"success": False, "message": "Body must be JSON"})
            return self._upload(body if isinstance(body, dict) else {})
        if request.method == "GET" and request.path == "/api/validation/bulk-status":
            return self._status({k: v[0] for k, v in request.query.items()})
        return Response(404, {"success": False, "message": "Not found"})

    def _upload(self, body: dict[str, Any]) -> Response:
        if body.get("api_key") != self.api_key:
            return Response(401, {"success": False, "message": "Invalid API key"})
        emails, job_id = body.get("emails"), body.get("job_id")
        if not isinstance(emails, list) or not emails or not job_id:
            return Response(400, {"success": False, "message": "emails and job_id are required"})
        if self.take_fault(self.submit_path, ("success_false",)):
            return Response(200, {"success": "false", "message": "The upload could not be processed, try again"})
        with self.lock:
            if job_id in self.jobs:
                return Response(400, {"success": False, "message": "job_id already exists"})
            if self.credits < len(emails):
                return Response(402, {"success": False, "message": "Insufficient credits"})
            self.uploads += 1
            self.jobs[job_id] = BulkJob(
                job_id,
                [str(e) for e in emails],
                time.time(),
                fail=bool(self.take_fault("/api/validation/bulk-upload", ("fail_job",))),
                never_complete=bool(self.take_fault("/api/validation/bulk-upload", ("never_complete",))),
                drop_first=bool(self.take_fault("/api/validation/bulk-upload", ("drop_result",))),
                submitted_by=self.caller_job(),
            )
            self.record_paid(str(e).lower() for e in emails)
        return Response(200, {"success": True, "message": "Job created", "job_id": job_id})

    def _status(self, query: dict[str, str]) -> Response:
        if query.get("api_key") != self.api_key:
            return Response(401, {"success": False, "message": "Invalid API key"})
        with self.lock:
            job = self.jobs.get(query.get("job_id", ""))
            if job is None:
                return Response(404, {"success": False, "message": "Job not found"})
            done_fraction = min(1.0, (time.time() - job.submitted_at) / self.processing_seconds)
            if job.never_complete:
                done_fraction = min(done_fraction, 0.5)
            if job.fail and done_fraction >= 1:
                data = {
                    "jobId": job.job_id,
                    "status": "failed",
                    "creditsUsed": 0,
                    "progress": 100,
                    "total": len(job.emails),
                    "results": [],
                }
                return Response(200, {"success": True, "message": "Job failed", "data": data})
            if done_fraction < 1:
                status = next(word for share, word in RUNNING_WORDS if done_fraction < share)
                data = {
                    "jobId": job.job_id,
                    "status": status,
                    "creditsUsed": 0,
                    "progress": int(done_fraction * 100),
                    "total": len(job.emails),
                    "results": [],
                }
                return Response(200, {"success": True, "message": "Job is being processed", "data": data})
            if job.charged is None:
                job.results = [self.verdict(e) for e in job.emails[job.drop_first :]]
                job.charged = float(len(job.emails))
                self.charge(job.charged, job.submitted_by)
            data = {
                "jobId": job.job_id,
                "status": "completed",
                "creditsUsed": job.charged,
                "progress": 100,
                "total": len(job.emails),
                "results": job.results,
            }
            if self.take_fault("/api/validation/bulk-status", ("no_results",)):
                del data["results"]
        return Response(200, {"success": True, "message": "Job has been completed", "data": data})

    def carries_results(self, request: Request, response: Response) -> bool:
        body = response.body if request.path == "/api/validation/bulk-status" and response.status == 200 else None
        data = (body.get("data") or {}) if isinstance(body, dict) else {}
        return data.get("status") == "completed" and bool(data.get("results"))

    @staticmethod
    def verdict(email: str) -> dict[str, Any]:
        status, safe, risk, reason = VERDICTS[int(stable_fraction("check365", email.lower()) * len(VERDICTS))]
        local, _, domain = email.partition("@")
        provider = "google_workspace" if domain.endswith((".io", ".xyz")) else "microsoft365"
        return {
            "email": email,
            "emailProvider": provider,
            "emailType": "professional",
            "status": status,
            "safeToSend": safe,
            "risk": risk,
            "isRole": local.lower() in ROLE_PREFIXES,
            "statusReason": reason,
        }
