"""report.html: a job's outcome for a person, self-contained, every value from the job escaped."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from enrichment.files.output import csv_columns, result_cells
from enrichment.files.report import MAX_REASON_KINDS, OTHER_REASONS, RowTally, match_rate, render_report
from enrichment.models import RecordResult, RowStatus, Vendor
from enrichment.vendors import adapter_class, vocabulary

HOSTILE = '<script>alert("x")</script>&<img src=x onerror=alert(1)>'
COLUMNS = csv_columns(adapter_class(Vendor.CHECK365).result_columns)


def summary(**changes):
    base = {
        "job_id": "job-1",
        "vendor": "check365",
        "status": "SUCCEEDED",
        "error": None,
        "counts": {s.value: 0 for s in RowStatus},
        "credits": 0.0,
        "credits_unit": "Check365 credits",
        "chunks": {"total": 1, "failed": 0},
        "options": {},
        "input_name": "contacts.csv",
        "input_format": {"format": "csv", "encoding": "utf-8", "delimiter": ","},
        "timings": {"created_at": "2026-01-01T00:00:00.000Z", "finished_at": "2026-01-01T00:01:00.000Z"},
    }
    return base | changes


def verdict(word: str) -> RecordResult:
    email = vocabulary.email(Vendor.CHECK365, "ada@example.com", type="business", word=word)
    return RecordResult(status=RowStatus.MATCHED, emails=[email])


def tally_of(rows) -> RowTally:
    tally = RowTally(COLUMNS)
    for number, (status, reason, result) in enumerate(rows, 1):
        tally.add(number, result_cells(status, reason, "check365", result, None))
    return tally


def counts_of(tally: RowTally) -> dict[str, int]:
    return {s.value: tally.counts.get(s.value, 0) for s in RowStatus}


def bars(page: str, chart: str) -> dict[str, int]:
    found = re.findall(rf'class="bar" data-chart="{chart}" data-name="([^"]+)" data-count="(\d+)"', page)
    return {name: int(count) for name, count in found}


class Tags(HTMLParser):
    """Every element and attribute of the page, as a browser would parse it."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str | None]] = []
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend(attrs)


def assert_self_contained(page: str) -> None:
    """No script, nothing loaded from anywhere: no element that fetches, no attribute naming a resource."""
    found = Tags(page)
    assert not set(found.tags) & {"script", "img", "link", "iframe", "object", "embed", "image", "use"}
    names = {name for name, _ in found.attributes}
    assert not names & {"src", "href", "xlink:href", "srcset", "action"}
    assert not any(name.startswith("on") for name in names)
    style = page[page.index("<style>") : page.index("</style>")]
    assert "@import" not in style and "url(" not in style
    assert "default-src 'none'" in page  # and the browser is told to load nothing, whatever slips in


def test_a_job_with_every_outcome_counts_charts_and_explains_it():
    rows = [
        (RowStatus.MATCHED, None, verdict("active")),
        (RowStatus.MATCHED, None, verdict("spam trap")),
        (RowStatus.MATCHED, None, verdict("inactive")),
        (RowStatus.INVALID_INPUT, "email 'x@' is not a valid email address", None),
        (RowStatus.INVALID_INPUT, "email 'y@' is not a valid email address", None),
        (RowStatus.ERROR, "check365: HTTP 500", None),
        (RowStatus.INVALID_INPUT, "email 'z@' is not a valid email address", None),
    ]
    tally = tally_of(rows)
    page = render_report(
        summary(status="PARTIAL", counts=counts_of(tally), credits=3.0, options={"allow_resend": True}), tally
    )
    assert_self_contained(page)
    assert bars(page, "outcomes") == {
        "matched": 3,
        "not_matched": 0,
        "invalid_input": 3,
        "duplicate": 0,
        "error": 1,
        "skipped": 0,
    }
    assert bars(page, "emails") == {"valid": 1, "invalid": 1, "risky": 1, "unknown": 0}
    assert "<svg" in page and "Rows by outcome" in page and "Emails by status" in page
    assert "PARTIAL" in page and "1 row got no answer from the vendor" in page
    # one line per rule, the values it quotes left out, with its count and first rows
    assert re.search(r"email &#x27;…&#x27; is not a valid email address</td><td>3</td><td>4, 5, 7</td>", page)
    assert "check365: HTTP 500</td><td>1</td><td>6</td>" in page
    assert "75.0%" in page  # 3 matched of the 4 rows meant for the vendor
    assert "Check365 credits" in page and ">1</div>" in page  # 3 credits over 3 matched rows
    assert "contacts.csv" in page and "allow_resend=true" in page
    assert "csv, utf-8, delimiter &#x27;,&#x27;" in page and "results.jsonl (every vendor answer)" in page
    # how full each of the vendor's columns is: the email in 3 rows of 7
    assert re.search(r"<code>result_email</code></td><td>3</td><td>43%</td>", page)
    assert "result_phone" not in page  # not a Check365 column


def test_every_value_from_the_job_is_escaped():
    rows = [(RowStatus.ERROR, HOSTILE, None), (RowStatus.NOT_MATCHED, HOSTILE, None)]
    tally = tally_of(rows)
    page = render_report(
        summary(
            status="FAILED",
            error=HOSTILE,
            counts=counts_of(tally),
            input_name=HOSTILE,
            job_id=HOSTILE,
            options={HOSTILE: HOSTILE},
        ),
        tally,
    )
    assert_self_contained(page)
    assert "<img" not in page and "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&lt;img" in page


def test_a_job_that_failed_before_its_rows_were_read_says_why_without_rows():
    page = render_report(summary(status="FAILED", error="this is a PDF document, not a table", input_format=None), None)
    assert_self_contained(page)
    assert "The job failed: this is a PDF document, not a table." in page
    assert "No rows were read." in page and bars(page, "outcomes") == {}
    assert "Why rows were not matched" not in page and "Result columns" not in page
    assert "Read as</td><td>not read" in page and "no results files" in page


def test_an_empty_file_reports_no_rows_and_no_rate():
    tally = tally_of([])
    page = render_report(summary(), tally)
    assert "No rows were read." in page and "Every row has an answer." in page
    assert match_rate(counts_of(tally)) is None and "Match rate" in page


def test_a_cancelled_job_says_so():
    page = render_report(summary(status="CANCELLED", error="cancelled by the user"), None)
    assert "The job was stopped (cancelled by the user)" in page


def test_the_match_rate_leaves_out_invalid_rows_and_duplicates():
    counts = {"matched": 6, "not_matched": 2, "invalid_input": 50, "duplicate": 9, "error": 2}
    assert match_rate(counts) == 0.6


def test_reasons_kept_are_bounded_however_many_distinct_ones_come():
    tally = RowTally(COLUMNS)
    for number in range(1, MAX_REASON_KINDS + 51):
        tally.add(number, result_cells(RowStatus.ERROR, f"failure number {number}", "check365", None, None))
    assert len(tally.reasons) == MAX_REASON_KINDS + 1
    other = tally.reasons[(RowStatus.ERROR.value, OTHER_REASONS)]
    assert other.rows == 50 and other.first_rows[0] == MAX_REASON_KINDS + 1
    assert tally.rows == MAX_REASON_KINDS + 50
