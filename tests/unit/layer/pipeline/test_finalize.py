"""Finalize against emulated S3 and DynamoDB, on jobs Prepare really prepared: results read from batch results,
from the chunk results of a batch that never settled, or from nothing (rows not processed); duplicates answered
from their twin; its S3 requests counted; failures that leave outputs saying why, and those tried again."""

from __future__ import annotations

import csv
import io
import json

import pytest
from botocore.exceptions import ClientError

from enrichment import aws
from enrichment.files import layout, storage
from enrichment.jobs.store import JobStore
from enrichment.models import (
    BatchRef,
    BatchResult,
    ChunkBatch,
    ChunkResult,
    FinalizeInput,
    Job,
    JobStatus,
    PreparedJob,
    RecordResult,
    Vendor,
)
from enrichment.pipeline.finalize import finalize_job
from enrichment.pipeline.prepare import prepare_job
from enrichment.settings import Settings
from localrt.samples import prospeo_csv
from tests.unit.layer.conftest import BUCKET, new_job

SMALL_BATCHES = {"prospeo": {"chunk_size": 3, "chunks_per_batch": 2}}  # 6 rows sent a batch


def people(*rows: str) -> str:
    return "first_name,last_name,company\n" + "\n".join(rows) + "\n"


def prepared(settings: Settings, content: str, job_id: str = "job-1") -> tuple[Job, PreparedJob]:
    job = new_job(settings, Vendor.PROSPEO, content, job_id=job_id)
    return job, prepare_job(job.job_id, settings)


def batches(prepared: PreparedJob) -> list[ChunkBatch]:
    refs = [BatchRef.model_validate(r) for r in storage.get_json(BUCKET, prepared.manifest_key)]
    return [ChunkBatch.model_validate(storage.get_json(BUCKET, r.batch_key)) for r in refs]


def answer(ref: str) -> RecordResult:
    """A plausible answer: every fifth row not found, the others with an email."""
    if int(ref) % 5 == 0:
        return RecordResult(status="not_matched", reason="no person found", raw={"ref": ref, "found": False})
    return RecordResult(
        status="matched",
        emails=[{"value": f"person{ref}@example.com", "status": "valid", "vendor_status": "VERIFIED"}],
        person={"full_name": f"Person {ref}"},
        raw={"ref": ref, "found": True},
    )


def chunk_result(chunk, *, failed: bool = False) -> ChunkResult:
    if failed:
        return ChunkResult(chunk_index=chunk.chunk_index, status="failed", reason="prospeo: HTTP 400, rejected")
    return ChunkResult(
        chunk_index=chunk.chunk_index,
        status="done",
        credits=len(chunk.records),
        results={r.ref: answer(r.ref) for r in chunk.records},
        answered_at="2026-11-22T09:00:00.000Z",
    )


def settle(job: Job, batch: ChunkBatch, *, whole: bool = True, chunks: list[int] | None = None, failed=()) -> None:
    """What the vendor step leaves: a ChunkResult per settled chunk, then the BatchResult once all have settled."""
    results = [chunk_result(c, failed=c.chunk_index in failed) for c in batch.chunks]
    for result in results:
        if chunks is None or result.chunk_index in chunks:
            storage.put_json(BUCKET, layout.chunk_result_key(job.job_id, result.chunk_index), result.model_dump())
    if whole:
        document = BatchResult(batch_index=batch.batch_index, chunks=results).model_dump(mode="json")
        storage.put_json(BUCKET, layout.batch_result_key(job.job_id, batch.batch_index), document)


def finalize(settings: Settings, job: Job, failure: dict | None = None) -> Job:
    return finalize_job(FinalizeInput(job_id=job.job_id, failure=failure, finalizer="test"), settings)


def output(job: Job, name: str) -> bytes:
    return storage.get_bytes(BUCKET, layout.output_prefix(job.job_id) + name)


def results_csv(job: Job) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(output(job, "results.csv").decode())))


def test_rows_are_answered_from_batch_results_each_read_once(emulated_aws, s3_requests):
    settings = emulated_aws.model_copy(update={"vendor_overrides": SMALL_BATCHES})
    job, ready = prepared(settings, people(*(f"P{i},Q{i},Co{i}" for i in range(1, 21))))
    for batch in batches(ready):
        settle(job, batch)
    s3_requests.sent.clear()

    ended = finalize(settings, job)

    rows = results_csv(job)
    assert [r["result_status"] for r in rows] == ["not_matched" if i % 5 == 0 else "matched" for i in range(1, 21)]
    assert rows[0]["result_email"] == "person1@example.com" and rows[4]["result_reason"] == "no person found"
    assert ended.status == JobStatus.SUCCEEDED and ended.counts == {
        "matched": 16,
        "not_matched": 4,
        "invalid_input": 0,
        "duplicate": 0,
        "error": 0,
        "skipped": 0,
    }
    assert ended.credits == 20
    gets = s3_requests.of("GetObject")
    assert sorted(k for k in gets if "/results/" in k) == [layout.batch_result_key(job.job_id, b) for b in range(4)]
    assert [op for op in s3_requests.of("HeadObject") if "/results/" in op] == []
    # The results are found with one listing; once the job settled, its working files are listed and deleted.
    summary_written = s3_requests.sent.index(("PutObject", job.output_prefix + "summary.json"))
    assert [op for op, _ in s3_requests.sent[:summary_written]].count("ListObjectsV2") == 1


def test_a_batch_that_never_settled_is_read_from_its_chunk_results_and_the_rest_is_not_processed(
    emulated_aws, s3_requests
):
    settings = emulated_aws.model_copy(update={"vendor_overrides": SMALL_BATCHES})
    job, ready = prepared(settings, people(*(f"P{i},Q{i},Co{i}" for i in range(1, 19))))
    first, second, third = batches(ready)
    settle(job, first)
    settle(job, second, whole=False, chunks=[2])  # chunk 3 never settled, so neither did the batch
    # the third batch: nothing at all (the job was stopped)
    s3_requests.sent.clear()

    failure = {"Error": "States.Timeout", "Cause": "the Map timed out"}
    ended = finalize(settings, job, failure)

    rows = results_csv(job)
    assert [r["result_status"] for r in rows[:6]] == ["matched"] * 4 + ["not_matched", "matched"]
    assert [r["result_email"] for r in rows[6:9]] == [f"person{i}@example.com" for i in (7, 8, 9)]  # chunk 2
    assert {r["result_reason"] for r in rows[9:]} == {"not processed: States.Timeout: the Map timed out"}
    assert ended.status == JobStatus.FAILED and ended.counts["error"] == 9
    assert ended.credits == 6 + 3  # the chunks that have results, each once
    results_read = sorted(k for k in s3_requests.of("GetObject") if "/results/" in k)
    assert results_read == [layout.chunk_result_key(job.job_id, 2), layout.batch_result_key(job.job_id, 0)]


def test_the_outputs_are_the_same_whether_batches_settled_or_only_their_chunks(emulated_aws):
    settings = emulated_aws.model_copy(update={"vendor_overrides": SMALL_BATCHES})
    content = prospeo_csv(120, seed=21)  # invalid rows and duplicates among them
    outputs = []
    for job_id, whole in (("job-batches", True), ("job-chunks", False)):
        job, ready = prepared(settings, content, job_id=job_id)
        for batch in batches(ready):
            settle(job, batch, whole=whole, failed={1})
        ended = finalize(settings, job)
        outputs.append((output(job, "results.csv"), output(job, "results.jsonl"), ended.counts, ended.credits))
    assert outputs[0] == outputs[1]
    assert outputs[0][2]["duplicate"] > 0 and outputs[0][2]["invalid_input"] > 0


def test_a_duplicate_is_answered_from_its_twin_in_an_earlier_batch_without_reading_it_again(emulated_aws, s3_requests):
    settings = emulated_aws.model_copy(update={"vendor_overrides": SMALL_BATCHES})
    distinct = [f"P{i},Q{i},Co{i}" for i in range(1, 16)]
    # row 16 repeats row 1 (chunk 0, batch 0); row 17 repeats row 4 (chunk 1, whose chunk failed)
    job, ready = prepared(settings, people(*distinct, distinct[0], distinct[3]))
    for batch in batches(ready):
        settle(job, batch, failed={1})
    s3_requests.sent.clear()

    ended = finalize(settings, job)

    rows = results_csv(job)
    assert rows[15]["result_status"] == "duplicate" and rows[15]["result_duplicate_of"] == "1"
    assert rows[15]["result_reason"] == "same request as row 1 (matched)"
    assert rows[15]["result_email"] == "person1@example.com"
    assert rows[16]["result_status"] == "error"
    assert rows[16]["result_reason"] == "same request as row 4 (error: prospeo: HTTP 400, rejected)"
    jsonl = [json.loads(line) for line in output(job, "results.jsonl").decode().splitlines()]
    assert jsonl[15]["vendor_answer"] == jsonl[0]["vendor_answer"] == {"ref": "1", "found": True}
    assert jsonl[15]["duplicate_of"] == 1
    batch_zero = layout.batch_result_key(job.job_id, 0)
    assert s3_requests.of("GetObject").count(batch_zero) == 1
    assert ended.counts["duplicate"] == 1 and ended.counts["error"] == 4  # chunk 1's three rows, and row 17


def test_finalize_sends_at_most_one_s3_request_per_hundred_rows(emulated_aws, s3_requests):
    rows = 3_000
    job, ready = prepared(emulated_aws, prospeo_csv(rows, seed=13))  # Prospeo: chunks of 50, batches of 10
    for batch in batches(ready):
        settle(job, batch)
    s3_requests.sent.clear()

    ended = finalize(emulated_aws, job)

    assert sum(ended.counts.values()) == rows
    assert len(s3_requests.sent) / rows <= 0.01, s3_requests.sent


def test_an_input_that_cannot_be_read_again_fails_the_job_with_outputs_that_say_why(emulated_aws):
    job, ready = prepared(emulated_aws, people("Ada,Lovelace,Initech", "Grace,Hopper,Navy"))
    for batch in batches(ready):
        settle(job, batch)
    aws.client("s3").delete_object(Bucket=BUCKET, Key=job.input_key)

    ended = finalize(emulated_aws, job)

    why = f"the job could not be finalized: the input file {job.input_key} is no longer in the bucket"
    assert ended.status == JobStatus.FAILED and ended.error.startswith(why)
    summary = json.loads(output(job, "summary.json"))
    assert summary["status"] == "FAILED" and summary["error"] == ended.error
    assert "no longer in the bucket" in output(job, "report.html").decode()
    assert not storage.exists(BUCKET, layout.output_prefix(job.job_id) + "results.csv")
    assert aws.client("s3").list_multipart_uploads(Bucket=BUCKET).get("Uploads", []) == []


def test_an_input_replaced_since_prepare_fails_the_job_saying_so(emulated_aws):
    job, ready = prepared(emulated_aws, people("Ada,Lovelace,Initech", "Grace,Hopper,Navy"))
    for batch in batches(ready):
        settle(job, batch)
    aws.client("s3").put_object(Bucket=BUCKET, Key=job.input_key, Body=people("Ada,Lovelace,Initech").encode())

    ended = finalize(emulated_aws, job)

    assert ended.status == JobStatus.FAILED
    assert ended.error == (
        "the job could not be finalized: the input file is not the one the job read: its rows differ from the job's "
        "plan"
    )


def test_a_result_that_does_not_parse_fails_the_job_without_quoting_it(emulated_aws):
    job, ready = prepared(emulated_aws, people("Ada,Lovelace,Initech"))
    (batch,) = batches(ready)
    broken = {"batch_index": 0, "chunks": [{"chunk_index": 0, "status": "odd", "results": {"1": "Ada Lovelace"}}]}
    storage.put_json(BUCKET, layout.batch_result_key(job.job_id, batch.batch_index), broken)

    ended = finalize(emulated_aws, job)

    assert ended.status == JobStatus.FAILED and ended.error.startswith("the job could not be finalized: a stored")
    assert "Ada" not in ended.error and "Ada" not in output(job, "summary.json").decode()


def test_a_transient_failure_is_raised_to_be_tried_again_and_the_retry_finishes(emulated_aws, monkeypatch):
    job, ready = prepared(emulated_aws, people("Ada,Lovelace,Initech", "Grace,Hopper,Navy"))
    for batch in batches(ready):
        settle(job, batch)
    get_bytes = storage.get_bytes

    def slow_down(bucket: str, key: str) -> bytes:
        error = {"Error": {"Code": "SlowDown", "Message": "Please reduce your request rate."}}
        raise ClientError(error | {"ResponseMetadata": {"HTTPStatusCode": 503}}, "GetObject")

    monkeypatch.setattr(storage, "get_bytes", slow_down)
    with pytest.raises(ClientError, match="SlowDown"):
        finalize(emulated_aws, job)
    assert JobStore(emulated_aws.jobs_table).require(job.job_id).status == JobStatus.FINALIZING
    assert not storage.exists(BUCKET, layout.output_prefix(job.job_id) + "summary.json")

    monkeypatch.setattr(storage, "get_bytes", get_bytes)
    ended = finalize(emulated_aws, job)  # the state machine's retry: the same finalizer resumes its claim
    assert ended.status == JobStatus.SUCCEEDED and ended.counts["matched"] == 2


def test_rows_in_the_result_cache_are_not_sent_and_come_out_answered_from_it(emulated_aws):
    import boto3

    from enrichment.pipeline.result_cache import Answered, ResultCache, answer_scope
    from enrichment.vendors import adapter_class
    from localrt.template import result_cache_table

    table = "unit-cache-finalize"
    boto3.client("dynamodb").create_table(**result_cache_table(table))
    settings = emulated_aws.model_copy(update={"vendor_overrides": SMALL_BATCHES, "result_cache_table": table})
    adapter = adapter_class(Vendor.PROSPEO)
    cache = ResultCache(table, Vendor.PROSPEO, answer_scope(adapter.answer_options, adapter.parse_options({})))
    # Rows 2 and 5 were answered by an earlier job (as the vendor function keeps them, from the fields sent).
    earlier = {2: RecordResult(status="matched", person={"full_name": "Cached Two"}, credits=1.0), 5: answer("5")}
    fields = {2: {"first_name": "P2", "last_name": "Q2", "company_name": "Co2"}}
    fields[5] = {"first_name": "P5", "last_name": "Q5", "company_name": "Co5"}
    cache.store([(adapter.dedupe_key(fields[r]), Answered(fields[r], earlier[r])) for r in (2, 5)], _at(), "job-0")
    # Row 8 repeats row 2 (a duplicate of a cached row); the enrich_mobile scope is another question.
    rows = [f"P{i},Q{i},Co{i}" for i in range(1, 8)] + ["P2,Q2,Co2"]
    job, ready = prepared(settings, people(*rows))

    plan = {e["row"]: e for e in storage.iter_jsonl(BUCKET, layout.plan_key(job.job_id))}
    assert [plan[r]["status"] for r in range(1, 9)] == ["send", "cached", "send", "send", "cached", "send", "send"] + [
        "duplicate"
    ]
    sent = [int(r.ref) for b in batches(ready) for c in b.chunks for r in c.records]
    assert sent == [1, 3, 4, 6, 7]  # numbered without the cached rows: chunks of 3
    assert [plan[r]["chunk"] for r in sent] == [0, 0, 0, 1, 1]
    for batch in batches(ready):
        settle(job, batch)
    ended = finalize(settings, job)

    assert ended.status == JobStatus.SUCCEEDED and ended.credits == 5
    out = dict(enumerate(results_csv(job), start=1))
    assert (out[2]["result_status"], out[2]["result_source"], out[2]["result_fetched_at"]) == (
        "matched",
        "cache",
        _at(),
    )
    assert out[2]["result_full_name"] == "Cached Two"
    assert out[5]["result_status"] == "not_matched" and out[5]["result_source"] == "cache"
    assert out[8]["result_status"] == "duplicate" and out[8]["result_source"] == "cache"
    assert all(
        (out[r]["result_source"], out[r]["result_fetched_at"]) == ("prospeo", "2026-11-22T09:00:00.000Z") for r in sent
    )
    assert out[2]["result_credits"] == "0"  # this job paid nothing for it
    summary = json.loads(output(job, "summary.json"))
    assert summary["cached_rows"] == 2
    lines = [json.loads(line) for line in output(job, "results.jsonl").decode().splitlines()]
    assert (lines[1]["source"], lines[1]["fetched_at"]) == ("cache", _at())

    # The same file with cache_max_age_days=0 sends every row.
    again = new_job(settings, Vendor.PROSPEO, people(*rows), job_id="job-2", options={"cache_max_age_days": 0})
    ready = prepare_job(again.job_id, settings)
    assert [int(r.ref) for b in batches(ready) for c in b.chunks for r in c.records] == list(range(1, 8))


def _at() -> str:
    return "2026-11-20T10:00:00.000Z"
