"""Prepare against emulated S3 and DynamoDB: chunks in batches (one object each), the manifest the Map reads, the
plan, the twins list, and a file over the limits refused before anything could be sent."""

from __future__ import annotations

import json

import pytest

from enrichment import aws
from enrichment.errors import BadInput
from enrichment.files import layout, storage
from enrichment.jobs.store import JobStore
from enrichment.models import BatchRef, ChunkBatch, JobStatus, Vendor
from enrichment.pipeline.prepare import prepare_job
from enrichment.settings import InputLimits
from localrt.samples import prospeo_csv
from tests.unit.layer.conftest import BUCKET, new_job


def plan_of(job_id: str) -> list[dict]:
    return list(storage.iter_jsonl(BUCKET, layout.plan_key(job_id)))


def test_chunks_go_in_batches_listed_by_the_manifest_in_order(emulated_aws):
    settings = emulated_aws.model_copy(
        update={"vendor_overrides": {"prospeo": {"chunk_size": 7, "chunks_per_batch": 3}}}
    )
    job = new_job(settings, Vendor.PROSPEO, prospeo_csv(400, seed=3))
    prepared = prepare_job(job.job_id, settings)

    plan = plan_of(job.job_id)
    sent = [e["row"] for e in plan if e["status"] == "send"]
    assert [e["row"] for e in plan] == list(range(1, 401))
    assert prepared.chunks_total == -(-len(sent) // 7)
    assert prepared.batches_total == -(-prepared.chunks_total // 3)

    manifest = [BatchRef.model_validate(r) for r in storage.get_json(BUCKET, prepared.manifest_key)]
    assert [r.batch_index for r in manifest] == list(range(prepared.batches_total))
    assert [i for r in manifest for i in r.chunk_indexes] == list(range(prepared.chunks_total))
    assert all(len(r.chunk_indexes) == 3 for r in manifest[:-1])
    records = []
    for ref in manifest:
        assert ref.batch_key == layout.batch_key(job.job_id, ref.batch_index)
        batch = ChunkBatch.model_validate(storage.get_json(BUCKET, ref.batch_key))
        assert (batch.job_id, batch.batch_index) == (job.job_id, ref.batch_index)
        assert [c.chunk_index for c in batch.chunks] == ref.chunk_indexes
        assert all(c.job_id == job.job_id and 1 <= len(c.records) <= 7 for c in batch.chunks)
        records += [(c.chunk_index, int(r.ref)) for c in batch.chunks for r in c.records]
    # every row sent is in exactly one chunk, in row order, the chunk its plan line names
    assert [row for _, row in records] == sent
    chunk_of = {e["row"]: e["chunk"] for e in plan if "chunk" in e}
    assert all(chunk_of[row] == chunk for chunk, row in records)
    stored = JobStore(settings.jobs_table).require(job.job_id)
    assert stored.status == JobStatus.RUNNING and (stored.rows_total, stored.chunks_total) == (
        400,
        prepared.chunks_total,
    )


def test_the_twins_list_names_each_row_a_duplicate_is_answered_from(emulated_aws):
    rows = ["Ada,Lovelace,Initech", "Grace,Hopper,Navy", "Ada,Lovelace,Initech", "x,,", "Alan,Turing,NPL"]
    rows += ["Grace,Hopper,Navy", "Ada,Lovelace,Initech", "Alan,Turing,NPL"]
    job = new_job(emulated_aws, Vendor.PROSPEO, "first_name,last_name,company\n" + "\n".join(rows) + "\n")
    prepare_job(job.job_id, emulated_aws)
    plan = plan_of(job.job_id)
    assert [(e["row"], e["status"], e.get("twin")) for e in plan] == [
        (1, "send", None),
        (2, "send", None),
        (3, "duplicate", 1),
        (4, "invalid_input", None),
        (5, "send", None),
        (6, "duplicate", 2),
        (7, "duplicate", 1),
        (8, "duplicate", 5),
    ]
    twins = aws.client("s3").get_object(Bucket=BUCKET, Key=layout.twins_key(job.job_id))["Body"].read()
    assert twins == b"1\n2\n5\n"


def test_a_file_with_no_duplicates_has_an_empty_twins_list(emulated_aws):
    job = new_job(emulated_aws, Vendor.CHECK365, "email\nada@initech.com\ngrace@navy.mil\n")
    prepared = prepare_job(job.job_id, emulated_aws)
    assert storage.get_bytes(BUCKET, layout.twins_key(job.job_id)) == b""
    assert (prepared.chunks_total, prepared.batches_total) == (1, 1)


def test_a_file_with_nothing_to_send_has_an_empty_manifest(emulated_aws):
    job = new_job(emulated_aws, Vendor.CHECK365, "email\nnot an address\n")
    prepared = prepare_job(job.job_id, emulated_aws)
    assert storage.get_json(BUCKET, prepared.manifest_key) == []
    assert (prepared.chunks_total, prepared.batches_total) == (0, 0)


@pytest.mark.parametrize(
    ("limits", "words"),
    [
        (InputLimits(max_rows=250), "more than 250 rows"),
        (InputLimits(max_bytes=1000), "over the 1 KB limit"),
    ],
)
def test_a_file_over_the_limits_is_refused_before_anything_could_be_sent(emulated_aws, limits, words):
    settings = emulated_aws.model_copy(update={"input_limits": limits})
    job = new_job(settings, Vendor.PROSPEO, prospeo_csv(300, seed=4))
    with pytest.raises(BadInput, match=words):
        prepare_job(job.job_id, settings)
    # No manifest: the Map has nothing to send. No plan either, and the job has not started.
    for key in (layout.manifest_key(job.job_id), layout.plan_key(job.job_id), layout.twins_key(job.job_id)):
        assert not storage.exists(BUCKET, key)
    assert aws.client("s3").list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []
    assert JobStore(settings.jobs_table).require(job.job_id).status == JobStatus.PENDING


def test_prepare_writes_one_object_per_batch_not_per_chunk(emulated_aws, s3_requests):
    job = new_job(emulated_aws, Vendor.PROSPEO, prospeo_csv(2_000, seed=8))  # chunks of 50, batches of 10
    prepared = prepare_job(job.job_id, emulated_aws)
    puts = s3_requests.of("PutObject")
    assert sorted(k for k in puts if "/chunks/" in k) == [
        layout.batch_key(job.job_id, b) for b in range(prepared.batches_total)
    ]
    assert prepared.batches_total == -(-prepared.chunks_total // 10)
    assert len(s3_requests.sent) <= prepared.batches_total + 10
    assert json.loads(storage.get_bytes(BUCKET, prepared.manifest_key))[0]["chunk_indexes"] == list(range(10))
