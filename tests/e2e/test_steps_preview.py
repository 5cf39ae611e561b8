"""The preview of a job of steps, end to end: on samples/waterfall.csv, each step's worst case and the job's are not
below what the job then charged, step by step and in all; `python -m localrt preview --step ...` (make preview
STEPS=) prints the same preview."""

from __future__ import annotations

import json
import subprocess
import sys

from enrichment.files.reader import LocalFile
from enrichment.options import parse_steps
from enrichment.pipeline.steps_preview import preview_steps
from enrichment.settings import InputLimits
from localrt.runtime import ROOT
from tests.e2e.test_waterfall import SAMPLE, run_steps_job

STEPS = [{"vendor": "pubrio"}, {"vendor": "prospeo"}, {"vendor": "check365"}]
# No cache: another test's job of this file would otherwise answer its rows, and the job would charge nothing.
OPTIONS = {"cache_max_age_days": 0}


def test_the_worst_case_is_not_below_what_the_job_charged(runtime, pubrio, prospeo, check365, tmp_path):
    settings = runtime.settings()
    preview = preview_steps(
        LocalFile(SAMPLE), parse_steps(STEPS, OPTIONS), OPTIONS, settings.input_limits, settings=settings
    )
    assert preview.error is None and preview.rows == 1000

    job, folder = run_steps_job(runtime, tmp_path, SAMPLE.read_text(), STEPS, OPTIONS)
    assert job.item["status"] in ("SUCCEEDED", "PARTIAL"), job.item
    summary = json.loads((folder / "summary.json").read_text())
    for step, ran in zip(preview.steps, summary["waterfall"], strict=True):
        assert (step.step, step.vendor.value) == (ran["step"], ran["vendor"])
        assert step.worst_case_credits >= ran["credits"], (step, ran)
        assert step.worst_case_rows >= ran["rows_sent"], (step, ran)
    assert preview.worst_case_credits >= summary["credits"] > 0
    # The first step is given every row: what it can send is what it sent.
    assert preview.steps[0].worst_case_rows == summary["waterfall"][0]["rows_sent"]


def test_localrt_preview_of_steps_prints_each_step(tmp_path):
    steps = ["--step", "pubrio", "--step", "prospeo", "--step", "check365"]
    result = subprocess.run(
        [sys.executable, "-m", "localrt", "preview", "--input", str(SAMPLE), *steps, "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    expected = preview_steps(LocalFile(SAMPLE), parse_steps(STEPS, {}), {}, InputLimits())
    report = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert "rows: 1000" in report
    for step in expected.steps:
        # No state: nothing cached, no history, each vendor's default.
        line = f"credits: expected {step.expected_credits:g} (default, {100 * step.match_rate:.1f}% matched); "
        assert f"{line}at worst {step.worst_case_credits:g}" in report, report
    assert f"credits in all: expected {expected.expected_credits:g}; at worst {expected.worst_case_credits:g}" in report
    assert report[-1] == "a preview: nothing was sent, no credit was spent"
