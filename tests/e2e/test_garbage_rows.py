"""Garbage-but-plausible rows end to end: each is `invalid_input` with its reason, and none reaches a vendor.

Formula-like addresses, placeholders, over-long addresses, quoted or commented local parts, ids a
spreadsheet rewrote, a header row repeated mid-file: the vendor is sent (and charges for) the valid rows
alone, and every row in still comes out once, in order.
"""

from __future__ import annotations

import csv
import io
import uuid

from enrichment.files.csvio import safe_cell
from localrt.simulators.insideview import InsideViewSimulator
from localrt.simulators.prospeo import ProspeoSimulator
from tests.conftest import read_results, run_job

HEADER_AGAIN = "a header row repeated in the data"

# (value, what its reason says)
BAD_EMAILS = [
    ('=HYPERLINK("http://x")@domain.com', "formula"),
    ('"=1+1"@example.com', "formula"),
    ("=1+1", "formula"),
    ("-john@globex.io", "formula"),
    ("+1 555 0100", "formula"),
    ("user(comment)@example.com", "invalid characters before the @-sign"),
    ("<john@globex.io>", "angle brackets"),
    ("John Doe <john@globex.io>", "angle brackets"),
    ('"john"@globex.io', "quoting"),
    ("a" * 245 + "@globex.io", "at most 254"),
    ("x" * 65 + "@globex.io", "too long before the @-sign"),
    ("john@globex.io.", "cannot end with a period"),
    ("john@localhost", "should have a period"),
    ("n/a", "'n/a' is a placeholder, read as empty"),
    ("N/A", "'N/A' is a placeholder"),
    ("-", "'-' is a placeholder"),
    ("#N/A", "'#N/A' is a placeholder"),
    ("none", "'none' is a placeholder"),
    ("NULL", "'NULL' is a placeholder"),
    ("TBD", "'TBD' is a placeholder"),
    ("unknown", "'unknown' is a placeholder"),
    ("   ", "email is missing"),
]
BAD_CONTACT_IDS = [
    ("-1", "digits only"),
    ("abc123", "digits only"),
    ("12 345", "digits only"),
    ("1.35E+07", "scientific notation; format the column as text and export again"),
    ("13496440.0", "decimal part"),
    ("=1+1", "formula"),
    ("TBD", "'TBD' is a placeholder"),
    ("unknown", "'unknown' is a placeholder"),
    ("n/a", "'n/a' is a placeholder"),
    ("#N/A", "'#N/A' is a placeholder"),
]


def csv_text(header: list[str], rows: list[list[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def assert_refused(results: list[dict[str, str]], refused: dict[int, str]) -> None:
    for number, says in refused.items():
        row = results[number - 1]
        assert row["result_status"] == "invalid_input", (number, row["result_reason"])
        assert says in row["result_reason"], (number, row["result_reason"])


def test_check365_is_sent_and_charged_for_the_valid_addresses_alone(runtime, check365, tmp_path):
    salt = uuid.uuid4().hex[:8]
    header = ["Email", "Name", "Company"]
    rows: list[list[str]] = []
    refused: dict[int, str] = {}  # row number -> what its reason says
    valid: dict[int, str] = {}  # row number -> the address as it is sent (normalized, lowercased)
    for n in range(1, 301):
        if n == 150:
            rows.append(list(header))
            refused[n] = HEADER_AGAIN
        elif n % 5 == 0:
            value, says = BAD_EMAILS[(n // 5) % len(BAD_EMAILS)]
            rows.append([value, "Ada Lovelace", "Globex"])
            refused[n] = says
        elif n % 37 == 0:  # an IDN domain, given in its ASCII form: sent as the library normalizes it
            rows.append([f"jürgen.{n}.{salt}@xn--mnchen-3ya.de", "Jürgen", "Münchner"])
            valid[n] = f"jürgen.{n}.{salt}@münchen.de"
        else:
            rows.append([f"ada.{n}.{salt}@Globex.IO", "Ada Lovelace", "Globex"])
            valid[n] = f"ada.{n}.{salt}@globex.io"
    rows.append([f"  ADA.1.{salt.upper()}@GLOBEX.IO ", "Ada", "Globex"])  # row 301: row 1 again
    text = csv_text(header, rows)

    jobs_before = set(check365.jobs)
    view, out = run_job(runtime, tmp_path, "check365", text)
    assert view.status == "SUCCEEDED", view.item.get("error")
    results = read_results(out)
    assert [r["Email"] for r in results] == [safe_cell(row[0]) for row in rows], "one row out per row in, in order"
    assert_refused(results, refused)
    assert all(results[n - 1]["result_status"] == "matched" for n in valid)
    assert results[300]["result_status"] == "duplicate" and results[300]["result_duplicate_of"] == "1"

    sent = [e for job_id in set(check365.jobs) - jobs_before for e in check365.jobs[job_id].emails]
    assert sorted(sent) == sorted(valid.values()), "the valid addresses, each once, and nothing else"
    assert len(valid) + len(refused) + 1 == len(rows)
    assert view.item["credits"] == check365.ledger()["credits_charged"] == len(valid)


def test_insideview_is_sent_digits_only(runtime, insideview, tmp_path):
    header = ["InsideView Contact ID", "Account"]
    rows: list[list[str]] = []
    refused: dict[int, str] = {}
    valid: dict[int, str] = {}
    for n in range(1, 121):
        if n == 60:
            rows.append(list(header))
            refused[n] = HEADER_AGAIN
        elif n % 4 == 0:
            value, says = BAD_CONTACT_IDS[(n // 4) % len(BAD_CONTACT_IDS)]
            rows.append([value, "Globex"])
            refused[n] = says
        else:
            contact_id = f"{n:08d}" if n % 7 == 0 else str(13_496_440 + n * 7919)  # leading zeros are kept
            rows.append([contact_id, "Globex"])
            valid[n] = contact_id
    text = csv_text(header, rows)

    jobs_before = set(insideview.jobs)
    view, out = run_job(runtime, tmp_path, "insideview", text)
    assert view.status == "SUCCEEDED", view.item.get("error")
    results = read_results(out)
    assert len(results) == len(rows)
    assert_refused(results, refused)
    assert all(results[n - 1]["result_status"] in ("matched", "not_matched") for n in valid)

    sent = [i for job_id in set(insideview.jobs) - jobs_before for i in insideview.jobs[job_id].ids]
    assert sorted(sent) == sorted(valid.values())
    charged = sum(1 for i in valid.values() if InsideViewSimulator.contact(i) is not None)
    assert view.item["credits"] == insideview.ledger()["credits_charged"] == charged


def test_prospeo_is_never_sent_placeholders_or_a_repeated_header(runtime, prospeo, tmp_path):
    salt = uuid.uuid4().hex[:8]
    header = ["Full Name", "Email Address", "LinkedIn", "Company"]
    rows: list[list[str]] = []
    refused: dict[int, str] = {}
    sent: list[dict[str, str]] = []  # what each valid row sends, placeholders read as empty
    for n in range(1, 121):
        linkedin = f"https://www.linkedin.com/in/ada-{n}-{salt}"
        if n == 60:
            rows.append(list(header))
            refused[n] = HEADER_AGAIN
        elif n % 4 == 0:
            placeholder = ["n/a", "-", "#N/A", "none", "NULL", "TBD"][(n // 4) % 6]
            rows.append(["", placeholder, "", ""])
            refused[n] = f"'{placeholder}' is a placeholder, read as empty"
        elif n % 9 == 0:
            rows.append(["Ada Lovelace", "", "", "n/a"])  # a full name without a company
            refused[n] = "too few datapoints"
        elif n % 13 == 0:
            rows.append(["", '=HYPERLINK("http://x")@globex.io', linkedin, ""])
            refused[n] = "formula"
        elif n % 2 == 0:
            rows.append(["Ada Lovelace", "", linkedin, "-"])  # the placeholder company is not sent
            sent.append({"full_name": "Ada Lovelace", "linkedin_url": linkedin})
        else:
            rows.append(["", f"ada.{n}.{salt}@globex.io", "", "unknown"])
            sent.append({"email": f"ada.{n}.{salt}@globex.io"})
    text = csv_text(header, rows)

    view, out = run_job(runtime, tmp_path, "prospeo", text)
    assert view.status == "SUCCEEDED", view.item.get("error")
    results = read_results(out)
    assert len(results) == len(rows)
    assert_refused(results, refused)
    answered = [r for r in results if r["result_status"] in ("matched", "not_matched")]
    assert len(answered) == len(sent) == len(rows) - len(refused)
    charged = sum(1 for record in sent if ProspeoSimulator.person(record, False) is not None)
    assert view.item["credits"] == prospeo.ledger()["credits_charged"] == charged
