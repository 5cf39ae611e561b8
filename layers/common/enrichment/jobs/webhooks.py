"""Webhooks: a job's completion event POSTed to its `webhook_url`, signed, retried, never failing the job.

Headers: `X-Enrichment-Timestamp` (Unix seconds) and `X-Enrichment-Signature: v1=<hex>`, the HMAC-SHA256
of "<timestamp>.<body>" with the stack's webhook secret. A receiver recomputes it and rejects stale
timestamps. Deliveries are recorded on the job (webhook_status, webhook_attempts, webhook_error).

A delivery is claimed as a lease (`LEASE_SECONDS`): a function that dies mid-delivery leaves the job
`delivering` until the lease ends, and then the Lambda service's retry of the event takes it over. A retry that
finds the lease still held raises `WebhookBusy`, so the service retries it later rather than dropping it.

Each attempt checks the address again (jobs/webhook_address.py) and connects to the address it checked. A URL
that breaks the rule now (its host resolves to a private address, its allowlist entry was removed) is
`refused`: no connection is opened, and the error says why, never what such a host would have answered.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any

from enrichment.jobs.store import JobStore, WebhookClaim
from enrichment.metrics import Metric, count
from enrichment.settings import Settings

SIGNATURE_HEADER = "X-Enrichment-Signature"
TIMESTAMP_HEADER = "X-Enrichment-Timestamp"
ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 1.0
TIMEOUT_SECONDS = 10.0
# Longer than a delivery can run (the template's WebhookFunction Timeout, 120 s), so a live delivery is never
# taken over; shorter than the Lambda service's retries of an event (about 1 then 2 minutes apart) add up to.
LEASE_SECONDS = 130.0


class WebhookBusy(RuntimeError):
    """Another invocation holds the delivery's lease: fail, so the Lambda service retries the event later."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"v1={digest}"


def verify(secret: str, timestamp: str, body: bytes, signature: str, *, tolerance_seconds: int = 300) -> bool:
    """What a receiver does: same HMAC, compared in constant time, and not too old."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(time.time() - ts) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, ts, body), signature)


def deliver(job_id: str, detail: dict[str, Any], settings: Settings, sleep: Any = time.sleep) -> str:
    """POST the detail to the job's webhook, retrying with backoff; record the outcome on the job."""
    store = JobStore(settings.jobs_table)
    job = store.require(job_id)
    if not job.webhook_url:
        return "none"
    # Only a job with a webhook needs these (httpx, the address rule, the secrets client): most jobs have none.
    import httpx

    from enrichment.jobs import webhook_address
    from enrichment.secrets import secret_json

    allowlist = webhook_address.WebhookAllowlist.parse(settings.webhook_allow)  # a bad setting fails before the claim
    claim = store.claim_webhook(job_id, LEASE_SECONDS)
    if claim is WebhookClaim.SETTLED:
        return "already"  # EventBridge delivers at least once: a repeated event sends no second webhook
    if claim is WebhookClaim.BUSY:
        raise WebhookBusy(f"job {job_id}'s webhook is being delivered by another invocation (its lease holds)")
    secret = secret_json(settings.webhook_secret_name)["secret"]
    body = json.dumps(detail, separators=(",", ":")).encode()
    error = ""
    attempts = 0
    for attempts in range(1, ATTEMPTS + 1):
        try:
            target = webhook_address.check_webhook_url(job.webhook_url, allowlist)
        except webhook_address.WebhookUnresolved as unresolved:
            error = str(unresolved)  # DNS may answer on the next attempt
        except webhook_address.WebhookRefused as refused:
            store.update(
                job_id, webhook_status="refused", webhook_attempts=attempts - 1, webhook_error=f"refused: {refused}"
            )
            count(Metric.WEBHOOK_DELIVERY_FAILURES)
            return "refused"
        else:
            timestamp = int(time.time())
            headers = {
                "Content-Type": "application/json",
                TIMESTAMP_HEADER: str(timestamp),
                SIGNATURE_HEADER: sign(secret, timestamp, body),
                "User-Agent": "contact-enrichment-webhook/1",
            }
            try:
                response = webhook_address.post(target, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
                if response.status_code < 300:
                    store.update(job_id, webhook_status="delivered", webhook_attempts=attempts, webhook_error=None)
                    count(Metric.WEBHOOK_DELIVERIES)
                    return "delivered"
                error = f"HTTP {response.status_code}"
                if 300 <= response.status_code < 400:
                    error += " (redirects are not followed)"
                    break
                if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                    break  # the receiver refuses it: retrying will not help
            except httpx.HTTPError as exc:
                error = type(exc).__name__
        if attempts < ATTEMPTS:
            sleep(FIRST_BACKOFF_SECONDS * 2 ** (attempts - 1))
    store.update(job_id, webhook_status="failed", webhook_attempts=attempts, webhook_error=error)
    count(Metric.WEBHOOK_DELIVERY_FAILURES)
    return "failed"
