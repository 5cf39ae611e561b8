"""enrichment.tracing: the calls our functions make stay traced, and nothing else is patched (or imported)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

LAYER = Path(__file__).resolve().parents[3] / "layers" / "common"

# In a process of its own: X-Ray's patches are process-wide. The environment is Lambda's, tracing on.
_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from enrichment.tracing import Tracer
Tracer()
from aws_xray_sdk.core import patcher
before = {"patched": sorted(patcher._PATCHED_MODULES), "httpx_loaded": "httpx" in sys.modules}
import httpx
print(json.dumps(before | {
    "patched_after": sorted(patcher._PATCHED_MODULES),
    "client": httpx.Client.__module__,
    "loaded": [m for m in ("requests", "sqlite3") if m in sys.modules],
}))
"""


def test_boto3_is_traced_from_the_start_and_httpx_from_its_import():
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_FUNCTION_NAME": "traced",
        "LAMBDA_TASK_ROOT": str(LAYER),  # Powertools traces only in Lambda, which it knows by this
        "AWS_REGION": "us-east-1",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    }
    child = subprocess.run(
        [sys.executable, "-I", "-c", _CHILD, str(LAYER)], env=env, capture_output=True, text=True, check=False
    )
    assert child.returncode == 0, child.stderr
    seen = json.loads(child.stdout)
    assert seen["patched"] == ["botocore"] and not seen["httpx_loaded"]
    assert seen["patched_after"] == ["botocore", "httpx"]
    assert seen["client"] == "aws_xray_sdk.ext.httpx.patch"  # every httpx.Client the code makes is traced
    assert seen["loaded"] == []  # Tracer() alone imported requests and sqlite3 to patch them
