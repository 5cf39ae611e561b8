"""The webhook claim is a lease: a delivery that died mid-way is taken over by a retry once its lease ends."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from enrichment import aws, secrets
from enrichment.jobs import store as store_module
from enrichment.jobs import webhooks
from enrichment.jobs.store import JobStore, WebhookClaim
from enrichment.models import Vendor
from enrichment.settings import Settings
from tests.unit.layer.conftest import new_job


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[bytes]]]:
    """A webhook endpoint on 127.0.0.1: its URL and the bodies it got."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def webhook_settings(emulated_aws: Settings, receiver) -> Iterator[Settings]:
    url, _ = receiver
    name = f"unit-webhook-{uuid.uuid4().hex[:8]}"
    sm = aws.client("secretsmanager")
    sm.create_secret(Name=name, SecretString=json.dumps({"secret": "s3cr3t"}))
    secrets._provider.cache_clear()
    yield emulated_aws.model_copy(update={"webhook_secret_name": name, "webhook_allow": url.split("/")[2]})
    sm.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)
    secrets._provider.cache_clear()


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now


def test_the_claim_is_a_lease(emulated_aws, monkeypatch):
    clock = Clock(1_000_000.0)
    monkeypatch.setattr(store_module, "time", clock)
    new_job(emulated_aws, Vendor.CHECK365, "email\n", webhook_url="https://hooks.example.com/x")
    store = JobStore(emulated_aws.jobs_table)

    assert store.claim_webhook("job-1", 130) is WebhookClaim.TAKEN
    clock.now += 129
    assert store.claim_webhook("job-1", 130) is WebhookClaim.BUSY, "a live delivery is never taken over"
    clock.now += 2
    assert store.claim_webhook("job-1", 130) is WebhookClaim.TAKEN, "a dead delivery's lease has run out"
    store.update("job-1", webhook_status="delivered", webhook_attempts=1, webhook_error=None)
    clock.now += 1000
    assert store.claim_webhook("job-1", 130) is WebhookClaim.SETTLED


def test_a_retry_within_the_lease_fails_to_be_retried_later(webhook_settings, receiver):
    url, received = receiver
    new_job(webhook_settings, Vendor.CHECK365, "email\n", webhook_url=url)
    assert JobStore(webhook_settings.jobs_table).claim_webhook("job-1", 130) is WebhookClaim.TAKEN  # then it died
    with pytest.raises(webhooks.WebhookBusy):
        webhooks.deliver("job-1", {"job_id": "job-1"}, webhook_settings)
    assert received == []


def test_a_delivery_that_died_is_taken_over_once_its_lease_ends(webhook_settings, receiver, monkeypatch):
    url, received = receiver
    new_job(webhook_settings, Vendor.CHECK365, "email\n", webhook_url=url)
    store = JobStore(webhook_settings.jobs_table)
    clock = Clock(1_000_000.0)
    monkeypatch.setattr(store_module, "time", clock)
    assert store.claim_webhook("job-1", webhooks.LEASE_SECONDS) is WebhookClaim.TAKEN  # the function died here
    clock.now += webhooks.LEASE_SECONDS + 1

    assert webhooks.deliver("job-1", {"job_id": "job-1"}, webhook_settings) == "delivered"
    assert [json.loads(body) for body in received] == [{"job_id": "job-1"}]
    job = store.require("job-1")
    assert job.webhook_status == "delivered" and job.webhook_attempts == 1
    assert webhooks.deliver("job-1", {"job_id": "job-1"}, webhook_settings) == "already"
