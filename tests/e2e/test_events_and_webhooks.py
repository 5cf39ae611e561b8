"""Every job end is an EventBridge event; a job with a webhook_url gets it POSTed, signed."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

from enrichment.jobs.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify
from enrichment.pipeline import finalize
from tests.conftest import api_auth, unique_name


class Receiver:
    """A webhook endpoint on 127.0.0.1 that records what it gets and answers `status`."""

    def __init__(self, status: int = 200) -> None:
        self.status = status
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append((dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.address = f"127.0.0.1:{self.server.server_address[1]}"  # its WEBHOOK_ALLOW entry
        self.url = f"http://{self.address}/hooks/enrichment"

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# The functions that read WEBHOOK_ALLOW (the template's WebhookAllow): creating jobs, and delivering.
WEBHOOK_FUNCTIONS = ("ApiFunction", "ScheduleFunction", "WebhookFunction")


@contextlib.contextmanager
def webhooks_allowed(runtime, allow: str, functions: tuple[str, ...] = WEBHOOK_FUNCTIONS) -> Iterator[None]:
    """WEBHOOK_ALLOW set on the deployed functions while inside (a receiver on 127.0.0.1 is not public), then
    empty again, as deployed."""
    for function in functions:
        runtime.set_environment(function, {"WEBHOOK_ALLOW": allow})
    try:
        yield
    finally:
        for function in functions:
            runtime.set_environment(function, {"WEBHOOK_ALLOW": ""})


def webhook_secret(runtime) -> str:
    arn = next(a for k, a in runtime.deployment.resources.items() if k == "WebhookSecret")
    return json.loads(runtime.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"])["secret"]


def wait_for(condition, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError
        time.sleep(0.1)


def test_the_completion_event_and_a_signed_webhook(runtime, api, receiver, prospeo):
    # Listen on the bus as a consumer would: a rule sending the jobs' events to a queue.
    sqs, events = runtime.client("sqs"), runtime.client("events")
    queue = sqs.create_queue(QueueName="job-events")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = runtime.outputs["JobEventsBusName"]
    events.put_rule(Name="listen", EventBusName=bus, EventPattern=json.dumps({"source": ["contact-enrichment"]}))
    events.put_targets(Rule="listen", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])

    body = {
        "vendor": "prospeo",
        "records": [{"email": "ada@initech.com"}, {"full_name": "Solo"}],
        "webhook_url": receiver.url,
    }
    job_id = httpx.post(f"{api.url}/jobs", json=body, auth=api_auth()).json()["job_id"]
    wait_for(lambda: receiver.requests)
    headers, raw = receiver.requests[0]
    assert verify(webhook_secret(runtime), headers[TIMESTAMP_HEADER], raw, headers[SIGNATURE_HEADER])
    assert not verify("another-secret", headers[TIMESTAMP_HEADER], raw, headers[SIGNATURE_HEADER])
    detail = json.loads(raw)
    assert detail["job_id"] == job_id and detail["status"] == "SUCCEEDED" and detail["vendor"] == "prospeo"
    assert detail["counts"]["invalid_input"] == 1 and detail["rows"] == 2
    assert detail["outputs"]["files"]["results.csv"] == f"jobs/{job_id}/output/results.csv"

    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    announced = [json.loads(m["Body"]) for m in messages]
    ours = [e for e in announced if e["detail"]["job_id"] == job_id]
    assert ours and ours[0]["detail-type"] == "Job Succeeded" and ours[0]["detail"] == detail
    wait_for(lambda: runtime.job(job_id).item["webhook_status"] == "delivered")
    assert runtime.job(job_id).item["webhook_attempts"] == 1
    # EventBridge delivers at least once: the same event again sends no second webhook
    answer, failed = runtime.invoke("WebhookFunction", ours[0])
    assert not failed and answer["webhook"] == "already" and len(receiver.requests) == 1


def test_a_failing_webhook_is_retried_recorded_and_never_fails_the_job(runtime, api, receiver, prospeo):
    receiver.status = 503
    body = {"vendor": "prospeo", "records": [{"email": "grace@navy.mil"}], "webhook_url": receiver.url}
    job_id = httpx.post(f"{api.url}/jobs", json=body, auth=api_auth()).json()["job_id"]
    wait_for(lambda: runtime.job(job_id).item.get("webhook_status") == "failed", timeout=60)
    item = runtime.job(job_id).item
    assert item["status"] == "SUCCEEDED"
    assert item["webhook_attempts"] == len(receiver.requests) == 4
    assert item["webhook_error"] == "HTTP 503"


def test_a_redirect_is_not_followed_nor_retried(runtime, api, receiver, prospeo):
    receiver.status = 302
    body = {"vendor": "prospeo", "records": [{"email": "grace@navy.mil"}], "webhook_url": receiver.url}
    job_id = httpx.post(f"{api.url}/jobs", json=body, auth=api_auth()).json()["job_id"]
    wait_for(lambda: runtime.job(job_id).item.get("webhook_status") == "failed", timeout=60)
    item = runtime.job(job_id).item
    assert item["webhook_error"] == "HTTP 302 (redirects are not followed)"
    assert item["webhook_attempts"] == len(receiver.requests) == 1


def test_a_job_whose_results_cannot_be_written_is_failed_with_a_summary_saying_why_and_announced(
    runtime, prospeo, monkeypatch, tmp_path
):
    sqs, events = runtime.client("sqs"), runtime.client("events")
    queue = sqs.create_queue(QueueName="failed-jobs")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = runtime.outputs["JobEventsBusName"]
    pattern = {"source": ["contact-enrichment"], "detail-type": ["Job Failed"]}
    events.put_rule(Name="failed", EventBusName=bus, EventPattern=json.dumps(pattern))
    events.put_targets(Rule="failed", EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(finalize, "_write_results", broken)  # the functions run this very module
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / unique_name("broken")
    path.write_text("email\nada@initech.com\n")
    job_id = runtime.drop(path, "prospeo")
    view = runtime.wait(job_id, timeout=60)
    assert (
        view.status == "FAILED" and "could not be finalized" in view.item["error"] and "disk full" in view.item["error"]
    )
    summary_key = f"{view.item['output_prefix']}summary.json"
    summary = json.loads(runtime.client("s3").get_object(Bucket=runtime.bucket, Key=summary_key)["Body"].read())
    assert summary["status"] == "FAILED" and summary["error"] == view.item["error"]
    messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", [])
    details = [json.loads(m["Body"])["detail"] for m in messages]
    assert any(d["job_id"] == job_id and d["status"] == "FAILED" for d in details)
