"""The S3 drop: a CSV put under inbox/<vendor>/ becomes a job, with its options from the object's metadata."""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from enrichment.aws import client
from enrichment.jobs.access import s3_owner
from enrichment.jobs.service import start_job
from enrichment.models import Job
from enrichment.settings import Settings
from enrichment.vendors import UnsupportedVendor, supported_vendor

INBOX_PREFIX = "inbox/"
OPTION_METADATA_PREFIX = "option-"


def job_id_for(*parts: str) -> str:
    """A deterministic id, so the same request (or the same S3 object seen twice) is one job."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"job-{digest[:24]}"


def s3_job_id(bucket: str, key: str, etag: str, options: dict[str, Any]) -> str:
    """The same object dropped twice with the same options is one job; other options make another job."""
    return job_id_for("s3", bucket, key, etag.strip('"'), json.dumps(options, sort_keys=True))


def options_from_metadata(metadata: dict[str, str]) -> dict[str, Any]:
    """Options given as object metadata: `x-amz-meta-option-enrich-mobile: true` -> {"enrich_mobile": True}.

    Values are read as JSON when they parse (true, 12, ["phone"]), else as text ("email-work,phone"): the options
    models take a list option's comma string as the API does (enrichment.option_types).
    """
    options: dict[str, Any] = {}
    for name, raw in metadata.items():
        if not name.lower().startswith(OPTION_METADATA_PREFIX):
            continue
        key = re.sub(r"[^a-z0-9]+", "_", name.lower().removeprefix(OPTION_METADATA_PREFIX)).strip("_")
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    return options


class JobRejected(ValueError):
    """The request names no usable vendor: no job is created."""


def start_job_from_s3(bucket: str, key: str, etag: str, settings: Settings, *, dropped_by: str | None) -> Job:
    """A CSV under inbox/<vendor>/ becomes a job; the same object (key, content and options) dropped twice is
    one job. `dropped_by` is the event record's userIdentity.principalId (`AWS:AIDA...`): the job's owner."""
    parts = key.removeprefix(INBOX_PREFIX).split("/")
    if not key.startswith(INBOX_PREFIX) or len(parts) < 2:
        raise JobRejected(f"{key!r} is not under inbox/<vendor>/")
    try:
        vendor = supported_vendor(parts[0].lower())
    except UnsupportedVendor as exc:
        raise JobRejected(str(exc)) from None
    head = client("s3").head_object(Bucket=bucket, Key=key)
    options = options_from_metadata(head.get("Metadata", {}))
    return start_job(
        job_id=s3_job_id(bucket, key, etag, options),
        vendor=vendor,
        options=options,
        source=f"s3://{bucket}/{key}",
        owner=s3_owner(dropped_by),
        settings=settings,
        copy_from=(bucket, key),
    )
