"""The jobs API through the local API server: HTTP in, API Gateway events to the real handler, HTTP out."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from enrichment.settings import InputLimits
from localrt.samples import check365_csv, pubrio_csv
from tests.conftest import api_auth, parse_csv, upload, vendor_takes
from tests.e2e.oracle import assert_rows_match, expected_pubrio

ROOT = Path(__file__).resolve().parents[2]


def wait_final(http: httpx.Client, job_id: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = http.get(f"/jobs/{job_id}").json()
        if job["status"] in ("SUCCEEDED", "PARTIAL", "FAILED", "CANCELLED"):
            return job
        time.sleep(0.2)
    raise TimeoutError(job_id)


@pytest.fixture
def http(api):
    with httpx.Client(base_url=api.url, timeout=30, auth=api_auth()) as client:
        yield client


def test_upload_create_poll_and_download(http, pubrio):
    text = pubrio_csv(120, seed=61)
    input_key = upload(str(http.base_url), text.encode())
    created = http.post("/jobs", json={"vendor": "pubrio", "input_key": input_key})
    assert created.status_code == 202 and created.json()["status"] == "PENDING"
    job_id = created.json()["job_id"]
    running = http.get(f"/jobs/{job_id}/results")
    job = wait_final(http, job_id)
    assert running.status_code in (409, 200)
    assert job["status"] == "SUCCEEDED" and job["rows"] == 120 and job["progress"]["percent"] == 100.0
    files = http.get(f"/jobs/{job_id}/results").json()["files"]
    assert set(files) == {"results.csv", "results.jsonl", "summary.json", "report.html"}
    report = httpx.get(files["report.html"])
    assert report.headers["content-type"].startswith("text/html") and "Rows by outcome" in report.text
    summary = httpx.get(files["summary.json"]).json()
    # an uploaded file is known by its upload's name; the credits say what they count
    assert summary["input_name"] == input_key.rsplit("/", 1)[-1]
    assert summary["credits_unit"] == "Pubrio credits"
    rows = list(csv.DictReader(io.StringIO(httpx.get(files["results.csv"]).text)))
    assert_rows_match(rows, expected_pubrio(parse_csv(text), ["email-work", "email-personal"]), "pubrio")
    assert sum(job["counts"].values()) == 120


def test_inline_records_and_the_idempotency_key(http, prospeo):
    body = {
        "vendor": "prospeo",
        "options": {"enrich_mobile": True},
        "records": [{"email": "ada@initech.com"}, {"full_name": "Grace Hopper", "company": "Navy"}],
    }
    first = http.post("/jobs", json=body, headers={"Idempotency-Key": "order-42"})
    again = http.post("/jobs", json=body, headers={"Idempotency-Key": "order-42"})
    assert first.status_code == again.status_code == 202
    assert first.json()["job_id"] == again.json()["job_id"]
    other = http.post("/jobs", json=body | {"options": {}}, headers={"Idempotency-Key": "order-42"})
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["message"]
    unkeyed = [http.post("/jobs", json=body).json()["job_id"] for _ in range(2)]
    assert len(set(unkeyed)) == 2
    job = wait_final(http, first.json()["job_id"])
    assert job["status"] == "SUCCEEDED" and job["rows"] == 2 and job["options"] == {"enrich_mobile": True}
    summary = httpx.get(http.get(f"/jobs/{job['job_id']}/results").json()["files"]["summary.json"]).json()
    assert summary["input_name"] == "inline records"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"records": [{"email": "a@b.co"}]}, "vendor"),
        ({"vendor": "nobody", "records": [{"email": "a@b.co"}]}, "vendor"),
        ({"vendor": "prospeo"}, "exactly one of records or input_key"),
        ({"vendor": "prospeo", "records": []}, "records"),
        ({"vendor": "prospeo", "records": [{"email": "x"}] * 1001}, "records"),
        ({"vendor": "prospeo", "input_key": "jobs/someone-elses/input.csv"}, "POST /uploads"),
        ({"vendor": "prospeo", "records": [{"email": "a@b.co"}], "webhook_url": "not a url"}, "webhook_url"),
    ],
)
def test_a_bad_body_is_422_naming_the_field(http, body, field):
    answer = http.post("/jobs", json=body)
    assert answer.status_code == 422
    assert field in answer.text


def field_errors(answer: httpx.Response) -> dict[str, str]:
    assert answer.status_code == 422, answer.text
    return {e["field"]: e["message"] for e in answer.json()["errors"]}


def test_an_input_key_never_uploaded_is_404(http):
    for dry_run in (False, True):
        body = {"vendor": "prospeo", "input_key": "uploads/nothing-here.csv", "dry_run": dry_run}
        answer = http.post("/jobs", json=body)
        assert answer.status_code == 404 and "no file was uploaded under this input_key" in answer.json()["message"]


def test_the_upload_form_bounds_the_size_from_one_byte_to_the_input_limit(http):
    ticket = http.post("/uploads")
    assert ticket.status_code == 201
    form = ticket.json()
    assert set(form) == {"url", "fields", "input_key", "expires_in", "max_bytes"}
    assert form["max_bytes"] == InputLimits().max_bytes and form["expires_in"] == 900
    assert form["input_key"].startswith("uploads/") and form["fields"]["key"] == form["input_key"]
    assert form["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"  # SigV4: every region takes it
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert ["content-length-range", 1, InputLimits().max_bytes] in policy["conditions"]
    assert {"key": form["input_key"]} in policy["conditions"]


def test_an_empty_upload_is_refused_when_the_job_is_created(http):
    # S3 itself refuses it in AWS (the form's content-length-range); the emulated S3 does not enforce policies.
    input_key = upload(str(http.base_url), b"")
    for dry_run in (False, True):
        body = {"vendor": "check365", "input_key": input_key, "dry_run": dry_run}
        assert field_errors(http.post("/jobs", json=body)) == {"input_key": "the uploaded file is empty"}


def test_an_upload_over_the_input_limit_is_refused_when_the_job_is_created(http, runtime):
    runtime.set_environment("ApiFunction", {"MAX_INPUT_BYTES": "64"})
    try:
        form = http.post("/uploads").json()
        assert form["max_bytes"] == 64
        assert ["content-length-range", 1, 64] in json.loads(base64.b64decode(form["fields"]["policy"]))["conditions"]
        input_key = upload(str(http.base_url), b"email\n" + b"ada@initech.com\n" * 10)
        answer = http.post("/jobs", json={"vendor": "check365", "input_key": input_key})
    finally:
        runtime.set_environment("ApiFunction", {"MAX_INPUT_BYTES": ""})
    assert field_errors(answer) == {"input_key": "the uploaded file is 166 bytes, more than the 64-byte limit"}


def readme_block(containing: str) -> str:
    blocks = re.findall(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    return next(block for block in blocks if containing in block)


def test_the_readme_upload_commands_work_as_written(http, check365, tmp_path):
    (tmp_path / "contacts.csv").write_text(check365_csv(30, seed=64))
    script = readme_block("localhost:3000/uploads").replace("localhost:3000", str(http.base_url).rstrip("/"))
    done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout.strip().splitlines()[-1])
    job = wait_final(http, created["job_id"])
    assert job["status"] == "SUCCEEDED" and job["rows"] == 30


def test_unknown_jobs_are_404_and_unrouted_paths_403(http):
    for method, path in (
        ("GET", "/jobs/job-nope"),
        ("GET", "/jobs/job-nope/results"),
        ("POST", "/jobs/job-nope/cancel"),
    ):
        answer = http.request(method, path)
        assert answer.status_code == 404 and "job-nope" in answer.json()["message"]
    assert http.get("/nowhere").status_code == 403
    assert http.get("/v1/jobs/job-nope").status_code == 404  # the stage prefix of deployed URLs works too


def test_list_newest_first_filtered_and_paginated(http, prospeo):
    ids = [
        http.post("/jobs", json={"vendor": "prospeo", "records": [{"email": f"p{i}@x.io"}]}).json()["job_id"]
        for i in range(3)
    ]
    for job_id in ids:
        wait_final(http, job_id)
    page = http.get("/jobs", params={"limit": 2}).json()
    assert len(page["jobs"]) == 2 and page["next_token"]
    created = [j["created_at"] for j in page["jobs"]]
    assert created == sorted(created, reverse=True)
    following = http.get("/jobs", params={"limit": 2, "next_token": page["next_token"]}).json()
    assert following["jobs"] and following["jobs"][0]["created_at"] <= created[-1]
    succeeded, token = [], None
    while True:  # every page of the filtered list
        page = http.get("/jobs", params={"status": "SUCCEEDED", "limit": 50} | ({"next_token": token} if token else {}))
        succeeded += page.json()["jobs"]
        if not (token := page.json()["next_token"]):
            break
    assert {j["status"] for j in succeeded} == {"SUCCEEDED"} and set(ids) <= {j["job_id"] for j in succeeded}
    assert http.get("/jobs", params={"status": "WHATEVER"}).status_code == 422
    bogus = http.get("/jobs", params={"next_token": "bogus"})
    assert bogus.status_code == 422 and bogus.json()["errors"][0]["field"] == "next_token"
    # a token is a place in the listing: any of its form is a page, here the jobs older than the first one
    place = http.get("/jobs", params={"next_token": f"{created[0]}~job-0", "limit": 100}).json()["jobs"]
    assert place and all(job["created_at"] <= created[0] for job in place)


def _start_slow_pubrio_job(http, pubrio, rows: int, seed: int) -> tuple[str, str]:
    """A 7-chunk job whose first chunks stay with the vendor a while; returns (job id, input text) once the
    vendor has accepted at least one chunk."""
    text = pubrio_csv(rows, seed=seed)  # chunks of 100, 3 at once
    input_key = upload(str(http.base_url), text.encode())
    job_id = http.post("/jobs", json={"vendor": "pubrio", "input_key": input_key}).json()["job_id"]
    deadline = time.monotonic() + 60
    while pubrio.ledger()["paid_submissions"] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    return job_id, text


def _rows(http, job_id: str) -> list[dict[str, str]]:
    files = http.get(f"/jobs/{job_id}/results").json()["files"]
    return list(csv.DictReader(io.StringIO(httpx.get(files["results.csv"]).text)))


def test_cancel_collects_what_the_vendor_accepted_and_submits_nothing_more(http, pubrio):
    with vendor_takes(pubrio, 4):  # the first chunks stay with the vendor while the cancel comes
        job_id, text = _start_slow_pubrio_job(http, pubrio, 700, seed=62)
        cancelled = http.post(f"/jobs/{job_id}/cancel")
        assert cancelled.status_code == 202
        assert cancelled.json()["stop_reason"] == "cancelled by the user"
        job = wait_final(http, job_id)
    assert job["status"] == "CANCELLED" and "cancelled" in job["error"]
    rows = _rows(http, job_id)
    assert len(rows) == 700
    expected = expected_pubrio(parse_csv(text), ["email-work", "email-personal"])
    answered = 0
    for number, (row, (status, _)) in enumerate(zip(rows, expected, strict=True), 1):
        if row["result_status"] == "error":  # never sent, because of the cancel
            assert status != "invalid_input" and "cancelled" in row["result_reason"], number
        else:
            assert row["result_status"] == status, number
            answered += status in ("matched", "not_matched")
    ledger = pubrio.ledger()
    # every chunk the vendor accepted (and will charge for) was collected, none was paid twice, and the
    # chunks not yet sent were never sent
    assert answered and ledger["answers_served"] == ledger["paid_submissions"] < job["progress"]["chunks_total"]
    assert ledger["duplicate_paid_submissions"] == 0 and job["credits"] == ledger["credits_charged"]
    assert http.post(f"/jobs/{job_id}/cancel").status_code == 409


def test_hard_cancel_ends_the_job_at_once(http, pubrio):
    with vendor_takes(pubrio, 30):  # nothing comes back before the hard cancel
        job_id, _ = _start_slow_pubrio_job(http, pubrio, 700, seed=63)
        assert http.post(f"/jobs/{job_id}/cancel", params={"hard": "true"}).status_code == 202
        job = wait_final(http, job_id)
    assert job["status"] == "CANCELLED" and "cancelled" in job["error"]
    rows = _rows(http, job_id)
    assert len(rows) == 700
    assert {r["result_status"] for r in rows} <= {"error", "invalid_input"}
    assert pubrio.ledger()["answers_served"] == 0


def test_openapi_document_and_swagger_ui(http):
    ui = http.get("/swagger")
    assert ui.status_code == 200 and "swagger-ui" in ui.text
    spec = http.get("/swagger", params={"format": "json"}).json()
    assert {"/uploads", "/jobs", "/jobs/{job_id}", "/jobs/{job_id}/results"} <= set(spec["paths"])
    assert "JobRequest" in str(spec["components"]["schemas"])


HUBSPOT_EXPORT = (
    "\ufeffRecord ID,First Name,Last Name,Email,Email,Company Name,Website URL\r\n"
    "1,Ada,Lovelace,,,,analytical.io\r\n"
    "2,Grace,Hopper,grace@navy.mil,g.hopper@navy.example,Navy,\r\n"
    "3,Alan,,,,,\r\n"
    "4,Ada,Lovelace,,,,analytical.io\r\n"
)


def test_a_dry_run_previews_an_upload_and_creates_nothing(http, prospeo):
    input_key = upload(str(http.base_url), HUBSPOT_EXPORT.encode())
    jobs_before = [j["job_id"] for j in http.get("/jobs", params={"limit": 100}).json()["jobs"]]
    served_before = prospeo.served("/bulk-enrich-person")
    body = {"vendor": "prospeo", "input_key": input_key, "dry_run": True}

    answer = http.post("/jobs", json=body)

    assert answer.status_code == 200
    preview = answer.json()
    assert "job_id" not in preview
    assert preview["file"] == {"format": "csv", "encoding": "UTF-8 with BOM", "delimiter": ",", "line_ends": "CRLF"}
    assert [(c["name"], c["field"]) for c in preview["columns"]] == [
        ("Record ID", None),
        ("First Name", "first_name"),
        ("Last Name", "last_name"),
        ("Email", "email"),
        ("Email (2)", None),
        ("Company Name", "company_name"),
        ("Website URL", "company_website"),
    ]
    assert preview["ties"][0]["read"] == "Email" and preview["ties"][0]["not_read"] == ["Email (2)"]
    assert (preview["rows"], preview["to_send"], preview["invalid_input"], preview["duplicate"]) == (4, 2, 1, 1)
    assert preview["invalid_reasons"][0]["reason"].startswith("too few datapoints")
    assert preview["invalid_reasons"][0]["first_rows"] == [3]
    assert preview["duplicates"] == [{"row": 4, "of": 1}]
    assert (preview["chunks"], preview["chunk_size"], preview["error"]) == (1, 50, None)
    # nothing created, nothing sent
    assert [j["job_id"] for j in http.get("/jobs", params={"limit": 100}).json()["jobs"]] == jobs_before
    assert prospeo.served("/bulk-enrich-person") == served_before


def test_a_dry_run_of_inline_records_with_the_columns_option(http):
    records = [{"Email": "a@initech.com", "Email 2": "b@initech.com"}, {"Email": "c@initech.com", "Email 2": "x"}]
    body = {"vendor": "check365", "records": records, "options": {"columns": {"email": "Email 2"}}, "dry_run": True}
    preview = http.post("/jobs", json=body).json()
    assert preview["file"] is None
    assert [(c["name"], c["field"], c["matched_by"]) for c in preview["columns"]] == [
        ("Email", None, None),
        ("Email 2", "email", "columns option"),
    ]
    assert (preview["to_send"], preview["invalid_input"]) == (1, 1)


def test_a_dry_run_says_why_the_job_would_fail(http):
    body = {"vendor": "check365", "records": [{"Email": "a@initech.com"}], "dry_run": True}
    preview = http.post("/jobs", json=body | {"options": {"columns": {"email": "Mail"}}}).json()
    assert preview["error"] == (
        "the columns option maps email to 'Mail', which is not a column of this file; the file's columns are: 'Email'"
    )
    assert preview["columns"] == [] and preview["to_send"] == 0
    # the vendor's options are checked at the door, dry run or not
    vendor_option = http.post("/jobs", json=body | {"options": {"enrich_mobile": True}})
    assert vendor_option.status_code == 422 and vendor_option.json()["errors"][0]["field"] == "options.enrich_mobile"


def test_the_openapi_document_describes_the_dry_run(http):
    spec = http.get("/swagger", params={"format": "json"}).json()
    responses = spec["paths"]["/jobs"]["post"]["responses"]
    previews = responses["200"]["content"]["application/json"]["schema"]  # a vendor's preview, or a job of steps'
    refs = sorted(choice["$ref"].rsplit("/", 1)[-1] for choice in previews.get("anyOf") or previews["oneOf"])
    assert refs == ["InputPreview", "StepsPreview"]
    assert responses["202"]["content"]["application/json"]["schema"]["$ref"].endswith("/JobCreated")
    for vendor in ("Pubrio", "Prospeo", "Check365", "InsideView"):
        assert "dry_run" in spec["components"]["schemas"][f"{vendor}JobRequest"]["properties"]


# ---- requests refused at the door: a 4xx naming the problem, and the listing still works after each ----

STATUSES = ("FAILED", "SUCCEEDED", None)


def assert_listing_works(http: httpx.Client) -> None:
    for status in STATUSES:
        page = http.get("/jobs", params={"status": status} if status else {})
        assert page.status_code == 200, page.text
        for job in page.json()["jobs"]:
            assert http.get(f"/jobs/{job['job_id']}").status_code == 200


@pytest.mark.parametrize(
    ("vendor", "options", "field", "words"),
    [
        ("check365", {"a": {"": None}}, "options.a", "unknown option; check365 takes allow_resend, columns"),
        ("check365", {"x": 1e-200}, "options.x", "unknown option"),
        ("prospeo", {"enrich_mobile": "maybe"}, "options.enrich_mobile", "true or false"),
        ("prospeo", {"enrich_mobile": "yes"}, "options.enrich_mobile", "true or false"),
        ("prospeo", {"enrich_mobil": True}, "options.enrich_mobil", "takes allow_resend, only_verified_email, enrich"),
        ("pubrio", {"contact_types": ["fax"]}, "options.contact_types", "'email-work', 'email-personal' or 'phone'"),
        ("pubrio", {"contact_types": "email-work,,phone"}, "options.contact_types", "'' is not one of"),
        ("pubrio", {"profile_id": 10**40}, "options.profile_id", "less than or equal to 9007199254740991"),
        ("pubrio", {"profile_id": "12"}, "options.profile_id", "a JSON number"),
        ("check365", {"columns": {"emial": "Email"}}, "options.columns", "'emial' is not a field"),
        ("check365", {"columns": {"email": "x" * 257}}, "options.columns.email", "at most 256 characters"),
        ("check365", {"columns": "email=Email"}, "options.columns", "valid dictionary"),
        ("check365", [], "options", "an object of option names and values"),
    ],
)
def test_invalid_options_are_422_naming_the_option_and_what_it_takes(http, vendor, options, field, words):
    answer = http.post("/jobs", json={"vendor": vendor, "records": [{"email": "a@b.co"}], "options": options})
    assert answer.status_code == 422, answer.text
    problem = answer.json()["errors"][0]
    assert (problem["field"], problem["in"]) == (field, "body")
    assert words in problem["message"] and words in answer.json()["message"]
    assert_listing_works(http)


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"vendor": "check365", "records": [{"email": "a"}], "input_key": "uploads/a.csv"}, "body", "exactly one"),
        ({"vendor": "check365", "records": [{"email": "a"}], "input_key": None}, "input_key", "valid string"),
        ({"vendor": "check365", "records": [{"email": "x" * 32_768}]}, "records.0.email", "at most 32,767"),
        ({"vendor": "check365", "records": [{"c" * 257: "x"}]}, "records.0", "a key: String should have at most 256"),
        ({"vendor": "check365", "records": [{f"c{i}": 1 for i in range(201)}]}, "records.0", "at most 200 items"),
        ({"vendor": "check365", "records": [{"email": {"nested": 1}}]}, "records.0.email", "text, a number, true"),
        ({"vendor": "check365", "records": [{"e": "a"}], "webhook_url": "ftp://x"}, "webhook_url", "http or https URL"),
        ({"vendor": "check365", "records": [{"e": "a"}], "webhook_url": "https://a/" + "x" * 2048}, "webhook_url", ""),
        ({"vendor": "check365", "records": [{"e": "a"}], "dry_run": "true"}, "dry_run", "true or false"),
        ({"vendor": "check365", "records": [{"e": "a"}], "colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_other_bad_fields_are_422_naming_the_field(http, body, field, words):
    answer = http.post("/jobs", json=body)
    assert answer.status_code == 422, answer.text
    problem = answer.json()["errors"][0]
    assert problem["field"] == field and words in problem["message"]


def test_a_body_that_is_not_utf8_json_is_400_with_a_message_not_a_dropped_connection(http):
    for content, words in (
        (b'{"vendor": "check365", "records": [{"email": "\xff"}]}', "not UTF-8 text (byte 46: 0xff)"),
        (b'{"vendor": "check365", "records": [{"email": NaN}]}', "NaN is not JSON"),
        (b'{"vendor": "check365", "records": [{"email": "\\ud800"}]}', "unpaired surrogate"),
        (b'{"vendor": "check365", "records": [{"email": ' + b"9" * 5000 + b"}]}", "not JSON"),
        (b'{"vendor": ', "not JSON"),
    ):
        answer = http.post("/jobs", content=content, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400, answer.text
        assert words in answer.json()["message"]
    assert_listing_works(http)


def test_a_body_that_is_not_json_is_415_with_a_message(http):
    for content_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data"):
        answer = http.post(
            "/jobs", content=b"vendor=check365&input_key=uploads/a.csv", headers={"Content-Type": content_type}
        )
        assert answer.status_code == 415, (content_type, answer.text)
        assert answer.json()["message"] == "the body must be JSON, sent with Content-Type: application/json"


def test_a_body_over_the_limit_is_413_with_a_message(http):
    records = [{"notes": "x" * 30_000} for _ in range(70)]  # 2.1 MB of valid records
    answer = http.post("/jobs", json={"vendor": "check365", "records": records})
    assert answer.status_code == 413 and "at most 2,000,000" in answer.json()["message"]


def test_a_method_a_path_does_not_take_is_405_saying_which_it_takes(http):
    for method, path, allowed in (
        ("DELETE", "/jobs/job-nope", "GET"),
        ("PUT", "/jobs", "GET, POST"),
        ("GET", "/jobs/job-nope/cancel", "POST"),
    ):
        answer = http.request(method, path)
        assert answer.status_code == 405 and answer.headers["Allow"] == allowed
        assert answer.json()["message"].endswith(f"it takes {allowed}")


def test_list_options_take_a_list_or_a_comma_string_in_every_entry_point(http, runtime, pubrio):
    """contact_types as the README gives it for S3 (a comma string) is the same option through the API and a drop."""
    from enrichment.jobs.ingest import options_from_metadata, s3_job_id

    text = pubrio_csv(5, seed=64)
    through_api = []
    for form in ("email-work,phone", ["email-work", "phone"], " email-work , phone,phone"):
        body = {"vendor": "pubrio", "records": parse_csv(text), "options": {"contact_types": form}}
        created = http.post("/jobs", json=body)
        assert created.status_code == 202, created.text
        through_api.append(wait_final(http, created.json()["job_id"]))
    key = "inbox/pubrio/comma-form.csv"
    metadata = {"option-contact-types": "email-work,phone"}  # what `aws s3 cp --metadata` sends
    put = runtime.client("s3").put_object(Bucket=runtime.bucket, Key=key, Body=text.encode(), Metadata=metadata)
    dropped = runtime.wait(s3_job_id(runtime.bucket, key, put["ETag"], options_from_metadata(metadata)), timeout=60)
    for job in (*through_api, dropped.item):
        assert job["status"] == "SUCCEEDED" and job["options"] == {"contact_types": ["email-work", "phone"]}


def test_a_stored_job_this_version_cannot_read_leaves_the_listing_working(http, runtime):
    """An item written by another version (a status this one does not know) is left out of the listing and
    answered 500 on its own, with a message; every other job is listed as before."""
    ddb, table = runtime.client("dynamodb"), runtime.outputs["JobsTableName"]
    item = {
        "job_id": {"S": "job-from-elsewhere"},
        "item": {"S": "job"},
        "listing": {"S": "job"},
        "status": {"S": "FAILED"},
        "vendor": {"S": "a-vendor-gone"},
        "created_at": {"S": "2999-01-01T00:00:00.000Z"},  # the newest: the first on every page
    }
    ddb.put_item(TableName=table, Item=item)
    try:
        listed = http.get("/jobs", params={"limit": 5})
        failed = http.get("/jobs", params={"status": "FAILED", "limit": 5})
        alone = http.get("/jobs/job-from-elsewhere")
    finally:
        ddb.delete_item(TableName=table, Key={"job_id": item["job_id"], "item": item["item"]})
    assert listed.status_code == failed.status_code == 200
    assert "job-from-elsewhere" not in listed.text + failed.text
    assert alone.status_code == 500
    assert alone.json()["message"].startswith("job job-from-elsewhere is stored in a form this version cannot read (")


# ---- the OpenAPI document is the contract ----


def test_every_route_is_tagged_and_documents_each_status_with_its_error_body(http):
    spec = http.get("/swagger", params={"format": "json"}).json()
    assert spec["servers"] == [{"url": "/v1"}]  # relative: the local server and a deployed stage alike
    assert {t["name"] for t in spec["tags"]} == {"jobs", "uploads", "vendors", "credits", "cache"}
    error_body = spec["components"]["schemas"]["ErrorBody"]
    assert set(error_body["required"]) == {"statusCode", "message"}
    expected = {
        ("post", "/uploads"): {"201", "422", "500"},
        ("post", "/jobs"): {"200", "202", "400", "404", "409", "413", "415", "422", "500"},
        ("get", "/jobs"): {"200", "422", "500"},
        ("get", "/jobs/{job_id}"): {"200", "404", "422", "500"},
        ("get", "/jobs/{job_id}/results"): {"200", "404", "409", "422", "500"},
        ("post", "/jobs/{job_id}/cancel"): {"202", "404", "409", "422", "500"},
        ("get", "/vendors/{vendor}/access"): {"200", "422", "500"},
        ("get", "/credits"): {"200", "422", "500"},
        ("post", "/cache/purge"): {"200", "400", "403", "413", "415", "422", "500"},
    }
    documented = {(m, p): op for p, item in spec["paths"].items() for m, op in item.items()}
    assert set(documented) == set(expected)
    for route, operation in documented.items():
        assert operation["tags"] and operation["tags"][0] in {"jobs", "uploads", "vendors", "credits", "cache"}, route
        assert set(operation["responses"]) == expected[route], route
        for status, response in operation["responses"].items():
            if status >= "400":
                schema = response["content"]["application/json"]["schema"]
                assert schema["$ref"].endswith("/ErrorBody"), (route, status)


def test_the_document_says_exactly_one_of_records_or_input_key_and_its_examples_work(http, prospeo):
    spec = http.get("/swagger", params={"format": "json"}).json()
    body = spec["paths"]["/jobs"]["post"]["requestBody"]["content"]["application/json"]
    # One model per vendor, or a job of steps: chosen by `steps` (no discriminator property serves both).
    requests = {ref["$ref"].rsplit("/", 1)[-1] for ref in body["schema"]["oneOf"]}
    assert requests == {f"{v}JobRequest" for v in ("Pubrio", "Prospeo", "Check365", "InsideView", "Steps")}
    for vendor in ("Pubrio", "Prospeo", "Check365", "InsideView", "Steps"):
        request = spec["components"]["schemas"][f"{vendor}JobRequest"]
        assert request["oneOf"] == [{"required": ["records"]}, {"required": ["input_key"]}]
        assert "exactly one of records or input_key" in request["description"]
    examples = body["examples"]
    assert http.post("/jobs", json=examples["records"]["value"]).status_code == 202
    assert http.post("/jobs", json=examples["dry_run"]["value"]).status_code == 200
    assert http.post("/jobs", json=examples["steps"]["value"]).status_code == 202
    upload = http.post("/jobs", json=examples["upload"]["value"])  # valid; only its upload is not there
    assert upload.status_code == 404 and "no file was uploaded under this input_key" in upload.json()["message"]
