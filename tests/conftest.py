"""Shared fixtures: the local runtime (moto + simulators + the deployed template) and CSV helpers."""

from __future__ import annotations

import contextlib
import csv
import io
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.credentials import Credentials
from moto import mock_aws

from client.api import LOCAL_CREDENTIALS, SigV4
from enrichment import metrics
from localrt.deploy import REGION
from localrt.runtime import LocalRuntime
from localrt.simulators.base import Simulator
from localrt.simulators.check365 import Check365Simulator
from localrt.simulators.insideview import InsideViewSimulator
from localrt.simulators.prospeo import ProspeoSimulator
from localrt.simulators.pubrio import PubrioSimulator

# Short waits and tight bounds, so the poll loop's every branch runs in seconds.
_FAST = {
    "max_concurrency": 3,
    "first_wait_seconds": 1,
    "backoff_base_seconds": 1,
    "backoff_max_seconds": 1,
    "max_polls": 10,
    "deadline_seconds": 60,
    "http_timeout_seconds": 2,
}
# A few chunks per batch, so a job of a few hundred rows runs several batches side by side and batches of several
# chunks.
TEST_VENDOR_SETTINGS = {
    "pubrio": _FAST | {"chunk_size": 100, "chunks_per_batch": 3},
    "prospeo": _FAST | {"requests_per_minute": 1800, "chunks_per_batch": 3},
    "check365": _FAST | {"chunk_size": 100, "chunks_per_batch": 2, "requests_per_minute": 600},  # the simulator's limit
    "insideview": _FAST | {"chunk_size": 100, "max_concurrency": 2, "max_polls": 12},
}


@contextlib.contextmanager
def moto_in_process() -> Iterator[None]:
    """moto in this process for a test that needs no local runtime, leaving moto's backends as they are: a test
    worker's local runtime lives in the same backends, and a plain mock_aws() wipes them as it starts and stops.
    Name what you create uniquely, and delete it after."""
    mock = mock_aws()
    mock.start(reset=False)
    try:
        yield
    finally:
        mock.stop(remove_data=False)


_names = itertools.count()
# Distinctive vendor keys, so a test can prove none of them ever reaches a log line or an output.
SECRETS = {
    "pubrio": "pubrio-key-7d1c9f3e-DO-NOT-LOG",
    "prospeo": "prospeo-key-52ab8e01-DO-NOT-LOG",
    "check365": "check365-key-0c4d77aa-DO-NOT-LOG",
    "insideview": "insideview-secret-9e2b6f10-DO-NOT-LOG",
}


@pytest.fixture(autouse=True)
def _metric_set_per_test() -> Iterator[None]:
    """A test that calls the layer directly records metrics as an invocation would; each test starts with none, as
    each invocation does once its handler has written them (localrt's invocations have their own set)."""
    yield
    metrics.metrics.clear_metrics()


@pytest.fixture(autouse=True)
def _no_cached_answers_from_other_tests(request: pytest.FixtureRequest) -> None:
    """A test on the local runtime starts with an empty result cache, as with a clean simulator ledger: its jobs ask
    the vendor unless the test itself ran the same rows before (tests of the cache do)."""
    if "runtime" in request.fixturenames:
        request.getfixturevalue("runtime").forget_result_cache()


@pytest.fixture(scope="session")
def runtime() -> Iterator[LocalRuntime]:
    simulators = {
        "pubrio": PubrioSimulator(estimated_time=1, processing_seconds=1.5, api_key=SECRETS["pubrio"]),
        "prospeo": ProspeoSimulator(api_key=SECRETS["prospeo"]),
        "check365": Check365Simulator(processing_seconds=1.5, api_key=SECRETS["check365"]),
        "insideview": InsideViewSimulator(processing_seconds=1.5, client_secret=SECRETS["insideview"]),
    }
    with LocalRuntime(
        vendor_settings=TEST_VENDOR_SETTINGS, log_level="INFO", simulators=simulators, retry_delay_scale=0.1
    ) as local:
        yield local


@pytest.fixture(scope="session")
def api(runtime: LocalRuntime):
    from localrt.api_server import LocalApi

    local = LocalApi(runtime, port=0).start()
    yield local
    local.stop()


def _simulator(name: str):
    """The session's simulator for a vendor, with faults cleared and credits restored after the test."""

    @pytest.fixture
    def fixture(runtime: LocalRuntime) -> Iterator[Simulator]:
        simulator = runtime.simulators[name]
        runtime.wait_idle()  # no job an earlier test left at work calls it during this one
        simulator.reset()  # a clean ledger, whatever ran before
        yield simulator
        simulator.reset()
        runtime.reset_faults()

    return fixture


pubrio = _simulator("pubrio")
prospeo = _simulator("prospeo")
check365 = _simulator("check365")
insideview = _simulator("insideview")


@contextlib.contextmanager
def vendor_takes(simulator: Simulator, seconds: float) -> Iterator[None]:
    """The simulator's vendor jobs take `seconds` to finish while inside (so chunks stay in flight)."""
    usual = simulator.processing_seconds
    simulator.processing_seconds = seconds
    try:
        yield
    finally:
        simulator.processing_seconds = usual


def unique_name(stem: str) -> str:
    """A fresh file name: the job id comes from the key and content, so every test gets its own job."""
    return f"{stem}-{next(_names)}-{id(object())}.csv"


def run_job(runtime: LocalRuntime, tmp_path: Path, vendor: str, text: str, options: dict | None = None):
    """Drop `text` as a new file for `vendor`, wait for the job to end, download its outputs: (job, folder)."""
    return run_job_bytes(runtime, tmp_path, vendor, text.encode(), options=options)


def run_job_bytes(
    runtime: LocalRuntime, tmp_path: Path, vendor: str, data: bytes, suffix: str = ".csv", options: dict | None = None
):
    """run_job for a file of bytes, named with `suffix` (".xlsx", ".csv.gz", ".pdf")."""
    path = tmp_path / (unique_name(vendor).removesuffix(".csv") + suffix)
    path.write_bytes(data)
    job_id = runtime.drop(path, vendor, options)
    view = runtime.wait(job_id, timeout=180)
    return view, runtime.download(job_id, tmp_path / job_id)


def read_results(folder: Path) -> list[dict[str, str]]:
    with open(folder / "results.csv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def api_auth(credentials: Credentials | None = None) -> SigV4:
    """SigV4 signing for the local API (IAM-authorized, as in AWS) with `credentials`: by default the local
    runtime's own, which the local API names moto's default caller."""
    return SigV4(REGION, credentials or Credentials(*LOCAL_CREDENTIALS))


def upload(api_url: str, content: bytes, filename: str = "contacts.csv", auth: SigV4 | None = None) -> str:
    """Upload as a user does: POST /uploads, then the presigned S3 form (its fields, the file last); the input_key."""
    ticket = httpx.post(f"{api_url.rstrip('/')}/uploads", auth=auth or api_auth()).json()
    answer = httpx.post(ticket["url"], data=ticket["fields"], files={"file": (filename, content)})
    assert answer.status_code == 204, answer.text
    return ticket["input_key"]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """A JSON Lines file's records. Lines end with LF alone: str.splitlines() would also split at the U+2028 or
    NEL that results.jsonl keeps as they are inside its strings (ensure_ascii=False)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").split("\n") if line]


def parse_csv(text: str) -> list[dict[str, Any]]:
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
