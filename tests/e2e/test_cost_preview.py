"""The cost before the job, end to end: after one job of a vendor, the preview of a held-out file (another seed)
expects within 10% of what that file's job then costs, and its worst case is never below it; the job records
what it expected, summary.json sets it against what it cost; the API's dry run gives the cost fields."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from enrichment.files.reader import LocalFile
from enrichment.models import Vendor
from enrichment.pipeline.cost import ACCOUNT_PARTITION
from enrichment.pipeline.preview import preview_input
from localrt.samples import GENERATORS
from tests.conftest import unique_name

# The cache is on: rows the held-out file shares with the first (the seeds draw from the same names) are answered
# from it, and the preview counts them as Prepare finds them. (With it off, Prospeo would re-enrich them for
# free, as documented, and the held-out file would cost less than its rows' rate says.)
OPTIONS = {
    "prospeo": {"enrich_mobile": True},
    "check365": {},
    "insideview": {},
    "pubrio": {"contact_types": ["email-work", "phone"]},
}


def forget_match_rates(runtime) -> None:
    """No history from other tests' jobs: the first job here is the only one the estimate is based on."""
    ddb = runtime.client("dynamodb")
    table = runtime.outputs["JobsTableName"]
    found = ddb.query(
        TableName=table,
        KeyConditionExpression="job_id = :account AND begins_with(#item, :rate)",
        ExpressionAttributeNames={"#item": "item"},
        ExpressionAttributeValues={":account": {"S": ACCOUNT_PARTITION}, ":rate": {"S": "match-rate#"}},
    )["Items"]
    for item in found:
        ddb.delete_item(TableName=table, Key={"job_id": item["job_id"], "item": item["item"]})


def run(runtime, tmp_path: Path, vendor: str, path: Path) -> tuple[dict, dict]:
    job_id = runtime.drop(path, vendor, OPTIONS[vendor])
    view = runtime.wait(job_id, timeout=600)
    folder = runtime.download(job_id, tmp_path / job_id)
    return view.item, json.loads((folder / "summary.json").read_text())


@pytest.mark.parametrize("vendor", ["prospeo", "check365", "insideview", "pubrio"])
def test_the_preview_expects_what_the_job_then_costs(runtime, vendor, tmp_path, request):
    request.getfixturevalue(vendor)  # a clean simulator ledger, faults cleared
    forget_match_rates(runtime)
    first, held_out = tmp_path / unique_name(f"{vendor}-a"), tmp_path / unique_name(f"{vendor}-b")
    first.write_text(GENERATORS[vendor](1000, seed=101))
    held_out.write_text(GENERATORS[vendor](1000, seed=202))
    settings = runtime.settings()

    def preview(path: Path):
        return preview_input(
            LocalFile(path),
            Vendor(vendor),
            OPTIONS[vendor],
            settings.vendor(Vendor(vendor)),
            settings.input_limits,
            settings=settings,
        )

    before = preview(first)
    assert before.basis == "default" and before.basis_rows == 0 and before.error is None

    item, summary = run(runtime, tmp_path, vendor, first)
    assert item["status"] == "SUCCEEDED"
    assert summary["credits_basis"] == "default" and summary["credits_expected"] == before.expected_credits
    assert summary["credits_worst_case"] >= summary["credits"]
    answered = summary["counts"]["matched"] + summary["counts"]["not_matched"]

    estimate = preview(held_out)
    assert (estimate.basis, estimate.basis_rows) == ("observed", answered)
    assert estimate.to_send > 0

    item, summary = run(runtime, tmp_path, vendor, held_out)
    actual = summary["credits"]
    assert item["status"] == "SUCCEEDED" and actual > 0
    assert summary["cached_rows"] == estimate.cached_rows
    assert abs(estimate.expected_credits - actual) <= 0.1 * actual, (estimate.expected_credits, actual)
    assert estimate.worst_case_credits >= actual
    # Prepare's own estimate of the rows it sent is the preview's, recorded on the job, in the summary.
    assert summary["credits_expected"] == pytest.approx(estimate.expected_credits)
    assert summary["credits_worst_case"] == pytest.approx(estimate.worst_case_credits)
    assert (summary["credits_basis"], summary["credits_basis_rows"]) == ("observed", answered)
    assert item["credits_expected"] == pytest.approx(estimate.expected_credits)


def test_the_dry_run_gives_the_cost_fields(api, runtime):
    import httpx

    from tests.conftest import api_auth

    records = [{"email": f"person{i}@initech.com"} for i in range(3)] + [{"email": "not an address"}]
    body = {"vendor": "check365", "records": records, "options": {"max_credits": 2}, "dry_run": True}
    with httpx.Client(base_url=api.url, timeout=60, auth=api_auth()) as http:
        preview = http.post("/jobs", json=body).json()
    assert (preview["to_send"], preview["cached_rows"], preview["invalid_input"]) == (3, 0, 1)
    assert preview["worst_case_credits"] == 2  # 3 addresses at 1 credit, capped by max_credits
    assert preview["expected_credits"] <= 2 and preview["basis"] in ("observed", "default")
