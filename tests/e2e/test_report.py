"""report.html of a real job, rendered by headless Chromium: a page a person can read, saying what the files say.

Chromium is Debian's package (`make browser`, a prerequisite of `make test`). It runs in a network namespace
of its own when we are root (only loopback there, and down), with its background services off, on a file:// page.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import struct
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from enrichment.files.output import ROW_COLUMNS
from localrt.samples import prospeo_csv
from tests.conftest import read_results, unique_name

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
WIDTH, HEIGHT = 1200, 1600


def screenshot(page: Path, png: Path, profile: Path) -> subprocess.CompletedProcess:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail("Chromium is not installed: `make browser` installs Debian's package (make test does)")
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        f"--screenshot={png}",
        f"--window-size={WIDTH},{HEIGHT}",
        page.resolve().as_uri(),
    ]
    if os.geteuid() == 0 and shutil.which("unshare"):
        command = ["unshare", "--net", *command]  # no network at all: the page must need none
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def bars_of(page: str, chart: str) -> dict[str, int]:
    found = re.findall(rf'class="bar" data-chart="{chart}" data-name="([^"]+)" data-count="(\d+)"', page)
    return {name: int(count) for name, count in found}


def png_size(png: Path) -> tuple[int, int]:
    head = png.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", head[16:24])


def test_a_real_jobs_report_renders_and_says_what_its_files_say(runtime, prospeo, tmp_path):
    name = f"Q3 leads <b>&co {unique_name('prospeo')}"
    source = tmp_path / "input.csv"
    source.write_text(prospeo_csv(300, seed=515))
    job_id = runtime.drop(source, "prospeo", {"enrich_mobile": True}, name=name)
    view = runtime.wait(job_id, timeout=180)
    out = runtime.download(job_id, tmp_path / job_id)
    page = (out / "report.html").read_text(encoding="utf-8")
    summary = json.loads((out / "summary.json").read_text())
    results = read_results(out)

    # summary.json: the file's own name, the credits' unit
    assert view.status == summary["status"] == "SUCCEEDED"
    assert summary["input_name"] == name and summary["credits_unit"] == "Prospeo credits"
    assert summary["credits"] > 0

    # the page says what results.csv says: the chart's bars are the rows' outcomes
    outcomes = Counter(r["result_status"] for r in results)
    bars = bars_of(page, "outcomes")
    for status in ("matched", "not_matched", "invalid_input", "duplicate", "error"):
        assert bars[status] == outcomes[status] == summary["counts"][status]
    for kind in ("email", "phone"):  # and how good the emails and phones are, in the common vocabulary
        grades = Counter(r[f"result_{kind}_status"] for r in results if r[f"result_{kind}"])
        assert bars_of(page, f"{kind}s") == {k: grades[k] for k in ("valid", "invalid", "risky", "unknown")}
    matched = outcomes["matched"]
    assert f"{100 * matched / (matched + outcomes['not_matched']):.1f}%" in page  # the match rate
    assert f"{summary['credits']:,.0f}" in page and "Prospeo credits" in page
    # the top reason, with its count and first rows (numbered from the first row after the header)
    invalid = [(n, r["result_reason"]) for n, r in enumerate(results, 1) if r["result_status"] == "invalid_input"]
    reason, count = Counter(reason for _, reason in invalid).most_common(1)[0]
    rows = [str(n) for n, said in invalid if said == reason]
    first_rows = ", ".join(rows[:5]) + (", …" if len(rows) > 5 else "")
    assert f"{html.escape(reason)}</td><td>{count}</td><td>{first_rows}</td>" in page
    # every result column of the vendor's (not those every row has) results.csv has, with how full it is
    for column in (c for c in results[0] if c.startswith("result_") and c not in ROW_COLUMNS):
        filled = sum(1 for r in results if r[column])
        assert f"<code>{column}</code></td><td>{filled:,}</td>" in page
    # the file's name, escaped
    assert html.escape(name) in page and "<b>&co" not in page

    # and a browser draws it: a full-size screenshot with something on it
    png = tmp_path / "report.png"
    done = screenshot(out / "report.html", png, tmp_path / "chromium-profile")
    assert done.returncode == 0, done.stderr[-2000:]
    assert png.is_file() and png_size(png) == (WIDTH, HEIGHT)
    assert png.stat().st_size > 40_000  # a blank page of this size is a few kilobytes
