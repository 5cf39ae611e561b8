"""The `enrich` command-line client against the local jobs API."""

from __future__ import annotations

import csv

import httpx

from client import cli
from client.api import SigV4, region_of
from localrt.samples import check365_csv
from tests.conftest import parse_csv
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
