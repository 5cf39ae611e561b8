"""Runtime faults through `localrt.lambdas.invoke_handler` with a tiny fake handler (nothing deployed)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from localrt import lambdas
from localrt.simulators.base import CRASH_HEADER
from localrt.simulators.pubrio import PubrioSimulator


@pytest.fixture
def pubrio() -> Iterator[PubrioSimulator]:
    sim = PubrioSimulator().start()
    lambdas.install_crash_hook()
    try:
        yield sim
    finally:
        lambdas.uninstall_crash_hook()
        sim.stop()


def _submit(sim: PubrioSimulator) -> httpx.Response:
    body = {"peoples": [str(uuid.uuid4())], "people_contact_types": ["email-work"]}
    with httpx.Client(timeout=5) as client:  # as the adapters do: a client per request
        return client.post(f"{sim.url}/redeem/people/batch", json=body, headers={"pubrio-api-key": sim.api_key})


def test_a_crash_header_kills_the_invocation_even_through_except_exception(pubrio: PubrioSimulator) -> None:
    pubrio.inject("crash_after_accept")
    reached: list[str] = []

    def handler() -> Any:
        try:
            _submit(pubrio)
        except Exception:  # a handler's own safety net cannot catch a dead process
            reached.append("except")
        reached.append("after the call")
        return {"ok": True}

    payload, is_error = lambdas.invoke_handler(handler, "req-1")

    assert is_error
    assert json.loads(payload) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": "RequestId: req-1 Error: Runtime exited without providing a reason",
    }
    assert reached == []
    assert pubrio.ledger()["paid_submissions"] == 1  # the vendor took the submission all the same


def test_the_crash_header_only_kills_inside_an_invocation(pubrio: PubrioSimulator) -> None:
    pubrio.inject("crash_after_accept")
    answer = _submit(pubrio)  # no invocation running: a test or the CLI talking to the simulator
    assert answer.status_code == 200 and answer.headers[CRASH_HEADER] == "1"


def test_without_the_hook_the_header_is_just_a_header(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without it even when a session's runtime (sharing this process) has it installed.
    monkeypatch.setattr(httpx.Client, "send", lambdas._original_send)
    sim = PubrioSimulator().start()
    try:
        sim.inject("crash_after_accept")
        payload, is_error = lambdas.invoke_handler(lambda: {"status": _submit(sim).status_code}, "req-2")
    finally:
        sim.stop()
    assert (json.loads(payload), is_error) == ({"status": 200}, False)


def test_a_handler_answer_and_an_exception_are_as_lambda_reports_them() -> None:
    assert lambdas.invoke_handler(lambda: {"a": 1}, "req-3") == ('{"a": 1}', False)

    def broken() -> Any:
        raise KeyError("chunk")

    payload, is_error = lambdas.invoke_handler(broken, "req-4")
    body = json.loads(payload)
    assert is_error and body["errorType"] == "KeyError" and body["errorMessage"] == "'chunk'"


def test_check_timeout_runs_the_handler_in_full_then_reports_a_timeout() -> None:
    side_effects: list[str] = []

    def handler() -> Any:
        side_effects.append("wrote the chunk state")
        return {"done": True}

    payload, is_error = lambdas.invoke_handler(handler, "req-5", timed_out_after=30)

    assert side_effects == ["wrote the chunk state"]
    assert is_error
    assert json.loads(payload) == {
        "errorType": "Sandbox.Timedout",
        "errorMessage": "RequestId: req-5 Error: Task timed out after 30.00 seconds",
    }


def test_runtime_faults_are_counted_per_function() -> None:
    faults = lambdas.RuntimeFaults()
    faults.inject("check_timeout", "PubrioFunction", 2)

    assert not faults.take("check_timeout", "ProspeoFunction")
    assert faults.take("check_timeout", "PubrioFunction")
    assert faults.pending() == {("check_timeout", "PubrioFunction"): 1}
    assert faults.take("check_timeout", "PubrioFunction")
    assert not faults.take("check_timeout", "PubrioFunction")
    with pytest.raises(ValueError, match="known: check_timeout"):
        faults.inject("crash", "PubrioFunction")
