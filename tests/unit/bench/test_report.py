"""The table `make bench` prints, and the cost section's figures per 10,000 rows."""

from __future__ import annotations

import argparse
from collections import Counter

import pytest

from bench.cost import deployed_sizes_fast_waits, figures
from bench.report import SECTIONS, cell, table, with_goals
from localrt.metering import Usage
from localrt.runtime import LOCAL_VENDOR_SETTINGS


@pytest.mark.parametrize(
    ("value", "shown"),
    [(1250, "1,250"), (300.0, "300"), (127.4, "127"), (56.71, "56.7"), (2.262, "2.26"), (0.013, "0.013"),
     (0.0077345, "0.00773"), (0.0, "0"), ("check365", "check365")],
)  # fmt: skip
def test_a_figure_is_shown_whole_or_to_three_significant_digits(value, shown):
    assert cell(value) == shown


def test_sections_are_titled_aligned_and_figures_right_aligned():
    text = table(
        [
            ("Cost", [{"vendor": "pubrio", "usd_per_10k": 0.0357}, {"vendor": "check365", "usd_per_10k": 0.013}]),
            ("Time", [{"step": "prepare", "wall_s": 12.5}]),
        ]
    )
    lines = text.splitlines()
    assert lines[0] == "== Cost"
    assert lines[1].split() == ["vendor", "usd_per_10k"]
    assert lines[3] == "pubrio         0.0357"
    assert lines[4] == "check365        0.013"  # right-aligned under its header
    assert len({len(line) for line in lines[1:5]}) == 1
    assert lines[6] == "== Time" and lines[8].startswith("----") and lines[9].split() == ["prepare", "12.5"]


def test_a_row_says_whether_it_meets_the_issues_goal():
    options = argparse.Namespace(rows=10_000)
    cheap = {"vendor": "a", "usd_per_10k": 0.004, "largest_state_payload": 2000}
    dear = {"vendor": "b", "usd_per_10k": 0.02, "largest_state_payload": 2000}
    heavy = {"vendor": "c", "usd_per_10k": 0.004, "largest_state_payload": 40_000}
    judged = with_goals(SECTIONS["cost"], [cheap, dear, heavy], options)
    goal = "<= $0.01, every state's payload <= 32 KiB"
    assert [row["goal"] for row in judged] == [f"ok: {goal}", f"MISSED: {goal}", f"MISSED: {goal}"]
    small = {"vendor": "check365", "rows": 2000, "total_s": 12.0}
    assert "goal" not in with_goals(SECTIONS["job_time"], [small], options)[0]  # the goal is for 10,000 rows


def test_the_cost_runs_keep_the_deployed_sizes_and_take_the_local_waits_and_rate_limits():
    overrides = deployed_sizes_fast_waits()
    for vendor, settings in overrides.items():
        assert not {"chunk_size", "chunks_per_batch", "max_concurrency"} & set(settings)
        assert settings["first_wait_seconds"] == LOCAL_VENDOR_SETTINGS[vendor]["first_wait_seconds"]
    assert overrides["check365"]["requests_per_minute"] == LOCAL_VENDOR_SETTINGS["check365"]["requests_per_minute"]


def test_figures_are_scaled_to_10000_rows():
    usage = Usage(
        states_entered=40,
        child_executions=5,
        lambda_invocations=Counter({"f": 20}),
        lambda_billed_ms=Counter({"f": 4000}),
        mb_ms=Counter({"arm64": 4 * 1024 * 1000}),
        s3_tier1=30,
        s3_tier2=50,
        dynamodb_read_units=10.5,
        dynamodb_write_units=20.0,
        largest_state_payload=1500,
    )
    row = figures("check365", usage, rows=2000)
    assert row == {
        "vendor": "check365",
        "transitions": 225,
        "lambda_invocations": 100,
        "gb_seconds": 20.0,
        "s3_requests": 400,
        "dynamodb_units": 152.5,
        "usd_per_10k": pytest.approx(float(usage.usd()["total"]) * 5),
        "largest_state_payload": 1500,
    }
