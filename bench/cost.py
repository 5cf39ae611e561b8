"""What a job costs in AWS, per 10,000 rows and vendor: a real local job, metered (localrt/metering.py).

Each vendor's job runs with the deployed chunk and batch sizes and concurrency (the product's defaults) but the
local runtime's short waits and the simulators' rate limits, so what is counted is what AWS would bill for the
same file, in a fraction of the time. `python -m bench.cost [ROWS] [VENDOR ...]` prints the rows.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.job_time import run_job
from localrt import lambdas
from localrt.metering import Meter, Usage
from localrt.runtime import LOCAL_VENDOR_SETTINGS, LocalRuntime

VENDORS = ("pubrio", "prospeo", "check365", "insideview")
# From the local settings only what sets the pace: the waits and bounds, and the rate limits the simulators keep.
PACE_KEYS = frozenset(
    {
        "first_wait_seconds",
        "backoff_base_seconds",
        "backoff_max_seconds",
        "max_polls",
        "deadline_seconds",
        "http_timeout_seconds",
        "requests_per_minute",
        "requests_per_hour",
        "requests_per_day",
    }
)


def deployed_sizes_fast_waits() -> dict[str, dict[str, Any]]:
    """VendorSettings overrides: the deployed sizes (no override), the local runtime's waits and rate limits."""
    return {vendor: {k: v for k, v in LOCAL_VENDOR_SETTINGS[vendor].items() if k in PACE_KEYS} for vendor in VENDORS}


def check_answered(vendor: str, job_id: str, item: dict[str, Any], rows: int) -> None:
    """Every row answered, else the figures would be of a job that did less than it should."""
    counts = item.get("counts") or {}
    if item.get("status") != "SUCCEEDED" or item.get("rows_total") != rows or sum(counts.values()) != rows:
        raise RuntimeError(
            f"{vendor} job {job_id}: {item.get('status')}, {item.get('rows_total')} of {rows} rows, counts {counts}"
            f" ({item.get('error')})"
        )
    if counts.get("error"):
        raise RuntimeError(f"{vendor} job {job_id}: {counts['error']} rows were not answered ({item.get('error')})")


def figures(vendor: str, usage: Usage, rows: int, per: int = 10_000) -> dict[str, Any]:
    """A job's metered usage scaled to `per` rows."""
    scale = per / rows
    return {
        "vendor": vendor,
        "transitions": usage.transitions * scale,
        "lambda_invocations": usage.invocations * scale,
        "gb_seconds": usage.total_gb_seconds * scale,
        "s3_requests": usage.s3_requests * scale,
        "dynamodb_units": usage.dynamodb_units * scale,
        "usd_per_10k": float(usage.usd()["total"]) * scale,
        "largest_state_payload": usage.largest_state_payload,  # not scaled: it must not grow with the file
    }


def measure(runtime: LocalRuntime, vendor: str, rows: int, folder: Path) -> Usage:
    """One job of `rows` rows, metered from the drop to its end; the harness's own requests are not counted."""
    with Meter() as meter:
        with meter.unmetered():
            job_id, view = run_job(runtime, vendor, rows, folder)
        lambdas.IN_FLIGHT.wait_idle(timeout=120)  # the completion event's delivery is part of the job
        usage = meter.usage()
    check_answered(vendor, job_id, view.item, rows)
    return usage


def rows(rows_per_job: int = 10_000, vendors: tuple[str, ...] = VENDORS) -> list[dict[str, Any]]:
    """Per vendor, a real local job of `rows_per_job` rows, metered and scaled to 10,000 rows."""
    results = []
    with (
        tempfile.TemporaryDirectory() as folder,
        open(os.devnull, "w") as quiet,  # the handlers log on stdout, as in Lambda
        contextlib.redirect_stdout(quiet),
        LocalRuntime(vendor_settings=deployed_sizes_fast_waits()) as runtime,
    ):
        for vendor in vendors:
            results.append(figures(vendor, measure(runtime, vendor, rows_per_job, Path(folder)), rows_per_job))
    return results


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    for row in rows(size, tuple(sys.argv[2:]) or VENDORS):
        print(row)
