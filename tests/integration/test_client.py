"""The `enrich` command-line client against the local jobs API."""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import httpx
import pytest

from client import cli
from client.api import JobsApi, SigV4, region_of
from localrt.samples import check365_csv, pubrio_csv
from tests.conftest import api_auth, parse_csv
from tests.e2e.oracle import assert_rows_match, expected_check365


def test_one_command_round_trip_with_a_progress_bar(api, check365, tmp_path, capsys):
    text = check365_csv(150, seed=81)
    source = tmp_path / "list.csv"
    source.write_text(text)
    code = cli.main(["--url", api.url, "submit", str(source), "--vendor", "check365", "--out", str(tmp_path / "r")])
    out, err = capsys.readouterr()
    assert code == 0
    folder = out.strip().splitlines()[-1]
    assert "[" in err and "SUCCEEDED" in err and "chunks 2/2" in err  # the progress bar's last state
    assert f"report: {folder}/report.html" in err.splitlines()  # the page to open, downloaded with the files
    assert "Rows by outcome" in (Path(folder) / "report.html").read_text()
    assert json.loads((Path(folder) / "summary.json").read_text())["input_name"] == "list.csv"  # the user's name
    with open(f"{folder}/results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert_rows_match(rows, expected_check365(parse_csv(text)), "check365")

    # the same file and settings again: the same job, not a second one (the Idempotency-Key)
    assert cli.main(["--url", api.url, "submit", str(source), "--vendor", "check365", "--no-wait"]) == 0
    again = capsys.readouterr().out.strip()
    assert folder.endswith(again)

    assert cli.main(["--url", api.url, "list", "--limit", "5"]) == 0
    assert again in capsys.readouterr().out
    assert cli.main(["--url", api.url, "status", again]) == 0
    assert '"SUCCEEDED"' in capsys.readouterr().out


def test_errors_are_plain(api, capsys):
    assert cli.main(["--url", api.url, "cancel", "job-unknown"]) == 2
    assert "HTTP 404: job job-unknown does not exist" in capsys.readouterr().err


def test_an_upload_refused_is_said_plainly(api, runtime, tmp_path, capsys):
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert cli.main(["--url", api.url, "submit", str(empty), "--vendor", "check365"]) == 2
    assert capsys.readouterr().err.strip() == "enrich: empty.csv is empty: there is nothing to upload"
    large = tmp_path / "large.csv"
    large.write_text(check365_csv(20, seed=82))
    runtime.set_environment("ApiFunction", {"MAX_INPUT_BYTES": "64"})
    try:
        assert cli.main(["--url", api.url, "preview", str(large), "--vendor", "check365"]) == 2
    finally:
        runtime.set_environment("ApiFunction", {"MAX_INPUT_BYTES": ""})
    assert f"large.csv is {large.stat().st_size:,} bytes, more than the 64 allowed" in capsys.readouterr().err


def test_a_webhook_the_rule_refuses_is_said_plainly(api, tmp_path, capsys):
    source = tmp_path / "list.csv"
    source.write_text(check365_csv(5, seed=83))
    hook = "https://169.254.169.254/latest/meta-data/"
    assert cli.main(["--url", api.url, "submit", str(source), "--vendor", "check365", "--webhook", hook]) == 2
    assert "HTTP 422: webhook_url: webhook_url's host 169.254.169.254 is a cloud metadata address" in (
        capsys.readouterr().err
    )


def test_a_deployed_api_gets_sigv4_signed_requests():
    url = "https://abc123.execute-api.eu-west-1.amazonaws.com/v1"
    assert region_of(url, None) == "eu-west-1"
    request = httpx.Request("GET", f"{url}/jobs")
    signed = next(SigV4("eu-west-1").auth_flow(request))
    assert signed.headers["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=")
    assert "/eu-west-1/execute-api/aws4_request" in signed.headers["Authorization"]


def test_check_vendor_proves_each_vendors_credentials_in_one_line(api, capsys):
    for vendor in ("pubrio", "prospeo", "check365", "insideview"):
        assert cli.main(["--url", api.url, "check-vendor", vendor]) == 0
        line = capsys.readouterr().out.strip().splitlines()[-1]  # after the functions' own log lines
        assert line.startswith(f"ok: {vendor}: ")


def test_check_vendor_says_what_is_wrong_and_exits_1(api, runtime, capsys):
    secret_arn = runtime.outputs["Check365SecretArn"]
    secrets = runtime.client("secretsmanager")
    good = secrets.get_secret_value(SecretId=secret_arn)["SecretString"]
    secrets.put_secret_value(SecretId=secret_arn, SecretString='{"api_key": "not-the-key-5f1e"}')
    runtime.forget_cached_secrets()
    try:
        assert cli.main(["--url", api.url, "check-vendor", "check365"]) == 1
    finally:
        secrets.put_secret_value(SecretId=secret_arn, SecretString=good)
        runtime.forget_cached_secrets()
    out = capsys.readouterr().out
    line = out.strip().splitlines()[-1]
    assert "not-the-key-5f1e" not in out
    assert line.startswith("not ok: BadCredentials: check365: HTTP 401")
    assert "not-the-key-5f1e" not in line


HUBSPOT_EXPORT = (
    "Record ID,First Name,Last Name,Email,Email,Company Name,Website URL\n"
    "1,Ada,Lovelace,ada@analytical.io,ada.l@old.example,,analytical.io\n"
    "2,Grace,Hopper,,g.hopper@navy.example,Navy,\n"
    "3,Alan,,,,,\n"
)


def test_preview_shows_columns_rows_and_chunks_and_sends_nothing(api, prospeo, tmp_path, capsys):
    source = tmp_path / "hubspot.csv"
    source.write_text(HUBSPOT_EXPORT)
    served = prospeo.served("/bulk-enrich-person")
    code = cli.main(["--url", api.url, "preview", str(source), "--vendor", "prospeo", "--column", "email=Email (2)"])
    out = capsys.readouterr().out
    assert code == 0
    lines = [" ".join(line.split()) for line in out.splitlines()]  # the table's padding aside
    assert "file: csv, UTF-8, delimiter ',', line ends LF" in lines
    assert "7 Website URL -> company_website (alias)" in lines
    assert "5 Email (2) -> email (columns option)" in lines
    assert "4 Email -> ignored (email is read from 'Email (2)' (column 5): the columns option names it)" in lines
    assert "rows: 3: 2 to send, 1 invalid_input, 0 duplicate" in lines
    assert "chunks: 1 of up to 50 rows" in lines
    assert lines[-1] == "a preview: nothing was sent, no credit was spent"
    assert prospeo.served("/bulk-enrich-person") == served


def test_preview_of_a_job_that_would_fail_exits_1_saying_why(api, tmp_path, capsys):
    source = tmp_path / "hubspot.csv"
    source.write_text(HUBSPOT_EXPORT)
    assert cli.main(["--url", api.url, "preview", str(source), "--vendor", "pubrio"]) == 1
    last = capsys.readouterr().out.strip().splitlines()[-1]
    assert last.startswith("the job would fail: no column pubrio can match on.")


def test_a_malformed_column_is_a_usage_error(api, tmp_path):
    source = tmp_path / "hubspot.csv"
    source.write_text(HUBSPOT_EXPORT)
    with pytest.raises(SystemExit) as usage:
        cli.main(["--url", api.url, "submit", str(source), "--vendor", "prospeo", "--column", "email"])
    assert usage.value.code == 2


def test_submit_with_columns_reads_the_named_column(api, prospeo, tmp_path, capsys):
    source = tmp_path / "hubspot.csv"
    source.write_text(HUBSPOT_EXPORT)
    args = ["--url", api.url, "submit", str(source), "--vendor", "prospeo", "--out", str(tmp_path / "r")]
    code = cli.main([*args, "--column", "email=Email (2)", "--column", "company_name=Company Name"])
    out = capsys.readouterr().out
    assert code == 0
    folder = Path(out.strip().splitlines()[-1])
    summary = json.loads((folder / "summary.json").read_text())
    assert summary["options"] == {"columns": {"email": "Email (2)", "company_name": "Company Name"}}
    assert summary["column_ties"][0] == {
        "field": "email",
        "read": "Email (2)",
        "not_read": ["Email"],
        "rule": "the columns option names it",
    }


def test_submit_exits_1_when_the_job_fails_saying_why_before_the_folder(api, prospeo, tmp_path, capsys):
    source = tmp_path / "hubspot.csv"
    source.write_text(HUBSPOT_EXPORT)
    args = ["--url", api.url, "submit", str(source), "--vendor", "prospeo", "--out", str(tmp_path / "r")]
    code = cli.main([*args, "--column", "email=Work Email 2"])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.strip().splitlines()[-1] == (
        "FAILED: the columns option maps email to 'Work Email 2', which is not a column of this file; the file's "
        "columns are: 'Record ID', 'First Name', 'Last Name', 'Email', 'Email (2)', 'Company Name', 'Website URL'"
    )
    folder = Path(out.strip().splitlines()[-1])  # the output folder stays the last line
    assert (folder / "summary.json").is_file()
    assert json.loads((folder / "summary.json").read_text())["status"] == "FAILED"


# ---- a client that behaves ----


def test_url_is_taken_before_or_after_the_command_and_from_the_environment(api, monkeypatch, capsys):
    assert cli.main(["list", "--limit", "1", "--url", api.url]) == 0
    assert cli.main(["--url", api.url, "list", "--limit", "1"]) == 0
    # the one given last wins: a wrong URL before the command, the right one after it
    assert cli.main(["--url", "http://127.0.0.1:9", "list", "--url", api.url]) == 0
    monkeypatch.setenv("ENRICH_API_URL", api.url)
    assert cli.main(["list", "--limit", "1"]) == 0
    capsys.readouterr()


def test_every_option_and_argument_has_help():
    parser = cli.build_parser()
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, sub in [("enrich", parser), *commands.choices.items()]:
        for action in sub._actions:
            assert action.help and action.help != argparse.SUPPRESS, (name, action.dest)


def _failed_job(http: httpx.Client) -> str:
    """A job that fails before its input is read: the columns option names a column the file lacks."""
    body = {"vendor": "check365", "records": [{"Email": "a@initech.com"}], "options": {"columns": {"email": "Mail"}}}
    job_id = http.post("/jobs", json=body).json()["job_id"]
    deadline = time.monotonic() + 60
    while http.get(f"/jobs/{job_id}").json()["status"] != "FAILED" and time.monotonic() < deadline:
        time.sleep(0.2)
    return job_id


def test_a_failed_job_shows_its_real_progress_says_why_and_exits_1(api, capsys):
    with httpx.Client(base_url=api.url, auth=api_auth()) as http:
        job_id = _failed_job(http)
    assert cli.main(["watch", job_id, "--url", api.url]) == 1
    out, err = capsys.readouterr()
    bar = err.strip().splitlines()[-1]
    assert f"{job_id} [{'.' * 30}] chunks -" in bar and "FAILED" in bar  # nothing done: an empty bar
    assert "rows None" not in out and "rows not read" in out
    assert out.strip().splitlines()[-1].startswith("FAILED: the columns option maps email to 'Mail'")
    assert cli.main(["list", "--url", api.url, "--status", "FAILED"]) == 0
    assert "None" not in capsys.readouterr().out


def test_ctrl_c_while_watching_says_the_job_goes_on_and_how_to_follow_it(api, check365, monkeypatch, capsys):
    with httpx.Client(base_url=api.url, auth=api_auth()) as http:
        job_id = http.post("/jobs", json={"vendor": "check365", "records": [{"email": "a@initech.com"}]}).json()[
            "job_id"
        ]

    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "pause", interrupted)
    assert cli.main(["watch", job_id, "--url", api.url]) == 130
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"job {job_id} goes on" in err and f"`enrich watch {job_id}`" in err
    monkeypatch.undo()
    with httpx.Client(base_url=api.url, auth=api_auth()) as http:  # not cancelled: it ends on its own
        deadline = time.monotonic() + 180
        while (job := http.get(f"/jobs/{job_id}").json())["status"] not in cli.FINAL and time.monotonic() < deadline:
            time.sleep(0.2)
    assert job["status"] == "SUCCEEDED"


def test_options_given_on_the_command_line_take_the_apis_one_form(api, pubrio, tmp_path, capsys):
    assert cli.parse_options(["contact_types=email-work,phone", "enrich_mobile=true", "profile_id=12"]) == {
        "contact_types": "email-work,phone",
        "enrich_mobile": True,
        "profile_id": 12,
    }
    source = tmp_path / "people.csv"
    source.write_text(pubrio_csv(3, seed=82))
    args = ["submit", str(source), "--vendor", "pubrio", "--option", "contact_types=email-work,phone"]
    assert cli.main([*args, "--url", api.url, "--out", str(tmp_path / "r")]) == 0
    folder = Path(capsys.readouterr().out.strip().splitlines()[-1])
    assert json.loads((folder / "summary.json").read_text())["options"] == {"contact_types": ["email-work", "phone"]}
    assert cli.main([*args, "--option", "enrich_mobile=true", "--url", api.url]) == 2
    assert "options.enrich_mobile: unknown option; pubrio takes" in capsys.readouterr().err


def test_submit_with_steps_creates_a_job_of_steps_with_their_options(runtime, api, tmp_path, capsys):
    assert cli.steps_body(["pubrio", "prospeo", "check365"], {"prospeo.enrich_mobile": True, "max_credits": 50}) == {
        "steps": [
            {"vendor": "pubrio"},
            {"vendor": "prospeo", "options": {"enrich_mobile": True}},
            {"vendor": "check365"},
        ],
        "options": {"max_credits": 50},
    }
    source = tmp_path / "people.csv"
    source.write_text(pubrio_csv(3, seed=83))
    steps = ["--step", "pubrio", "--step", "prospeo", "--step", "check365"]
    options = ["--option", "prospeo.enrich_mobile=true", "--option", "max_credits=500"]
    assert cli.main(["--url", api.url, "submit", str(source), *steps, *options, "--no-wait"]) == 0
    job_id = capsys.readouterr().out.strip()
    assert cli.main(["--url", api.url, "status", job_id]) == 0
    job = json.loads(capsys.readouterr().out)
    assert [step["vendor"] for step in job["steps"]] == ["pubrio", "prospeo", "check365"]
    assert job["steps"][1]["options"] == {"enrich_mobile": True} and job["steps"][2]["validate"] == "email"
    assert job["options"] == {"max_credits": 500}
    runtime.wait(job_id)  # not left running into the next test's vendor ledgers


def test_steps_given_wrong_are_said_plainly(api, tmp_path, capsys):
    source = tmp_path / "people.csv"
    source.write_text(pubrio_csv(3, seed=84))
    submit = ["--url", api.url, "submit", str(source), "--no-wait"]
    for usage in (
        ["--step", "prospeo", "--option", "pubrio.contact_types=phone"],  # a step option of no step
        ["--step", "prospeo", "--vendor", "prospeo"],  # one or the other
        ["--step", "acme"],
    ):
        with pytest.raises(SystemExit) as refused:
            cli.main([*submit, *usage])
        assert refused.value.code == 2
    assert "'pubrio' is not a step (the steps: prospeo)" in capsys.readouterr().err
    assert cli.main([*submit, "--step", "check365", "--step", "prospeo"]) == 2
    assert "steps: one validation step at most, and last" in capsys.readouterr().err
    # A job of one step is a job of its vendor: its preview is that vendor's.
    assert cli.main(["--url", api.url, "preview", str(source), "--step", "prospeo"]) == 0
    assert "columns (prospeo matches on " in capsys.readouterr().out


WATERFALL_FILE = (
    "People Search ID,First Name,Last Name,Company,Email\n"
    "d23f0824-128b-4f33-8c5c-7fd0a6a3a450,,,,\n"
    ",Grace,Hopper,Navy,\n"
    ",,,,ada@initech.com\n"
    ",Dan,,,\n"
)


def test_preview_of_steps_prints_each_step_and_creates_no_job(api, tmp_path, capsys):
    source = tmp_path / "crm.csv"
    source.write_text(WATERFALL_FILE)
    jobs = JobsApi(api.url, None)
    before = jobs.list(limit=100)["jobs"]
    steps = ["--step", "pubrio", "--step", "prospeo", "--step", "check365"]
    code = cli.main(["--url", api.url, "preview", str(source), *steps, "--option", "max_credits=40"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [" ".join(line.split()) for line in out.splitlines()]
    assert "rows: 4" in lines
    assert "step 1: pubrio: can take 1 rows (0 duplicate), 3 not taken" in lines
    assert "step 2: prospeo: can take 2 rows (0 duplicate), 2 not taken" in lines
    assert "step 3: check365 (validate): at most 3 addresses to grade, 0 rows' own not an address" in lines
    # At worst: Pubrio 30 (two emails asked), Prospeo 2, Check365 3: 35, under the budget of 40.
    assert any(line.startswith("credits in all: expected ") and line.endswith("at worst 35, capped by max_credits 40")
               for line in lines), lines  # fmt: skip
    assert lines[-1] == "a preview: nothing was sent, no credit was spent"
    assert jobs.list(limit=100)["jobs"] == before  # nothing sent: no job to send it
