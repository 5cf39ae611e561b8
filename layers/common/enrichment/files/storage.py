"""S3 access: small JSON documents, streamed input files, files out streamed in multipart uploads, many small
objects written by a few threads."""

from __future__ import annotations

import contextlib
import functools
import io
import json
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import IO, Any, NamedTuple

from enrichment.aws import client
from enrichment.files.layout import retention_tag


def _tagging(key: str) -> dict[str, str]:
    """The object's retention tag (files.layout.retention_tag), as a PutObject/CreateMultipartUpload argument."""
    tag = retention_tag(key)
    return {"Tagging": tag} if tag else {}


def put_json(bucket: str, key: str, document: Any) -> None:
    client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(document, separators=(",", ":")).encode(),
        ContentType="application/json",
        **_tagging(key),
    )


def put_text(bucket: str, key: str, text: str, content_type: str) -> None:
    client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType=content_type, **_tagging(key))


def get_json(bucket: str, key: str) -> Any:
    return json.loads(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def get_json_if_any(bucket: str, key: str) -> Any | None:
    """The document, or None when there is none (one GET either way, no HEAD first)."""
    s3 = client("s3")
    try:
        return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    except s3.exceptions.NoSuchKey:
        return None


def exists(bucket: str, key: str) -> bool:
    s3 = client("s3")
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in MISSING_CODES:
            return False
        raise
    return True


class ObjectVersion(NamedTuple):
    """An object as its S3 event names it. In a versioned bucket the event names the version that was put, so a
    key put twice in a row (other options, other content) is read, copied and deleted as each put left it."""

    bucket: str
    key: str
    version_id: str | None = None

    def version(self) -> dict[str, str]:
        """The VersionId argument of a HEAD, GET or DELETE (a DELETE of a version removes it for good)."""
        return {"VersionId": self.version_id} if self.version_id else {}

    def copy_source(self) -> dict[str, str]:
        return {"Bucket": self.bucket, "Key": self.key} | self.version()


MISSING_CODES = ("404", "NoSuchKey", "NotFound", "NoSuchVersion")


class S3Object:
    """An input file in S3, read as a stream from its start, or with seeking (a zip archive such as .xlsx keeps
    its table of contents at its end) through ranged GETs, so neither way holds the file in memory or on disk."""

    RANGE_BYTES = 1 << 20  # one GET per this many bytes when seeking

    def __init__(self, bucket: str, key: str) -> None:
        self.bucket = bucket
        self.key = key

    @functools.cached_property
    def size(self) -> int:
        return client("s3").head_object(Bucket=self.bucket, Key=self.key)["ContentLength"]

    def stream(self) -> IO[bytes]:
        return client("s3").get_object(Bucket=self.bucket, Key=self.key)["Body"]

    def seekable(self) -> IO[bytes]:
        return io.BufferedReader(_RangeReader(self), buffer_size=self.RANGE_BYTES)


class _RangeReader(io.RawIOBase):
    def __init__(self, obj: S3Object) -> None:
        self._obj = obj
        self._position = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        start = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._obj.size}[whence]
        self._position = max(0, start + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        end = min(self._position + len(buffer), self._obj.size)
        if end <= self._position:
            return 0
        answer = client("s3").get_object(
            Bucket=self._obj.bucket, Key=self._obj.key, Range=f"bytes={self._position}-{end - 1}"
        )
        data = answer["Body"].read()
        buffer[: len(data)] = data
        self._position += len(data)
        return len(data)


PART_BYTES = 8 << 20  # a multipart upload's part (S3 takes 5 MiB to 5 GiB; at most 10,000 parts: 80 GiB)


class _MultipartWriter:
    """Text written goes to S3 as UTF-8 in parts of `part_bytes` as it comes; a file that never fills a part is
    one PUT. Memory: the part being filled, handed to the request as it is (BytesIO.getvalue() gives its buffer
    away rather than copying it). Lines end as written, never translated."""

    def __init__(self, bucket: str, key: str, content_type: str, part_bytes: int) -> None:
        self.bucket, self.key, self.content_type, self.part_bytes = bucket, key, content_type, part_bytes
        self._buffer = io.BytesIO()
        self._upload_id: str | None = None
        self._parts: list[dict[str, Any]] = []

    def write(self, text: str) -> int:
        self._buffer.write(text.encode())
        if self._buffer.tell() >= self.part_bytes:
            self._send_part()
        return len(text)

    def _take(self) -> bytes:
        body = self._buffer.getvalue()
        self._buffer = io.BytesIO()
        return body

    def _send_part(self) -> None:
        s3 = client("s3")
        if self._upload_id is None:
            created = s3.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type, **_tagging(self.key)
            )
            self._upload_id = created["UploadId"]
        number = len(self._parts) + 1
        sent = s3.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, PartNumber=number, Body=self._take()
        )
        self._parts.append({"PartNumber": number, "ETag": sent["ETag"]})

    def complete(self) -> None:
        s3 = client("s3")
        if self._upload_id is None:
            s3.put_object(
                Bucket=self.bucket, Key=self.key, Body=self._take(), ContentType=self.content_type, **_tagging(self.key)
            )
            return
        if self._buffer.tell():
            self._send_part()  # the last part may be smaller than the others
        s3.complete_multipart_upload(
            Bucket=self.bucket, Key=self.key, UploadId=self._upload_id, MultipartUpload={"Parts": self._parts}
        )

    def abort(self) -> None:
        self._buffer = io.BytesIO()
        if self._upload_id is not None:
            client("s3").abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=self._upload_id)


@contextmanager
def streamed_upload(bucket: str, key: str, content_type: str, *, part_bytes: int = PART_BYTES) -> Iterator[IO[str]]:
    """A UTF-8 text file written straight to S3 (a multipart upload in parts of `part_bytes`; a single PUT when
    it stays under one part), nothing spooled to disk. The object appears when the block ends without error; on
    an error the upload is aborted (S3 deletes its parts) and the error raised."""
    writer = _MultipartWriter(bucket, key, content_type, part_bytes)
    try:
        yield writer  # type: ignore[misc]
        writer.complete()
    except BaseException:
        # The first error is the one to report: an abort that fails too leaves parts for the bucket's
        # AbortIncompleteMultipartUpload rule.
        with contextlib.suppress(Exception):
            writer.abort()
        raise


class ParallelPuts:
    """JSON documents put by a few threads while the caller goes on producing them. At most `pending` wait for a
    thread (the caller waits for room), so memory stays flat whatever the count. The first failure is raised to
    the caller at its next put, or when the block ends."""

    def __init__(self, bucket: str, *, threads: int = 8, pending: int = 16) -> None:
        self.bucket = bucket
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="put")
        self._room = threading.BoundedSemaphore(pending)
        self._failures: list[BaseException] = []

    def put(self, key: str, document: Any) -> None:
        if self._failures:
            raise self._failures[0]
        self._room.acquire()
        future = self._pool.submit(put_json, self.bucket, key, document)
        future.add_done_callback(self._done)

    def _done(self, future: Future[None]) -> None:
        self._room.release()
        if (failure := future.exception()) is not None:
            self._failures.append(failure)

    def __enter__(self) -> ParallelPuts:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=kind is not None)
        if kind is None and self._failures:
            raise self._failures[0]


def list_keys(bucket: str, prefix: str) -> Iterator[str]:
    """Every key under `prefix`, in key order, a page (1,000 keys) a request."""
    for page in client("s3").get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for found in page.get("Contents", []):
            yield found["Key"]


def get_bytes(bucket: str, key: str) -> bytes:
    return client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def iter_lines(bucket: str, key: str) -> Iterator[bytes]:
    """A text object we wrote, streamed a line at a time (line ends removed)."""
    yield from client("s3").get_object(Bucket=bucket, Key=key)["Body"].iter_lines(chunk_size=1 << 20)


def iter_jsonl(bucket: str, key: str) -> Iterator[dict[str, Any]]:
    """A JSON Lines object we wrote, streamed (json.dumps escapes every line break inside a record)."""
    for line in iter_lines(bucket, key):
        if line.strip():
            yield json.loads(line)


DELETE_BATCH = 1000  # DeleteObjects takes at most 1,000 keys a request


class DeleteFailed(RuntimeError):
    """S3 refused to delete some keys (its answer lists them)."""


def delete_keys(bucket: str, keys: Iterator[str] | list[str]) -> int:
    """Delete `keys`, 1,000 a request; a key that is not there counts as deleted (S3 says so too). Returns how
    many were asked for; raises DeleteFailed naming the first key S3 refused, after every batch was tried."""
    s3 = client("s3")
    batch: list[str] = []
    asked = 0
    refused: list[dict[str, Any]] = []

    def send() -> None:
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in batch], "Quiet": True})
        refused.extend(answer.get("Errors", []))
        batch.clear()

    for key in keys:
        batch.append(key)
        asked += 1
        if len(batch) == DELETE_BATCH:
            send()
    if batch:
        send()
    if refused:
        first = refused[0]
        raise DeleteFailed(f"{len(refused)} of {asked} keys not deleted, e.g. {first.get('Key')}: {first.get('Code')}")
    return asked
