"""`make run ... LIVE=vendor.json` and `make check-vendor ... LIVE=vendor.json` as a user runs them, against a
server that answers as the vendor's documents do (tests/contract/servers/), written apart from the simulators:
the same local pipeline, a real endpoint in place of the simulator. One row out per row in, and nothing
`error` that the vendor answered."""

from __future__ import annotations

import importlib
import json
import subprocess
from pathlib import Path

import pytest

from localrt import samples
from tests.conftest import parse_csv, read_results
from tests.contract.document_server import DocumentServer

ROOT = Path(__file__).resolve().parents[2]
KEY = "live-key-3b9f0d2e-DO-NOT-LOG"
CREDENTIALS = {
    "pubrio": {"api_key": KEY},
    "prospeo": {"api_key": KEY},
    "check365": {"api_key": KEY},
    "insideview": {"client_id": "live-client", "client_secret": KEY},
}
# Short waits, so the job takes seconds; everything else is the product's default for the vendor.
FAST = {"first_wait_seconds": 1, "backoff_base_seconds": 1, "backoff_max_seconds": 3, "http_timeout_seconds": 10}
INPUTS = {
    "pubrio": lambda: samples.pubrio_csv(60, seed=91),
    "prospeo": lambda: samples.prospeo_csv(120, seed=92),
    "check365": lambda: samples.check365_csv(120, seed=93),
    "insideview": lambda: samples.insideview_csv(60, seed=94),
}


def document_server(vendor: str) -> DocumentServer:
    server = DocumentServer(importlib.import_module(f"tests.contract.servers.{vendor}").route)
    # The account's credentials, as the vendor knows them: a request with others is refused.
    credentials = CREDENTIALS[vendor]
    if vendor == "insideview":
        server.state["credentials"] = (credentials["client_id"], credentials["client_secret"])
    else:
        server.state["api_key"] = credentials["api_key"]
    return server


def live_file(tmp_path: Path, vendor: str, server: DocumentServer, credentials: dict | None = None) -> Path:
    config = {"api_url": server.url, "credentials": credentials or CREDENTIALS[vendor], "settings": FAST}
    if vendor == "insideview":
        config["login_url"] = server.url
    path = tmp_path / f"{vendor}.json"
    path.write_text(json.dumps(config))
    return path


def make(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


@pytest.mark.parametrize("vendor", ["pubrio", "prospeo", "check365", "insideview"])
def test_a_job_against_a_server_that_follows_the_documents(vendor, tmp_path):
    text = INPUTS[vendor]()
    source = tmp_path / f"{vendor}-live.csv"
    source.write_text(text, newline="")
    with document_server(vendor) as server:
        result = make("run", f"INPUT={source}", f"VENDOR={vendor}", f"LIVE={live_file(tmp_path, vendor, server)}")
        assert result.returncode == 0, result.stderr[-3000:]
        folder = Path(result.stdout.strip().splitlines()[-1])
        rows = read_results(folder)
        assert len(rows) == len(parse_csv(text))  # one row out per row in
        errors = [(r["result_status"], r["result_reason"]) for r in rows if r["result_status"] == "error"]
        assert errors == []  # nothing lost that the vendor answered
        assert "matched" in {r["result_status"] for r in rows}
        summary = json.loads((folder / "summary.json").read_text())
        assert summary["status"] == "SUCCEEDED"
        assert json.loads((folder / "vendor.json").read_text()) == {
            "vendor": vendor,
            "live": True,
            "api_url": server.url,
        }
    assert KEY not in result.stdout + result.stderr
    assert KEY not in "".join(p.read_text(errors="replace") for p in folder.iterdir())


@pytest.mark.parametrize("vendor", ["pubrio", "prospeo", "check365", "insideview"])
def test_check_vendor_says_ok_or_what_is_wrong_in_one_line(vendor, tmp_path):
    with document_server(vendor) as server:
        server.state["daily_reset_at"] = 0  # Prospeo's server: its daily limit is not reached for this test
        good = make("check-vendor", f"VENDOR={vendor}", f"LIVE={live_file(tmp_path, vendor, server)}")
        wrong = {k: "wrong-" + KEY for k in CREDENTIALS[vendor]}
        bad = make("check-vendor", f"VENDOR={vendor}", f"LIVE={live_file(tmp_path, vendor, server, wrong)}")
    assert good.returncode == 0, good.stdout + good.stderr[-2000:]
    assert good.stdout.strip().startswith(f"ok: {vendor}")
    assert bad.returncode != 0, bad.stdout + bad.stderr[-2000:]
    assert bad.stdout.strip().startswith("not ok: BadCredentials")
    assert KEY not in good.stdout + good.stderr + bad.stdout + bad.stderr
