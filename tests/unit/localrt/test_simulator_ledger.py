"""The simulators' ledger per job: requests sent by a job's invocations (JOB_HEADER, added by localrt.lambdas) count
for that job only; a charge made when a vendor job completes goes to the job that submitted it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from localrt import lambdas
from localrt.simulators.base import JOB_HEADER
from localrt.simulators.check365 import Check365Simulator
from localrt.simulators.prospeo import ProspeoSimulator


@pytest.fixture
def check365() -> Iterator[Check365Simulator]:
    sim = Check365Simulator(processing_seconds=0.001).start()
    try:
        yield sim
    finally:
        sim.stop()


def _upload(sim: Check365Simulator, vendor_job: str, emails: list[str], job: str | None) -> httpx.Response:
    headers = {JOB_HEADER: job} if job else {}
    body = {"emails": emails, "api_key": sim.api_key, "job_id": vendor_job}
    return httpx.post(f"{sim.url}/api/validation/bulk-upload", json=body, headers=headers, timeout=5)


def _status(sim: Check365Simulator, vendor_job: str, job: str | None) -> httpx.Response:
    """The job's status once completed (a thousandth of a second: polled until it says so)."""
    headers = {JOB_HEADER: job} if job else {}
    query = {"api_key": sim.api_key, "job_id": vendor_job}
    while True:
        answer = httpx.get(f"{sim.url}/api/validation/bulk-status", params=query, headers=headers, timeout=5)
        if answer.json()["data"]["status"] == "completed":
            return answer


def test_each_job_sees_only_its_own_submissions_and_charges(check365: Check365Simulator) -> None:
    assert _upload(check365, "a-1", ["x@a.com", "y@a.com"], "job-a").json()["success"] is True
    assert _upload(check365, "a-2", ["x@a.com"], "job-a").json()["success"] is True  # pays x@a.com again
    assert _upload(check365, "b-1", ["x@a.com", "z@b.com", "w@b.com"], "job-b").json()["success"] is True
    assert _upload(check365, "a-1", ["x@a.com"], "job-a").status_code == 400  # known job_id: refused, not paid
    assert _upload(check365, "n-1", ["n@n.com"], None).json()["success"] is True  # no job said: totals only
    for vendor_job in ("a-1", "a-2", "b-1", "n-1"):
        # Polled without the tag: the charge still goes to the job that uploaded.
        assert _status(check365, vendor_job, None).json()["data"]["status"] == "completed"

    assert check365.ledger("job-a") == {
        "submissions": 3,
        "paid_submissions": 2,
        "duplicate_paid_submissions": 1,
        "credits_charged": 3.0,
        "answers_served": 0,
    }
    assert check365.ledger("job-b") == {
        "submissions": 1,
        "paid_submissions": 1,
        "duplicate_paid_submissions": 0,  # x@a.com was job-a's: not money this job spent twice
        "credits_charged": 3.0,
        "answers_served": 0,
    }
    assert check365.ledger("job-unknown") == dict.fromkeys(check365.ledger("job-a"), 0)
    total = check365.ledger()
    assert (total["submissions"], total["paid_submissions"], total["credits_charged"]) == (5, 4, 7.0)
    assert total["duplicate_paid_submissions"] == 2


def test_answers_served_count_for_the_job_that_asked(check365: Check365Simulator) -> None:
    _upload(check365, "a-1", ["x@a.com"], "job-a")
    _status(check365, "a-1", "job-a")
    _status(check365, "a-1", None)
    _upload(check365, "b-1", ["x@b.com"], "job-b")
    _status(check365, "b-1", None)
    assert check365.ledger("job-a")["answers_served"] == 1
    assert check365.ledger("job-b")["answers_served"] == 0
    assert check365.ledger()["answers_served"] == 3


def test_a_free_re_enrichment_is_a_submission_but_not_a_paid_one() -> None:
    prospeo = ProspeoSimulator().start()
    try:
        body = {"data": [{"identifier": "1", "email": "ada@initech.com"}]}
        for job in ("job-a", "job-b"):
            answer = httpx.post(
                f"{prospeo.url}/bulk-enrich-person",
                json=body,
                headers={"X-KEY": prospeo.api_key, JOB_HEADER: job},
                timeout=5,
            ).json()
            assert answer["error"] is False
        first, second = prospeo.ledger("job-a"), prospeo.ledger("job-b")
    finally:
        prospeo.stop()
    assert first["submissions"] == 1 and second["submissions"] == 1
    assert second["paid_submissions"] == 0 and second["credits_charged"] == 0
    assert first["credits_charged"] == prospeo.ledger()["credits_charged"]


def test_the_runtime_tags_requests_to_simulators_with_the_invocations_job(check365: Check365Simulator) -> None:
    """localrt.lambdas adds JOB_HEADER for the event's job_id, to simulator origins only."""
    seen: list[dict[str, Any]] = []

    def handler() -> Any:
        answer = _upload(check365, "t-1", ["t@t.com"], None)
        seen.append(answer.json())
        other = httpx.Request("GET", "http://127.0.0.1:9/elsewhere")
        return {"elsewhere_tagged": JOB_HEADER in other.headers}

    lambdas.install_crash_hook()
    lambdas.SIMULATOR_ORIGINS.add(check365.url)
    try:
        body, failed = lambdas.invoke_handler(handler, "request-1", job_id="job-t")
        assert not failed, body
        outside = _upload(check365, "t-2", ["u@t.com"], None)  # outside any invocation: no job
    finally:
        lambdas.SIMULATOR_ORIGINS.discard(check365.url)
        lambdas.uninstall_crash_hook()
    assert json.loads(body) == {"elsewhere_tagged": False}
    assert seen[0]["success"] is True and outside.json()["success"] is True
    assert check365.ledger("job-t")["paid_submissions"] == 1
    assert check365.ledger()["paid_submissions"] == 2
