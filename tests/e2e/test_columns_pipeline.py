"""Files as users have them, end to end: a HubSpot export's own headers, two columns named Email, the columns option."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from enrichment.files import layout
from enrichment.files.reader import LocalFile
from enrichment.models import Vendor
from enrichment.pipeline.preview import preview_input
from enrichment.settings import InputLimits, vendor_settings
from localrt.samples import check365_csv, prospeo_csv
from tests.conftest import read_results, run_job

ROOT = Path(__file__).resolve().parents[2]

PATH = "/bulk-enrich-person"

# A HubSpot contacts export, the columns as HubSpot names them, with the Email column twice (a merged export).
HUBSPOT_EXPORT = (
    "Record ID,First Name,Last Name,Email,Email,Company Name,Website URL,Phone Number\r\n"
    "101,Ada,Lovelace,,,,analytical.io,\r\n"
    "102,Grace,Hopper,,,,https://www.cobol.dev,\r\n"
    "103,Alan,Turing,,,,enigma.co.uk,\r\n"
    "104,Edsger,Dijkstra,,,,shortest.path,\r\n"
    "105,Barbara,Liskov,barbara@clu.org,b.liskov@mit.example,CLU Labs,clu.org,+1 555 0105\r\n"
    "106,Ken,Thompson,ken@unix.dev,kt@bell.example,Bell,,\r\n"
    "107,,,,,,lonely.site,\r\n"
)
NAME_AND_WEBSITE_ROWS = (1, 2, 3, 4)


def kept_version(s3, bucket: str, key: str) -> dict:
    """A working file Finalize deleted once the job settled, as the bucket's versioning keeps it for a while."""
    versions = [v for v in s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []) if v["Key"] == key]
    newest = max(versions, key=lambda v: v["LastModified"])
    return json.loads(s3.get_object(Bucket=bucket, Key=key, VersionId=newest["VersionId"])["Body"].read())


def sent_records(runtime, job_id: str, chunks: int) -> dict[str, dict[str, str]]:
    """What the job sent the vendor, by row: the chunks Prepare wrote, in their batches."""
    s3 = runtime.client("s3")
    manifest = kept_version(s3, runtime.bucket, layout.manifest_key(job_id))
    records = {}
    for batch in manifest:
        body = kept_version(s3, runtime.bucket, batch["batch_key"])
        records |= {r["ref"]: r["fields"] for chunk in body["chunks"] for r in chunk["records"]}
    assert len([c for b in manifest for c in b["chunk_indexes"]]) == chunks
    return records


def test_a_hubspot_export_sends_name_and_website_rows_and_keeps_both_email_columns(runtime, prospeo, tmp_path):
    before = prospeo.served(PATH)
    view, out = run_job(runtime, tmp_path, "prospeo", HUBSPOT_EXPORT)
    item = view.item
    assert item["status"] == "SUCCEEDED", item.get("error")
    results = read_results(out)
    assert len(results) == 7

    # "Website URL" is the company's website: a name with it is enough for Prospeo, and those rows were sent.
    sent = sent_records(runtime, item["job_id"], item["chunks_total"])
    for row in NAME_AND_WEBSITE_ROWS:
        assert results[row - 1]["result_status"] in ("matched", "not_matched"), results[row - 1]["result_reason"]
        assert {"first_name", "last_name", "company_website"} <= set(sent[str(row)])
    assert sent["2"]["company_website"] == "https://www.cobol.dev"
    assert results[6]["result_status"] == "invalid_input" and "datapoints" in results[6]["result_reason"]
    assert prospeo.served(PATH) - before == item["chunks_total"] == 1

    # Two columns named Email: both kept, apart, in both files; the first is the one read (the leftmost).
    with open(out / "results.csv", newline="", encoding="utf-8") as handle:
        header = handle.readline().rstrip("\r\n").split(",")
    assert header[:8] == [
        "Record ID", "First Name", "Last Name", "Email", "Email (2)", "Company Name", "Website URL", "Phone Number"
    ]  # fmt: skip
    assert (results[4]["Email"], results[4]["Email (2)"]) == ("barbara@clu.org", "b.liskov@mit.example")
    assert sent["5"]["email"] == "barbara@clu.org" and sent["6"]["email"] == "ken@unix.dev"
    lines = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    assert lines[5]["input"]["Email"] == "ken@unix.dev" and lines[5]["input"]["Email (2)"] == "kt@bell.example"
    assert list(lines[5]["input"]) == header[:8]

    # summary.json says which column fed each field, and which Email column was left out and why.
    summary = json.loads((out / "summary.json").read_text())
    by_name = {c["name"]: c for c in summary["columns"]}
    assert by_name["Website URL"]["field"] == "company_website" and by_name["Website URL"]["matched_by"] == "alias"
    assert by_name["Record ID"]["field"] is None
    assert by_name["Email (2)"]["field"] is None and "'Email' (column 4)" in by_name["Email (2)"]["note"]
    assert summary["column_ties"] == [
        {
            "field": "email",
            "read": "Email",
            "not_read": ["Email (2)"],
            "rule": "the leftmost column with the field's own name",
        }
    ]


def test_the_columns_option_reads_the_second_email_column(runtime, prospeo, tmp_path):
    options = {"columns": {"email": "Email (2)", "company_name": "Company Name"}}  # from x-amz-meta-option-columns
    view, out = run_job(runtime, tmp_path, "prospeo", HUBSPOT_EXPORT, options)
    item = view.item
    assert item["status"] == "SUCCEEDED", item.get("error")
    assert item["options"] == options
    sent = sent_records(runtime, item["job_id"], item["chunks_total"])
    assert sent["5"]["email"] == "b.liskov@mit.example" and sent["6"]["email"] == "kt@bell.example"
    results = read_results(out)
    matched = [r for r in results if r["result_status"] == "matched" and r["Email (2)"]]
    assert all(r["result_email"] == r["Email (2)"] for r in matched)  # the vendor answered for the second column
    summary = json.loads((out / "summary.json").read_text())
    assert summary["column_ties"][0]["read"] == "Email (2)"
    assert summary["column_ties"][0]["rule"] == "the columns option names it"
    assert summary["options"] == options


def test_a_columns_option_naming_no_column_fails_the_job_listing_the_files_columns(runtime, prospeo, tmp_path):
    before = prospeo.served(PATH)
    view, _ = run_job(runtime, tmp_path, "prospeo", HUBSPOT_EXPORT, {"columns": {"email": "Work Email 2"}})
    assert view.status == "FAILED"
    assert view.item["error"] == (
        "the columns option maps email to 'Work Email 2', which is not a column of this file; the file's columns "
        "are: 'Record ID', 'First Name', 'Last Name', 'Email', 'Email (2)', 'Company Name', 'Website URL', "
        "'Phone Number'"
    )
    assert prospeo.served(PATH) == before


def localrt(*args: str) -> subprocess.CompletedProcess:
    """`python -m localrt ...`, as `make run` and `make preview` call it."""
    return subprocess.run(
        [sys.executable, "-m", "localrt", *args], cwd=ROOT, capture_output=True, text=True, timeout=600
    )


def test_make_run_says_why_a_failed_job_failed_on_the_line_before_the_folder(tmp_path):
    source = tmp_path / "hubspot.csv"
    source.write_text(HUBSPOT_EXPORT, newline="")
    result = localrt(
        "run", "--input", str(source), "--vendor", "prospeo", "--columns", "email=Work Email 2", "--out", str(tmp_path)
    )
    assert result.returncode == 1
    reason = result.stderr.strip().splitlines()[-1]
    assert (
        reason.startswith("prospeo: job job-") and " FAILED: the columns option maps email to 'Work Email 2'" in reason
    )
    folder = Path(result.stdout.strip().splitlines()[-1])
    assert json.loads((folder / "summary.json").read_text())["status"] == "FAILED"


def test_make_preview_reads_a_ten_thousand_row_file_as_prepare_would(tmp_path):
    source = tmp_path / "contacts.csv"
    source.write_text(prospeo_csv(10_000, seed=7), newline="")
    result = localrt(
        "preview",
        "--input",
        str(source),
        "--vendor",
        "prospeo",
        "--option",
        "enrich_mobile=true",
        "--out",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    expected = preview_input(
        LocalFile(source), Vendor.PROSPEO, {"enrich_mobile": True}, vendor_settings(Vendor.PROSPEO), InputLimits()
    )
    report = [" ".join(line.split()) for line in result.stdout.splitlines()]
    assert (
        f"rows: 10000: {expected.to_send} to send, {expected.invalid_input} invalid_input, "
        f"{expected.duplicate} duplicate" in report
    )
    assert f"chunks: {expected.chunks} of up to 50 rows" in report
    assert expected.to_send > 0 and expected.invalid_input > 0 and expected.duplicate > 0
    # No state: nothing cached, no history, the default match rate.
    assert (
        f"credits: expected {expected.expected_credits:g} (default, 60.0% matched); "
        f"at worst {expected.worst_case_credits:g}" in report
    )
    assert report[-1] == "a preview: nothing was sent, no credit was spent"


def test_make_preview_sees_the_local_state_a_run_left(tmp_path):
    source, state = tmp_path / "contacts.csv", tmp_path / "state"
    source.write_text(check365_csv(200, seed=5), newline="")
    ran = localrt(
        "run", "--input", str(source), "--vendor", "check365", "--out", str(tmp_path), "--state-dir", str(state)
    )
    assert ran.returncode == 0, ran.stderr
    summary = json.loads((Path(ran.stdout.strip().splitlines()[-1]) / "summary.json").read_text())
    answered = summary["counts"]["matched"] + summary["counts"]["not_matched"]

    result = localrt(
        "preview", "--input", str(source), "--vendor", "check365", "--out", str(tmp_path), "--state-dir", str(state)
    )
    assert result.returncode == 0, result.stderr
    report = [" ".join(line.split()) for line in result.stdout.splitlines()]
    # The same file again: every row the job sent is answered from the cache, nothing left to pay.
    rows = next(line for line in report if line.startswith("rows: 200:"))
    assert f"0 to send, {answered} answered from the cache" in rows
    credits = next(line for line in report if line.startswith("credits:"))
    assert credits.startswith(f"credits: expected 0 (observed over {answered} rows of past jobs, ")
    assert credits.endswith("at worst 0")
