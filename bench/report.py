"""The table `make bench` prints: its sections (one per benchmark module), the issue's goal for each, the layout."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Section:
    title: str
    run: Callable[[Any, argparse.Namespace], list[dict[str, Any]]]  # (the section's module, the options) -> rows
    # The goal for a row, as (what it is, whether the row meets it); None where it does not apply.
    goal: Callable[[dict[str, Any], argparse.Namespace], tuple[str, bool] | None] = lambda row, options: None


SECTIONS: dict[str, Section] = {
    "pacing": Section(
        "Pacing: requests per 60 s window against the vendor's limit",
        lambda module, o: module.rows(minutes=o.minutes),
        lambda row, o: (
            "sliding max <= 1, full window >= 0.95",
            row["sliding_window_max_ratio"] <= 1.0 and row["full_window_ratio"] >= 0.95,
        ),
    ),
    "cost": Section(
        "AWS cost per 10,000 rows (a metered local job, deployed chunk and batch sizes)",
        lambda module, o: module.rows(rows_per_job=o.rows),
        lambda row, o: (
            "<= $0.01, every state's payload <= 32 KiB",
            row["usd_per_10k"] <= 0.01 and row["largest_state_payload"] <= 32 * 1024,
        ),
    ),
    "cold_imports": Section(
        "Cold import per handler against `import boto3`",
        lambda module, o: module.rows(repeats=o.repeats),
        lambda row, o: ("<= 1.5x boto3", row["ratio"] <= 1.5),
    ),
    "scale": Section(
        "Prepare and Finalize: wall time and peak RSS by rows",
        lambda module, o: module.rows(sizes=o.sizes),
        lambda row, o: (
            "< 300 s, peak RSS <= 256 MB" + (", <= 0.01 S3 requests a row" if row["step"] == "finalize" else ""),
            row["wall_s"] < 300
            and row["peak_rss_mb"] <= 256
            and (row["step"] != "finalize" or row["s3_requests_per_row"] <= 0.01),
        ),
    ),
    "job_time": Section(
        "A Check365 job with the local settings: where the wall time goes (s)",
        lambda module, o: module.rows(rows=o.rows, vendor="check365"),
        lambda row, o: ("<= 40 s", row["total_s"] <= 40) if row["rows"] == 10_000 else None,
    ),
}


def cell(value: Any) -> str:
    """A figure as the table shows it: counts whole, small figures to 3 significant digits."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, int) or (value.is_integer() and abs(value) >= 1):
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    if abs(value) >= 1:
        return f"{value:.2f}"
    return f"{value:.3g}"


def table(sections: list[tuple[str, list[dict[str, Any]]]]) -> str:
    """One table: per section its title, its columns and its rows; figures right-aligned, words left-aligned."""
    lines: list[str] = []
    for title, rows in sections:
        columns = list(dict.fromkeys(column for row in rows for column in row))
        cells = [[cell(row.get(column, "")) for column in columns] for row in rows]
        widths = [max(len(column), *(len(line[i]) for line in cells)) for i, column in enumerate(columns)]
        numeric = [all(isinstance(row.get(c), (int, float)) for row in rows) for c in columns]

        def line(values: list[str], widths: list[int] = widths, numeric: list[bool] = numeric) -> str:
            parts = (v.rjust(w) if n else v.ljust(w) for v, w, n in zip(values, widths, numeric, strict=True))
            return "  ".join(parts).rstrip()

        lines += [f"== {title}", line(columns), line(["-" * w for w in widths]), *(line(c) for c in cells), ""]
    return "\n".join(lines).rstrip() + "\n"


def with_goals(section: Section, rows: list[dict[str, Any]], options: argparse.Namespace) -> list[dict[str, Any]]:
    """The rows, each with a `goal` column saying whether it meets the issue's goal (where one applies)."""
    judged = []
    for row in rows:
        verdict = section.goal(row, options)
        judged.append(row if verdict is None else row | {"goal": ("ok: " if verdict[1] else "MISSED: ") + verdict[0]})
    return judged


def run_section(name: str, options: argparse.Namespace) -> list[dict[str, Any]]:
    """A section's rows (in the process that calls it)."""
    return SECTIONS[name].run(importlib.import_module(f"bench.{name}"), options)
