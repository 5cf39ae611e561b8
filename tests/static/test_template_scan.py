"""The security scan of `make test`: checkov finds no failed check in template.yaml (every skip is written in the
template, with its reason) and cfn-lint, informational rules on, has nothing to say."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
README = (ROOT / "README.md").read_text()


def scan_tool(name: str) -> str:
    """The tool from the scan environment (`make test` passes SCAN_BIN=.venv-scan/bin), else this checkout's."""
    for folder in (os.environ.get("SCAN_BIN"), str(ROOT / ".venv-scan" / "bin")):
        if folder and (Path(folder) / name).exists():
            return str(Path(folder) / name)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run the tests with `make test`, which installs it in .venv-scan")
    return found


def test_checkov_finds_no_failed_check(tmp_path):
    # Offline: no policy download, no platform mapping, no API key.
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false")
    env.pop("BC_API_KEY", None)
    result = subprocess.run(
        [
            scan_tool("checkov"),
            "-f",
            str(TEMPLATE),
            "--framework",
            "cloudformation",
            "--skip-download",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=600,
    )
    assert result.stdout.strip(), result.stderr
    report = json.loads(result.stdout)
    if isinstance(report, list):  # one report per framework
        (report,) = report
    summary = report["summary"]
    failed = [
        f"{c['check_id']} {c['resource']}: {c['check_name']}"
        for c in report.get("results", {}).get("failed_checks", [])
    ]
    assert summary["failed"] == 0, "\n".join(failed)
    # Every skip says why (a Metadata checkov skip entry with a comment), and the README's security section
    # counts them and names each check skipped.
    skipped = report.get("results", {}).get("skipped_checks", [])
    for check in skipped:
        assert (check.get("check_result", {}).get("suppress_comment") or "").strip(), check["check_id"]
    security = README.split("## Security", 1)[1].split("\n## ", 1)[0]
    assert re.search(rf"\b{len(skipped)} in all\b", security), (
        f"the README's security section counts {len(skipped)} skips"
    )
    for check_id in {check["check_id"] for check in skipped}:
        assert f"| {check_id} " in security, f"the README's security section says why {check_id} is skipped"


def test_cfn_lint_with_informational_rules_is_clean():
    result = subprocess.run(
        [scan_tool("cfn-lint"), "--include-checks", "I", "--", str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
