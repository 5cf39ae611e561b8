"""Static checks of the template and the state machine: cfn-lint, statelint, moto's ASL parser, SAM."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from moto.stepfunctions.parser.asl.parse.asl_parser import AmazonStateLanguageParser

from localrt.runtime import TEMPLATE_NAMES
from localrt.template import load_template

ROOT = Path(__file__).resolve().parents[2]
ASL = ROOT / "statemachine" / "job.asl.json"
BIN = Path(sys.executable).parent

# statelint 3.1.0 predates ReaderConfig.InputType, which AWS documents for an ItemReader reading a
# JSON array from S3 (the Distributed Map's chunk manifest). Only this exact message is tolerated.
STATELINT_OUTDATED = {'Field "InputType" not allowed in State Machine.States.ProcessChunks.ItemReader.ReaderConfig'}


def filled_definition() -> str:
    """The ASL with its DefinitionSubstitutions filled as a deployment would."""
    substitutions = load_template(ROOT / "template.yaml")["Resources"]["JobStateMachine"]["Properties"][
        "DefinitionSubstitutions"
    ]
    text = ASL.read_text()
    for name in substitutions:
        value = f"arn:aws:lambda:us-east-1:123456789012:function:{name}" if name.endswith("Arn") else f"{name}-value"
        text = text.replace("${" + name + "}", value)
    assert "${" not in text, "every substitution in the ASL is declared in the template"
    return text


def sam_environment() -> dict[str, str]:
    env = dict(os.environ, SAM_CLI_TELEMETRY="0")
    # sam build looks for python3.13 on PATH: the one `make` found, else this interpreter (also 3.13).
    python313 = Path(os.environ.get("PYTHON313") or sys.executable)
    env["PATH"] = f"{python313.parent}{os.pathsep}{env['PATH']}"
    return env


def sam() -> str:
    local = ROOT / ".venv-sam" / "bin" / "sam"
    path = os.environ.get("SAM_CLI") or (str(local) if local.exists() else shutil.which("sam"))
    if not path:
        pytest.fail("aws-sam-cli is not installed: run the tests with `make test`, which installs it in .venv-sam")
    return path


def test_cfn_lint():
    result = subprocess.run([str(BIN / "cfn-lint"), str(ROOT / "template.yaml")], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_statelint(tmp_path):
    path = tmp_path / "job.asl.json"
    path.write_text(filled_definition())
    result = subprocess.run([str(BIN / "statelint"), str(path)], capture_output=True, text=True)
    problems = {line.strip() for line in result.stdout.splitlines()[1:] if line.strip()}
    assert problems <= STATELINT_OUTDATED, result.stdout


def test_moto_parses_the_asl():
    program, _ = AmazonStateLanguageParser.parse(filled_definition())
    assert program is not None


def test_one_poll_loop_serves_every_vendor():
    definition = json.loads(ASL.read_text())
    chunk_states = definition["States"]["ProcessChunks"]["ItemProcessor"]["States"]
    vendor_tasks = [s for s in chunk_states.values() if s["Type"] == "Task"]
    assert vendor_tasks and all(s["Parameters"]["FunctionName.$"] == "$.vendor_function" for s in vendor_tasks)
    assert chunk_states["WaitForVendor"]["SecondsPath"] == "$.step.progress.wait_seconds"
    assert not re.search(r"pubrio|prospeo", ASL.read_text(), re.IGNORECASE)


def test_every_vendor_has_a_function_a_secret_and_its_settings():
    template = load_template(ROOT / "template.yaml")
    resources = template["Resources"]
    mapping = resources["PrepareFunction"]["Properties"]["Environment"]["Variables"]["VENDOR_FUNCTIONS"]["Fn::Sub"]
    variables = template["Globals"]["Function"]["Environment"]["Variables"]
    for vendor, name in TEMPLATE_NAMES.items():
        assert f'"{vendor}": "${{{name}Function.Arn}}"' in mapping
        assert resources[f"{name}Function"]["Properties"]["CodeUri"] == f"functions/vendor_{vendor}"
        assert resources[f"{name}Secret"]["Type"] == "AWS::SecretsManager::Secret"
        assert variables[f"{vendor.upper()}_SECRET"] == {"Ref": f"{name}Secret"}
        assert variables[f"{vendor.upper()}_API_URL"] == {"Ref": f"{name}ApiUrl"}


def test_every_api_route_requires_iam_auth():
    resources = load_template(ROOT / "template.yaml")["Resources"]
    assert resources["JobsApi"]["Properties"]["Auth"]["DefaultAuthorizer"] == "AWS_IAM"
    routes = [
        (name, event["Properties"])
        for name, spec in resources.items()
        for event in spec.get("Properties", {}).get("Events", {}).values()
        if event["Type"] == "Api"
    ]
    assert len(routes) >= 7
    for name, route in routes:
        assert route["RestApiId"] == {"Ref": "JobsApi"}, name
        assert "Auth" not in route, f"{name} {route['Path']} must not override the IAM authorizer"


def test_schedules_and_event_rules_are_in_the_template():
    resources = load_template(ROOT / "template.yaml")["Resources"]
    kinds = {
        (name, event["Type"])
        for name, spec in resources.items()
        for event in spec.get("Properties", {}).get("Events", {}).values()
    }
    assert {
        ("ScheduleFunction", "Schedule"),
        ("SweeperFunction", "Schedule"),
        ("WebhookFunction", "EventBridgeRule"),
    } <= kinds


def test_sam_validate_lint():
    result = subprocess.run(
        [sam(), "validate", "--lint", "--region", "us-east-1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=sam_environment(),
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_sam_build(tmp_path):
    result = subprocess.run(
        [sam(), "build", "--build-dir", str(tmp_path / "build"), "--cache-dir", str(tmp_path / "cache")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=sam_environment(),
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    layer = tmp_path / "build" / "CommonLayer" / "python"
    assert (layer / "enrichment" / "pipeline" / "chunks.py").is_file() and (layer / "httpx").is_dir()
    functions = [
        "IngestFunction",
        "PrepareFunction",
        "FinalizeFunction",
        *(f"{n}Function" for n in TEMPLATE_NAMES.values()),
    ]
    for function in functions:
        assert (tmp_path / "build" / function / "app.py").is_file()
