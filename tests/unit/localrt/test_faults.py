"""Fault words (localrt/faults.py), their injection, and what `python -m localrt run` does with them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from localrt import __main__ as cli
from localrt import faults
from localrt.runtime import ROOT, JobView
from localrt.simulators.base import Simulator
from localrt.simulators.check365 import Check365Simulator
from localrt.simulators.insideview import CHECK_PATHS, InsideViewSimulator
from localrt.simulators.prospeo import ProspeoSimulator
from localrt.simulators.pubrio import PubrioSimulator

# ---- parsing ----


def test_a_plain_name_is_once() -> None:
    fault = faults.parse("accept_then_drop")
    assert (fault.spec.name, fault.times, fault.after, fault.word) == ("accept_then_drop", 1, None, "accept_then_drop")


def test_star_n_is_a_count() -> None:
    fault = faults.parse("check_5xx*3")
    assert (fault.spec.name, fault.spec.kind, fault.times) == ("check_5xx", "500", 3)
    assert faults.parse("429*2").times == 2


def test_out_of_credits_at_k_is_after_k_submissions() -> None:
    fault = faults.parse("out_of_credits@2")
    assert (fault.spec.name, fault.after) == ("out_of_credits", 2)
    assert faults.parse("out_of_credits").after is None


@pytest.mark.parametrize("word", ["bogus", "check_5xx*", "*3", "", "accept_then_drop*x"])
def test_an_unknown_word_is_an_error_naming_the_known_faults(word: str) -> None:
    with pytest.raises(faults.FaultError) as error:
        faults.parse(word)
    message = str(error.value)
    assert "unknown fault" in message
    for name in (*faults.FAULTS, "out_of_credits@k"):
        assert name in message


@pytest.mark.parametrize(
    ("word", "why"),
    [("500@2", "@k goes with out_of_credits only"), ("out_of_credits*2", "*N does not apply"), ("429*0", "at least 1")],
)
def test_misplaced_counts_are_errors(word: str, why: str) -> None:
    with pytest.raises(faults.FaultError, match=r"\*N does not apply|@k goes|at least 1") as error:
        faults.parse(word)
    assert why in str(error.value)


def test_every_named_fault_is_in_the_docstring_table_and_the_make_help() -> None:
    makefile = (ROOT / "Makefile").read_text()
    table = faults.__doc__ or ""
    for name in (*faults.FAULTS, "out_of_credits@k"):
        assert f"\n{name} " in table
        assert name in makefile


def test_the_command_line_rejects_an_unknown_fault_before_starting_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "in.csv"
    source.write_text("email\na@b.com\n")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["run", "--input", str(source), "--vendor", "pubrio", "--fault", "bogus", "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "unknown fault 'bogus'; known: accept_then_drop" in capsys.readouterr().err


# ---- injection ----


class FakeRuntime:
    """What faults.inject and run_jobs use of LocalRuntime, with real simulators (started only when asked)."""

    def __init__(self, status: str = "SUCCEEDED", error: str | None = None) -> None:
        self.simulators: dict[str, Simulator] = {
            "pubrio": PubrioSimulator(),
            "prospeo": ProspeoSimulator(),
            "check365": Check365Simulator(),
            "insideview": InsideViewSimulator(),
        }
        self.runtime_faults: list[tuple[str, str, int]] = []
        self.events: list[str] = []
        self.status, self.error = status, error

    def inject_fault(self, kind: str, *, vendor: str, times: int = 1) -> None:
        self.events.append(f"runtime fault {kind}")
        self.runtime_faults.append((kind, vendor, times))

    def drop(self, path: Path, vendor: str, options: dict[str, Any] | None = None) -> str:
        self.events.append(f"drop {vendor}")
        simulator, job_id = self.simulators[vendor], f"job-{vendor}"
        simulator._caller.job = job_id  # as if the job's invocations had submitted twice (JOB_HEADER)
        for _ in range(2):
            simulator._count(job_id, "submissions")
            simulator.record_paid(["a"])
        simulator._caller.job = None
        return job_id

    def wait(self, job_id: str, **_: Any) -> JobView:
        return JobView({"job_id": job_id, "status": self.status, "error": self.error, "rows_total": 1})

    def download(self, job_id: str, folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def _pending(sim: Simulator) -> list[tuple[str, int, str | None]]:
    return [(f.kind, f.remaining, f.path) for f in sim.faults]


def test_each_name_goes_where_the_table_says() -> None:
    runtime = FakeRuntime()
    words = ["accept_then_drop", "crash_after_accept*2", "check_5xx*3", "check_timeout*2", "429", "fail_job"]

    notes = faults.inject(runtime, "insideview", faults.parse_all(words))

    assert notes == []
    assert _pending(runtime.simulators["insideview"]) == [
        ("accept_then_drop", 1, "/api/v1/contact/job"),
        ("crash_after_accept", 2, "/api/v1/contact/job"),
        ("500", 3, CHECK_PATHS),
        ("429", 1, None),
        ("fail_job", 1, None),
    ]
    assert runtime.runtime_faults == [("check_timeout", "insideview", 2)]


@pytest.mark.parametrize(
    ("vendor", "path"),
    [("pubrio", "/redeem/people/batch/query"), ("check365", "/api/validation/bulk-status")],
)
def test_check_5xx_is_on_the_vendors_check_path(vendor: str, path: str) -> None:
    runtime = FakeRuntime()
    faults.inject(runtime, vendor, [faults.parse("check_5xx")])
    assert _pending(runtime.simulators[vendor]) == [("500", 1, path)]


def test_quota_and_account_faults_go_to_the_simulator_on_any_path() -> None:
    runtime = FakeRuntime()
    faults.inject(runtime, "prospeo", faults.parse_all(["daily_quota", "account_blocked", "hourly_quota*2"]))
    assert _pending(runtime.simulators["prospeo"]) == [
        ("daily_quota", 1, None),
        ("account_blocked", 1, None),
        ("hourly_quota", 2, None),
    ]


def test_check_5xx_applies_to_nothing_on_prospeo_and_says_so() -> None:
    runtime = FakeRuntime()
    notes = faults.inject(runtime, "prospeo", [faults.parse("check_5xx*2")])
    assert notes == ["fault check_5xx*2: prospeo has no check path, nothing injected"]
    assert _pending(runtime.simulators["prospeo"]) == []


def test_a_vendors_own_fault_goes_to_that_vendor_only_and_says_so_elsewhere() -> None:
    runtime = FakeRuntime()
    words = faults.parse_all(["expired_link", "missing_column*2", "drop_result"])
    assert faults.inject(runtime, "insideview", words) == [
        "fault drop_result: only for check365, nothing injected for insideview"
    ]
    assert _pending(runtime.simulators["insideview"]) == [("expired_link", 1, None), ("missing_column", 2, None)]
    notes = faults.inject(runtime, "pubrio", words)
    assert len(notes) == 3 and _pending(runtime.simulators["pubrio"]) == []


def test_out_of_credits_at_k_leaves_k_submissions() -> None:
    runtime = FakeRuntime()
    faults.inject(runtime, "pubrio", [faults.parse("out_of_credits@2")])
    sim = runtime.simulators["pubrio"]
    assert sim._credits_after == 2 and sim.credits > 0
    faults.inject(runtime, "check365", [faults.parse("out_of_credits")])
    assert runtime.simulators["check365"].credits == 0


@pytest.fixture
def insideview() -> Iterator[InsideViewSimulator]:
    sim = InsideViewSimulator(processing_seconds=0)
    sim.start()
    try:
        yield sim
    finally:
        sim.stop()


def test_check_5xx_on_insideview_strikes_the_status_path_not_the_submit(insideview: InsideViewSimulator) -> None:
    runtime = FakeRuntime()
    runtime.simulators["insideview"] = insideview
    faults.inject(runtime, "insideview", [faults.parse("check_5xx*2")])
    with httpx.Client(base_url=insideview.url, timeout=5) as client:
        query = {"clientId": insideview.client_id, "clientSecret": insideview.client_secret, "grantType": "cred"}
        token = client.post("/Auth/login/v1/token.json", params=query).json()["accessTokenDetails"]["accessToken"]
        headers = {"accessToken": token, "Accept": "application/json"}
        submitted = client.post(
            "/api/v1/contact/job", content="c1,c2", headers=headers | {"Content-Type": "text/plain"}
        )
        assert submitted.status_code == 200
        job = submitted.json()["jobId"]
        assert client.get(f"/api/v1/contact/job/{job}", headers=headers).status_code == 503
        assert client.get(f"/api/v1/contact/job/{job}/results", headers=headers).status_code == 503
        assert client.get(f"/api/v1/contact/job/{job}", headers=headers).status_code == 200


# ---- run_jobs and the exit code ----


def test_run_jobs_injects_before_the_drop_and_writes_simulator_json(tmp_path: Path) -> None:
    runtime = FakeRuntime()
    other = runtime.simulators["pubrio"]
    other._caller.job = "job-earlier"  # another job's paid submission: not this job's
    other._count("job-earlier", "submissions")
    other.record_paid(["a"])
    other._caller.job = None
    words = ["check_timeout", "out_of_credits@3"]

    summary = cli.run_jobs(runtime, [("pubrio", tmp_path / "in.csv", {})], tmp_path, faults.parse_all(words))  # type: ignore[arg-type]

    assert runtime.events == ["runtime fault check_timeout", "drop pubrio"]
    record = json.loads((tmp_path / "job-pubrio" / "simulator.json").read_text())
    assert record == {
        "job_id": "job-pubrio",
        "vendor": "pubrio",
        "faults": words,
        "submissions": 2,
        "paid_submissions": 2,
        "duplicate_paid_submissions": 1,
        "credits_charged": 0.0,
        "answers_served": 0,
    }
    assert summary[0]["output"] == str(tmp_path / "job-pubrio")


@pytest.mark.parametrize(("status", "code"), [("FAILED", 1), ("SUCCEEDED", 0), ("PARTIAL", 0), ("CANCELLED", 0)])
def test_run_exits_1_on_failed_with_the_reason_and_the_folder_last(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, status: str, code: int
) -> None:
    runtime = FakeRuntime(status, "vendor said no" if status == "FAILED" else None)

    class Runtime:
        def __init__(self, **_: Any) -> None:
            pass

        def __enter__(self) -> FakeRuntime:
            return runtime

        def __exit__(self, *_: object) -> None:
            pass

    monkeypatch.setattr(cli, "LocalRuntime", Runtime)
    source = tmp_path / "in.csv"
    source.write_text("email\na@b.com\n")

    answer = cli.main(
        ["run", "--input", str(source), "--vendor", "check365", "--fault", "429*2", "--out", str(tmp_path)]
    )

    out, err = capsys.readouterr()
    assert answer == code
    assert out.splitlines()[-1] == str(tmp_path / "job-check365")
    if status == "FAILED":
        assert "check365: job job-check365 FAILED: vendor said no" in err
    assert json.loads((tmp_path / "job-check365" / "simulator.json").read_text())["faults"] == ["429*2"]
