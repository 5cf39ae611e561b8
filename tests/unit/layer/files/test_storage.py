"""S3 access against emulated S3: files streamed out in multipart uploads, many small objects put by a few
threads, listings a page at a time."""

from __future__ import annotations

import pytest

from enrichment import aws
from enrichment.files import storage
from tests.unit.layer.conftest import BUCKET


def read(key: str) -> tuple[bytes, str]:
    found = aws.client("s3").get_object(Bucket=BUCKET, Key=key)
    return found["Body"].read(), found["ContentType"]


def test_a_small_file_is_one_put(s3_requests):
    with storage.streamed_upload(BUCKET, "out/small.csv", "text/csv; charset=utf-8") as out:
        out.write("name,city\r\n")
        out.write("Zoë,Zürich\u2028\r\n")
    assert read("out/small.csv") == ("name,city\r\nZoë,Zürich\u2028\r\n".encode(), "text/csv; charset=utf-8")
    assert [op for op, _ in s3_requests.sent] == ["PutObject", "GetObject"]


def test_a_large_file_goes_in_parts_of_the_part_size_and_arrives_whole(s3_requests):
    line = "é" * 999 + "\n"  # 2,000 bytes a line in UTF-8
    lines = 10_000  # 20 MB: two full parts of 8 MiB and a smaller last one
    with storage.streamed_upload(BUCKET, "out/large.jsonl", "application/x-ndjson") as out:
        for _ in range(lines):
            out.write(line)
    body, content_type = read("out/large.jsonl")
    assert body == (line * lines).encode() and content_type == "application/x-ndjson"
    operations = [op for op, _ in s3_requests.sent]
    assert operations == [
        "CreateMultipartUpload",
        "UploadPart",
        "UploadPart",
        "UploadPart",
        "CompleteMultipartUpload",
    ] + ["GetObject"]
    assert storage.PART_BYTES >= 8 << 20


def test_an_error_inside_the_block_aborts_the_upload_and_leaves_no_object(s3_requests):
    with pytest.raises(RuntimeError, match="broke"), storage.streamed_upload(BUCKET, "out/broken", "text/plain") as out:
        out.write("x" * (9 << 20))  # one part already sent
        raise RuntimeError("broke")
    s3 = aws.client("s3")
    assert "AbortMultipartUpload" in [op for op, _ in s3_requests.sent]
    assert s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert s3.list_objects_v2(Bucket=BUCKET, Prefix="out/").get("KeyCount") == 0


def test_an_error_before_any_part_writes_nothing(s3_requests):
    with pytest.raises(RuntimeError), storage.streamed_upload(BUCKET, "out/none", "text/plain") as out:
        out.write("a little")
        raise RuntimeError("broke")
    assert s3_requests.sent == []


def test_parallel_puts_store_every_document(emulated_aws):
    with storage.ParallelPuts(BUCKET, threads=4, pending=3) as puts:
        for i in range(40):
            puts.put(f"docs/{i:03d}.json", {"i": i})
    assert [storage.get_json(BUCKET, f"docs/{i:03d}.json") for i in range(40)] == [{"i": i} for i in range(40)]


def test_a_failed_parallel_put_is_raised(emulated_aws):
    with pytest.raises(aws.client("s3").exceptions.NoSuchBucket), storage.ParallelPuts("no-such-bucket") as puts:
        for i in range(5):
            puts.put(f"docs/{i}.json", {"i": i})


def test_a_listing_goes_page_after_page_in_key_order(s3_requests):
    s3 = aws.client("s3")
    for i in range(1_005):
        s3.put_object(Bucket=BUCKET, Key=f"results/{i:06d}.json", Body=b"{}")
    s3_requests.sent.clear()
    keys = list(storage.list_keys(BUCKET, "results/"))
    assert keys == [f"results/{i:06d}.json" for i in range(1_005)]
    assert [op for op, _ in s3_requests.sent] == ["ListObjectsV2", "ListObjectsV2"]


def test_a_missing_document_is_none_in_one_request(s3_requests):
    assert storage.get_json_if_any(BUCKET, "nothing/here.json") is None
    storage.put_json(BUCKET, "something.json", {"a": 1})
    assert storage.get_json_if_any(BUCKET, "something.json") == {"a": 1}
    assert [op for op, _ in s3_requests.sent] == ["GetObject", "PutObject", "GetObject"]
