"""The result cache's store: keys by vendor, scope and dedupe key; age and TTL; the answers kept; purges."""

from __future__ import annotations

import datetime as dt
import uuid
from concurrent.futures import ThreadPoolExecutor

import boto3
import pytest

from enrichment.models import RecordResult, RowStatus, Vendor
from enrichment.pipeline.result_cache import (
    DAY,
    GET_BATCH,
    Answered,
    PurgeRequest,
    ResultCache,
    answer_scope,
    purge,
)
from enrichment.vendors import adapter_class
from localrt.template import result_cache_table

NOW = 1_750_000_000.0


@pytest.fixture
def table(emulated_aws) -> str:
    name = f"unit-cache-{uuid.uuid4().hex[:12]}"
    boto3.client("dynamodb").create_table(**result_cache_table(name))
    return name


def iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds")


def scope(vendor: Vendor, **options) -> str:
    adapter = adapter_class(vendor)
    return answer_scope(adapter.answer_options, adapter.parse_options(options))


def cache(table: str, vendor: Vendor = Vendor.CHECK365, now: float = NOW, **options) -> ResultCache:
    return ResultCache(table, vendor, scope(vendor, **options), retention_days=90, clock=lambda: now)


def answered(email: str, status: RowStatus = RowStatus.MATCHED, **fields: str) -> tuple[str, Answered]:
    fields = {"email": email, **fields}
    key = adapter_class(Vendor.CHECK365).dedupe_key(fields)
    return key, Answered(fields, RecordResult(status=status, reason=None, credits=1.0, raw={"email": email}))


def test_the_scope_is_the_options_that_change_the_answer():
    assert scope(Vendor.PROSPEO) != scope(Vendor.PROSPEO, enrich_mobile=True)
    assert scope(Vendor.PROSPEO) == scope(Vendor.PROSPEO, allow_resend=True)  # how we send, not what is asked
    # only_verified_mobile implies enrich_mobile: the same question either way it is put
    assert scope(Vendor.PROSPEO, only_verified_mobile=True) == scope(
        Vendor.PROSPEO, only_verified_mobile=True, enrich_mobile=True
    )
    assert scope(Vendor.PUBRIO, contact_types=["phone", "email-work"]) == scope(
        Vendor.PUBRIO, contact_types="email-work,phone"
    )
    assert scope(Vendor.PUBRIO, contact_types=["phone"]) != scope(Vendor.PUBRIO)
    assert scope(Vendor.PUBRIO, profile_id=7) == scope(Vendor.PUBRIO)  # who pays, not what is asked (inferred)
    assert scope(Vendor.CHECK365) == scope(Vendor.INSIDEVIEW) == "{}"


def test_matched_and_not_matched_answers_are_kept_and_found_by_their_dedupe_key(table):
    store = cache(table)
    entries = [
        answered("ada@example.com"),
        answered("bob@example.com", RowStatus.NOT_MATCHED),
        answered("eve@example.com", RowStatus.ERROR),  # no vendor answer: never kept
    ]
    assert store.store(entries, iso(NOW - 3600), "job-1") == 2
    # The same mailbox however it is written (the dedupe key's normalization) is the same question.
    keys = [store.key(adapter_class(Vendor.CHECK365).dedupe_key({"email": e})) for e in ("ADA@Example.com",)]
    keys += [store.key(entries[1][0]), store.key(entries[2][0]), store.key("nobody@example.com")]
    found = store.lookup(keys, max_age_days=30)
    assert set(found) == set(keys[:2])
    assert found[keys[0]].result.status == RowStatus.MATCHED
    assert found[keys[0]].result.raw == {"email": "ada@example.com"}
    assert found[keys[0]].fetched_at == iso(NOW - 3600)
    assert found[keys[1]].result.status == RowStatus.NOT_MATCHED


def test_another_vendor_or_scope_is_another_question(table):
    store = cache(table, Vendor.PROSPEO)
    key = adapter_class(Vendor.PROSPEO).dedupe_key({"email": "ada@example.com"})
    store.store([(key, Answered({"email": "ada@example.com"}, RecordResult(status=RowStatus.MATCHED)))], iso(NOW), "j")
    assert store.lookup([store.key(key)], 30)
    mobile = cache(table, Vendor.PROSPEO, enrich_mobile=True)
    assert not mobile.lookup([mobile.key(key)], 30)
    resend = cache(table, Vendor.PROSPEO, allow_resend=True)
    assert resend.lookup([resend.key(key)], 30)
    other = cache(table, Vendor.CHECK365)
    assert not other.lookup([other.key(key)], 30)


def test_an_answer_older_than_the_jobs_max_age_is_not_used(table):
    store = cache(table)
    key, entry = answered("ada@example.com")
    store.store([(key, entry)], iso(NOW - 10 * DAY), "job-1")
    assert store.lookup([store.key(key)], max_age_days=30)
    assert not store.lookup([store.key(key)], max_age_days=5)
    assert not store.lookup([store.key(key)], max_age_days=0)  # off for the job: no call at all


def test_each_entry_expires_by_ttl_retention_days_after_it_was_fetched(table):
    store = cache(table)
    key, entry = answered("ada@example.com")
    store.store([(key, entry)], iso(NOW), "job-1")
    item = boto3.client("dynamodb").get_item(TableName=table, Key={"pk": {"S": store.key(key)}})["Item"]
    assert int(item["expires_at"]["N"]) == int(NOW) + 90 * DAY
    assert item["vendor"]["S"] == "check365" and item["job_id"]["S"] == "job-1"
    # Past its TTL, an entry DynamoDB has not yet deleted is not an answer.
    later = cache(table, now=NOW + 91 * DAY)
    assert not later.lookup([later.key(key)], max_age_days=365)


def test_a_write_of_the_same_answer_again_is_the_same_entry(table):
    store = cache(table)
    key, entry = answered("ada@example.com")
    store.store([(key, entry)], iso(NOW), "job-1")
    store.store([(key, entry)], iso(NOW), "job-1")  # a retried round
    assert boto3.client("dynamodb").scan(TableName=table)["Count"] == 1


def test_lookups_of_a_full_call_each(table):
    store = cache(table)
    entries = [answered(f"p{i}@example.com") for i in range(250)]
    assert store.store(entries, iso(NOW), "job-1") == 250
    keys = [store.key(k) for k, _ in entries]
    with ThreadPoolExecutor(4) as pool:
        parts = pool.map(lambda i: store.lookup(keys[i : i + GET_BATCH], 30), range(0, len(keys), GET_BATCH))
        found = {key: answer for part in parts for key, answer in part.items()}
    assert len(found) == 250
    with pytest.raises(ValueError, match="at most"):
        store.lookup(keys[: GET_BATCH + 1], 30)


def _count(table: str) -> int:
    return boto3.client("dynamodb").scan(TableName=table)["Count"]


def test_purge_by_vendor_and_by_age(table):
    check = cache(table)
    check.store([answered("old@example.com")], iso(NOW - 40 * DAY), "j")
    check.store([answered("new@example.com")], iso(NOW - DAY), "j")
    prospeo = cache(table, Vendor.PROSPEO)
    prospeo.store([answered("ada@example.com")], iso(NOW), "j")
    assert purge(table, PurgeRequest(older_than_days=30), clock=lambda: NOW).deleted == 1
    assert _count(table) == 2
    assert purge(table, PurgeRequest(vendor=Vendor.CHECK365)).deleted == 1
    assert _count(table) == 1
    assert purge(table, PurgeRequest()).deleted == 1
    assert _count(table) == 0


def test_purge_one_person_in_every_vendor_and_scope(table):
    for store in (cache(table), cache(table, Vendor.PROSPEO), cache(table, Vendor.PROSPEO, enrich_mobile=True)):
        store.store([answered("Ada@Example.com", first_name="Ada", last_name="Lovelace")], iso(NOW), "j")
        store.store([answered("bob@example.com")], iso(NOW), "j")
    assert _count(table) == 6
    purged = purge(table, PurgeRequest(subject=("email", "ada@EXAMPLE.com")))
    assert purged.deleted == 3 and purged.next_token is None
    assert _count(table) == 3
    cache(table).store([answered("carol@example.com", full_name="Ada  Lovelace")], iso(NOW), "j")
    assert purge(table, PurgeRequest(subject=("name", "ada lovelace"))).deleted == 1
    assert _count(table) == 3


def test_a_purge_cut_short_goes_on_from_its_token(table):
    store = cache(table)
    store.store([answered(f"p{i}@example.com") for i in range(30)], iso(NOW), "j")
    deleted, token, calls = 0, None, 0
    while True:
        calls += 1
        part = purge(table, PurgeRequest(start=token), time_left=lambda: 0.0, page_size=7)
        deleted += part.deleted
        token = part.next_token
        if token is None:
            break
    assert deleted == 30 and calls > 1
    assert _count(table) == 0


def _settled_chunk_step(settings, table: str):
    from enrichment.models import BatchRef, BatchTask, Chunk, Record
    from enrichment.pipeline.chunks import BatchStep, ChunkStep

    settings = settings.model_copy(update={"result_cache_table": table})
    task = BatchTask(action="advance", job_id="job-7", batch=BatchRef(batch_index=0, batch_key="k", chunk_indexes=[0]))
    batch = BatchStep(task, Vendor.CHECK365, settings, time_left=lambda: 60)
    records = [Record(ref=str(i), fields={"email": f"p{i}@example.com"}) for i in (1, 2, 3)]
    batch._chunks = {0: Chunk(job_id="job-7", chunk_index=0, records=records)}
    chunk = ChunkStep(batch, 0, None)
    chunk.options = adapter_class(Vendor.CHECK365).parse_options({})
    return chunk


def test_a_settled_chunk_keeps_its_answers_and_a_cache_that_fails_never_fails_the_chunk(emulated_aws, table):
    from enrichment.models import ChunkResult

    result = ChunkResult(
        chunk_index=0,
        status="done",
        results={
            "1": RecordResult(status=RowStatus.MATCHED),
            "2": RecordResult(status=RowStatus.NOT_MATCHED),
            "3": RecordResult(status=RowStatus.INVALID_INPUT, reason="the vendor refused it"),  # not kept
        },
        answered_at="2026-11-22T09:00:00.000Z",
    )
    _settled_chunk_step(emulated_aws, table)._keep_answers(result)
    items = boto3.client("dynamodb").scan(TableName=table)["Items"]
    assert sorted(i["fetched_at"]["S"] for i in items) == ["2026-11-22T09:00:00.000Z"] * 2
    assert {i["job_id"]["S"] for i in items} == {"job-7"}
    store = cache(table)
    found = store.lookup([store.key("p1@example.com"), store.key("p2@example.com")], 3650)
    assert len(found) == 2
    # A table that cannot be written (here: none) is logged, not raised.
    _settled_chunk_step(emulated_aws, "no-such-table")._keep_answers(result)
