"""Least privilege, read from template.yaml: no function holds a SAM CRUD policy or a `*` action, and each one's
statements cover what its code is known to do (the S3 keys of files/layout.py, the DynamoDB calls of the layer)
and nothing beyond its prefixes. IAM is not enforced locally, so this is where a missing permission shows."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest

from localrt.template import load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template(ROOT / "template.yaml")
RESOURCES = TEMPLATE["Resources"]
BUCKET = "arn:aws:s3:::stack-data-123456789012-us-east-1"
TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/JobsTable"
IDEMPOTENCY = "arn:aws:dynamodb:us-east-1:123456789012:table/IdempotencyTable"
CACHE = "arn:aws:dynamodb:us-east-1:123456789012:table/ResultCacheTable"
BROAD_TEMPLATES = {"S3CrudPolicy", "S3ReadPolicy", "S3WritePolicy", "S3FullAccessPolicy", "DynamoDBCrudPolicy"}
JOB = "jobs/job-0123/"

# What each function's code does in S3 and DynamoDB (files/storage.py, jobs/store.py, pipeline/*): (action, ARN).
VENDOR_USES = [
    ("s3:GetObject", f"{BUCKET}/{JOB}chunks/000000.json"),  # its batch
    ("s3:GetObject", f"{BUCKET}/{JOB}results/000003.json"),  # chunk results, gathered into the batch's
    ("s3:PutObject", f"{BUCKET}/{JOB}results/batch-000000.json"),
    ("s3:PutObjectTagging", f"{BUCKET}/{JOB}results/000003.json"),
    ("s3:ListBucket", BUCKET),  # exists(): a 404, not a 403
    ("dynamodb:GetItem", TABLE),
    ("dynamodb:PutItem", TABLE),  # pacing items, the chunk's settled marker (in a transaction)
    ("dynamodb:UpdateItem", TABLE),  # send ledger, job counters, stop flag, credit reservations, monthly totals
    ("dynamodb:Query", TABLE),  # the pacing items
    ("dynamodb:BatchWriteItem", CACHE),  # a settled chunk's answers into the result cache
]
USES: dict[str, list[tuple[str, str]]] = {
    "IngestFunction": [
        ("s3:GetObject", f"{BUCKET}/inbox/check365/list.csv"),
        ("s3:DeleteObject", f"{BUCKET}/inbox/check365/list.csv"),
        ("s3:GetObjectVersion", f"{BUCKET}/inbox/check365/list.csv"),  # the version its event names
        ("s3:DeleteObjectVersion", f"{BUCKET}/inbox/check365/list.csv"),
        ("s3:PutObject", f"{BUCKET}/{JOB}input.csv"),
        ("s3:PutObjectTagging", f"{BUCKET}/{JOB}input.csv"),
        ("s3:ListBucket", BUCKET),  # a retried rejection finds its drop moved: a 404, not a 403
        ("s3:GetObject", f"{BUCKET}/recipes/recipes.json"),  # a drop's recipe (jobs/steps.py)
        ("s3:PutObject", f"{BUCKET}/rejected/inbox/acme/list.csv"),  # jobs/ingest.py reject_drop
        ("s3:PutObjectTagging", f"{BUCKET}/rejected/inbox/acme/list.csv"),
        ("s3:PutObject", f"{BUCKET}/rejected/inbox/acme/list.csv.reason.json"),
        ("s3:GetObject", f"{BUCKET}/rejected/inbox/acme/list.csv.reason.json"),
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:GetItem", TABLE),
    ],
    "PrepareFunction": [
        ("s3:GetObject", f"{BUCKET}/{JOB}input.csv"),
        ("s3:PutObject", f"{BUCKET}/{JOB}prepared/rows.jsonl"),
        ("s3:PutObject", f"{BUCKET}/{JOB}prepared/manifest.json"),
        ("s3:PutObject", f"{BUCKET}/{JOB}chunks/000000.json"),
        ("s3:PutObjectTagging", f"{BUCKET}/{JOB}chunks/000000.json"),
        ("s3:AbortMultipartUpload", f"{BUCKET}/{JOB}prepared/rows.jsonl"),
        ("dynamodb:GetItem", TABLE),  # the job; the observed match rate (pipeline/cost.py)
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:BatchGetItem", CACHE),  # rows answered from the result cache
        # A later step reads what the steps before it answered (pipeline/steps.py).
        ("s3:ListBucket", BUCKET),
        ("s3:GetObject", f"{BUCKET}/{JOB}prepared/step-1/rows.jsonl"),
        ("s3:GetObject", f"{BUCKET}/{JOB}results/batch-1000000.json"),
    ],
    "FinalizeFunction": [
        ("s3:ListBucket", BUCKET),
        ("s3:GetObject", f"{BUCKET}/{JOB}input.csv"),
        ("s3:GetObject", f"{BUCKET}/{JOB}prepared/twins.txt"),
        ("s3:GetObject", f"{BUCKET}/{JOB}results/batch-000000.json"),
        ("s3:PutObject", f"{BUCKET}/{JOB}output/results.csv"),
        ("s3:PutObjectTagging", f"{BUCKET}/{JOB}output/summary.json"),
        ("s3:AbortMultipartUpload", f"{BUCKET}/{JOB}output/results.jsonl"),
        ("s3:DeleteObject", f"{BUCKET}/{JOB}chunks/000000.json"),
        ("s3:DeleteObject", f"{BUCKET}/{JOB}results/000000.json"),
        ("s3:DeleteObject", f"{BUCKET}/{JOB}prepared/rows.jsonl"),
        ("s3:DeleteObject", f"{BUCKET}/{JOB}input.csv"),
        ("dynamodb:GetItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),  # the job; the observed match rate's ADD, in a transaction (pipeline/cost.py)
    ],
    "ApiFunction": [
        ("s3:ListBucket", BUCKET),
        ("s3:PutObject", f"{BUCKET}/uploads/0123456789abcdef01234567-list.csv"),  # the presigned POST
        ("s3:GetObject", f"{BUCKET}/uploads/0123456789abcdef01234567-list.csv"),
        ("s3:DeleteObject", f"{BUCKET}/uploads/0123456789abcdef01234567-list.csv"),
        ("s3:PutObject", f"{BUCKET}/{JOB}input.csv"),
        ("s3:GetObject", f"{BUCKET}/{JOB}output/results.csv"),  # the presigned GET
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:GetItem", TABLE),
        ("dynamodb:UpdateItem", TABLE),
        ("dynamodb:Query", f"{TABLE}/index/ByStatus"),
        ("dynamodb:Query", TABLE),  # GET /credits: the monthly totals (pipeline/budget.py)
        ("dynamodb:DeleteItem", IDEMPOTENCY),
        ("dynamodb:Scan", CACHE),  # POST /cache/purge
        ("dynamodb:BatchWriteItem", CACHE),
        ("dynamodb:BatchGetItem", CACHE),  # a dry run's cached rows (pipeline/preview.py)
    ],
    "ScheduleFunction": [
        ("s3:GetObject", f"{BUCKET}/schedules/weekly-revalidation.csv"),
        ("s3:GetObject", f"{BUCKET}/recipes/recipes.json"),  # a schedule's recipe (jobs/steps.py)
        ("s3:PutObject", f"{BUCKET}/{JOB}input.csv"),
        ("dynamodb:PutItem", TABLE),
        ("dynamodb:GetItem", TABLE),
    ],
    "SweeperFunction": [("dynamodb:Query", f"{TABLE}/index/ByStatus"), ("dynamodb:GetItem", TABLE)],
    "WebhookFunction": [("dynamodb:GetItem", TABLE), ("dynamodb:UpdateItem", TABLE)],
    "PubrioFunction": VENDOR_USES,
    "ProspeoFunction": VENDOR_USES,
    "Check365Function": VENDOR_USES,
    "InsideViewFunction": VENDOR_USES,
    "JobStateMachine": [
        ("dynamodb:UpdateItem", TABLE),
        ("s3:GetObject", f"{BUCKET}/{JOB}prepared/manifest.json"),
        ("s3:PutObject", f"{BUCKET}/map-results/abc/manifest.json"),
    ],
}
# What no function may do: read or delete outside its own prefixes, scan or delete job items.
NEVER: dict[str, list[tuple[str, str]]] = {
    "PubrioFunction": [
        ("s3:GetObject", f"{BUCKET}/{JOB}output/results.csv"),
        ("s3:GetObject", f"{BUCKET}/inbox/pubrio/list.csv"),
        ("s3:DeleteObject", f"{BUCKET}/{JOB}chunks/000000.json"),
        ("s3:PutObject", f"{BUCKET}/{JOB}chunks/000000.json"),
        ("dynamodb:Scan", TABLE),
        ("dynamodb:DeleteItem", TABLE),
        ("dynamodb:Scan", CACHE),
        ("dynamodb:BatchGetItem", CACHE),
    ],
    "PrepareFunction": [
        ("s3:DeleteObject", f"{BUCKET}/{JOB}input.csv"),
        ("s3:PutObject", f"{BUCKET}/{JOB}output/x"),
        ("s3:PutObject", f"{BUCKET}/{JOB}results/batch-000000.json"),
        ("dynamodb:BatchWriteItem", CACHE),
        ("dynamodb:Scan", CACHE),
    ],
    "FinalizeFunction": [("dynamodb:BatchGetItem", CACHE), ("dynamodb:BatchWriteItem", CACHE)],
    "IngestFunction": [("s3:GetObject", f"{BUCKET}/{JOB}output/results.csv"), ("dynamodb:Scan", TABLE)],
    "WebhookFunction": [("s3:GetObject", f"{BUCKET}/{JOB}output/results.csv")],
    "JobStateMachine": [("dynamodb:PutItem", TABLE), ("s3:GetObject", f"{BUCKET}/{JOB}input.csv")],
}


def _text(value: Any) -> str:
    """A policy value as an ARN pattern, the stack's names filled in."""
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        logical_id = value["Fn::GetAtt"][0] if isinstance(value["Fn::GetAtt"], list) else value["Fn::GetAtt"]
        return {"JobsTable.Arn": TABLE, "IdempotencyTable.Arn": IDEMPOTENCY, "ResultCacheTable.Arn": CACHE}.get(
            logical_id if "." in str(logical_id) else f"{logical_id}.Arn", f"<{logical_id}>"
        )
    if isinstance(value, dict) and "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        names = {
            "AWS::Partition": "aws",
            "AWS::StackName": "stack",
            "AWS::AccountId": "123456789012",
            "AWS::Region": "us-east-1",
            "JobsTable.Arn": TABLE,
        }
        return re.sub(r"\$\{([^}]+)\}", lambda m: names.get(m.group(1), f"<{m.group(1)}>"), text)
    return str(value)


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def statements(logical_id: str) -> list[dict[str, Any]]:
    found = []
    for policy in RESOURCES[logical_id]["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
    return found


def allowed(logical_id: str, action: str, resource: str) -> bool:
    for statement in statements(logical_id):
        if statement.get("Effect") != "Allow":
            continue
        if action not in _listed(statement["Action"]):
            continue
        if any(fnmatch.fnmatchcase(resource, _text(r)) for r in _listed(statement["Resource"])):
            return True
    return False


WITH_POLICIES = [
    logical_id
    for logical_id, spec in RESOURCES.items()
    if spec["Type"] in ("AWS::Serverless::Function", "AWS::Serverless::StateMachine")
]


def test_every_function_and_the_state_machine_is_covered_here():
    assert set(WITH_POLICIES) == set(USES)


@pytest.mark.parametrize("logical_id", WITH_POLICIES)
def test_no_broad_policy_template_and_no_wildcard_action(logical_id):
    for policy in RESOURCES[logical_id]["Properties"].get("Policies", []):
        names = set(policy) if isinstance(policy, dict) else {policy}
        assert not names & BROAD_TEMPLATES, f"{logical_id}: {names & BROAD_TEMPLATES}"
    for statement in statements(logical_id):
        for action in _listed(statement["Action"]):
            assert "*" not in action, f"{logical_id}: {action}"


@pytest.mark.parametrize("logical_id", WITH_POLICIES)
def test_the_statements_cover_what_the_code_does(logical_id):
    missing = [(a, r) for a, r in USES[logical_id] if not allowed(logical_id, a, r)]
    assert not missing, f"{logical_id} may not: {missing}"


@pytest.mark.parametrize("logical_id", sorted(NEVER))
def test_nothing_beyond_its_prefixes(logical_id):
    granted = [(a, r) for a, r in NEVER[logical_id] if allowed(logical_id, a, r)]
    assert not granted, f"{logical_id} may: {granted}"
