"""The meter against emulated AWS: transitions as Step Functions bills them, S3 requests by tier, DynamoDB
request units from the items' real sizes, and nothing from the harness's own calls."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest

from localrt.metering import Meter
from tests.integration.test_local_map import execute


def test_transitions_are_states_entered_retries_and_child_executions(runtime):
    bucket = runtime.bucket
    definition = {
        "StartAt": "First",
        "States": {
            "First": {"Type": "Pass", "Next": "Items"},
            "Items": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Item",
                    "States": {"Item": {"Type": "Pass", "End": True}},
                },
                "ResultPath": None,
                "Next": "Fetch",
            },
            "Fetch": {  # a missing object: tried 3 times (2 retries), then caught
                "Type": "Task",
                "Resource": "arn:aws:states:::aws-sdk:s3:getObject",
                "Parameters": {"Bucket": bucket, "Key": f"nothing-here/{uuid.uuid4()}"},
                "Retry": [{"ErrorEquals": ["States.ALL"], "IntervalSeconds": 1, "MaxAttempts": 2}],
                "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}],
                "End": True,
            },
            "Caught": {"Type": "Pass", "End": True},
        },
    }
    with Meter() as meter:
        with meter.unmetered():
            assert execute(runtime, definition, {"items": [1, 2, 3]})["status"] == "SUCCEEDED"
        usage = meter.usage()
    # First, Items, three child executions' Item, Fetch, Caught
    assert (usage.states_entered, usage.child_executions, usage.retries) == (7, 3, 2)
    assert usage.transitions == 12
    assert (usage.s3_tier1, usage.s3_tier2) == (0, 3)  # each attempt is a GET
    assert usage.usd()["stepfunctions"] == Decimal("0.0003")  # 12 x $0.025 / 1,000


def test_dynamodb_units_follow_the_items_sizes(runtime):
    ddb = runtime.client("dynamodb")
    table = f"meter-{uuid.uuid4().hex[:12]}"
    ddb.create_table(
        TableName=table,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    big = {"k": {"S": "big"}, "text": {"S": "x" * 1500}}  # 1,509 bytes: 2 write units
    with Meter() as meter:

        def units(call, **kwargs) -> tuple[float, float]:
            before = meter.usage()
            call(TableName=table, **kwargs)
            after = meter.usage()
            return (
                after.dynamodb_read_units - before.dynamodb_read_units,
                after.dynamodb_write_units - before.dynamodb_write_units,
            )

        assert units(ddb.put_item, Item=big) == (0, 2)
        assert units(ddb.get_item, Key={"k": {"S": "big"}}, ConsistentRead=True) == (1, 0)
        assert units(ddb.get_item, Key={"k": {"S": "big"}}) == (0.5, 0)
        assert units(ddb.get_item, Key={"k": {"S": "none"}}) == (0.5, 0)
        shrink = {"UpdateExpression": "REMOVE #t", "ExpressionAttributeNames": {"#t": "text"}}
        assert units(ddb.update_item, Key={"k": {"S": "big"}}, **shrink) == (0, 2)  # the larger: before
        with pytest.raises(ddb.exceptions.ConditionalCheckFailedException):  # refused, still billed (1 unit: 4 bytes)
            units(ddb.put_item, Item={"k": {"S": "big"}}, ConditionExpression="attribute_not_exists(k)")
        before = meter.usage().dynamodb_write_units
        ddb.transact_write_items(
            TransactItems=[{"Put": {"TableName": table, "Item": {"k": {"S": f"t{n}"}}}} for n in range(2)]
        )
        assert meter.usage().dynamodb_write_units - before == 4  # 2 items, twice each in a transaction
        with meter.unmetered():
            ddb.put_item(TableName=table, Item=big)
            ddb.get_item(TableName=table, Key={"k": {"S": "big"}})
        usage = meter.usage()
    assert usage.requests[("dynamodb", "PutItem")] == 2
    assert usage.requests[("dynamodb", "GetItem")] == 3
    assert usage.dynamodb_write_units == 2 + 2 + 1 + 4
    assert usage.dynamodb_read_units == 2
