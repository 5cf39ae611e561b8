"""Operations in the template: every asynchronous invocation has somewhere to fail to, every alarm is documented and
notifies the topic, and every metric an alarm or the dashboard names is in the README's metric contract."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from localrt.template import load_template

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
NAMESPACE = "ContactEnrichment"
ASYNC_EVENTS = {"S3", "Schedule", "EventBridgeRule"}
# Invoked with InvocationType Event by the layer (jobs/service.py cancel_job: the Finalize of a hard cancel).
INVOKED_ASYNCHRONOUSLY = {"FinalizeFunction"}


def of_type(kind: str) -> dict[str, dict[str, Any]]:
    return {logical_id: spec.get("Properties", {}) for logical_id, spec in RESOURCES.items() if spec["Type"] == kind}


def table(header: str) -> list[list[str]]:
    """The README table under `header` (its first line), as rows of cells."""
    text = README[README.index(header) :].split("\n\n", 1)[0]
    return [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in text.splitlines()[2:]]


def metric_contract() -> dict[str, set[str]]:
    """The README's metrics table: metric name -> its dimensions."""
    contract = {}
    for metric_cell, dimensions, *_ in table("| metric | dimensions | emitted by | meaning |"):
        for name in re.findall(r"`(\w+)`", metric_cell):
            contract[name] = {d.strip() for d in dimensions.split(",")}
    return contract


def documented_alarms() -> dict[str, list[str]]:
    return {
        name: row for row in table("| alarm | what it means | what to do |") for name in re.findall(r"`(\w+)`", row[0])
    }


def own_metrics_named() -> list[tuple[str, str, set[str]]]:
    """(where, metric, dimension names) of every ContactEnrichment metric an alarm or the dashboard names."""
    named = []
    for logical_id, alarm in of_type("AWS::CloudWatch::Alarm").items():
        if alarm.get("Namespace") == NAMESPACE:
            named.append((logical_id, alarm["MetricName"], {d["Name"] for d in alarm["Dimensions"]}))
        for query in alarm.get("Metrics", []):
            metric = query.get("MetricStat", {}).get("Metric", {})
            if metric.get("Namespace") == NAMESPACE:
                named.append((logical_id, metric["MetricName"], {d["Name"] for d in metric["Dimensions"]}))
    for logical_id, dashboard in of_type("AWS::CloudWatch::Dashboard").items():
        body = json.loads(dashboard["DashboardBody"]["Fn::Sub"])
        for widget in body["widgets"]:
            for metric in widget["properties"].get("metrics", []):
                if metric[0] == NAMESPACE:
                    pairs = [m for m in metric[2:] if isinstance(m, str)]
                    named.append((logical_id, metric[1], set(pairs[0::2])))
    return named


def test_every_alarm_has_a_description_notifies_the_topic_and_has_a_runbook_line():
    alarms = of_type("AWS::CloudWatch::Alarm")
    documented = documented_alarms()
    assert alarms, "the template has alarms"
    for logical_id, alarm in alarms.items():
        assert len(alarm.get("AlarmDescription", "")) > 20, f"{logical_id} says what it means"
        assert alarm.get("AlarmActions") == [{"Ref": "AlarmTopic"}], f"{logical_id} notifies AlarmTopic"
        assert logical_id in documented, f"{logical_id} has a line in the README's alarm table"
        meaning, todo = documented[logical_id][1:3]
        assert meaning and todo, f"{logical_id}'s README line says what it means and what to do"
    assert set(documented) == set(alarms), "the README's alarm table names only alarms of the template"


def test_every_metric_of_ours_an_alarm_or_the_dashboard_names_is_in_the_contract():
    contract = metric_contract()
    named = own_metrics_named()
    assert {metric for _, metric, _ in named} >= {"ChunksAbandoned", "VendorThrottles", "JobDuration", "Rows"}
    for where, metric, dimensions in named:
        assert metric in contract, f"{where}: {metric} is not in the README's metrics table"
        assert dimensions == contract[metric], f"{where}: {metric} has dimensions {contract[metric]}, not {dimensions}"


def test_alarms_on_our_own_metrics_treat_missing_data_as_fine():
    for logical_id, alarm in of_type("AWS::CloudWatch::Alarm").items():
        namespaces = {alarm.get("Namespace")} | {
            q["MetricStat"]["Metric"]["Namespace"] for q in alarm.get("Metrics", []) if "MetricStat" in q
        }
        if NAMESPACE in namespaces:
            assert alarm["TreatMissingData"] == "notBreaching", logical_id


def test_every_function_has_an_errors_and_a_throttles_alarm():
    watched = {
        (alarm["MetricName"], alarm["Dimensions"][0]["Value"]["Ref"])
        for alarm in of_type("AWS::CloudWatch::Alarm").values()
        if alarm.get("Namespace") == "AWS/Lambda"
    }
    functions = of_type("AWS::Serverless::Function")
    assert len(functions) == 11
    for logical_id in functions:
        assert ("Errors", logical_id) in watched and ("Throttles", logical_id) in watched, logical_id


def test_every_asynchronous_invocation_has_an_on_failure_destination_and_every_event_target_a_dead_letter_queue():
    queues = of_type("AWS::SQS::Queue")
    for logical_id, function in of_type("AWS::Serverless::Function").items():
        kinds = {event["Type"] for event in function.get("Events", {}).values()}
        if kinds & ASYNC_EVENTS or logical_id in INVOKED_ASYNCHRONOUSLY:
            on_failure = function.get("EventInvokeConfig", {}).get("DestinationConfig", {}).get("OnFailure", {})
            assert on_failure.get("Type") == "SQS", logical_id
            assert on_failure["Destination"]["Fn::GetAtt"][0] in queues, logical_id
        for name, event in function.get("Events", {}).items():
            if event["Type"] in ("Schedule", "EventBridgeRule"):
                dead_letters = event["Properties"]["DeadLetterConfig"]["Arn"]["Fn::GetAtt"][0]
                assert dead_letters in queues and "RetryPolicy" in event["Properties"], f"{logical_id}.{name}"


def test_every_queue_is_encrypted_kept_14_days_and_watched():
    watched = {
        alarm["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        for alarm in of_type("AWS::CloudWatch::Alarm").values()
        if alarm.get("Namespace") == "AWS/SQS" and alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    }
    for logical_id, queue in of_type("AWS::SQS::Queue").items():
        assert queue["SqsManagedSseEnabled"] is True and queue["MessageRetentionPeriod"] == 14 * 24 * 3600
        assert logical_id in watched, f"{logical_id} has an alarm on its depth"


def test_the_alarm_email_subscription_is_made_only_when_an_address_is_given():
    subscription = RESOURCES["AlarmEmailSubscription"]
    assert subscription["Condition"] == "HasAlarmEmail"
    assert TEMPLATE["Conditions"]["HasAlarmEmail"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "AlarmEmail"}, ""]}]}
    assert RESOURCES["AlarmTopic"]["Properties"]["KmsMasterKeyId"] == "alias/aws/sns"
    assert "`AlarmEmail`" in README
