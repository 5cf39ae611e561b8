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
# 1: a people-search id only; 2: an id with the name and company; 3: name and company; 4: a name alone.
WATERFALL_FILE = (
    "people_search_id,first_name,last_name,company_name\n"
    "d23f0824-128b-4f33-8c5c-7fd0a6a3a450,,,\n"
    "6b1d3f0a-9c2e-4e57-8f1a-2d3c4b5a6e7f,Grace,Hopper,Navy\n"
    ",Alan,Turing,Bletchley\n"
    ",Dan,,\n"
)
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
    ],
)
def test_bad_steps_are_422_naming_the_field(http, body, field, words):
    errors = field_errors(http.post("/jobs", json={"records": RECORDS} | body))
    assert field in errors and words in errors[field], errors


def test_a_dry_run_of_steps_previews_each_step_and_creates_nothing(http):
    input_key = upload(str(http.base_url), WATERFALL_FILE.encode())
    jobs_before = http.get("/jobs", params={"limit": 100}).json()["jobs"]
    body = {"steps": STEPS, "options": {"max_credits": 500}, "input_key": input_key, "dry_run": True}

    answer = http.post("/jobs", json=body)

    assert answer.status_code == 200, answer.text
    preview = answer.json()
    assert "job_id" not in preview and preview["error"] is None
    assert preview["file"]["format"] == "csv" and preview["rows"] == 4
    pubrio, prospeo, check365 = preview["steps"]
    assert [(s["step"], s["vendor"], s["role"]) for s in preview["steps"]] == [
        (1, "pubrio", "find"),
        (2, "prospeo", "find"),
        (3, "check365", "validate"),
    ]
    # Pubrio takes rows 1 and 2 (an email and a phone asked: 45 credits each at worst); Prospeo rows 2 and 3 (a
    # mobile asked: 10 a match); Check365 an address for each row a step may find one for (1, 2, 3).
    assert (pubrio["worst_case_rows"], pubrio["worst_case_credits"]) == (2, 90.0)
    assert (prospeo["worst_case_rows"], prospeo["worst_case_credits"], prospeo["rows_not_taken"]) == (2, 20.0, 2)
    assert (check365["worst_case_rows"], check365["worst_case_credits"]) == (3, 3.0)
    assert preview["worst_case_credits"] == 113.0 and preview["max_credits"] == 500
    assert 0 < preview["expected_credits"] <= preview["worst_case_credits"]
    assert all(s["basis"] in ("observed", "default") for s in preview["steps"])
    assert http.get("/jobs", params={"limit": 100}).json()["jobs"] == jobs_before


def test_a_dry_run_of_steps_on_inline_records_caps_at_max_credits(http):
    body = {"steps": STEPS, "options": {"max_credits": 20}, "records": RECORDS, "dry_run": True}
    preview = http.post("/jobs", json=body).json()
    assert preview["file"] is None and preview["rows"] == 3
    assert preview["worst_case_credits"] == 20.0
    assert all(s["worst_case_credits"] <= 20 for s in preview["steps"])


def test_the_openapi_document_describes_steps(http):
    spec = http.get("/swagger", params={"format": "json"}).json()
    schemas = spec["components"]["schemas"]
    assert {"StepsJobRequest", "StepRequest", "StepView"} <= set(schemas)
    assert schemas["StepsJobRequest"]["properties"]["steps"]["maxItems"] == 6
    assert set(schemas["StepRequest"]["properties"]) == {"vendor", "options", "validate"}
    examples = spec["paths"]["/jobs"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert examples["steps"]["value"]["steps"][0]["vendor"] == "pubrio"
