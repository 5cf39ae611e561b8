"""A job settles exactly once: one finalizer writes its outputs, one completion event, one webhook, and a
final status that never changes, whoever races to finalize it (a hard cancel, the state machine, the sweeper)."""

from __future__ import annotations

import json
import threading

import httpx

from enrichment.jobs.store import JobStore
from enrichment.models import JobStatus
from localrt.samples import pubrio_csv
from tests.conftest import api_auth, parse_csv, read_results, upload, vendor_takes
from tests.e2e.test_events_and_webhooks import Receiver, wait_for, webhooks_allowed


def _listen(runtime, name: str) -> str:
    sqs, events = runtime.client("sqs"), runtime.client("events")
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = runtime.outputs["JobEventsBusName"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["contact-enrichment"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    return queue


def _events_for(runtime, queue: str, job_id: str) -> list[dict]:
    sqs, found = runtime.client("sqs"), []
    while messages := sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages"):
        found += [json.loads(m["Body"]) for m in messages]
        for message in messages:
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
    return [e for e in found if e["detail"]["job_id"] == job_id]


def test_racing_finalizers_settle_the_job_once(runtime, api, pubrio, tmp_path):
    queue = _listen(runtime, "settle-once")
    receiver = Receiver()
    try:
        with webhooks_allowed(runtime, receiver.address), vendor_takes(pubrio, 3):  # chunks stay in flight
            text = pubrio_csv(300, seed=71)
            body = {"vendor": "pubrio", "input_key": upload(api.url, text.encode()), "webhook_url": receiver.url}
            job_id = httpx.post(f"{api.url}/jobs", json=body, auth=api_auth()).json()["job_id"]
            wait_for(lambda: pubrio.ledger()["paid_submissions"] > 0)

            # A hard cancel, a sweeper and a stray retry all finalize at once, while the state machine runs on.
            failure = {"Error": "Unsettled", "Cause": "racing"}

            def finalize(finalizer: str):
                return lambda: runtime.invoke(
                    "FinalizeFunction", {"job_id": job_id, "failure": failure, "finalizer": finalizer}
                )

            callers = [
                lambda: httpx.post(f"{api.url}/jobs/{job_id}/cancel", params={"hard": "true"}, auth=api_auth()),
                finalize("sweeper"),
                finalize("other"),
            ]
            threads = [threading.Thread(target=call) for call in callers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            view = runtime.wait(job_id, timeout=120)
            wait_for(lambda: runtime.job(job_id).item.get("webhook_status") == "delivered")
            settled = view.item
    finally:
        receiver.stop()

    assert JobStatus(settled["status"]).is_final
    events = _events_for(runtime, queue, job_id)
    assert len(events) == 1 and events[0]["detail"]["status"] == settled["status"]
    assert len(receiver.requests) == 1
    # one row out per row in, written by the one finalizer
    out = runtime.download(job_id, tmp_path / job_id)
    assert len(read_results(out)) == len(parse_csv(text))
    # the state machine, finalizing later, changed nothing
    again = JobStore(runtime.outputs["JobsTableName"]).require(job_id)
    assert again.status.value == settled["status"] and again.finished_at == settled["finished_at"]


def test_a_late_prepare_never_revives_a_settled_job(runtime):
    store = JobStore(runtime.outputs["JobsTableName"])
    from enrichment.models import Job

    job = Job(job_id="job-late-prepare", vendor="pubrio", input_key="k", output_prefix="p/", created_at="2026-01-01")
    assert store.create(job)
    assert store.claim_finalize(job.job_id, "first", lease_seconds=60)
    assert not store.claim_finalize(job.job_id, "second", lease_seconds=60), "a live claim is exclusive"
    assert store.settle(job.job_id, "first", JobStatus.CANCELLED, error="cancelled by the user")
    assert not store.mark_running(job.job_id, rows_total=1, chunks_total=1)
    assert not store.claim_finalize(job.job_id, "first", lease_seconds=60)
    assert not store.settle(job.job_id, "first", JobStatus.SUCCEEDED)
    assert store.require(job.job_id).status == JobStatus.CANCELLED
