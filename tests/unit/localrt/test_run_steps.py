"""`python -m localrt run --step ...`: a job of steps is dropped with its steps, faults go to every step's vendor,
and simulator.json holds each step vendor's ledger for the job; steps that do not hold are a usage error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from localrt import __main__ as cli
from localrt import faults
from tests.unit.localrt.test_faults import FakeRuntime


class StepsRuntime(FakeRuntime):
    """FakeRuntime whose drop takes steps: each step's simulator records a paid submission for the job."""

    def __init__(self) -> None:
        super().__init__()
        self.dropped: list[tuple[str, dict[str, Any], list[str] | None]] = []

    def drop(self, path: Path, vendor: str, options: dict[str, Any] | None = None, **kw: Any) -> str:
        steps = kw.get("steps")
        self.dropped.append((vendor, options or {}, steps))
        job_id = "job-steps"
        for name in steps or [vendor]:
            simulator = self.simulators[name]
            simulator._caller.job = job_id
            simulator._count(job_id, "submissions")
            simulator.record_paid([name])
            simulator._caller.job = None
        return job_id


def test_a_job_of_steps_writes_each_step_vendors_ledger(tmp_path: Path) -> None:
    runtime = StepsRuntime()
    job = cli.LocalJob("pubrio", tmp_path / "in.csv", {"prospeo.enrich_mobile": True}, ("pubrio", "prospeo"))

    summary = cli.run_jobs(runtime, [job], tmp_path, faults.parse_all(["429", "unknown_status"]))  # type: ignore[arg-type]

    assert runtime.dropped == [("pubrio", {"prospeo.enrich_mobile": True}, ["pubrio", "prospeo"])]
    assert [(f.kind, f.remaining) for f in runtime.simulators["pubrio"].faults] == [("429", 1)]
    assert [(f.kind, f.remaining) for f in runtime.simulators["prospeo"].faults] == [("429", 1)]
    assert not runtime.simulators["check365"].faults  # not a step
    record = json.loads((tmp_path / "job-steps" / "simulator.json").read_text())
    assert record["steps"] == ["pubrio", "prospeo"] and record["faults"] == ["429", "unknown_status"]
    assert set(record["vendors"]) == {"pubrio", "prospeo"}
    assert all(ledger["paid_submissions"] == 1 for ledger in record["vendors"].values())
    assert summary[0]["vendor"] == "pubrio>prospeo"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["--step", "check365", "--step", "prospeo"], "one validation step at most, and last"),
        (["--step", "prospeo", "--option", "pubrio.contact_types=phone"], "which is not a step of this job"),
        (["--step", "prospeo", "--option", "enrich_mobile=true"], "belong to a step's vendor"),
        (["--step", "prospeo", "--vendor", "prospeo"], "not allowed with argument"),
        (["--step", "prospeo", "--live", "vendor.json"], "--live replaces one vendor's simulator"),
    ],
)
def test_steps_that_do_not_hold_are_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str], argv, words):
    source = tmp_path / "in.csv"
    source.write_text("email\na@b.com\n")
    (tmp_path / "vendor.json").write_text("{}")
    with pytest.raises(SystemExit) as usage:
        cli.main(
            [
                "run",
                "--input",
                str(source),
                "--out",
                str(tmp_path),
                *[a.replace("vendor.json", str(tmp_path / "vendor.json")) for a in argv],
            ]
        )
    assert usage.value.code == 2
    assert words in capsys.readouterr().err
