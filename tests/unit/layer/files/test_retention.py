"""A settled job's working files are deleted (DeleteObjects, 1,000 keys a request), its outputs kept; objects are
tagged by what they are as they are written."""

from __future__ import annotations

from enrichment import aws
from enrichment.files import layout, retention, storage
from tests.unit.layer.conftest import BUCKET

JOB = "job-7"


def keys(prefix: str) -> list[str]:
    return list(storage.list_keys(BUCKET, prefix))


def test_working_files_go_outputs_and_other_jobs_stay(s3_requests):
    working = [layout.input_key(JOB), layout.plan_key(JOB), layout.manifest_key(JOB)]
    working += [layout.batch_key(JOB, i) for i in range(1200)] + [layout.chunk_result_key(JOB, 3)]
    kept = [layout.output_prefix(JOB) + name for name in layout.OUTPUT_FILES] + [layout.input_key("job-70")]
    with storage.ParallelPuts(BUCKET) as puts:
        for key in working + kept:
            puts.put(key, {})
    s3_requests.sent.clear()

    assert retention.delete_working_files(BUCKET, JOB) == len(working)
    assert keys("jobs/") == sorted(kept)
    assert len(s3_requests.of("DeleteObjects")) == 2  # 1,205 keys: 1,000, then 205
    assert retention.delete_working_files(BUCKET, JOB) == 0  # a repeat finds nothing left


def test_objects_are_tagged_by_what_they_are(emulated_aws):
    storage.put_json(BUCKET, layout.batch_key(JOB, 0), {})
    storage.put_text(BUCKET, layout.output_prefix(JOB) + "report.html", "<p>", "text/html")
    with storage.streamed_upload(
        BUCKET, layout.output_prefix(JOB) + "results.csv", "text/csv", part_bytes=5 << 20
    ) as out:
        out.write("x" * (6 << 20))
    storage.put_json(BUCKET, "schedules/list.json", {})
    s3 = aws.client("s3")

    def tag(key: str) -> list[dict[str, str]]:
        return s3.get_object_tagging(Bucket=BUCKET, Key=key)["TagSet"]

    assert tag(layout.batch_key(JOB, 0)) == [{"Key": "retention", "Value": "working"}]
    assert tag(layout.output_prefix(JOB) + "report.html") == [{"Key": "retention", "Value": "output"}]
    assert tag(layout.output_prefix(JOB) + "results.csv") == [{"Key": "retention", "Value": "output"}]
    assert tag("schedules/list.json") == []


def test_retention_tags_follow_the_layout():
    assert layout.retention_tag(layout.input_key(JOB)) == "retention=working"
    assert layout.retention_tag(layout.twins_key(JOB)) == "retention=working"
    assert layout.retention_tag(layout.batch_result_key(JOB, 1)) == "retention=working"
    assert layout.retention_tag(layout.output_prefix(JOB) + "summary.json") == "retention=output"
    assert layout.retention_tag("inbox/pubrio/list.csv") is None
    assert layout.retention_tag("uploads/abc-list.csv") is None
