"""Data retention, end to end: once a job settles, its working files are gone, its outputs remain (tagged for
the OutputRetentionDays rule) and the file dropped in inbox/ is gone too."""

from __future__ import annotations

from enrichment.files import layout
from localrt.samples import check365_csv
from tests.conftest import read_results, unique_name


def test_a_settled_job_keeps_its_outputs_only(runtime, check365, tmp_path):
    path = tmp_path / unique_name("retention")
    path.write_text(check365_csv(40, seed=7))
    job_id = runtime.drop(path, "check365")
    view = runtime.wait(job_id, timeout=180)
    assert view.status == "SUCCEEDED", view.item.get("error")

    s3 = runtime.client("s3")
    keys = [
        o["Key"]
        for p in s3.get_paginator("list_objects_v2").paginate(Bucket=runtime.bucket, Prefix=f"jobs/{job_id}/")
        for o in p.get("Contents", [])
    ]
    assert sorted(keys) == sorted(layout.output_prefix(job_id) + name for name in layout.OUTPUT_FILES)
    for key in keys:
        tags = s3.get_object_tagging(Bucket=runtime.bucket, Key=key)["TagSet"]
        assert tags == [{"Key": "retention", "Value": "output"}]
    dropped = s3.list_objects_v2(Bucket=runtime.bucket, Prefix=f"inbox/check365/{path.name}")
    assert dropped.get("KeyCount", 0) == 0
    assert len(read_results(runtime.download(job_id, tmp_path / job_id))) == 40
