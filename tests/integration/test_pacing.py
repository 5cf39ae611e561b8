"""Pacing shared through DynamoDB: a per-minute budget, and vendor reset hints every chunk honours."""

import pytest

from enrichment.errors import Throttled
from enrichment.models import Vendor
from enrichment.pacing import RateGate


@pytest.fixture(autouse=True)
def clean_pacing(runtime):
    """The runtime is shared with other tests: leave no budget spent and no vendor on hold."""
    yield
    ddb = runtime.client("dynamodb")
    table = runtime.outputs["JobsTableName"]
    for vendor in Vendor:
        answer = ddb.query(
            TableName=table,
            KeyConditionExpression="job_id = :key",
            ExpressionAttributeValues={":key": {"S": f"rate#{vendor.value}"}},
        )
        for item in answer["Items"]:
            ddb.delete_item(TableName=table, Key={"job_id": item["job_id"], "item": item["item"]})


def test_budget_is_shared_and_says_how_long_to_wait(runtime):
    table = runtime.outputs["JobsTableName"]
    first, second = RateGate(table, Vendor.CHECK365, 10), RateGate(table, Vendor.CHECK365, 10)
    first.acquire(6)
    second.acquire(4)  # another Lambda, the same minute's budget
    with pytest.raises(Throttled) as waited:
        first.acquire(1)
    assert 0 < waited.value.retry_after <= 60
    RateGate(table, Vendor.PUBRIO, 10).acquire(5)  # other vendors have their own budget


def test_a_reset_hint_holds_every_chunk(runtime):
    table = runtime.outputs["JobsTableName"]
    gate = RateGate(table, Vendor.INSIDEVIEW, None)
    gate.block(30)
    gate.block(5)  # an earlier hint does not shorten a later one
    with pytest.raises(Throttled) as waited:
        RateGate(table, Vendor.INSIDEVIEW, None).acquire()
    assert 25 < waited.value.retry_after <= 30
