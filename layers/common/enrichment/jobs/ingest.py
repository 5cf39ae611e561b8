"""The S3 drop: a CSV put under inbox/<vendor>/ becomes a job, with its options from the object's metadata.

A CSV put under inbox/steps/ becomes a job of steps: its metadata `steps` names them (vendor names in order, or
the JSON of a steps list) or `recipe` names a recipe in the data bucket (jobs/steps.py); options with a vendor's
prefix (`option-prospeo.enrich-mobile`) are that step's, the others the job's.

A drop that cannot become a job (no vendor folder, an unknown vendor, options the vendor does not take) is
rejected where a person finds it: the object moves to `rejected/<its key>`, tagged with the reason, next to
`rejected/<its key>.reason.json`, and a `Job Rejected` event goes on the jobs bus. Anything else (S3 or DynamoDB
failing, a crash) raises, so the Lambda service retries the drop and then sends it to the on-failure destination.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any
from urllib.parse import urlencode

from enrichment.aws import client
from enrichment.errors import BadInput
from enrichment.files.storage import MISSING_CODES, ObjectVersion
from enrichment.jobs.access import s3_owner
from enrichment.jobs.events import SOURCE
from enrichment.jobs.service import start_job
from enrichment.jobs.steps import STEP_OPTION_SEPARATOR, job_steps, steps_from_text
from enrichment.jobs.store import now_iso
from enrichment.models import Job, JobStep, Model
from enrichment.options import InvalidOptions, parse_options
from enrichment.settings import Settings
from enrichment.vendors import UnsupportedVendor, supported_vendor

INBOX_PREFIX = "inbox/"
REJECTED_PREFIX = "rejected/"
REASON_SUFFIX = ".reason.json"
REASON_TAG = "rejected-reason"
REJECTED_DETAIL_TYPE = "Job Rejected"
OPTION_METADATA_PREFIX = "option-"
STEPS_FOLDER = "steps"  # inbox/steps/: a job of steps, named by the metadata below
STEPS_METADATA = "steps"
RECIPE_METADATA = "recipe"
_TAG_VALUE_LENGTH = 256  # S3's limit for a tag value


def job_id_for(*parts: str) -> str:
    """A deterministic id, so the same request (or the same S3 object seen twice) is one job."""
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()
    return f"job-{digest[:24]}"


def s3_job_id(bucket: str, key: str, etag: str, options: dict[str, Any]) -> str:
    """The same object dropped twice with the same options is one job; other options make another job."""
    return job_id_for("s3", bucket, key, etag.strip('"'), json.dumps(options, sort_keys=True))


def options_from_metadata(metadata: dict[str, str]) -> dict[str, Any]:
    """Options given as object metadata: `x-amz-meta-option-enrich-mobile: true` -> {"enrich_mobile": True}, and a
    step's, `x-amz-meta-option-prospeo.enrich-mobile: true` -> {"prospeo.enrich_mobile": True}.

    Values are read as JSON when they parse (true, 12, ["phone"]), else as text ("email-work,phone"): the options
    models take a list option's comma string as the API does (enrichment.option_types).
    """
    options: dict[str, Any] = {}
    for name, raw in metadata.items():
        if not name.lower().startswith(OPTION_METADATA_PREFIX):
            continue
        parts = name.lower().removeprefix(OPTION_METADATA_PREFIX).split(STEP_OPTION_SEPARATOR, 1)
        key = STEP_OPTION_SEPARATOR.join(re.sub(r"[^a-z0-9]+", "_", part).strip("_") for part in parts)
        try:
            options[key] = json.loads(raw)
        except ValueError:
            options[key] = raw
    return options


def drop_request(metadata: dict[str, str]) -> dict[str, Any]:
    """What the drop's metadata asks for, as its job id is made of: its options, and its steps or recipe if given
    (a drop of one vendor: its options alone, as ever)."""
    options = options_from_metadata(metadata)
    named = {what: metadata[what].strip() for what in (STEPS_METADATA, RECIPE_METADATA) if what in metadata}
    return {"options": options, **named} if named else options


class JobRejected(ValueError):
    """The drop cannot become a job (no usable vendor, options the vendor does not take): no job is created."""


class Rejection(Model):
    """A drop that did not become a job: where it went and why. Also the `Job Rejected` event's detail."""

    bucket: str
    key: str  # the dropped object's key
    vendor_folder: str | None  # the folder under inbox/ it was dropped in, if any
    reason: str
    principal: str | None  # who dropped it (the S3 event's userIdentity.principalId)
    rejected_key: str  # where the object now is
    reason_key: str  # the reason as JSON, next to it
    rejected_at: str


def vendor_folder(key: str) -> str | None:
    parts = key.removeprefix(INBOX_PREFIX).split("/")
    return parts[0] if key.startswith(INBOX_PREFIX) and len(parts) >= 2 else None


def start_job_from_s3(drop: ObjectVersion, etag: str, settings: Settings, *, dropped_by: str | None) -> Job:
    """A CSV under inbox/<vendor>/ (or inbox/steps/) becomes a job; the same object (key, content and metadata)
    dropped twice is one job; JobRejected when it cannot become one. `dropped_by` is the event record's
    userIdentity.principalId (`AWS:AIDA...`): the job's owner."""
    folder = vendor_folder(drop.key)
    if folder is None:
        raise JobRejected(f"{drop.key!r} is not under inbox/<vendor>/ (or inbox/{STEPS_FOLDER}/ for a job of steps)")
    of_steps = folder.lower() == STEPS_FOLDER
    if not of_steps:
        try:
            vendor = supported_vendor(folder.lower())
        except UnsupportedVendor as exc:
            raise JobRejected(f"{exc} (or {STEPS_FOLDER}, for a job of steps)") from None
    head = client("s3").head_object(Bucket=drop.bucket, Key=drop.key, **drop.version())
    metadata = {name.lower(): value for name, value in head.get("Metadata", {}).items()}
    options = options_from_metadata(metadata)
    steps: list[JobStep] = []
    if of_steps:
        try:
            steps, options = steps_of_drop(metadata, options, drop.bucket)
        except BadInput as exc:
            raise JobRejected(f"{exc} (object metadata)") from None
        vendor = steps[0].vendor
    elif named := sorted({STEPS_METADATA, RECIPE_METADATA} & set(metadata)):
        raise JobRejected(f"metadata {' and '.join(named)}: a job of steps is dropped under inbox/{STEPS_FOLDER}/")
    else:
        try:
            parse_options(vendor, options)
        except InvalidOptions as exc:
            raise JobRejected(f"{exc} (object metadata option-*)") from None
    return start_job(
        job_id=s3_job_id(drop.bucket, drop.key, etag, drop_request(metadata)),
        vendor=vendor,
        options=options,
        source=f"s3://{drop.bucket}/{drop.key}",
        owner=s3_owner(dropped_by),
        settings=settings,
        copy_from=drop,
        steps=steps or None,
    )


def steps_of_drop(metadata: dict[str, str], options: dict[str, Any], bucket: str) -> tuple[list[JobStep], dict]:
    """A drop's steps, checked (options.parse_steps), and the job's own options: from its `steps` metadata, or
    from the recipe `recipe` names (whose job options the metadata's override). BadInput says what is wrong."""
    steps_text, recipe_name = metadata.get(STEPS_METADATA), metadata.get(RECIPE_METADATA)
    if steps_text is not None and recipe_name is not None:
        raise BadInput(f"give {STEPS_METADATA} or {RECIPE_METADATA}, not both")
    if steps_text is None and recipe_name is None:
        raise BadInput(
            f"a drop under inbox/{STEPS_FOLDER}/ names its steps: metadata {STEPS_METADATA} (vendor names in order, "
            f"like 'pubrio prospeo check365', or a JSON list of steps) or {RECIPE_METADATA} (a recipe's name)"
        )
    given = steps_from_text(steps_text) if steps_text is not None else None
    return job_steps(given, recipe_name.strip() if recipe_name is not None else None, options, bucket)


def is_folder_marker(key: str) -> bool:
    """The empty object the S3 console makes for "Create folder" (`inbox/pubrio/`): not a drop."""
    return key.endswith("/")


def ingest_drop(drop: ObjectVersion, etag: str, principal: str | None, settings: Settings) -> Job | Rejection:
    """The drop becomes a job, or is rejected with its reason (see the module's docstring)."""
    try:
        return start_job_from_s3(drop, etag, settings, dropped_by=principal)
    except JobRejected as exc:
        return reject_drop(drop, str(exc), principal, settings)


def reject_drop(drop: ObjectVersion, reason: str, principal: str | None, settings: Settings) -> Rejection:
    """Move the object to rejected/<key> tagged with the reason, write the reason next to it, announce it.

    Safe to repeat (S3 delivers an event at least once, and a failed invocation is retried): the original is
    deleted last, and a drop already moved is answered from its reason file without a second event."""
    s3 = client("s3")
    bucket, key = drop.bucket, drop.key
    rejection = Rejection(
        bucket=bucket,
        key=key,
        vendor_folder=vendor_folder(key),
        reason=reason,
        principal=principal,
        rejected_key=REJECTED_PREFIX + key,
        reason_key=REJECTED_PREFIX + key + REASON_SUFFIX,
        rejected_at=now_iso(),
    )
    try:
        s3.copy_object(
            Bucket=bucket,
            Key=rejection.rejected_key,
            CopySource=drop.copy_source(),
            TaggingDirective="REPLACE",
            Tagging=urlencode({REASON_TAG: tag_value(reason)}),
        )
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in MISSING_CODES:
            raise
        return Rejection.model_validate_json(s3.get_object(Bucket=bucket, Key=rejection.reason_key)["Body"].read())
    s3.put_object(
        Bucket=bucket,
        Key=rejection.reason_key,
        Body=rejection.model_dump_json(indent=2).encode(),
        ContentType="application/json",
    )
    announce_rejection(rejection, settings)
    s3.delete_object(Bucket=bucket, Key=key, **drop.version())  # last: until then a retry does it all again
    return rejection


def tag_value(text: str) -> str:
    """The reason in the characters an S3 tag value takes (letters, digits, spaces, _ . : / = + - @), cut to fit."""
    return re.sub(r"[^\w\s.:/=+\-@]", " ", text)[:_TAG_VALUE_LENGTH]


def announce_rejection(rejection: Rejection, settings: Settings) -> None:
    """Put `Job Rejected` on the jobs bus. Raises if the bus refuses it: the invocation is retried, then recorded
    in the on-failure destination (the object is already under rejected/ with its reason)."""
    if not settings.event_bus:
        return
    answer = client("events").put_events(
        Entries=[
            {
                "Source": SOURCE,
                "DetailType": REJECTED_DETAIL_TYPE,
                "Detail": rejection.model_dump_json(),
                "EventBusName": settings.event_bus,
            }
        ]
    )
    if answer.get("FailedEntryCount"):
        raise RuntimeError(f"Job Rejected event not accepted: {json.dumps(answer.get('Entries'))[:300]}")
