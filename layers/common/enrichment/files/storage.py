"""S3 access: small JSON documents, streamed input files, spooled files out."""

from __future__ import annotations

import codecs
import functools
import io
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

from enrichment.aws import client


def put_json(bucket: str, key: str, document: Any) -> None:
    client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=json.dumps(document, separators=(",", ":")).encode(),
        ContentType="application/json",
    )


def put_text(bucket: str, key: str, text: str, content_type: str) -> None:
    client("s3").put_object(Bucket=bucket, Key=key, Body=text.encode(), ContentType=content_type)


def get_json(bucket: str, key: str) -> Any:
    return json.loads(client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


def exists(bucket: str, key: str) -> bool:
    s3 = client("s3")
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except s3.exceptions.ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


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


@contextmanager
def spooled_upload(bucket: str, key: str, content_type: str) -> Iterator[IO[str]]:
    """A text file written locally (memory, then /tmp) and uploaded when the block ends without error."""
    with tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+b") as raw:
        text = codecs.getwriter("utf-8")(raw)
        yield text  # type: ignore[misc]
        raw.seek(0)
        client("s3").upload_fileobj(raw, bucket, key, ExtraArgs={"ContentType": content_type})


def iter_jsonl(bucket: str, key: str) -> Iterator[dict[str, Any]]:
    """A JSON Lines object we wrote, streamed (json.dumps escapes every line break inside a record)."""
    body = client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    for line in body.iter_lines(chunk_size=1 << 20):
        if line.strip():
            yield json.loads(line)
