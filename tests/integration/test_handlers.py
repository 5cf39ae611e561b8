"""The handlers, invoked through moto's Lambda as the state machine invokes them."""

from __future__ import annotations

import json

from enrichment.files import layout
from enrichment.jobs.store import JobStore, now_iso
from enrichment.models import Job, Vendor
from localrt.samples import prospeo_csv, pubrio_csv
from tests.conftest import unique_name


def invoke(runtime, logical_id: str, event: dict) -> tuple[dict, bool]:
    name = f"{runtime.stack_name}-{logical_id}"
    answer = runtime.client("lambda").invoke(FunctionName=name, Payload=json.dumps(event).encode())
    return json.loads(answer["Payload"].read()), "FunctionError" in answer


def new_job(runtime, vendor: Vendor, text: str, options: dict | None = None) -> Job:
    job_id = unique_name("job").removesuffix(".csv")
    job = Job(
        job_id=job_id,
        vendor=vendor,
        options=options or {},
        input_key=layout.input_key(job_id),
        output_prefix=layout.output_prefix(job_id),
        created_at=now_iso(),
    )
    runtime.client("s3").put_object(Bucket=runtime.bucket, Key=job.input_key, Body=text.encode())
    assert JobStore(runtime.outputs["JobsTableName"]).create(job)
    return job


def test_prepare_writes_vendor_sized_chunks_and_a_plan_for_every_row(runtime):
    job = new_job(runtime, Vendor.PROSPEO, prospeo_csv(300, seed=5))
    prepared, failed = invoke(runtime, "PrepareFunction", {"job_id": job.job_id})
    assert not failed, prepared
    s3 = runtime.client("s3")
    manifest = json.loads(s3.get_object(Bucket=runtime.bucket, Key=prepared["manifest_key"])["Body"].read())
    assert len(manifest) == prepared["batches_total"]
    assert [i for b in manifest for i in b["chunk_indexes"]] == list(range(prepared["chunks_total"]))
    sizes = [
        len(chunk["records"])
        for b in manifest
        for chunk in json.loads(s3.get_object(Bucket=runtime.bucket, Key=b["batch_key"])["Body"].read())["chunks"]
    ]
    assert len(sizes) == prepared["chunks_total"] and max(sizes) <= 50
    plan = s3.get_object(Bucket=runtime.bucket, Key=layout.plan_key(job.job_id))["Body"].read().decode().splitlines()
    assert [json.loads(line)["row"] for line in plan] == list(range(1, 301))
    assert sum(sizes) == sum(1 for line in plan if json.loads(line)["status"] == "send")
    assert prepared["vendor_function"].endswith(":function:enrich-local-ProspeoFunction")
    stored = runtime.job(job.job_id).item
    assert stored["status"] == "RUNNING" and stored["rows_total"] == 300


def test_a_retried_submit_is_not_sent_twice(runtime, pubrio):
    job = new_job(runtime, Vendor.PUBRIO, pubrio_csv(30, seed=6))
    prepared, _ = invoke(runtime, "PrepareFunction", {"job_id": job.job_id})
    task = {
        "action": "submit",
        "job_id": job.job_id,
        "chunk": {"chunk_index": 0, "chunk_key": layout.chunk_key(job.job_id, 0)},
    }
    before = pubrio.served("/redeem/people/batch")
    first, failed = invoke(runtime, "PubrioFunction", task)
    assert not failed, first
    second, _ = invoke(runtime, "PubrioFunction", task)
    assert second["vendor_ref"] == first["vendor_ref"]
    assert pubrio.served("/redeem/people/batch") - before == 1


def test_a_failed_chunk_is_counted_once(runtime):
    job = new_job(runtime, Vendor.PUBRIO, pubrio_csv(30, seed=7))
    invoke(runtime, "PrepareFunction", {"job_id": job.job_id})
    task = {
        "action": "abandon",
        "job_id": job.job_id,
        "chunk": {"chunk_index": 0, "chunk_key": layout.chunk_key(job.job_id, 0)},
        "error": {"Error": "BadChunk", "Cause": json.dumps({"errorMessage": "pubrio: HTTP 400, request rejected"})},
    }
    for _ in range(2):
        answer, failed = invoke(runtime, "PubrioFunction", task)
        assert not failed and answer["status"] == "failed" and "rejected" in answer["reason"]
    stored = runtime.job(job.job_id).item
    assert stored["chunks_done"] == 1 and stored["chunks_failed"] == 1


def test_errors_reach_the_state_machine_by_kind(runtime):
    job = new_job(runtime, Vendor.PUBRIO, "Name\nAda\n")
    answer, failed = invoke(runtime, "PrepareFunction", {"job_id": job.job_id})
    assert failed and answer["errorType"] == "BadInput" and "people_search_id" in answer["errorMessage"]


def test_finalize_of_a_job_that_never_read_its_input(runtime):
    job = new_job(runtime, Vendor.PUBRIO, "irrelevant")
    failure = {"Error": "BadInput", "Cause": json.dumps({"errorMessage": "the file is empty"})}
    answer, failed = invoke(runtime, "FinalizeFunction", {"job_id": job.job_id, "failure": failure})
    assert not failed and answer["status"] == "FAILED"
    assert runtime.job(job.job_id).item["error"] == "the file is empty"
