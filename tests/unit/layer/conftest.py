"""Emulated AWS in this process (moto) for the layer's S3 and DynamoDB code: the data bucket and the jobs table as
the template defines it, and a count of the S3 requests the layer's own client sends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import boto3
import pytest

from enrichment import aws
from enrichment.files import layout
from enrichment.jobs.store import JobStore, now_iso
from enrichment.models import Job, Vendor
from enrichment.settings import Settings
from localrt.template import jobs_table
from tests.conftest import moto_in_process

# Named for this test process: moto's backends are shared with any local runtime the process started.
BUCKET = f"unit-data-{uuid.uuid4().hex[:12]}"
JOBS_TABLE = f"unit-jobs-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def emulated_aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Settings of a stack whose bucket and jobs table are emulated in this process."""
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)  # a local runtime started earlier would set it
    for name, value in {
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_SESSION_TOKEN": "test",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with moto_in_process():
        aws.reset_clients()
        s3, dynamodb = boto3.client("s3"), boto3.client("dynamodb")
        s3.create_bucket(Bucket=BUCKET)
        dynamodb.create_table(**jobs_table(JOBS_TABLE))
        try:
            yield Settings(
                data_bucket=BUCKET,
                jobs_table=JOBS_TABLE,
                idempotency_table="idempotency",
                vendor_functions={v.value: f"arn:aws:lambda:us-east-1:123456789012:function:{v.value}" for v in Vendor},
            )
        finally:
            for upload in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []):
                s3.abort_multipart_upload(Bucket=BUCKET, Key=upload["Key"], UploadId=upload["UploadId"])
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
                for listed in page.get("Contents", []):
                    s3.delete_object(Bucket=BUCKET, Key=listed["Key"])
            s3.delete_bucket(Bucket=BUCKET)
            dynamodb.delete_table(TableName=JOBS_TABLE)
    aws.reset_clients()


def new_job(settings: Settings, vendor: Vendor, content: str | bytes, job_id: str = "job-1", **fields: Any) -> Job:
    """A PENDING job whose input is `content`, as the API or an S3 drop creates it."""
    job = Job(
        job_id=job_id,
        vendor=vendor,
        input_key=layout.input_key(job_id),
        output_prefix=layout.output_prefix(job_id),
        created_at=now_iso(),
        **fields,
    )
    body = content.encode() if isinstance(content, str) else content
    aws.client("s3").put_object(Bucket=settings.data_bucket, Key=job.input_key, Body=body)
    assert JobStore(settings.jobs_table).create(job)
    return job


@dataclass
class S3Requests:
    """Each HTTP request the layer's S3 client sends (retries included): (operation, key)."""

    sent: list[tuple[str, str]] = field(default_factory=list)

    def __call__(self, request: Any, operation_name: str, **kwargs: Any) -> None:
        path = unquote(urlsplit(request.url).path).lstrip("/")  # virtual-hosted: the bucket is in the host
        self.sent.append((operation_name, path.removeprefix(f"{BUCKET}/")))

    def of(self, operation: str) -> list[str]:
        return [key for op, key in self.sent if op == operation]


@pytest.fixture
def s3_requests(emulated_aws: Settings) -> Iterator[S3Requests]:
    requests = S3Requests()
    events = aws.client("s3").meta.events
    events.register("request-created.s3", requests)
    yield requests
    events.unregister("request-created.s3", requests)
