"""The jobs API keeps its own contract: schemathesis, with its default checks, against the OpenAPI document the
API serves (/swagger?format=json), finds nothing.

Generated requests carry any URL, and the API POSTs a created job's completion event to its webhook_url: the
run happens in a network namespace of its own that has only loopback (`unshare -n`, as root), with the local
runtime and the API started inside it (tests/integration/contract_runner.py), so nothing leaves the machine.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Bounded so the run takes about a minute on two cores (starting the runtime included); deterministic, so a
# failure is the same failure on every machine.
SCHEMATHESIS_ARGS = ["--max-examples", "10", "--generation-deterministic", "--max-failures", "20"]


def test_schemathesis_finds_nothing_against_the_local_api(tmp_path):
    assert shutil.which("unshare") and shutil.which("ip"), "needs util-linux unshare and iproute2 ip (root)"
    runner = [sys.executable, "-m", "tests.integration.contract_runner", str(tmp_path / "functions.log")]
    # Inside the namespace: only loopback, brought up; then the runner (runtime, API, schemathesis).
    command = ["unshare", "-n", "sh", "-c", 'ip link set lo up && exec "$@"', "sh", *runner, *SCHEMATHESIS_ARGS]
    # Run from tmp_path: schemathesis keeps a cache in its working directory.
    environment = os.environ | {"PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=240, check=False
    )
    report = done.stdout + done.stderr
    assert done.returncode == 0, report[-20_000:]
    assert "8 selected / 8 total" in report, report[-5_000:]  # every operation of the document was tested
    generated = re.search(r"(\d+) generated, (\d+) passed", report)
    assert generated and generated[1] == generated[2] and int(generated[1]) > 100, report[-5_000:]
