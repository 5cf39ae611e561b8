"""InsideView as its documents describe it, for contract runs (`DocumentServer(route)`); the login and the
API are one server here (the adapter takes the login's address apart: `extra_urls={"login": server.url}`).

Documented (seeds/insideview-contact-details-job.txt, vendors.md "InsideView"): POST
/Auth/login/v1/token.json?clientId&clientSecret&grantType=cred answers {accessTokenDetails {accessToken,
tokenType, expirationTime}}, the time written "Tue, Jul 21, 2015 09:08:17 PM GMT"; POST /api/v1/contact/job
needs header `accessToken` (401 otherwise) and `Content-Type` text/plain or application/octet-stream (415
otherwise), takes up to 10,000 ids separated by commas or newlines, answers JSON only with `Accept:
application/json` (XML otherwise): {jobId, status: "accepted", type: "contacts"}; GET /api/v1/contact/job/{id}
answers {jobId, status, totalProcessed, type} with status accepted | processing | finished; errors carry
{errorType, status, errorNumber, message, diagnosticCode}; a job over the running limit is answered 400 "2 jobs
are already running. Please try again once the previous jobs are finished."

Inferred (flagged): GET /api/v1/contact/job/{id}/results answering {jobId, jobType, jobStatus, createdDate,
creditsConsumed, resultsUrl} with a signed link to a CSV of the columns below (from the sibling job types and
the contact object); the first `busy` submissions (2 unless `server.state["busy"]` says otherwise) are
answered with the "already running" 400, standing for other jobs of the account; a job advances one status
per status call (not by the clock); one credit per contact found; which ids have details.

`server.state`: "jobs" (job_id -> {"ids", "polls", "signature"}), "tokens", "busy"; set "credentials" to a
(clientId, clientSecret) pair to demand those.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
import secrets
import time
from typing import Any

from tests.contract.document_server import Answer, Call, DocumentServer

LOGIN = "/Auth/login/v1/token.json"
JOBS = "/api/v1/contact/job"
FILES = "/files/"
JOB_PATH = re.compile(r"/api/v1/contact/job/(?P<job>[^/]+)(?P<results>/results)?")
COLUMNS = (
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
)
STEPS = ("accepted", "processing")  # then "finished"
JOBS_RUNNING = "2 jobs are already running. Please try again once the previous jobs are finished."
TOKEN_SECONDS = 3600
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def documented_time(epoch: float) -> str:
    """As the token answer writes it: "Tue, Jul 21, 2015 09:08:17 PM GMT"."""
    t = dt.datetime.fromtimestamp(epoch, dt.UTC)
    half = "PM" if t.hour >= 12 else "AM"
    clock = f"{t.hour % 12 or 12:02d}:{t.minute:02d}:{t.second:02d} {half}"
    return f"{DAYS[t.weekday()]}, {MONTHS[t.month - 1]} {t.day:02d}, {t.year} {clock} GMT"


def error(status: int, error_type: str, message: str, number: int = 0) -> Answer:
    """The documented error body."""
    body = {
        "errorType": error_type,
        "status": status,
        "errorNumber": number,
        "message": message,
        "diagnosticCode": secrets.token_hex(6),
    }
    return Answer(status, body)


def contact(contact_id: str) -> dict[str, str] | None:
    """The details held for an id (inferred columns); about one id in four has none."""
    luck = hashlib.sha256(contact_id.encode()).digest()[0]
    if luck < 64:
        return None
    first, last = ("Ada", "Grace", "Alan", "Edsger")[luck % 4], ("Lovelace", "Hopper", "Turing", "Dijkstra")[luck % 3]
    return {
        "contactId": contact_id,
        "firstName": first,
        "lastName": last,
        "fullName": f"{first} {last}",
        "email": f"{first}.{last}@example.com".lower() if luck % 5 else "",
        "phone": f"+1 415 555 {luck:04d}" if luck % 2 else "",
        "companyId": str(1000 + luck),
        "companyName": "Example Corp",
        "linkedinHandle": f"{first}-{last}-{contact_id}".lower(),
        "confidenceScore": f"{0.5 + luck / 512:.2f}",
        "emailValidationStatus": "ValidEmail" if luck % 5 else "",
    }


def route(call: Call, server: DocumentServer) -> Answer:
    if call.method == "POST" and call.path == LOGIN:
        return _login(call, server)
    if call.method == "GET" and call.path.startswith(FILES):
        return _file(call, server)
    if not call.path.startswith(JOBS):
        return error(404, "NOT_FOUND", "Resource not found.")
    with server.lock:
        token_ok = server.state.get("tokens", {}).get(call.headers.get("accesstoken", ""), 0) > time.time()
    if not token_ok:
        return error(401, "UNAUTHORIZED", "Cannot use API's without setting a valid accessToken in header.")
    if call.method == "POST" and call.path == JOBS:
        return _submit(call, server)
    match = JOB_PATH.fullmatch(call.path)
    if call.method == "GET" and match:
        with server.lock:
            job = server.state.get("jobs", {}).get(match["job"])
        if job is None:
            return error(404, "NOT_FOUND", "Job not found.")
        return _results(match["job"], job, server) if match["results"] else _status(call, match["job"], job, server)
    return error(405, "METHOD_NOT_ALLOWED", "Your are not allowed to access this API.")


def _login(call: Call, server: DocumentServer) -> Answer:
    given = (call.query.get("clientId", ""), call.query.get("clientSecret", ""))
    if not all(given) or call.query.get("grantType") != "cred" or server.state.get("credentials", given) != given:
        return error(401, "UNAUTHORIZED", "Invalid client credentials.")  # inferred wording
    token, expires = secrets.token_hex(16), time.time() + TOKEN_SECONDS
    with server.lock:
        server.state.setdefault("tokens", {})[token] = expires
    details = {"accessToken": token, "tokenType": "bearer", "expirationTime": documented_time(expires)}
    return Answer(200, {"accessTokenDetails": details})


def _json_or_xml(call: Call, answer: dict[str, Any]) -> Answer:
    if "application/json" in call.headers.get("accept", ""):
        return Answer(200, answer)
    fields = "".join(f"<{k}>{v}</{k}>" for k, v in answer.items())
    root = "BulkLeadEnrichmentStatus"
    xml = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><{root}>{fields}</{root}>'
    return Answer(200, text=xml, content_type="application/xml")


def _submit(call: Call, server: DocumentServer) -> Answer:
    if call.headers.get("content-type", "").split(";")[0].strip() not in ("text/plain", "application/octet-stream"):
        return error(415, "UNSUPPORTED_MEDIA_TYPE", "The Content-Type mandatory header is not provided.")
    text = call.body.decode("utf-8", "replace").replace("\r", "")
    ids = [i.strip() for line in text.split("\n") for i in line.split(",") if i.strip()]
    if not 1 <= len(ids) <= 10_000:
        return error(400, "BAD_REQUEST", "Validation of input data failed", 4001)
    with server.lock:
        busy = server.state.setdefault("busy", 2)
        if busy > 0:
            server.state["busy"] = busy - 1
            return error(400, "BAD_REQUEST", JOBS_RUNNING, 4002)
        job_id = secrets.token_hex(10)
        server.state.setdefault("jobs", {})[job_id] = {
            "ids": ids,
            "polls": 0,
            "created": time.time(),
            "signature": secrets.token_hex(8),
        }
    return _json_or_xml(call, {"jobId": job_id, "status": "accepted", "type": "contacts"})


def _status(call: Call, job_id: str, job: dict[str, Any], server: DocumentServer) -> Answer:
    with server.lock:
        polls = job["polls"]
        job["polls"] += 1
    total = len(job["ids"])
    if polls < len(STEPS):
        status, processed = STEPS[polls], total * polls // len(STEPS)
    else:
        status, processed = "finished", total
    return _json_or_xml(call, {"jobId": job_id, "status": status, "totalProcessed": processed, "type": "contacts"})


def _results(job_id: str, job: dict[str, Any], server: DocumentServer) -> Answer:
    if job["polls"] <= len(STEPS):
        return error(400, "BAD_REQUEST", "The job is not finished.", 4004)  # inferred wording
    found = sum(1 for i in dict.fromkeys(job["ids"]) if contact(i) is not None)
    return Answer(
        200,
        {
            "jobId": job_id,
            "jobType": "contacts",
            "jobStatus": "finished",
            "createdDate": dt.datetime.fromtimestamp(job["created"], dt.UTC).isoformat(),
            "creditsConsumed": found,
            "resultsUrl": f"{server.url}{FILES}{job_id}.csv?signature={job['signature']}",
        },
    )


def _file(call: Call, server: DocumentServer) -> Answer:
    """The signed link: no token asked, the signature checked (a wrong one is refused as storage would)."""
    with server.lock:
        job = server.state.get("jobs", {}).get(call.path.removeprefix(FILES).removesuffix(".csv"))
    if job is None or call.query.get("signature") != job["signature"]:
        return Answer(403, text="<Error><Code>AccessDenied</Code></Error>", content_type="application/xml")
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    for contact_id in dict.fromkeys(job["ids"]):
        if (row := contact(contact_id)) is not None:
            writer.writerow(row)
    return Answer(200, text=out.getvalue(), content_type="text/csv")
