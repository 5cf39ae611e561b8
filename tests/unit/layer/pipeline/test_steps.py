"""A job of steps against emulated S3 and DynamoDB, each step really prepared and its chunks settled by hand as the
vendor step would: what each step is given (only rows not matched yet and that its vendor can take; a validation
step one email a row, each address once), and the one row per input row Finalize merges from them."""

from __future__ import annotations

import csv
import io
import json

import pytest

from enrichment.errors import BadInput
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
    RowStatus,
    Vendor,
)
from enrichment.options import parse_steps
from enrichment.pipeline.cost import read_observed, scope_of
from enrichment.pipeline.finalize import finalize_job
from enrichment.pipeline.prepare import prepare_job
from enrichment.pipeline.step_outcomes import NO_ORIGIN, Origin, RowAnswer
from enrichment.pipeline.steps import merge_row, verdict
from enrichment.settings import Settings
from tests.unit.layer.conftest import BUCKET, new_job

FIRST, SECOND, MISSED = (
    "00000000-0000-4000-8000-000000000001",
    "00000000-0000-4000-8000-000000000002",
    "00000000-0000-4000-8000-0000000000ff",
)
# Rows 1-3 have a Pubrio id (row 3's is not found by Pubrio), row 4 only name + company, row 5 an email, row 6
# nothing a finding vendor can take, row 7 repeats row 4, row 8 has a bad Pubrio id placeholder and a LinkedIn URL.
MIXED = (
    "People Search ID,First Name,Last Name,Company,Email,LinkedIn\n"
    "00000000-0000-4000-8000-000000000001,Ada,Lovelace,Initech,,\n"
    "00000000-0000-4000-8000-000000000002,Alan,Turing,Hooli,,\n"
    "00000000-0000-4000-8000-0000000000ff,Grace,Hopper,Globex,grace@globex.io,\n"
    ",Linus,Torvalds,Umbrella,,\n"
    ",,,,radia@initech.com,\n"
    ",Only,Name,,,\n"
    ",Linus,Torvalds,Umbrella,,\n"
    "n/a,,,,,https://www.linkedin.com/in/ken\n"
)
WATERFALL = [{"vendor": "pubrio"}, {"vendor": "prospeo"}, {"vendor": "check365"}]


def steps_job(settings: Settings, content: str = MIXED, steps=WATERFALL, **options) -> Job:
    return new_job(settings, Vendor.PUBRIO, content, options=options, steps=parse_steps(steps, options))


def sent(prepared: PreparedJob) -> list[ChunkBatch]:
    refs = [BatchRef.model_validate(r) for r in storage.get_json(BUCKET, prepared.manifest_key)]
    return [ChunkBatch.model_validate(storage.get_json(BUCKET, r.batch_key)) for r in refs]


def records(prepared: PreparedJob) -> dict[str, dict[str, str]]:
    return {r.ref: r.fields for b in sent(prepared) for c in b.chunks for r in c.records}


def settle(job: Job, prepared: PreparedJob, answer, credits_each: float = 1.0) -> None:
    for batch in sent(prepared):
        results = [
            ChunkResult(
                chunk_index=c.chunk_index,
                status="done",
                credits=credits_each * len(c.records),
                results={r.ref: answer(r.ref, r.fields) for r in c.records},
                answered_at="2026-11-23T09:00:00.000Z",
            )
            for c in batch.chunks
        ]
        document = BatchResult(batch_index=batch.batch_index, chunks=results).model_dump(mode="json")
        storage.put_json(BUCKET, layout.batch_result_key(job.job_id, batch.batch_index), document)


def pubrio_answer(ref: str, fields: dict[str, str]) -> RecordResult:
    if fields["people_search_id"] == MISSED:
        return RecordResult(status="not_matched", reason="no person found")
    return RecordResult(
        status="matched",
        emails=[{"value": f"{fields['people_search_id']}@work.example.com", "status": "valid"}],
        phones=[{"value": "+1 555 0100"}],
        credits=15,
    )


def prospeo_answer(ref: str, fields: dict[str, str]) -> RecordResult:
    if "linkedin_url" in fields:
        return RecordResult(status="not_matched", reason="no match")
    return RecordResult(status="matched", emails=[{"value": f"found{ref}@prospeo.example.com", "status": "valid"}])


def check365_answer(ref: str, fields: dict[str, str]) -> RecordResult:
    grade = "risky" if fields["email"].startswith("found") else "valid"
    return RecordResult(
        status="matched",
        emails=[{"value": fields["email"], "status": grade}],
        verification={"status": grade, "safe_to_send": grade == "valid"},
    )


def run_steps(settings: Settings, job: Job) -> list[PreparedJob]:
    prepared = []
    for index, answer in enumerate((pubrio_answer, prospeo_answer, check365_answer)):
        ready = prepare_job(job.job_id, settings, index)
        prepared.append(ready)
        settle(job, ready, answer)
    return prepared


def output(job: Job, name: str) -> bytes:
    return storage.get_bytes(BUCKET, layout.output_prefix(job.job_id) + name)


def test_each_step_is_given_only_the_rows_no_earlier_step_matched_and_that_its_vendor_can_take(emulated_aws):
    job = steps_job(emulated_aws)
    pubrio, prospeo, check365 = run_steps(emulated_aws, job)

    assert (pubrio.step_index, pubrio.next_step_index, prospeo.next_step_index, check365.next_step_index) == (
        0,
        1,
        2,
        None,
    )
    assert sorted(records(pubrio)) == ["1", "2", "3"]  # the rows with a people-search id
    # Rows 1-2 matched: never sent again. Row 3 (Pubrio's miss), 4, 5 and 8 go to Prospeo; 6 it cannot take; 7
    # repeats row 4 and is answered from it.
    assert sorted(records(prospeo), key=int) == ["3", "4", "5", "8"]
    assert records(prospeo)["3"]["first_name"] == "Grace"
    # Each row's best email once: Pubrio's finds, Prospeo's finds (row 7's is row 4's, so not sent twice).
    assert {ref: f["email"] for ref, f in records(check365).items()} == {
        "1": f"{FIRST}@work.example.com",
        "2": f"{SECOND}@work.example.com",
        "3": "found3@prospeo.example.com",
        "4": "found4@prospeo.example.com",
        "5": "found5@prospeo.example.com",
    }
    # Chunk indexes are the job's: each step numbers from its own start.
    assert {c.chunk_index for b in sent(prospeo) for c in b.chunks} == {layout.first_index(1)}
    item = JobStore(emulated_aws.jobs_table).require(job.job_id)
    assert item.chunks_total == 3 and sorted(item.steps_prepared) == ["0", "1", "2"]


def test_finalize_merges_every_step_into_one_row_per_input_row(emulated_aws):
    job = steps_job(emulated_aws)
    run_steps(emulated_aws, job)

    ended = finalize_job(FinalizeInput(job_id=job.job_id, finalizer="test"), emulated_aws)

    rows = list(csv.DictReader(io.StringIO(output(job, "results.csv").decode())))
    assert [r["result_status"] for r in rows] == [
        "matched",
        "matched",
        "matched",
        "matched",
        "matched",
        "invalid_input",
        "duplicate",
        "not_matched",
    ]
    by = {i + 1: r for i, r in enumerate(rows)}
    assert (by[1]["result_email_source"], by[1]["result_phone_source"], by[1]["result_email_validation"]) == (
        "pubrio",
        "pubrio",
        "valid",
    )
    assert by[3]["result_source"] == "prospeo" and by[3]["result_email"] == "found3@prospeo.example.com"
    assert (by[3]["result_email_source"], by[3]["result_phone_source"], by[3]["result_email_validation"]) == (
        "prospeo",
        "",
        "risky",
    )
    assert by[7]["result_duplicate_of"] == "4" and by[7]["result_email_validation"] == "risky"
    assert by[6]["result_reason"].startswith("pubrio: ") and "prospeo: " in by[6]["result_reason"]
    assert by[8]["result_reason"] == "pubrio: " + by[8]["result_reason"].split("pubrio: ")[1]
    assert "prospeo: no match" in by[8]["result_reason"]
    # Pubrio's 15 credits a row, Prospeo's and Check365's none per row here: row 1 cost 15.
    assert by[1]["result_credits"] == "15"

    summary = json.loads(output(job, "summary.json"))
    assert summary["steps"] == [
        {"vendor": "pubrio", "options": {}},
        {"vendor": "prospeo", "options": {}},
        {"vendor": "check365", "options": {}, "validate": "email"},
    ]
    pubrio, prospeo, check365 = summary["waterfall"]
    assert (pubrio["rows_received"], pubrio["rows_not_taken"], pubrio["rows_sent"], pubrio["matched"]) == (8, 5, 3, 2)
    assert (pubrio["passed_on"], pubrio["match_rate_added"], pubrio["credits"]) == (6, 0.25, 3)
    assert (prospeo["rows_received"], prospeo["rows_not_taken"], prospeo["rows_sent"]) == (6, 1, 4)
    assert (prospeo["duplicates"], prospeo["matched"], prospeo["not_matched"], prospeo["passed_on"]) == (1, 4, 1, 2)
    assert (check365["rows_received"], check365["rows_sent"], check365["duplicates"]) == (6, 5, 1)
    assert check365["verdicts"] == {"risky": 4, "valid": 2}
    assert summary["credits_by_vendor"] == {"pubrio": 3, "prospeo": 4, "check365": 5}
    assert ended.credits == 12 and ended.status == JobStatus.SUCCEEDED
    lines = [json.loads(line) for line in output(job, "results.jsonl").decode().splitlines()]
    assert [s["status"] for s in lines[2]["steps"]] == ["not_matched", "matched", "matched"]
    assert [s["status"] for s in lines[0]["steps"]] == ["matched", None, "matched"]
    assert "Steps" in output(job, "report.html").decode()
    # The first step was given every row, as a Pubrio job would be: its rows and credits join Pubrio's observed
    # match rate (a later step's would not: it sees only what the steps before it missed).
    observed = read_observed(emulated_aws.jobs_table, Vendor.PUBRIO, scope_of(Vendor.PUBRIO, {}))
    assert (observed.rows_sent, observed.rows_matched, observed.credits) == (3, 2, 3)
    assert read_observed(emulated_aws.jobs_table, Vendor.PROSPEO, scope_of(Vendor.PROSPEO, {})) is None


def test_a_step_that_never_ran_keeps_what_the_steps_before_it_found(emulated_aws):
    job = steps_job(emulated_aws)
    settle(job, prepare_job(job.job_id, emulated_aws, 0), pubrio_answer)  # then Prospeo's Prepare failed

    failure = {"Error": "BadInput", "Cause": json.dumps({"errorMessage": "the vendor refused the job"})}
    ended = finalize_job(FinalizeInput(job_id=job.job_id, failure=failure, finalizer="test"), emulated_aws)

    rows = list(csv.DictReader(io.StringIO(output(job, "results.csv").decode())))
    assert ended.status == JobStatus.FAILED
    assert [r["result_status"] for r in rows[:3]] == ["matched", "matched", "not_matched"]
    assert rows[0]["result_email"] == f"{FIRST}@work.example.com" and rows[0]["result_email_validation"] == ""


def test_a_step_whose_vendor_has_no_column_takes_no_row_and_the_next_goes_on(emulated_aws):
    job = steps_job(emulated_aws, "First Name,Last Name,Company\nAda,Lovelace,Initech\n", WATERFALL[:2])

    pubrio = prepare_job(job.job_id, emulated_aws, 0)
    prospeo = prepare_job(job.job_id, emulated_aws, 1)

    assert sent(pubrio) == [] and list(records(prospeo)) == ["1"]
    plan = list(storage.iter_jsonl(BUCKET, layout.plan_key(job.job_id)))
    assert plan == [{"row": 1, "status": "invalid_input", "reason": pytest.approx(plan[0]["reason"])}]
    assert plan[0]["reason"].startswith("people_search_id is missing")


def test_a_file_no_finding_step_can_match_on_fails_before_anything_is_sent(emulated_aws):
    job = steps_job(emulated_aws, "Name,Notes\nAda,x\n", [{"vendor": "pubrio"}, {"vendor": "insideview"}])

    with pytest.raises(BadInput, match=r"no column any step \(pubrio, insideview\) can match on"):
        prepare_job(job.job_id, emulated_aws, 0)
    assert not storage.exists(BUCKET, layout.manifest_key(job.job_id))


def test_a_later_step_given_no_row_sends_nothing(emulated_aws):
    job = steps_job(emulated_aws, f"People Search ID,First Name\n{FIRST},Ada\n{SECOND},Alan\n", WATERFALL[:2])
    settle(job, prepare_job(job.job_id, emulated_aws, 0), pubrio_answer)

    prospeo = prepare_job(job.job_id, emulated_aws, 1)

    assert sent(prospeo) == [] and prospeo.chunks_total == 0 and prospeo.next_step_index is None


def test_a_vendor_that_stopped_its_step_leaves_the_next_vendor_to_go_on(emulated_aws):
    job = steps_job(emulated_aws, steps=WATERFALL[:2])
    store = JobStore(emulated_aws.jobs_table)
    settle(job, prepare_job(job.job_id, emulated_aws, 0), pubrio_answer)
    store.stop(job.job_id, reason="pubrio: out of credits", error="OutOfCredits")

    prospeo = prepare_job(job.job_id, emulated_aws, 1)
    assert sorted(records(prospeo), key=int) == ["3", "4", "5", "8"]
    settle(job, prospeo, prospeo_answer)
    ended = finalize_job(FinalizeInput(job_id=job.job_id, finalizer="test"), emulated_aws)

    assert ended.status == JobStatus.PARTIAL and ended.error == "step 1 (pubrio) stopped: pubrio: out of credits"
    summary = json.loads(output(job, "summary.json"))
    assert summary["waterfall"][0]["stopped"] == "pubrio: out of credits" and "stopped" not in summary["waterfall"][1]


def test_a_stopped_job_prepares_no_later_step(emulated_aws):
    job = steps_job(emulated_aws)
    settle(job, prepare_job(job.job_id, emulated_aws, 0), pubrio_answer)
    # A cancel: even over a vendor's stop, which would otherwise stop only its step.
    JobStore(emulated_aws.jobs_table).stop(job.job_id, reason="pubrio: out of credits", error="OutOfCredits")
    JobStore(emulated_aws.jobs_table).update(job.job_id, cancel_requested=True)

    prospeo = prepare_job(job.job_id, emulated_aws, 1)

    assert sent(prospeo) == [] and prospeo.next_step_index is None
    assert not storage.exists(BUCKET, layout.plan_key(job.job_id, 1))


def answer_of(status: RowStatus, result: RecordResult | None = None, twin: int | None = None) -> RowAnswer:
    return RowAnswer(status, None, result, twin, Origin("x", None) if result else NO_ORIGIN)


def test_the_first_finding_step_that_matched_decides_the_row():
    steps = parse_steps([{"vendor": "prospeo"}, {"vendor": "pubrio"}, {"vendor": "check365"}], {})
    error = answer_of(RowStatus.ERROR)
    found = answer_of(RowStatus.MATCHED, RecordResult(status="matched", emails=[{"value": "a@b.co"}], credits=2))
    graded = answer_of(
        RowStatus.MATCHED, RecordResult(status="matched", emails=[{"value": "a@b.co", "status": "valid"}])
    )

    merged = merge_row(steps, [error, found, graded])

    assert (merged.status, merged.vendor, merged.email_source, merged.phone_source) == (
        RowStatus.MATCHED,
        "pubrio",
        "pubrio",
        None,
    )
    assert merged.result.credits == 2 and verdict(merged.validation) == "valid"
    # Nothing found: an error anywhere is the row's (it may be found when run again).
    assert merge_row(steps, [answer_of(RowStatus.NOT_MATCHED), error, None]).status == RowStatus.ERROR
    # A validation step that could not take the address grades it invalid.
    assert verdict(answer_of(RowStatus.INVALID_INPUT)) == "invalid"
