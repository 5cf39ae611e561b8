"""Scheduled jobs and the sweeper, driven by the Scheduled Events EventBridge sends."""

from __future__ import annotations

import json
import time

from enrichment.jobs import sweeper
from localrt.samples import check365_csv, pubrio_csv
from tests.conftest import unique_name, vendor_takes

RULE = "enrich-local-weekly-revalidation"


def test_a_schedule_starts_a_normal_job_once_per_event(runtime, check365):
    runtime.client("s3").put_object(
        Bucket=runtime.bucket, Key="schedules/weekly-revalidation.csv", Body=check365_csv(40, seed=71).encode()
    )
    answer, failed = runtime.trigger(RULE)
    assert not failed, answer
    view = runtime.wait(answer["job_id"], timeout=60)
    assert view.status == "SUCCEEDED" and view.item["source"] == "schedule:weekly-revalidation"
    assert view.item["owner"] == "schedule:weekly-revalidation"  # no person: admins see it
    assert view.item["rows_total"] == 40

    # EventBridge may deliver an event twice: the same event is the same job.
    rule_arn = runtime.client("events").describe_rule(Name=RULE)["Arn"]
    event = {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": "2026-11-23T06:00:00Z",
        "region": "us-east-1",
        "resources": [rule_arn],
        "detail": {},
    }
    first, _ = runtime.invoke("ScheduleFunction", event)
    second, _ = runtime.invoke("ScheduleFunction", event)
    assert first["job_id"] == second["job_id"] != answer["job_id"]
    runtime.wait(first["job_id"], timeout=60)


def test_a_schedule_without_its_input_fails_clearly(runtime):
    runtime.client("s3").delete_object(Bucket=runtime.bucket, Key="schedules/weekly-revalidation.csv")
    answer, failed = runtime.trigger(RULE)
    assert failed and "does not exist" in answer["errorMessage"]


def test_the_sweeper_settles_a_job_whose_execution_ended_without_it(runtime, pubrio, tmp_path, monkeypatch):
    with vendor_takes(pubrio, 60):
        path = tmp_path / unique_name("swept")
        path.write_text(pubrio_csv(30, seed=72))
        job_id = runtime.drop(path, "pubrio")
        deadline = time.monotonic() + 30
        while (runtime.job(job_id) is None or runtime.job(job_id).status != "RUNNING") and time.monotonic() < deadline:
            time.sleep(0.1)
        sfn = runtime.client("stepfunctions")
        arn = runtime.outputs["JobStateMachineArn"].replace(":stateMachine:", ":execution:") + f":{job_id}"
        sfn.stop_execution(executionArn=arn, error="States.Timeout", cause="the execution timed out")
        # Step Functions reports ABORTED at once; moto's interpreter only once the state at work returns.
        deadline = time.monotonic() + 60
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.1)
    assert sfn.describe_execution(executionArn=arn)["status"] == "ABORTED"
    assert runtime.job(job_id).status == "RUNNING"

    answer, _ = runtime.trigger("enrich-local-sweeper")
    assert job_id not in answer["settled"], "an execution that just ended gets a grace period"
    monkeypatch.setattr(sweeper, "GRACE_SECONDS", 0)
    answer, failed = runtime.trigger("enrich-local-sweeper")
    assert not failed and job_id in answer["settled"]
    item = runtime.job(job_id).item
    assert item["status"] == "FAILED" and "aborted" in item["error"]
    summary = json.loads(
        runtime.client("s3").get_object(Bucket=runtime.bucket, Key=f"jobs/{job_id}/output/summary.json")["Body"].read()
    )
    assert summary["rows"] == 30 and summary["status"] == "FAILED"
