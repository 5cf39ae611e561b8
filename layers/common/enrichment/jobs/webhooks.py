"""Webhooks: a job's completion event POSTed to its `webhook_url`, signed, retried, never failing the job.

Headers: `X-Enrichment-Timestamp` (Unix seconds) and `X-Enrichment-Signature: v1=<hex>`, the HMAC-SHA256
of "<timestamp>.<body>" with the stack's webhook secret. A receiver recomputes it and rejects stale
timestamps. Deliveries are recorded on the job (webhook_status, webhook_attempts, webhook_error).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import httpx

from enrichment.jobs.store import JobStore
from enrichment.secrets import secret_json
from enrichment.settings import Settings

SIGNATURE_HEADER = "X-Enrichment-Signature"
TIMESTAMP_HEADER = "X-Enrichment-Timestamp"
ATTEMPTS = 4
FIRST_BACKOFF_SECONDS = 1.0
TIMEOUT_SECONDS = 10.0


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
    if not store.claim_webhook(job_id):
        return "already"  # EventBridge delivers at least once: a repeated event sends no second webhook
    secret = secret_json(settings.webhook_secret_name)["secret"]
    body = httpx.Request("POST", job.webhook_url, json=detail).content
    error = ""
    attempts = 0
    for attempts in range(1, ATTEMPTS + 1):
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            TIMESTAMP_HEADER: str(timestamp),
            SIGNATURE_HEADER: sign(secret, timestamp, body),
            "User-Agent": "contact-enrichment-webhook/1",
        }
        try:
            response = httpx.post(job.webhook_url, content=body, headers=headers, timeout=TIMEOUT_SECONDS)
            if response.status_code < 300:
                store.update(job_id, webhook_status="delivered", webhook_attempts=attempts, webhook_error=None)
                return "delivered"
            error = f"HTTP {response.status_code}"
            if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
                break  # the receiver refuses it: retrying will not help
        except httpx.HTTPError as exc:
            error = type(exc).__name__
        if attempts < ATTEMPTS:
            sleep(FIRST_BACKOFF_SECONDS * 2 ** (attempts - 1))
    store.update(job_id, webhook_status="failed", webhook_attempts=attempts, webhook_error=error)
    return "failed"
