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


# A traced handler that answers with a presigned URL, run as Lambda would; what X-Ray's subsegments were given as
# metadata is recorded (the daemon address is a closed loopback port: nothing leaves).
_RESPONSE_CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from aws_xray_sdk.core.models.subsegment import Subsegment
recorded = []
original = Subsegment.put_metadata
def put_metadata(self, key, value, namespace="default"):
    recorded.append(json.dumps(value, default=str))
    return original(self, key, value, namespace)
Subsegment.put_metadata = put_metadata
from enrichment.tracing import Tracer
tracer = Tracer()
@tracer.capture_lambda_handler
def handler(event, context):
    return {"url": "https://bucket.s3.amazonaws.com/jobs/x/results.csv?X-Amz-Signature=presigned-secret"}
class Context:
    function_name = "traced"; aws_request_id = "r"; memory_limit_in_mb = 128
handler({}, Context())
print(json.dumps(recorded))
"""


def _recorded_metadata(capture_response: str) -> str:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AWS_LAMBDA_FUNCTION_NAME": "traced",
        "LAMBDA_TASK_ROOT": str(LAYER),
        "AWS_REGION": "us-east-1",
        "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:9",
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
        "POWERTOOLS_TRACER_CAPTURE_RESPONSE": capture_response,
    }
    child = subprocess.run(
        [sys.executable, "-I", "-c", _RESPONSE_CHILD, str(LAYER)], env=env, capture_output=True, text=True, check=False
    )
    assert child.returncode == 0, child.stderr
    return child.stdout


def test_the_template_setting_keeps_handler_answers_out_of_traces():
    """POWERTOOLS_TRACER_CAPTURE_RESPONSE as the template's Globals set it: a handler's answer (a presigned URL, a
    job's data) is never recorded; the same handler with Powertools' default records it (the probe works)."""
    from localrt.template import load_template

    template = load_template(LAYER.parents[1] / "template.yaml")
    setting = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_TRACER_CAPTURE_RESPONSE"]
    assert "presigned-secret" not in _recorded_metadata(setting)
    assert "presigned-secret" in _recorded_metadata("true")
