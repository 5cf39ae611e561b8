"""Nothing fails silently: a drop that cannot become a job is moved to rejected/ and announced; an asynchronous
invocation that keeps failing leaves its record in the failed-invocations queue, from which it can be redriven; an
event EventBridge cannot deliver lands in the undelivered-events queue."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import unquote_plus

import pytest

from localrt.samples import check365_csv
from tests.conftest import unique_name


def wait_for(find: Callable[[], Any], timeout: float = 90) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := find():
            return found
        time.sleep(0.2)
    raise TimeoutError("not found in time")


def messages(runtime, queue_url: str, **kwargs: Any) -> list[dict[str, Any]]:
    return (
        runtime.client("sqs").receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, **kwargs).get("Messages", [])
    )


@pytest.fixture
def bus_listener(runtime) -> Iterator[Callable[[], list[dict[str, Any]]]]:
    """A queue receiving the jobs bus' events, as a consumer would listen: a reader of what it got."""
    sqs, events = runtime.client("sqs"), runtime.client("events")
    name = f"listen-{uuid.uuid4().hex[:8]}"
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    bus = runtime.outputs["JobEventsBusName"]
    events.put_rule(Name=name, EventBusName=bus, EventPattern=json.dumps({"source": ["contact-enrichment"]}))
    events.put_targets(Rule=name, EventBusName=bus, Targets=[{"Id": "q", "Arn": arn}])
    got: list[dict[str, Any]] = []

    def received() -> list[dict[str, Any]]:
        got.extend(json.loads(m["Body"]) for m in messages(runtime, queue))
        return got

    yield received
    events.remove_targets(Rule=name, EventBusName=bus, Ids=["q"])
    events.delete_rule(Name=name, EventBusName=bus)
    sqs.delete_queue(QueueUrl=queue)


def test_a_drop_in_an_unknown_vendor_folder_is_rejected_with_its_reason_and_an_event(runtime, bus_listener):
    s3 = runtime.client("s3")
    key = f"inbox/acme/{unique_name('rejected')}"
    s3.put_object(Bucket=runtime.bucket, Key=key, Body=check365_csv(5, seed=90).encode())

    reason_key = f"rejected/{key}.reason.json"
    reason = wait_for(lambda: _read_json(s3, runtime.bucket, reason_key))
    assert "acme" in reason["reason"] and reason["vendor_folder"] == "acme" and reason["key"] == key
    tags = s3.get_object_tagging(Bucket=runtime.bucket, Key=f"rejected/{key}")["TagSet"]
    assert tags[0]["Key"] == "rejected-reason" and "acme" in tags[0]["Value"]
    rejected = wait_for(lambda: [e for e in bus_listener() if e["detail-type"] == "Job Rejected"])
    assert rejected[0]["source"] == "contact-enrichment" and rejected[0]["detail"] == reason
    wait_for(lambda: "Contents" not in s3.list_objects_v2(Bucket=runtime.bucket, Prefix=key))


def test_an_ingest_that_crashes_is_retried_then_recorded_and_can_be_redriven(runtime, check365):
    queue = runtime.outputs["FailedInvocationsQueueUrl"]
    key = f"inbox/check365/{unique_name('crash')}"
    runtime.set_environment("IngestFunction", {"JOBS_TABLE": "no-such-table"})  # DynamoDB refuses every write
    try:
        runtime.client("s3").put_object(Bucket=runtime.bucket, Key=key, Body=check365_csv(5, seed=91).encode())
        record = wait_for(lambda: _record_for(runtime, queue, key))
    finally:
        runtime.set_environment("IngestFunction", {"JOBS_TABLE": runtime.outputs["JobsTableName"]})

    context = record["requestContext"]
    assert context["condition"] == "RetriesExhausted" and context["approximateInvokeCount"] == 3  # 1 + 2 retries
    assert context["functionArn"].split(":")[6] == runtime.function_name("IngestFunction")
    assert record["responseContext"]["functionError"] == "Unhandled"
    assert record["responsePayload"]["errorType"] == "ResourceNotFoundException"
    assert "PutItem operation: Requested resource not found" in record["responsePayload"]["errorMessage"]

    # Redrive, as the README says: invoke the function with the record's requestPayload.
    answer, failed = runtime.invoke("IngestFunction", record["requestPayload"])
    assert not failed, answer
    (job_id,) = answer["job_ids"]
    assert runtime.wait(job_id, timeout=120).status == "SUCCEEDED"


def test_an_event_eventbridge_cannot_deliver_lands_in_the_undelivered_events_queue(runtime):
    events = runtime.client("events")
    queue = runtime.outputs["UndeliveredEventsQueueUrl"]
    dlq = runtime.client("sqs").get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    name = f"enrich-local-gone-{uuid.uuid4().hex[:8]}"
    gone = f"arn:aws:lambda:us-east-1:123456789012:function:{name}"
    events.put_rule(Name=name, EventPattern=json.dumps({"source": [name]}))
    events.put_targets(
        Rule=name,
        Targets=[{"Id": "gone", "Arn": gone, "DeadLetterConfig": {"Arn": dlq["Attributes"]["QueueArn"]}}],
    )
    try:
        events.put_events(Entries=[{"Source": name, "DetailType": "Test", "Detail": json.dumps({"n": 1})}])

        def ours() -> list[dict[str, Any]]:
            return [
                m
                for m in messages(runtime, queue, MessageAttributeNames=["All"])
                if json.loads(m["Body"])["source"] == name
            ]

        (message,) = wait_for(ours)
    finally:
        events.remove_targets(Rule=name, Ids=["gone"])
        events.delete_rule(Name=name)
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes["ERROR_CODE"] == "ResourceNotFoundException" and attributes["TARGET_ARN"] == gone
    assert attributes["RULE_ARN"].endswith(f":rule/{name}")
    assert json.loads(message["Body"])["detail"] == {"n": 1}


def _read_json(s3, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def _record_for(runtime, queue: str, key: str) -> dict[str, Any] | None:
    for message in messages(runtime, queue):
        record = json.loads(message["Body"])
        records = (record.get("requestPayload") or {}).get("Records") or [{}]
        if unquote_plus(records[0].get("s3", {}).get("object", {}).get("key", "")) == key:  # S3 keys come encoded
            return record
    return None
