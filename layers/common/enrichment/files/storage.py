"""S3 access: small JSON documents, streamed text in, spooled files out."""

from __future__ import annotations

import codecs
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


def iter_text_lines(bucket: str, key: str, encoding: str = "utf-8-sig") -> Iterator[str]:
    """Stream an object as decoded lines (line endings kept, so csv sees quoted newlines and CRLF)."""
    body = client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    pending = ""
    for block in body.iter_chunks(chunk_size=1 << 20):
        pending += decoder.decode(block)
        # Split on LF only: other Unicode line breaks may sit inside a cell; CR stays for csv to handle.
        *lines, pending = pending.split("\n")
        for line in lines:
            yield line + "\n"
    pending += decoder.decode(b"", final=True)
    if pending:
        yield pending


@contextmanager
def spooled_upload(bucket: str, key: str, content_type: str) -> Iterator[IO[str]]:
    """A text file written locally (memory, then /tmp) and uploaded when the block ends without error."""
    with tempfile.SpooledTemporaryFile(max_size=8 << 20, mode="w+b") as raw:
        text = codecs.getwriter("utf-8")(raw)
        yield text  # type: ignore[misc]
        raw.seek(0)
        client("s3").upload_fileobj(raw, bucket, key, ExtraArgs={"ContentType": content_type})


def iter_jsonl(bucket: str, key: str) -> Iterator[dict[str, Any]]:
    for line in iter_text_lines(bucket, key, encoding="utf-8"):
        if line.strip():
            yield json.loads(line)


def head_bytes(bucket: str, key: str, size: int) -> bytes:
    """The object's first `size` bytes (all of a smaller object)."""
    return client("s3").get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{size - 1}")["Body"].read()
