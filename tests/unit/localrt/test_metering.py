"""The meter's arithmetic: DynamoDB's item sizes and request units, S3's price tiers, dollars from counts."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from localrt.metering import Usage, item_size, read_units, s3_tier, value_size, write_units


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "abc"}, 3),
        ({"S": "é"}, 2),  # UTF-8 bytes
        ({"N": "123"}, 3),  # 1 byte per 2 significant digits, plus 1
        ({"N": "-0.00120"}, 2),  # leading and trailing zeroes are not significant
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"B": b"\x00\x01"}, 2),
        ({"SS": ["a", "bc"]}, 3),
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (2 + 1) + (2 + 1)),  # 3 bytes, plus 1 per element
        ({"M": {"k": {"S": "v"}}}, 3 + 1 + 1 + 1),
    ],
)
def test_a_value_is_sized_as_dynamodb_counts_it(value, size):
    assert value_size(value) == size


def test_an_item_counts_its_attribute_names():
    assert item_size({"job_id": {"S": "j-1"}, "n": {"N": "7"}}) == 6 + 3 + 1 + 2
    assert item_size(None) == 0


def test_write_units_are_per_started_kilobyte_and_reads_per_started_4_kb():
    assert [write_units(size) for size in (0, 1, 1024, 1025, 3000)] == [1, 1, 1, 2, 3]
    assert read_units(0, consistent=True) == 1.0  # a read that finds nothing is still a read
    assert read_units(4096, consistent=True) == 1.0
    assert read_units(4097, consistent=True) == 2.0
    assert read_units(4097, consistent=False) == 1.0  # eventually consistent: half


@pytest.mark.parametrize(
    ("operation", "tier"),
    [
        ("PutObject", 1),
        ("CopyObject", 1),
        ("ListObjectsV2", 1),
        ("CreateMultipartUpload", 1),
        ("UploadPart", 1),
        ("CompleteMultipartUpload", 1),
        ("GetObject", 2),
        ("HeadObject", 2),
        ("GetBucketNotificationConfiguration", 2),
        ("DeleteObject", 0),
        ("AbortMultipartUpload", 0),
    ],
)
def test_s3_operations_fall_in_their_price_tier(operation, tier):
    assert s3_tier(operation) == tier


def test_dollars_are_the_counts_at_the_published_prices():
    usage = Usage(
        states_entered=30,
        retries=2,
        child_executions=8,
        lambda_invocations=Counter({"a": 3, "b": 1}),
        lambda_billed_ms=Counter({"a": 1500, "b": 500}),
        mb_ms=Counter({"arm64": 2 * 1024 * 1000, "x86_64": 512 * 1000}),
        s3_tier1=10,
        s3_tier2=20,
        dynamodb_read_units=4.5,
        dynamodb_write_units=6.0,
    )
    usd = usage.usd()
    assert usage.transitions == 40
    assert usd["stepfunctions"] == Decimal("0.001")  # 40 x $0.025 / 1,000
    assert usd["lambda"] == 4 * Decimal("0.0000002") + 2 * Decimal("0.0000133334") + Decimal("0.5") * Decimal(
        "0.0000166667"
    )
    assert usd["s3"] == 10 * Decimal("0.000005") + 20 * Decimal("0.0000004")
    assert usd["dynamodb"] == 6 * Decimal("0.000000625") + Decimal("4.5") * Decimal("0.000000125")
    assert usd["total"] == usd["stepfunctions"] + usd["lambda"] + usd["s3"] + usd["dynamodb"]
