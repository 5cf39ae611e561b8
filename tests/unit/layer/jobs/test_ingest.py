"""A drop that cannot become a job is moved to rejected/ with its reason and announced; a failure raises."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from enrichment import aws
from enrichment.files.storage import ObjectVersion
from enrichment.jobs.ingest import REJECTED_DETAIL_TYPE, Rejection, ingest_drop, reject_drop, tag_value
from enrichment.settings import Settings


@pytest.fixture
def bus(emulated_aws: Settings) -> Iterator[tuple[Settings, Any]]:
    """The settings with a jobs bus whose events land in a queue (as a consumer would listen), and a reader."""
    name = f"unit-jobs-{uuid.uuid4().hex[:8]}"
    events, sqs = aws.client("events"), aws.client("sqs")
    events.create_event_bus(Name=name)
    queue = sqs.create_queue(QueueName=name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name=name, EventBusName=name, EventPattern=json.dumps({"source": ["contact-enrichment"]}))
    events.put_targets(Rule=name, EventBusName=name, Targets=[{"Id": "queue", "Arn": arn}])

    def received() -> list[dict[str, Any]]:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(m["Body"]) for m in messages]

    yield emulated_aws.model_copy(update={"event_bus": name}), received
    events.remove_targets(Rule=name, EventBusName=name, Ids=["queue"])
    events.delete_rule(Name=name, EventBusName=name)
    events.delete_event_bus(Name=name)
    sqs.delete_queue(QueueUrl=queue)


def drop(settings: Settings, key: str, metadata: dict[str, str] | None = None) -> str:
    answer = aws.client("s3").put_object(
        Bucket=settings.data_bucket, Key=key, Body=b"email\na@b.co\n", Metadata=metadata or {}
    )
    return answer["ETag"]


def keys(settings: Settings) -> set[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=settings.data_bucket).get("Contents", [])
    return {o["Key"] for o in listed}


def test_an_unknown_vendor_folder_is_moved_to_rejected_with_its_reason_and_announced(bus):
    settings, received = bus
    key = "inbox/acme/contacts.csv"
    etag = drop(settings, key)

    outcome = ingest_drop(ObjectVersion(settings.data_bucket, key), etag, "AWS:AIDAEXAMPLE", settings)

    assert isinstance(outcome, Rejection)
    assert "acme" in outcome.reason and outcome.vendor_folder == "acme" and outcome.principal == "AWS:AIDAEXAMPLE"
    assert keys(settings) == {"rejected/inbox/acme/contacts.csv", "rejected/inbox/acme/contacts.csv.reason.json"}
    s3 = aws.client("s3")
    moved = s3.get_object(Bucket=settings.data_bucket, Key=outcome.rejected_key)["Body"].read()
    assert moved == b"email\na@b.co\n"
    tags = s3.get_object_tagging(Bucket=settings.data_bucket, Key=outcome.rejected_key)["TagSet"]
    assert tags == [{"Key": "rejected-reason", "Value": tag_value(outcome.reason)}]
    reason = json.loads(s3.get_object(Bucket=settings.data_bucket, Key=outcome.reason_key)["Body"].read())
    assert reason["reason"] == outcome.reason and reason["key"] == key
    (event,) = received()
    assert event["detail-type"] == REJECTED_DETAIL_TYPE and event["source"] == "contact-enrichment"
    assert event["detail"] == json.loads(outcome.model_dump_json())


def test_a_file_outside_a_vendor_folder_is_rejected(bus):
    settings, received = bus
    etag = drop(settings, "inbox/contacts.csv")
    outcome = ingest_drop(ObjectVersion(settings.data_bucket, "inbox/contacts.csv"), etag, None, settings)
    assert isinstance(outcome, Rejection) and outcome.vendor_folder is None
    assert "is not under inbox/<vendor>/" in outcome.reason
    assert received()[0]["detail"]["key"] == "inbox/contacts.csv"


def test_options_the_vendor_does_not_take_are_rejected_naming_them(bus):
    settings, received = bus
    key = "inbox/pubrio/contacts.csv"
    etag = drop(settings, key, {"option-enrich-mobile": "true", "option-colour": "red"})
    outcome = ingest_drop(ObjectVersion(settings.data_bucket, key), etag, None, settings)
    assert isinstance(outcome, Rejection) and outcome.vendor_folder == "pubrio"
    assert "colour: unknown option; pubrio takes" in outcome.reason and "enrich_mobile" in outcome.reason
    assert "inbox/pubrio/contacts.csv" not in keys(settings)
    assert len(received()) == 1


def test_a_repeated_event_rejects_once(bus):
    settings, received = bus
    key = "inbox/acme/twice.csv"
    etag = drop(settings, key)
    first = ingest_drop(ObjectVersion(settings.data_bucket, key), etag, None, settings)
    second = ingest_drop(ObjectVersion(settings.data_bucket, key), etag, None, settings)
    assert first == second
    assert len(received()) == 1


def test_a_rejection_that_cannot_be_announced_raises_and_keeps_the_drop(emulated_aws):
    """The bus is missing: the invocation fails (to be retried, then recorded in the on-failure destination) and
    the dropped object stays, so the retry does it all again."""
    settings = emulated_aws.model_copy(update={"event_bus": "no-such-bus"})
    key = "inbox/acme/kept.csv"
    drop(settings, key)
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever the bus answers, it is not swallowed
        reject_drop(ObjectVersion(settings.data_bucket, key), "acme is not a vendor", None, settings)
    assert key in keys(settings)


@pytest.mark.parametrize(
    ("reason", "tag"),
    [
        ("unknown vendor 'acme'; known: pubrio", "unknown vendor  acme   known: pubrio"),
        ("x" * 300, "x" * 256),
    ],
)
def test_a_reason_becomes_a_valid_tag_value(reason, tag):
    assert tag_value(reason) == tag


def test_each_event_of_a_key_put_twice_handles_the_version_it_names(bus):
    """A versioned bucket's events name the version put: the first event's drop is the first put's object, even
    when a second put replaced it before the event arrived; its version is deleted for good, the second stays."""
    settings, _ = bus
    s3 = aws.client("s3")
    bucket = f"unit-versioned-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    key = "inbox/acme/twice.csv"
    try:
        first = s3.put_object(Bucket=bucket, Key=key, Body=b"email\nfirst@b.co\n")["VersionId"]
        second = s3.put_object(Bucket=bucket, Key=key, Body=b"email\nsecond@b.co\n")["VersionId"]
        versioned = settings.model_copy(update={"data_bucket": bucket})
        outcome = reject_drop(ObjectVersion(bucket, key, first), "acme is not a vendor", None, versioned)

        assert s3.get_object(Bucket=bucket, Key=outcome.rejected_key)["Body"].read() == b"email\nfirst@b.co\n"
        kept = s3.list_object_versions(Bucket=bucket, Prefix=key)
        assert {v["VersionId"] for v in kept["Versions"] if v["Key"] == key} == {second}
        assert not kept.get("DeleteMarkers"), "a version deleted by its id is gone, no delete marker left"
    finally:
        listed = s3.list_object_versions(Bucket=bucket)
        for version in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
            s3.delete_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
        s3.delete_bucket(Bucket=bucket)
