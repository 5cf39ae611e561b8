"""Local runs that remember: the stack's data kept in a folder between commands (README "Local state").

moto keeps everything in memory, and its own persistence does not fit (its server's state is the whole process's,
secrets and executions included), so the local runtime saves what a later command needs when it stops and puts it
back when it starts, after deploying the template (the deploy stays the same, from nothing, every time):
- every DynamoDB table of the stack, item by item (the jobs table: jobs, send ledgers, observed match rates,
  pacing; the result cache; idempotency records), less the items whose TTL has passed (DynamoDB deletes those);
- the data bucket's objects (current versions, with their metadata): inputs, each job's outputs, uploads.
Not kept: Secrets Manager (the deploy generates its secrets again and the runtime puts the simulators' keys in them;
no secret is ever written to the folder), Step Functions executions (a job left running when the runtime stopped
stays as it was: the sweeper settles it), metrics and logs, the simulators (each command starts a fresh vendor
account).

The folder holds `current` (the name of the last complete snapshot) and that snapshot's folder. A save writes a new
snapshot, then replaces `current` at once (a temporary file renamed over it), then removes older snapshots: a
process killed mid-save leaves the last complete snapshot in place.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import boto3

from localrt.deploy import REGION

FORMAT = 1  # a snapshot of another format is not read (and is replaced by the next save)
POINTER = "current"


def _encode(value: Any) -> Any:
    """A DynamoDB attribute value as JSON (binary values in base64)."""
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, (bytes, bytearray)):
        return {"__b64__": base64.b64encode(bytes(value)).decode()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"__b64__"}:
            return base64.b64decode(value["__b64__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


class LocalState:
    """The stack's data in `folder` (one stack per folder: its tables and data bucket, by name)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _client(self, service: str) -> Any:
        return boto3.client(service, region_name=REGION)

    def snapshot(self) -> Path | None:
        """The last complete snapshot's folder, if any of this format."""
        try:
            name = (self.folder / POINTER).read_text().strip()
        except FileNotFoundError:
            return None
        snapshot = self.folder / name
        try:
            manifest = json.loads((snapshot / "manifest.json").read_text())
        except (FileNotFoundError, ValueError):
            return None
        return snapshot if manifest.get("format") == FORMAT else None

    # ---- save ----

    def save(self, bucket: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = f"snapshot-{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}"
        snapshot = self.folder / name
        (snapshot / "objects").mkdir(parents=True)
        tables = self._save_tables(snapshot)
        objects = self._save_objects(snapshot, bucket)
        manifest = {"format": FORMAT, "saved_at": time.time(), "tables": tables, "bucket": bucket, "objects": objects}
        (snapshot / "manifest.json").write_text(json.dumps(manifest))
        pointer = self.folder / f".{POINTER}-{uuid.uuid4().hex[:8]}"
        pointer.write_text(name + "\n")
        os.replace(pointer, self.folder / POINTER)
        for old in self.folder.iterdir():
            if old.is_dir() and old.name.startswith("snapshot-") and old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        return snapshot

    def _save_tables(self, snapshot: Path) -> dict[str, int]:
        ddb = self._client("dynamodb")
        now = time.time()
        counts: dict[str, int] = {}
        for table in ddb.get_paginator("list_tables").paginate():
            for name in table["TableNames"]:
                ttl = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
                ttl_attribute = ttl.get("AttributeName") if ttl.get("TimeToLiveStatus") == "ENABLED" else None
                items = []
                for page in ddb.get_paginator("scan").paginate(TableName=name, ConsistentRead=True):
                    for item in page["Items"]:
                        expires = item.get(ttl_attribute or "", {}).get("N")
                        if expires is not None and float(expires) < now:
                            continue  # expired: DynamoDB's TTL deletes it (moto never does)
                        items.append(_encode(item))
                (snapshot / f"table-{name}.json").write_text(json.dumps(items))
                counts[name] = len(items)
        return counts

    def _save_objects(self, snapshot: Path, bucket: str) -> list[dict[str, Any]]:
        s3 = self._client("s3")
        objects = []
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for entry in page.get("Contents", []):
                key = entry["Key"]
                answer = s3.get_object(Bucket=bucket, Key=key)
                file_name = hashlib.sha256(key.encode()).hexdigest()
                with open(snapshot / "objects" / file_name, "wb") as out:
                    shutil.copyfileobj(answer["Body"], out)
                objects.append(
                    {
                        "key": key,
                        "file": file_name,
                        "metadata": answer.get("Metadata", {}),
                        "content_type": answer.get("ContentType", "binary/octet-stream"),
                    }
                )
        return objects

    # ---- restore ----

    def restore(self, bucket: str) -> dict[str, int]:
        """Put the last snapshot back into the freshly deployed stack: {table or "objects": how many}. Tables the
        template no longer has are left out; the bucket's notifications are held meanwhile, so restored inputs
        start no job."""
        snapshot = self.snapshot()
        if snapshot is None:
            return {}
        manifest = json.loads((snapshot / "manifest.json").read_text())
        ddb = self._client("dynamodb")
        existing = {name for page in ddb.get_paginator("list_tables").paginate() for name in page["TableNames"]}
        restored: dict[str, int] = {}
        for name in manifest["tables"]:
            if name not in existing:
                continue
            items = [_decode(item) for item in json.loads((snapshot / f"table-{name}.json").read_text())]
            for start in range(0, len(items), 25):
                requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
                while requests:
                    answer = ddb.batch_write_item(RequestItems={name: requests})
                    requests = answer.get("UnprocessedItems", {}).get(name, [])
            restored[name] = len(items)
        restored["objects"] = self._restore_objects(snapshot, manifest["objects"], bucket)
        return restored

    def _restore_objects(self, snapshot: Path, objects: list[dict[str, Any]], bucket: str) -> int:
        s3 = self._client("s3")
        notifications = s3.get_bucket_notification_configuration(Bucket=bucket)
        notifications.pop("ResponseMetadata", None)
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
        try:
            for entry in objects:
                with open(snapshot / "objects" / entry["file"], "rb") as body:
                    s3.put_object(
                        Bucket=bucket,
                        Key=entry["key"],
                        Body=body,
                        Metadata=entry["metadata"],
                        ContentType=entry["content_type"],
                    )
        finally:
            s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=notifications)
        return len(objects)
