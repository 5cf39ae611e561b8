"""POST /jobs with `steps` instead of `vendor`: a job of steps is created and shown with its steps; a body that
gives both, neither, or steps options.parse_steps refuses is a 422 naming the field and what is wrong."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import api_auth, upload
from tests.integration.test_api import wait_final

RECORDS = [
    {"people_search_id": "d23f0824-128b-4f33-8c5c-7fd0a6a3a450"},
    {"full_name": "Grace Hopper", "company": "Navy"},
    {"email": "ada@initech.com"},
]
STEPS = [
    {"vendor": "pubrio", "options": {"contact_types": "email-work,phone"}},
    {"vendor": "prospeo", "options": {"enrich_mobile": True}},
    {"vendor": "check365", "validate": "email"},
]


@pytest.fixture
def http(api):
    with httpx.Client(base_url=api.url, timeout=30, auth=api_auth()) as client:
        yield client


def field_errors(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 422, answer.text
    return {e["field"]: e["message"] for e in answer.json()["errors"]}


def test_a_job_of_steps_is_created_and_shows_its_steps(http):
    body = {"steps": STEPS, "options": {"max_credits": 500}, "records": RECORDS}
    created = http.post("/jobs", json=body, headers={"Idempotency-Key": "steps-1"})
    assert created.status_code == 202, created.text
    again = http.post("/jobs", json=body, headers={"Idempotency-Key": "steps-1"})
    assert again.json()["job_id"] == created.json()["job_id"]

    job = http.get(f"/jobs/{created.json()['job_id']}").json()
    assert job["vendor"] == "pubrio"  # its first step's
    assert job["options"] == {"max_credits": 500}  # the job's own only
    assert job["steps"] == [
        {"vendor": "pubrio", "options": {"contact_types": ["email-work", "phone"]}, "validate": None},
        {"vendor": "prospeo", "options": {"enrich_mobile": True}, "validate": None},
        {"vendor": "check365", "options": {}, "validate": "email"},
    ]
    # It runs as a job of steps: one result row per record, and the summary names the steps it ran.
    job = wait_final(http, job["job_id"])
    assert job["status"] in ("SUCCEEDED", "PARTIAL"), job
    files = http.get(f"/jobs/{job['job_id']}/results").json()["files"]
    summary = httpx.get(files["summary.json"]).json()
    assert [step["vendor"] for step in summary["steps"]] == ["pubrio", "prospeo", "check365"]
    assert [step["vendor"] for step in summary["waterfall"]] == ["pubrio", "prospeo", "check365"]
    assert len(httpx.get(files["results.csv"]).text.strip().splitlines()) == 1 + len(RECORDS)


def test_an_uploaded_file_takes_steps_too(http):
    input_key = upload(str(http.base_url), b"email,first_name,last_name,company\nada@initech.com,Ada,L,Initech\n")
    steps = [{"vendor": "prospeo"}, {"vendor": "check365"}]
    created = http.post("/jobs", json={"steps": steps, "input_key": input_key})
    assert created.status_code == 202, created.text
    job = http.get(f"/jobs/{created.json()['job_id']}").json()
    assert job["steps"] == [
        {"vendor": "prospeo", "options": {}, "validate": None},
        {"vendor": "check365", "options": {}, "validate": "email"},
    ]
    wait_final(http, job["job_id"])


def test_a_job_of_one_step_is_a_job_of_one_vendor(http):
    created = http.post("/jobs", json={"steps": [{"vendor": "check365"}], "records": [{"email": "ada@initech.com"}]})
    assert created.status_code == 202, created.text
    job = http.get(f"/jobs/{created.json()['job_id']}").json()
    assert (job["vendor"], job["steps"]) == ("check365", [])
    wait_final(http, job["job_id"])


def test_a_job_of_one_vendor_shows_no_steps(http):
    created = http.post("/jobs", json={"vendor": "check365", "records": [{"email": "ada@initech.com"}]})
    assert http.get(f"/jobs/{created.json()['job_id']}").json()["steps"] == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"vendor": "prospeo", "steps": STEPS}, "body", "not both"),
        ({"options": {}}, "vendor", "or steps"),
        ({"steps": []}, "steps", "at least 1"),
        ({"steps": [{"vendor": "acme"}]}, "steps.0.vendor", "'pubrio'"),
        ({"steps": [{"vendor": "prospeo", "colour": "red"}]}, "steps.0.colour", "Extra"),
        ({"steps": [{"vendor": "check365"}, {"vendor": "prospeo"}]}, "steps", "one validation step at most, and last"),
        ({"steps": [{"vendor": "prospeo", "options": {"max_credits": 5}}]}, "steps[1].options", "the job's option"),
        ({"steps": [{"vendor": "prospeo"}], "options": {"enrich_mobile": True}}, "options", "belong to a step"),
        ({"steps": [{"vendor": "pubrio", "validate": "email"}]}, "steps[1].validate", "finds contacts"),
        ({"steps": [{"vendor": "prospeo", "options": {"enrich_mobil": True}}]}, "steps[1]", "unknown option"),
        ({"steps": STEPS, "dry_run": True}, "dry_run", "no preview"),
    ],
)
def test_bad_steps_are_422_naming_the_field(http, body, field, words):
    errors = field_errors(http.post("/jobs", json={"records": RECORDS} | body))
    assert field in errors and words in errors[field], errors


def test_the_openapi_document_describes_steps(http):
    spec = http.get("/swagger", params={"format": "json"}).json()
    schemas = spec["components"]["schemas"]
    assert {"StepsJobRequest", "StepRequest", "StepView"} <= set(schemas)
    assert schemas["StepsJobRequest"]["properties"]["steps"]["maxItems"] == 6
    assert set(schemas["StepRequest"]["properties"]) == {"vendor", "options", "validate"}
    examples = spec["paths"]["/jobs"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert examples["steps"]["value"]["steps"][0]["vendor"] == "pubrio"
