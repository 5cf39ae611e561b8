"""Check365 as its documents describe it, for contract runs (`DocumentServer(route)`).

Documented (seeds/check365-bulk-status.txt, vendors.md "Check365"): POST /api/validation/bulk-upload
{emails, api_key, job_id} answers {success, message, job_id}; GET /api/validation/bulk-status?api_key&job_id
answers {success, message, data {jobId, status, creditsUsed, progress, total, results [{email, emailProvider,
emailType, status, safeToSend, risk, isRole, statusReason}]}}; "completed" is the one documented job status;
per-address statuses active, inactive, spam trap, invalid, unvalidated.

Inferred (the documents are silent; flagged): the words a job says before "completed" (here "uploaded",
"validating", "in-progress", one per status call, so a run advances by its polls, not by the clock), the
answer to a job_id uploaded twice (400 "job_id already exists"), to an unknown job (404 "Job not found") and
to a missing key (401 "Invalid API key"), and one credit per address.

`server.state`: "jobs" (job_id -> {"emails", "polls"}), "uploads" (count); set "api_key" to demand one key.
"""

from __future__ import annotations

import hashlib
from typing import Any

from tests.contract.document_server import Answer, Call, DocumentServer

UPLOAD = "/api/validation/bulk-upload"
STATUS = "/api/validation/bulk-status"
# Before "completed": (status, progress). Not documented: what a client must read as "still running".
STEPS = (("uploaded", 0), ("validating", 40), ("in-progress", 80))
# (status, safeToSend, risk, statusReason); the statuses are the documented ones, the reasons inferred.
VERDICTS = (
    ("active", True, "low", "accepted_email"),
    ("inactive", False, "high", "mailbox_not_found"),
    ("spam trap", False, "high", "spam_trap"),
    ("invalid", False, "high", "invalid_syntax"),
    ("unvalidated", False, "high", "invalid_domain"),
)
ROLES = ("info", "sales", "support", "admin", "contact")


def verdict(email: str) -> dict[str, Any]:
    """The documented result of one address; the same address always gets the same verdict."""
    status, safe, risk, reason = VERDICTS[hashlib.sha256(email.encode()).digest()[0] % len(VERDICTS)]
    local, _, domain = email.partition("@")
    return {
        "email": email,
        "emailProvider": "google_workspace" if domain.endswith(".io") else "microsoft365",
        "emailType": "professional",
        "status": status,
        "safeToSend": safe,
        "risk": risk,
        "isRole": local in ROLES,
        "statusReason": reason,
    }


def refusal(status: int, message: str) -> Answer:
    return Answer(status, {"success": False, "message": message})


def route(call: Call, server: DocumentServer) -> Answer:
    if call.method == "POST" and call.path == UPLOAD:
        body = call.json() if call.body else None
        return _upload(body if isinstance(body, dict) else {}, server)
    if call.method == "GET" and call.path == STATUS:
        return _status(call.query, server)
    return refusal(404, "Not found")


def _key_ok(key: Any, server: DocumentServer) -> bool:
    return bool(key) and server.state.get("api_key", key) == key


def _upload(body: dict[str, Any], server: DocumentServer) -> Answer:
    if not _key_ok(body.get("api_key"), server):
        return refusal(401, "Invalid API key")
    emails, job_id = body.get("emails"), body.get("job_id")
    if not isinstance(emails, list) or not emails or not isinstance(job_id, str) or not job_id:
        return refusal(400, "emails and job_id are required")
    with server.lock:
        jobs = server.state.setdefault("jobs", {})
        if job_id in jobs:
            return refusal(400, "job_id already exists")
        jobs[job_id] = {"emails": [str(e) for e in emails], "polls": 0}
        server.state["uploads"] = server.state.get("uploads", 0) + 1
    return Answer(200, {"success": True, "message": "Job created", "job_id": job_id})


def _status(query: dict[str, str], server: DocumentServer) -> Answer:
    if not _key_ok(query.get("api_key"), server):
        return refusal(401, "Invalid API key")
    with server.lock:
        job = server.state.setdefault("jobs", {}).get(query.get("job_id", ""))
        if job is None:
            return refusal(404, "Job not found")
        polls = job["polls"]
        job["polls"] += 1
    emails = job["emails"]
    data: dict[str, Any] = {"jobId": query["job_id"], "creditsUsed": 0, "total": len(emails), "results": []}
    if polls < len(STEPS):
        data["status"], data["progress"] = STEPS[polls]
        return Answer(200, {"success": True, "message": "Job is being processed", "data": data})
    data |= {
        "status": "completed",
        "creditsUsed": len(emails),
        "progress": 100,
        "results": [verdict(email) for email in emails],
    }
    return Answer(200, {"success": True, "message": "Job has been completed", "data": data})
