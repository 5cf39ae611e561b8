"""Submit-path faults and the ledger, per vendor, against a real simulator on 127.0.0.1 (httpx, no AWS)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from localrt.simulators.base import CRASH_HEADER, Simulator
from localrt.simulators.check365 import Check365Simulator
from localrt.simulators.insideview import InsideViewSimulator
from localrt.simulators.prospeo import ProspeoSimulator
from localrt.simulators.pubrio import PubrioSimulator

PEOPLE = [str(uuid.UUID(int=n + 1)) for n in range(10)]
EMAILS = [f"person{n}@acme-sim.com" for n in range(10)]
IDS = [f"c{n:05d}" for n in range(10)]


@dataclass
class Vendor:
    """How to submit the same records to one simulator, and what its out-of-credits answer looks like."""

    make: Callable[[], Simulator]
    submit: Callable[[httpx.Client, Simulator, int], httpx.Response]  # the int: a fresh number per call
    out_of_credits: Callable[[httpx.Response], bool]


def _pubrio(client: httpx.Client, sim: Simulator, _: int) -> httpx.Response:
    body = {"peoples": PEOPLE, "people_contact_types": ["email-work"]}
    return client.post(f"{sim.url}/redeem/people/batch", json=body, headers={"pubrio-api-key": sim.api_key})


def _prospeo(client: httpx.Client, sim: Simulator, _: int) -> httpx.Response:
    data = [{"identifier": str(n), "email": email} for n, email in enumerate(EMAILS)]
    return client.post(f"{sim.url}/bulk-enrich-person", json={"data": data}, headers={"X-KEY": sim.api_key})


def _check365(client: httpx.Client, sim: Simulator, n: int) -> httpx.Response:
    body = {"emails": EMAILS, "api_key": sim.api_key, "job_id": f"job-{n}"}  # a NEW job id, the same emails
    return client.post(f"{sim.url}/api/validation/bulk-upload", json=body)


def _insideview_token(client: httpx.Client, sim: InsideViewSimulator) -> str:
    query = {"clientId": sim.client_id, "clientSecret": sim.client_secret, "grantType": "cred"}
    answer = client.post(f"{sim.url}/Auth/login/v1/token.json", params=query)
    answer.raise_for_status()
    return answer.json()["accessTokenDetails"]["accessToken"]


def _insideview(client: httpx.Client, sim: Simulator, _: int) -> httpx.Response:
    assert isinstance(sim, InsideViewSimulator)
    headers = {
        "accessToken": _insideview_token(client, sim),
        "Content-Type": "text/plain",
        "Accept": "application/json",
    }
    return client.post(f"{sim.url}/api/v1/contact/job", content="\n".join(IDS), headers=headers)


VENDORS = {
    "pubrio": Vendor(
        PubrioSimulator, _pubrio, lambda r: r.status_code == 402 and r.json()["message"] == "Insufficient credits."
    ),
    "prospeo": Vendor(
        ProspeoSimulator,
        _prospeo,
        lambda r: r.status_code == 400 and r.json() == {"error": True, "error_code": "INSUFFICIENT_CREDITS"},
    ),
    "check365": Vendor(
        Check365Simulator, _check365, lambda r: r.status_code == 402 and r.json()["message"] == "Insufficient credits"
    ),
    "insideview": Vendor(
        lambda: InsideViewSimulator(max_running_jobs=10),  # several jobs at once: only credits may refuse one
        _insideview,
        lambda r: r.status_code == 400 and r.json()["errorNumber"] == 4003,
    ),
}


@pytest.fixture(params=sorted(VENDORS))
def vendor(request: pytest.FixtureRequest) -> Iterator[tuple[str, Vendor, Simulator, httpx.Client]]:
    spec = VENDORS[request.param]
    sim = spec.make().start()
    assert sim.url.startswith("http://127.0.0.1:")
    try:
        with httpx.Client(timeout=5) as client:
            yield request.param, spec, sim, client
    finally:
        sim.stop()


def test_accept_then_drop_is_paid_and_a_repeat_pays_again_except_on_prospeo(vendor: Any) -> None:
    name, spec, sim, client = vendor
    sim.inject("accept_then_drop")

    with pytest.raises(httpx.RemoteProtocolError):
        spec.submit(client, sim, 1)

    ledger = sim.ledger()
    assert ledger["submissions"] == 1
    assert ledger["paid_submissions"] == 1
    assert ledger["duplicate_paid_submissions"] == 0
    charged = ledger["credits_charged"]

    again = spec.submit(client, sim, 2)  # the client, not knowing, sends the same records again
    assert again.status_code == 200

    ledger = sim.ledger()
    assert ledger["submissions"] == 2
    if name == "prospeo":  # re-enriching a record is free: the repeat is neither paid nor charged
        assert ledger["paid_submissions"] == 1
        assert ledger["duplicate_paid_submissions"] == 0
        assert ledger["credits_charged"] == charged > 0
    else:
        assert ledger["paid_submissions"] == 2
        assert ledger["duplicate_paid_submissions"] == 1


def test_crash_after_accept_answers_with_the_crash_header_and_is_paid(vendor: Any) -> None:
    _, spec, sim, client = vendor
    sim.inject("crash_after_accept")

    answer = spec.submit(client, sim, 1)

    assert answer.status_code == 200
    assert answer.headers.get(CRASH_HEADER) == "1"
    assert sim.ledger()["paid_submissions"] == 1
    assert spec.submit(client, sim, 2).headers.get(CRASH_HEADER) is None  # once only


@pytest.mark.parametrize("after", [0, 2])
def test_out_of_credits_after_k_serves_k_submissions_then_refuses(vendor: Any, after: int) -> None:
    _, spec, sim, client = vendor
    sim.inject("out_of_credits", after=after)

    for n in range(after):
        answer = spec.submit(client, sim, n)
        assert answer.status_code == 200, answer.text
    refused = spec.submit(client, sim, after)

    assert spec.out_of_credits(refused), (refused.status_code, refused.text)
    assert sim.ledger()["submissions"] == after + 1
    sim.reset()  # the account is restored
    assert spec.submit(client, sim, after + 1).status_code == 200


def test_the_ledger_starts_over_at_reset(vendor: Any) -> None:
    _, spec, sim, client = vendor
    spec.submit(client, sim, 1)
    assert sim.ledger()["submissions"] == 1

    sim.reset()

    assert sim.ledger() == dict.fromkeys(
        ("submissions", "paid_submissions", "duplicate_paid_submissions", "credits_charged", "answers_served"), 0
    )
