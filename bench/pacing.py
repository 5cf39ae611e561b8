"""Pacing under full load, measured where it counts: at the vendor.

For Prospeo and Pubrio at once, the vendor's simulator (with the limit the local runtime configures) and a moto
DynamoDB server on 127.0.0.1; WORKERS threads per vendor, each with its own RateGate (as each Lambda has), always
wanting to send: acquire the cost of one real request, send it to the simulator, and when throttled sleep the
retry_after the gate gives. From what the simulator itself counted against its per-minute limit (Prospeo: each
record of a bulk call; Pubrio: each request), per vendor:

- full_window_ratio: the least any whole calendar minute of the run served, over the limit (>= 0.95 wanted);
- sliding_window_max_ratio: the most any sliding 60-second window held, over the limit (<= 1.00 wanted);
- http_429: the simulator's 429 answers (0 wanted).

`python -m bench.pacing [--minutes N]` prints them; `rows(minutes)` returns them.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

LAYER = Path(__file__).resolve().parents[1] / "layers" / "common"
if str(LAYER) not in sys.path:  # the layer, on sys.path as in a Lambda
    sys.path.append(str(LAYER))

import boto3  # noqa: E402
import httpx  # noqa: E402

from bench.moto_server import moto_server  # noqa: E402
from enrichment.errors import Throttled  # noqa: E402
from enrichment.models import Vendor  # noqa: E402
from enrichment.pipeline.pacing import RateGate  # noqa: E402
from enrichment.settings import vendor_settings  # noqa: E402
from localrt.dynamodb import whole_operations  # noqa: E402
from localrt.runtime import LOCAL_VENDOR_SETTINGS  # noqa: E402
from localrt.simulators.base import Simulator  # noqa: E402
from localrt.simulators.prospeo import ProspeoSimulator  # noqa: E402
from localrt.simulators.pubrio import PubrioSimulator  # noqa: E402
from localrt.template import jobs_table  # noqa: E402

# Lambdas sending at once for a vendor: its Map concurrency times the chunks a batch drives together, or about.
WORKERS = 8
TABLE = "bench-pacing"
REGION = "us-east-1"
PROSPEO_RECORDS = 50  # a full bulk call, the documented maximum: 50 requests of the budget


class ProspeoClient:
    """Full bulk calls to /bulk-enrich-person: each record counts as one request."""

    cost = PROSPEO_RECORDS

    def __init__(self, http: httpx.Client) -> None:
        self.http = http

    def send(self) -> None:
        data = [
            {"identifier": str(i), "email": f"person.{uuid.uuid4().hex[:12]}@example.com"} for i in range(self.cost)
        ]
        self.http.post("/bulk-enrich-person", json={"data": data})


class PubrioClient:
    """A redeem submitted, then polled until complete, then the next: each call counts as one request."""

    cost = 1

    def __init__(self, http: httpx.Client) -> None:
        self.http = http
        self.redeem: str | None = None

    def send(self) -> None:
        if self.redeem is None:
            body = {"peoples": [str(uuid.uuid4()) for _ in range(10)], "people_contact_types": ["email-work"]}
            answer = self.http.post("/redeem/people/batch", json=body)
            if answer.status_code == 200:
                self.redeem = answer.json()["data"]["redeem_query_id"]
            return
        answer = self.http.post("/redeem/people/batch/query", json={"redeem_query_id": self.redeem})
        if answer.status_code != 200 or answer.json()["data"]["query"]["is_completed"]:
            self.redeem = None


def simulator_for(vendor: Vendor, limit: int) -> Simulator:
    """The vendor's simulator, counting against the same per-minute limit the gate paces to."""
    if vendor is Vendor.PROSPEO:
        return ProspeoSimulator(records_per_minute=limit)
    return PubrioSimulator(requests_per_minute=limit)


VENDORS = {Vendor.PROSPEO: ProspeoClient, Vendor.PUBRIO: PubrioClient}
AUTH_HEADERS = {Vendor.PROSPEO: "X-KEY", Vendor.PUBRIO: "pubrio-api-key"}


def rows(minutes: float = 3.0) -> list[dict[str, Any]]:
    """One row per vendor, both driven at once for `minutes` of real time."""
    limits = {
        vendor: vendor_settings(vendor, LOCAL_VENDOR_SETTINGS[vendor.value]).requests_per_minute for vendor in VENDORS
    }
    simulators = {vendor: simulator_for(vendor, limits[vendor]) for vendor in VENDORS}
    with _dynamodb() as table, contextlib.ExitStack() as stack:
        for simulator in simulators.values():
            simulator.start()
            stack.callback(simulator.stop)
        start = time.time()
        deadline = start + minutes * 60
        workers = [
            threading.Thread(
                target=_work, args=(vendor, simulators[vendor], table, limits[vendor], deadline), daemon=True
            )
            for vendor in VENDORS
            for _ in range(WORKERS)
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        end = time.time()
    return [_figures(vendor, simulators[vendor], limits[vendor], start, end) for vendor in VENDORS]


def _work(vendor: Vendor, simulator: Simulator, table: str, limit: int, deadline: float) -> None:
    """One Lambda's worth: its own gate and connection, always wanting to send, until the deadline."""
    gate = RateGate(table, vendor, limit, account="bench")
    headers = {AUTH_HEADERS[vendor]: simulator.api_key}
    with httpx.Client(base_url=simulator.url, headers=headers, timeout=10) as http:
        client = VENDORS[vendor](http)
        while (left := deadline - time.time()) > 0:
            try:
                gate.acquire(client.cost)
            except Throttled as throttled:
                time.sleep(min(throttled.retry_after or 1, left))
                continue
            client.send()


def _figures(vendor: Vendor, simulator: Simulator, limit: int, start: float, end: float) -> dict[str, Any]:
    counted = sorted(simulator.counted)
    minutes = range(math.ceil(start / 60), math.floor(end / 60))  # whole calendar minutes inside the run
    served = [sum(n for t, n in counted if 60 * m <= t < 60 * (m + 1)) for m in minutes]
    return {
        "vendor": vendor.value,
        "limit_per_minute": limit,
        "full_window_ratio": round(min(served) / limit, 3) if served else None,
        "sliding_window_max_ratio": round(_most_in_a_minute(counted) / limit, 3),
        "http_429": sum(1 for _, _, _, status, _ in simulator.log if status == 429),
    }


def _most_in_a_minute(counted: list[tuple[float, int]]) -> int:
    """The most any sliding 60-second window holds (the fullest starts at a request, so those are tried)."""
    most = held = last = 0
    for first, (start, _) in enumerate(counted):
        while last < len(counted) and counted[last][0] < start + 60:
            held += counted[last][1]
            last += 1
        most = max(most, held)
        held -= counted[first][1]
    return most


@contextlib.contextmanager
def _dynamodb() -> Iterator[str]:
    """A moto DynamoDB server on 127.0.0.1 holding the jobs table's shape; the layer's clients pointed at it."""
    with whole_operations(), moto_server():
        boto3.client("dynamodb", region_name=REGION).create_table(**jobs_table(TABLE))
        yield TABLE


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.pacing", description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=3.0, help="how long both vendors are driven (default 3)")
    args = parser.parse_args(argv)
    columns = ("vendor", "limit_per_minute", "full_window_ratio", "sliding_window_max_ratio", "http_429")
    widths = {column: max(len(column), 8) for column in columns}
    print("  ".join(f"{column:>{widths[column]}}" for column in columns))
    for row in rows(args.minutes):  # no whole calendar minute in a short run: "-"
        print("  ".join(f"{'-' if row[c] is None else row[c]!s:>{widths[c]}}" for c in columns))


if __name__ == "__main__":
    main()
