"""The template's logs, traces and metrics: every log group kept LogRetentionDays, the state machine logging errors
without execution data, X-Ray keeping no handler's answer, and every metric the code emits in the README."""

from __future__ import annotations

import re
from pathlib import Path

from enrichment.metrics import Metric
from localrt.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
# What CloudWatch Logs accepts as a retention (PutRetentionPolicy's retentionInDays).
CLOUDWATCH_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557]
CLOUDWATCH_RETENTION_DAYS += [2922, 3288, 3653]


def of_type(kind: str) -> dict[str, dict]:
    return {logical_id: spec for logical_id, spec in RESOURCES.items() if spec["Type"] == kind}


def test_the_retention_parameter_takes_what_cloudwatch_accepts_and_defaults_to_30_days():
    parameter = TEMPLATE["Parameters"]["LogRetentionDays"]
    assert parameter["Default"] == 30 and parameter["AllowedValues"] == CLOUDWATCH_RETENTION_DAYS


def test_every_log_group_keeps_its_events_the_retention_parameter():
    groups = of_type("AWS::Logs::LogGroup")
    assert groups
    for logical_id, spec in groups.items():
        assert spec["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}, logical_id


def test_every_function_has_its_log_group():
    """Lambda writes to /aws/lambda/<function name>: declared, it has a retention (else Lambda creates it, kept
    forever)."""
    names = {spec["Properties"]["LogGroupName"].get("Fn::Sub") for spec in of_type("AWS::Logs::LogGroup").values()}
    functions = of_type("AWS::Serverless::Function")
    assert len(functions) == 11
    for logical_id in functions:
        assert f"/aws/lambda/${{{logical_id}}}" in names, logical_id


def test_the_state_machine_logs_errors_without_execution_data():
    machine = RESOURCES["JobStateMachine"]["Properties"]
    logging = machine["Logging"]
    assert logging["Level"] == "ERROR" and logging["IncludeExecutionData"] is False
    (destination,) = logging["Destinations"]
    group = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    assert RESOURCES[group]["Properties"]["LogGroupName"]["Fn::Sub"].startswith("/aws/vendedlogs/states/")
    # Its role may deliver logs: the actions CloudWatch Logs documents for vended logs, each named.
    actions = [
        action
        for policy in machine["Policies"]
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
        for action in (statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]])
    ]
    for needed in ("logs:CreateLogDelivery", "logs:GetLogDelivery", "logs:UpdateLogDelivery", "logs:DeleteLogDelivery"):
        assert needed in actions
    assert not [a for a in actions if "*" in a], actions


def test_xray_keeps_no_handler_answer():
    """Presigned URLs (the API's answers) and job data must never be recorded in traces."""
    variables = TEMPLATE["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["POWERTOOLS_TRACER_CAPTURE_RESPONSE"] == "false"
    for logical_id, spec in of_type("AWS::Serverless::Function").items():
        own = spec["Properties"].get("Environment", {}).get("Variables", {})
        assert "POWERTOOLS_TRACER_CAPTURE_RESPONSE" not in own, logical_id


def test_the_readme_lists_every_metric_once():
    text = (ROOT / "README.md").read_text()
    section = text[text.index("\n## Metrics\n") :]
    section = section[: section.find("\n## ", 1)]
    listed = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    assert sorted(listed) == sorted(m.value for m in Metric)
