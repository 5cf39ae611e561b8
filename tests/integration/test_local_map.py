"""The local Distributed Map (moto's, with localrt.interpreter's worker loop): the Map's concurrency, a slot
refilled as soon as its item ends, and as many items per slot as a big job has."""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Any

from moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.itemprocessor.distributed_item_processor_worker import (  # noqa: E501
    DistributedItemProcessorWorker,
)

from localrt import interpreter


def distributed_map(child: dict[str, Any]) -> dict[str, Any]:
    """A state machine of one Distributed Map over the input's `items`, `slots` at once, each item through `child`."""
    return {
        "StartAt": "Items",
        "States": {
            "Items": {
                "Type": "Map",
                "ItemsPath": "$.items",
                "MaxConcurrencyPath": "$.slots",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "Item",
                    "States": {"Item": child | {"End": True}},
                },
                "End": True,
            }
        },
    }


def execute(runtime, definition: dict[str, Any], given: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
    """Run a state machine of the test's own in the runtime's Step Functions; its execution's description."""
    sfn = runtime.client("stepfunctions")
    arn = sfn.create_state_machine(
        name=f"map-{uuid.uuid4().hex[:12]}",
        definition=json.dumps(definition),
        roleArn="arn:aws:iam::123456789012:role/local",
    )["stateMachineArn"]
    execution = sfn.start_execution(stateMachineArn=arn, input=json.dumps(given))["executionArn"]
    deadline = time.monotonic() + timeout
    while (described := sfn.describe_execution(executionArn=execution))["status"] == "RUNNING":
        assert time.monotonic() < deadline, "the execution did not end"
        time.sleep(0.1)
    return described


def test_the_runtime_runs_the_map_with_the_loop_of_localrt(runtime):
    assert DistributedItemProcessorWorker._eval_pool is interpreter._eval_pool


def test_a_slot_runs_more_items_than_pythons_recursion_limit(runtime):
    # moto's own worker recursed once per item: past ~900 items a slot died and the Map never ended.
    items = list(range(1200))
    described = execute(runtime, distributed_map({"Type": "Pass"}), {"items": items, "slots": 1})
    assert described["status"] == "SUCCEEDED"
    assert json.loads(described["output"]) == items


def test_the_map_keeps_its_concurrency_and_refills_a_slot_as_soon_as_an_item_ends(runtime, monkeypatch):
    timeline: list[tuple[str, int]] = []
    lock = threading.Lock()
    original = DistributedItemProcessorWorker._eval_job

    def recorded(self, env, job):
        with lock:
            timeline.append(("start", job.job_index))
        try:
            return original(self, env, job)
        finally:
            with lock:
                timeline.append(("end", job.job_index))

    monkeypatch.setattr(DistributedItemProcessorWorker, "_eval_job", recorded)
    items = [{"wait": 2}] + [{"wait": 0}] * 6  # one long item; the other slot serves the six short ones meanwhile
    waits = {"Type": "Wait", "SecondsPath": "$.wait"}
    assert execute(runtime, distributed_map(waits), {"items": items, "slots": 2})["status"] == "SUCCEEDED"

    running, most = 0, 0
    for event, _ in timeline:
        running += 1 if event == "start" else -1
        most = max(most, running)
    assert most == 2
    ends = [index for event, index in timeline if event == "end"]
    assert sorted(ends) == list(range(7)) and ends[-1] == 0
