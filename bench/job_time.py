"""Where a local job's wall time goes: startup, Prepare, the Map, Finalize, from the execution's own history.

`python -m bench.job_time [ROWS] [VENDOR]` prints the split of one job run with the local runtime's settings.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from localrt.runtime import LocalRuntime
from localrt.samples import GENERATORS

# Options a job of each vendor is run with (the demo's), so every vendor's whole answer path runs.
JOB_OPTIONS: dict[str, dict[str, Any]] = {
    "pubrio": {"contact_types": ["email-work", "email-personal", "phone"]},
    "prospeo": {"enrich_mobile": True},
    "check365": {},
    "insideview": {},
}


def execution_history(runtime: LocalRuntime, job_id: str) -> list[dict[str, Any]]:
    """The parent execution's history events, oldest first (a job's execution is named by its job id)."""
    sfn = runtime.client("stepfunctions")
    execution_arn = runtime.outputs["JobStateMachineArn"].replace(":stateMachine:", ":execution:") + f":{job_id}"
    events: list[dict[str, Any]] = []
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        events.extend(page["events"])
    return events


def state_spans(events: list[dict[str, Any]]) -> dict[str, tuple[datetime, datetime]]:
    """{state name: (entered, exited)} of the top-level states, from the history's timestamps."""
    entered: dict[str, datetime] = {}
    spans: dict[str, tuple[datetime, datetime]] = {}
    for event in events:
        if event["type"].endswith("StateEntered"):
            entered[event["stateEnteredEventDetails"]["name"]] = event["timestamp"]
        elif event["type"].endswith("StateExited"):
            name = event["stateExitedEventDetails"]["name"]
            spans[name] = (entered[name], event["timestamp"])
    return spans


def run_job(runtime: LocalRuntime, vendor: str, rows: int, folder: Path, timeout: float = 1800) -> tuple[str, Any]:
    """Drop a generated file of `rows` rows for `vendor` and wait for its job: (job id, its final view)."""
    path = folder / f"{vendor}-{rows}-{uuid.uuid4().hex[:8]}.csv"  # a job's id comes from its key and content
    path.write_text(GENERATORS[vendor](rows), newline="")
    job_id = runtime.drop(path, vendor, JOB_OPTIONS[vendor])
    return job_id, runtime.wait(job_id, timeout=timeout)


def rows(rows: int = 10_000, vendor: str = "check365") -> list[dict[str, Any]]:
    """One local job, its wall time split: startup (runtime start to execution start), prepare, map, finalize, total."""
    with tempfile.TemporaryDirectory() as folder, open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet):
        began = time.time()
        with LocalRuntime() as runtime:
            job_id, view = run_job(runtime, vendor, rows, Path(folder))
            events = execution_history(runtime, job_id)
    if view.status != "SUCCEEDED" or view.item.get("rows_total") != rows:
        raise RuntimeError(f"{vendor} job {job_id} ended {view.status} with {view.item.get('rows_total')} rows")
    spans = state_spans(events)
    started, ended = events[0]["timestamp"], events[-1]["timestamp"]
    seconds = lambda span: (span[1] - span[0]).total_seconds()  # noqa: E731
    return [
        {
            "vendor": vendor,
            "rows": rows,
            "startup_s": started.timestamp() - began,
            "prepare_s": seconds(spans["Prepare"]),
            "map_s": seconds(spans["ProcessChunks"]),
            "finalize_s": seconds(spans["Finalize"]),
            "total_s": ended.timestamp() - began,
        }
    ]


if __name__ == "__main__":
    for row in rows(*(int(a) for a in sys.argv[1:2]), *sys.argv[2:3]):
        print(row)
