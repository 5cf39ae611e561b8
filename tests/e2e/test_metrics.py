"""The metrics a real job emits (Powertools EMF, turned into CloudWatch metrics by localrt.emf), read back with
CloudWatch's own API: a clean job, a throttled one, one whose chunk is abandoned, one that runs out of credits,
webhook deliveries."""

from __future__ import annotations

import time
import warnings

import httpx
from aws_lambda_powertools.warnings import PowertoolsUserWarning

from localrt.samples import check365_csv, pubrio_csv
from tests.conftest import api_auth, run_job
from tests.e2e.test_events_and_webhooks import wait_for


def sums(runtime, since: float, vendor: str, *names: str) -> dict[str, float]:
    return {name: runtime.metric_sum(name, since=since, vendor=vendor) for name in names}


def test_a_job_emits_its_rows_credits_chunks_and_duration(runtime, tmp_path, check365):
    since = time.time()
    view, _ = run_job(runtime, tmp_path, "check365", check365_csv(150, seed=31))
    assert view.status == "SUCCEEDED"
    counts = view.item["counts"]
    emitted = sums(
        runtime,
        since,
        "check365",
        "JobsSucceeded",
        "JobsFailed",
        "Rows",
        "RowsMatched",
        "RowsNotMatched",
        "RowsInvalidInput",
        "RowsDuplicate",
        "RowsError",
        "Credits",
        "ChunksSubmitted",
        "ChunkChecks",
        "VendorRequests",
        "VendorThrottles",
        "ChunksAbandoned",
    )
    assert emitted["JobsSucceeded"] == 1 and emitted["JobsFailed"] == 0
    assert emitted["Rows"] == 150 == sum(counts.values())
    assert emitted["RowsMatched"] == counts["matched"] and emitted["RowsInvalidInput"] == counts["invalid_input"]
    assert emitted["RowsDuplicate"] == counts["duplicate"] and emitted["RowsError"] == counts["error"] == 0
    assert emitted["RowsNotMatched"] == counts["not_matched"]
    assert emitted["Credits"] == float(view.item["credits"]) == check365.ledger()["credits_charged"]
    assert emitted["ChunksSubmitted"] == view.item["chunks_total"] == check365.ledger()["paid_submissions"]
    assert emitted["ChunkChecks"] >= view.item["chunks_total"]
    assert emitted["VendorRequests"] == emitted["ChunksSubmitted"] + emitted["ChunkChecks"]
    assert emitted["VendorThrottles"] == 0 and emitted["ChunksAbandoned"] == 0
    assert runtime.metric_sum("JobDuration", since=since, vendor="check365") > 0


def test_throttles_are_counted_for_their_vendor(runtime, tmp_path, pubrio):
    pubrio.inject("429", times=3)
    since = time.time()
    view, _ = run_job(runtime, tmp_path, "pubrio", pubrio_csv(150, seed=32))
    assert view.status == "SUCCEEDED"
    emitted = sums(runtime, since, "pubrio", "VendorThrottles", "ChunksAbandoned", "JobsSucceeded")
    assert emitted == {"VendorThrottles": 3, "ChunksAbandoned": 0, "JobsSucceeded": 1}
    assert runtime.metric_sum("VendorThrottles", since=since, vendor="check365") == 0


def test_an_abandoned_chunk_and_a_refused_resubmit_are_counted(runtime, tmp_path, pubrio):
    """Pubrio cannot look a submission up: the chunk whose answer was lost is not resent, and is abandoned."""
    pubrio.inject("accept_then_drop")
    since = time.time()
    view, _ = run_job(runtime, tmp_path, "pubrio", pubrio_csv(150, seed=33))
    assert view.status == "PARTIAL"
    emitted = sums(runtime, since, "pubrio", "ChunksAbandoned", "ResubmitsRefused", "JobsPartial", "RowsError")
    assert emitted["ChunksAbandoned"] == view.item["chunks_failed"] >= 1
    assert emitted["ResubmitsRefused"] >= 1
    assert emitted["JobsPartial"] == 1 and emitted["RowsError"] == view.item["counts"]["error"] > 0


def test_out_of_credits_stops_are_counted(runtime, tmp_path, check365):
    check365.inject("out_of_credits")
    since = time.time()
    view, _ = run_job(runtime, tmp_path, "check365", check365_csv(150, seed=34))
    assert view.status == "FAILED"
    emitted = sums(runtime, since, "check365", "OutOfCreditsStops", "JobsFailed", "ChunksSubmitted", "Credits")
    assert emitted["OutOfCreditsStops"] >= 1 and emitted["JobsFailed"] == 1
    assert emitted["ChunksSubmitted"] == 0 and emitted["Credits"] == 0


def test_jobs_in_one_process_raise_no_dimension_warning(runtime, tmp_path):
    """Each invocation starts with an empty metric set: two jobs of two vendors, twice, add the vendor dimension
    again and again without Powertools' 'Dimension has already been added' warning."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for seed in (35, 36):
            assert run_job(runtime, tmp_path, "check365", check365_csv(40, seed=seed))[0].status == "SUCCEEDED"
            assert run_job(runtime, tmp_path, "pubrio", pubrio_csv(40, seed=seed))[0].status == "SUCCEEDED"
    dimension_warnings = [w for w in caught if issubclass(w.category, PowertoolsUserWarning)]
    assert not dimension_warnings, [str(w.message) for w in dimension_warnings]


def test_webhook_deliveries_and_failures_are_counted(runtime, api, receiver, prospeo):
    since = time.time()
    body = {"vendor": "prospeo", "records": [{"email": "ada@initech.com"}], "webhook_url": receiver.url}
    delivered = httpx.post(f"{api.url}/jobs", json=body, auth=api_auth()).json()["job_id"]
    wait_for(lambda: runtime.metric_sum("WebhookDeliveries", since=since) == 1)
    assert runtime.job(delivered).item["webhook_status"] == "delivered"

    receiver.status = 410  # the receiver refuses it: not retried, given up
    body["records"] = [{"email": "grace@navy.mil"}]
    refused = httpx.post(f"{api.url}/jobs", json=body, auth=api_auth()).json()["job_id"]
    wait_for(lambda: runtime.metric_sum("WebhookDeliveryFailures", since=since) == 1)
    assert runtime.job(refused).item["webhook_status"] == "failed"
    assert runtime.metric_sum("WebhookDeliveries", since=since) == 1
