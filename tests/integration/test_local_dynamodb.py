"""moto's DynamoDB transactions as DynamoDB's: a cancelled transaction undoes its own writes and nobody else's,
and writes from other threads during a transaction are neither refused nor lost."""

from __future__ import annotations

import threading
import uuid

import boto3
import pytest
from botocore.config import Config


@pytest.fixture
def table(runtime) -> str:
    name = f"transactions-{uuid.uuid4().hex[:12]}"
    runtime.client("dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return name


def client():
    # No retries: an emulator error must show, not be retried away.
    return boto3.client("dynamodb", region_name="us-east-1", config=Config(retries={"total_max_attempts": 1}))


def cancelled(ddb, table: str, new_key: str) -> None:
    """A transaction that writes `new_key`, then fails its condition on "guard": it must write nothing."""
    with pytest.raises(ddb.exceptions.TransactionCanceledException):
        ddb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {"k": {"S": new_key}}}},
                {
                    "Update": {
                        "TableName": table,
                        "Key": {"k": {"S": "guard"}},
                        "UpdateExpression": "SET v = :v",
                        "ConditionExpression": "attribute_not_exists(k)",
                        "ExpressionAttributeValues": {":v": {"S": "changed"}},
                    }
                },
            ]
        )


def test_a_cancelled_transaction_undoes_its_own_writes_only(runtime, table):
    ddb = client()
    ddb.put_item(TableName=table, Item={"k": {"S": "guard"}, "v": {"S": "kept"}})
    ddb.put_item(TableName=table, Item={"k": {"S": "other"}, "v": {"S": "kept"}})
    cancelled(ddb, table, "new")
    items = {i["k"]["S"]: i.get("v", {}).get("S") for i in ddb.scan(TableName=table)["Items"]}
    assert items == {"guard": "kept", "other": "kept"}


def test_writes_beside_transactions_are_neither_refused_nor_lost(runtime, table):
    ddb = client()
    ddb.put_item(TableName=table, Item={"k": {"S": "guard"}})
    errors: list[BaseException] = []

    def writer(prefix: str) -> None:
        try:
            for n in range(150):
                ddb.put_item(TableName=table, Item={"k": {"S": f"{prefix}-{n}"}, "pad": {"S": "x" * 200}})
        except BaseException as error:
            errors.append(error)

    def canceller(prefix: str) -> None:
        try:
            for n in range(60):
                cancelled(ddb, table, f"{prefix}-{n}")
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(f"w{n}",)) for n in range(3)]
    threads += [threading.Thread(target=canceller, args=(f"t{n}",)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    keys = set()
    for page in ddb.get_paginator("scan").paginate(TableName=table):
        keys |= {item["k"]["S"] for item in page["Items"]}
    assert keys == {"guard"} | {f"w{w}-{n}" for w in range(3) for n in range(150)}
