"""The result cache across jobs, end to end: the same file twice costs nothing the second time; cache_max_age_days=0
asks again; a purge (one person's, through the API, by an admin) makes the next job ask the vendor for them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from botocore.credentials import Credentials

from localrt.samples import check365_csv
from tests.conftest import api_auth, read_results, unique_name

# What the cache changes in a row: who answered it, when, and what it cost this job (nothing).
CACHE_COLUMNS = ("result_source", "result_fetched_at", "result_credits")


def run(runtime, tmp_path: Path, text: str, options: dict | None = None):
    """A new job (a new file name) on `text`: (job item, results.csv rows, summary.json, the job id)."""
    path = tmp_path / unique_name("cache")
    path.write_text(text)
    job_id = runtime.drop(path, "check365", options)
    view = runtime.wait(job_id, timeout=300)
    folder = runtime.download(job_id, tmp_path / job_id)
    summary = json.loads((folder / "summary.json").read_text())
    return view.item, read_results(folder), summary, job_id


def sent_by(check365, job_id: str) -> list[str]:
    """The addresses Check365 was sent by this job (its uploads are named after the job)."""
    return [e for key, job in list(check365.jobs.items()) if key.startswith(f"{job_id}-c") for e in job.emails]


def without_cache_columns(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k not in CACHE_COLUMNS} for row in rows]


@pytest.fixture
def admin_http(runtime, api) -> Iterator[httpx.Client]:
    """Signed as a session of the stack's admin role."""
    session = runtime.client("sts").assume_role(RoleArn=runtime.outputs["AdminRoleArn"], RoleSessionName="dpo")
    keys = session["Credentials"]
    credentials = Credentials(keys["AccessKeyId"], keys["SecretAccessKey"], keys["SessionToken"])
    with httpx.Client(base_url=api.url, timeout=60, auth=api_auth(credentials)) as http:
        yield http


def test_the_same_file_again_is_answered_from_the_cache_and_costs_nothing(runtime, api, check365, admin_http, tmp_path):
    text = check365_csv(1000, seed=1313)

    # First job: every valid distinct address is sent and paid for.
    first, first_rows, first_summary, first_id = run(runtime, tmp_path, text)
    assert first["status"] == "SUCCEEDED"
    asked = [r for r in first_rows if r["result_status"] in ("matched", "not_matched")]
    assert asked and len(sent_by(check365, first_id)) == len(asked)
    assert first["credits"] > 0 and first_summary["cached_rows"] == 0
    assert all(r["result_source"] == "check365" and r["result_fetched_at"] for r in asked)
    assert all(r["result_source"] == "" for r in first_rows if r["result_status"] == "invalid_input")

    # Second job, same rows under another name: nothing is sent, nothing is charged.
    before = check365.ledger()
    second, second_rows, second_summary, second_id = run(runtime, tmp_path, text)
    after = check365.ledger()
    assert second["status"] == "SUCCEEDED"
    assert after["submissions"] - before["submissions"] == 0
    assert after["credits_charged"] - before["credits_charged"] == 0
    assert second["credits"] == 0 and second["chunks_total"] == 0
    assert not sent_by(check365, second_id)
    assert without_cache_columns(second_rows) == without_cache_columns(first_rows)
    assert second_summary["cached_rows"] == len(asked)
    assert second_summary["counts"] == first_summary["counts"]
    for old, new in zip(first_rows, second_rows, strict=True):
        if old["result_status"] in ("matched", "not_matched"):
            # answered from the cache, with the time the vendor answered the first job
            assert (new["result_source"], new["result_fetched_at"]) == ("cache", old["result_fetched_at"])
            assert (old["result_credits"], new["result_credits"]) == ("1", "0")
        elif old["result_status"] == "duplicate":
            assert new["result_source"] == "cache"  # its twin's answer, from the cache
        else:
            assert new["result_source"] == new["result_fetched_at"] == ""
    assert "Answered from the cache" in (tmp_path / second_id / "report.html").read_text()

    # cache_max_age_days=0: the cache is off for the job, every address is asked again.
    before = check365.ledger()
    third, third_rows, _, third_id = run(runtime, tmp_path, text, {"cache_max_age_days": 0})
    after = check365.ledger()
    assert after["submissions"] - before["submissions"] == third["chunks_total"] == first["chunks_total"]
    assert third["credits"] == first["credits"] == after["credits_charged"] - before["credits_charged"]
    assert sorted(sent_by(check365, third_id)) == sorted(sent_by(check365, first_id))
    assert all(r["result_source"] == "check365" for r in third_rows if r["result_status"] in ("matched", "not_matched"))

    # One person's purge (a data subject request), by an admin: the next job asks the vendor for them alone.
    person = next(r for r in asked if r["result_status"] == "matched")["Email"]
    refused = httpx.post(f"{api.url}/cache/purge", json={"email": person}, auth=api_auth(), timeout=30)
    assert refused.status_code == 403  # not an admin
    purged = admin_http.post("/cache/purge", json={"email": person})
    assert purged.status_code == 200, purged.text
    assert purged.json()["deleted"] == 1 and purged.json()["next_token"] is None
    fourth, fourth_rows, fourth_summary, fourth_id = run(runtime, tmp_path, text)
    assert sent_by(check365, fourth_id) == [person.strip().lower()]
    assert fourth["credits"] == 1
    assert fourth_summary["cached_rows"] == len(asked) - 1
    assert [
        r["Email"] for r in fourth_rows if r["result_source"] == "check365" and r["result_status"] != "duplicate"
    ] == [person]
    assert without_cache_columns(fourth_rows) == without_cache_columns(first_rows)

    # A purge of the vendor's entries: the next job asks for every row again.
    assert admin_http.post("/cache/purge", json={"vendor": "check365"}).json()["deleted"] == len(asked)
    fifth, _, fifth_summary, fifth_id = run(runtime, tmp_path, text)
    assert fifth_summary["cached_rows"] == 0
    assert len(sent_by(check365, fifth_id)) == len(asked)


def test_a_purge_names_what_it_deletes(api, admin_http):
    for body, field in (
        ({}, "body"),
        ({"email": "not an address"}, "body"),
        ({"email": "ada@example.com", "contact_id": "12"}, "body"),
        ({"next_token": "x"}, "next_token"),
    ):
        answer = admin_http.post("/cache/purge", json=body)
        assert answer.status_code == 422, (body, answer.text)
        assert any(field in e["field"] for e in answer.json()["errors"]), answer.json()
