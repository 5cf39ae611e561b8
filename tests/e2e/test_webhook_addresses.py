"""Webhooks go only to https URLs on the public internet, unless WEBHOOK_ALLOW names the host:port: refused
when the job is created (422) and again at delivery (recorded on the job), with no connection opened either
time. Listeners count the connections made to them; every one is on a loopback address."""

from __future__ import annotations

import httpx
import pytest

from enrichment.jobs import webhook_address
from tests.conftest import api_auth
from tests.e2e.test_events_and_webhooks import wait_for, webhooks_allowed
from tests.loopback import ConnectionCounter, ipv6_loopback

RECORDS = [{"email": "ada@initech.com"}]


@pytest.fixture
def listener():
    with ConnectionCounter("127.0.0.1") as counter:
        yield counter


@pytest.fixture
def loopback_only(monkeypatch):
    """Fail the test, instead of connecting, if a delivery ever heads for an address off loopback."""
    real_post = webhook_address.post

    def guarded(target, **kwargs):
        assert target.address.is_loopback, f"a test tried to connect to {target.address}"
        return real_post(target, **kwargs)

    monkeypatch.setattr(webhook_address, "post", guarded)


def newest_job(api) -> str | None:
    jobs = httpx.get(f"{api.url}/jobs", params={"limit": 1}, auth=api_auth()).json()["jobs"]
    return jobs[0]["job_id"] if jobs else None


def test_loopback_and_metadata_webhooks_are_refused_when_the_job_is_created(api, listener, loopback_only):
    port = listener.port
    urls = [
        "http://[::1]:9/",
        f"https://127.0.0.1:{port}/hook",
        f"https://localhost:{port}/hook",
        f"https://0x7f000001:{port}/hook",
        f"https://2130706433:{port}/hook",
        f"https://[::ffff:127.0.0.1]:{port}/hook",
        f"http://127.0.0.1:{port}/hook",
        "http://169.254.169.254/latest/meta-data/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://10.0.0.1/hook",
    ]
    six = ConnectionCounter("::1") if ipv6_loopback() else None
    if six is not None:
        urls.append(f"https://[::1]:{six.port}/hook")
    before = newest_job(api)
    try:
        for url in urls:
            for dry_run in (False, True):
                body = {"vendor": "prospeo", "records": RECORDS, "webhook_url": url, "dry_run": dry_run}
                answer = httpx.post(f"{api.url}/jobs", json=body, auth=api_auth())
                assert answer.status_code == 422, (url, answer.text)
                errors = answer.json()["errors"]
                assert [e["field"] for e in errors] == ["webhook_url"], url
                message = errors[0]["message"]
                if "[" in url:  # an IPv6 literal: the URL's own form (the OpenAPI pattern) refuses it first
                    assert "a host name or IPv4 address" in message, url
                else:
                    assert "public internet" in message and "WEBHOOK_ALLOW" in message, url
    finally:
        if six is not None:
            six.close()
    assert listener.connections == 0 and (six is None or six.connections == 0)
    assert newest_job(api) == before  # no job was created


def test_a_webhook_allowlisted_at_creation_but_not_at_delivery_is_refused_without_a_connection(
    runtime, api, listener, prospeo
):
    url = f"https://127.0.0.1:{listener.port}/hook"
    with webhooks_allowed(runtime, f"127.0.0.1:{listener.port}", functions=("ApiFunction",)):
        created = httpx.post(
            f"{api.url}/jobs", json={"vendor": "prospeo", "records": RECORDS, "webhook_url": url}, auth=api_auth()
        )
    assert created.status_code == 202, created.text
    job_id = created.json()["job_id"]
    wait_for(lambda: runtime.job(job_id).item.get("webhook_status") not in (None, "delivering"))
    job = httpx.get(f"{api.url}/jobs/{job_id}", auth=api_auth()).json()
    assert job["status"] == "SUCCEEDED"
    assert job["webhook"]["status"] == "refused" and job["webhook"]["attempts"] == 0
    assert job["webhook"]["error"].startswith("refused: webhook_url's host 127.0.0.1 is a loopback address")
    assert listener.connections == 0


def test_a_name_that_resolves_to_loopback_by_delivery_time_is_refused_without_a_connection(
    runtime, api, listener, prospeo, monkeypatch, loopback_only
):
    """DNS rebinding: the name answers a public address when the job is created, loopback afterwards."""
    asked = []

    def rebinding(host: str, port: int) -> list[str]:
        asked.append((host, port))
        return ["93.184.215.14"] if len(asked) == 1 else ["127.0.0.1"]  # never connected to: see loopback_only

    monkeypatch.setattr(webhook_address, "resolve_host", rebinding)
    url = f"https://hooks.example:{listener.port}/hook"
    created = httpx.post(
        f"{api.url}/jobs", json={"vendor": "prospeo", "records": RECORDS, "webhook_url": url}, auth=api_auth()
    )
    assert created.status_code == 202, created.text
    job_id = created.json()["job_id"]
    wait_for(lambda: runtime.job(job_id).item.get("webhook_status") not in (None, "delivering"))
    item = runtime.job(job_id).item
    assert item["webhook_status"] == "refused" and item["webhook_attempts"] == 0
    assert item["webhook_error"].startswith("refused: webhook_url's host hooks.example resolves to an address that")
    assert "127.0.0.1" not in item["webhook_error"] and "HTTP" not in item["webhook_error"]
    assert asked == [("hooks.example", listener.port)] * 2  # at creation, then at delivery
    assert listener.connections == 0
