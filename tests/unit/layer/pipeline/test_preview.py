"""The preview: Prepare's own row classification, counted, with nothing sent."""

import pytest

from enrichment.files.reader import InMemoryFile, open_table
from enrichment.models import Vendor
from enrichment.pipeline.classify import SEND, classify_input
from enrichment.pipeline.preview import preview_input, reason_kind
from enrichment.settings import InputLimits, vendor_settings


def table(text: str):
    return open_table(InMemoryFile(text.encode()), InputLimits())


def preview(text: str, vendor=Vendor.CHECK365, options=None, chunk_size=2):
    source = InMemoryFile(text if isinstance(text, bytes) else text.encode())
    return preview_input(
        source, vendor, options or {}, vendor_settings(vendor, {"chunk_size": chunk_size}), InputLimits()
    )


CHECK365_FILE = (
    "Name,Email,Email\n"
    "Ada,ada@initech.com,\n"
    "Bob,bob@,\n"
    "Cy,not an address,\n"
    "Dee,ADA@initech.com,\n"
    ",,\n"
    "Eve,eve@hooli.xyz,\n"
    "Fay,fay@hooli.xyz,\n"
)


def test_counts_reasons_duplicates_and_chunks():
    seen = preview(CHECK365_FILE)
    assert (seen.rows, seen.to_send, seen.invalid_input, seen.duplicate) == (7, 3, 3, 1)
    assert seen.chunks == 2 and seen.chunk_size == 2
    assert [(r.reason, r.rows, r.first_rows) for r in seen.invalid_reasons] == [
        ("email '…' is not a valid email address: there must be something after the @-sign", 1, [2]),
        ("email '…' is not a valid email address: an email address must have an @-sign", 1, [3]),
        ("blank row", 1, [5]),
    ]
    assert [(d.row, d.of) for d in seen.duplicates] == [(4, 1)]
    assert seen.error is None
    assert [(c.name, c.field) for c in seen.columns] == [("Name", "full_name"), ("Email", "email"), ("Email (2)", None)]
    assert seen.ties[0].read == "Email" and seen.ties[0].not_read == ["Email (2)"]
    assert seen.vendor_fields == ["email"]


def test_reasons_with_different_values_count_as_one_rule():
    text = "Email\n" + "".join(f"x{i}\n" for i in range(12)) + "y@\n"
    seen = preview(text)
    assert [(r.rows, r.first_rows) for r in seen.invalid_reasons] == [(12, [1, 2, 3, 4, 5]), (1, [13])]
    assert (
        reason_kind("email 'a@b' is a placeholder; email \"it's\" too") == "email '…' is a placeholder; email '…' too"
    )


def test_the_columns_option_changes_what_is_sent():
    seen = preview(CHECK365_FILE, options={"columns": {"email": "Email (2)"}})
    assert seen.to_send == 0 and seen.invalid_input == 7
    assert seen.invalid_reasons[0].reason == "email is missing"


def test_the_preview_classifies_as_prepare_does():
    """One classification for both: the rows Prepare would send are the ones the preview counts."""
    read = table(CHECK365_FILE)
    classified = classify_input(read.header, read.rows, Vendor.CHECK365, {})
    outcomes = list(classified.rows)
    assert [o.row for o in outcomes if o.status == SEND] == [1, 6, 7]
    assert [o.plan_entry(2) for o in outcomes if o.row in (1, 4, 7)] == [
        {"row": 1, "status": "send", "chunk": 0},
        {"row": 4, "status": "duplicate", "reason": "same request as row 1", "twin": 1, "chunk": 0},
        {"row": 7, "status": "send", "chunk": 1},
    ]
    assert outcomes[0].fields == {"email": "ada@initech.com", "full_name": "Ada"}


@pytest.mark.parametrize(
    ("options", "text", "error"),
    [
        ({"colour": "red"}, CHECK365_FILE, "invalid options for check365: colour: unknown option; check365 takes"),
        ({"columns": {"email": "Mail 3"}}, CHECK365_FILE, "the columns option maps email to 'Mail 3'"),
        ({}, "Name,Company\nAda,Initech\n", "no column check365 can match on"),
        ({}, "Email\n", "the file has a header but no rows"),
        ({}, "", "the file is empty"),
    ],
)
def test_what_would_fail_the_job_is_the_previews_error(options, text, error):
    seen = preview(text, options=options)
    assert seen.error is not None and seen.error.startswith(error)
    assert seen.to_send == 0 and seen.chunks == 0


def test_without_a_column_to_match_on_the_columns_are_still_shown():
    seen = preview("Name,Company\nAda,Initech\n", vendor=Vendor.PUBRIO)
    assert [(c.name, c.field) for c in seen.columns] == [("Name", "full_name"), ("Company", "company_name")]
    assert seen.vendor_fields == ["people_search_id"]


def test_a_file_that_breaks_midway_reports_the_rows_before():
    seen = preview('Email\na@b.co\nc@d.co\n"broken\n')
    assert seen.rows == 2 and "line" in seen.error


@pytest.mark.parametrize(
    ("content", "encoding", "delimiter", "line_ends"),
    [
        (b"\xef\xbb\xbfEmail;Name\r\na@b.co;Ada\r\n", "UTF-8 with BOM", ";", "CRLF"),
        (b"Email\na@b.co\n", "UTF-8", ",", "LF"),
        (b"Email\ra@b.co\r", "UTF-8", ",", "CR"),
        (b"Email\r\na@b.co\n", "UTF-8", ",", "mixed"),
        ("Email\tName\nb\u00e9@b.co\tZo\u00e9\n".encode("cp1252"), "windows-1252", "\t", "LF"),
    ],
)
def test_the_file_format_is_what_the_reader_reads(content, encoding, delimiter, line_ends):
    found = preview(content).file
    assert found == {"format": "csv", "encoding": encoding, "delimiter": delimiter, "line_ends": line_ends}


def test_inline_records_show_no_file_format():
    source = InMemoryFile(b"Email\na@b.co\n")
    seen = preview_input(source, Vendor.CHECK365, {}, vendor_settings(Vendor.CHECK365), InputLimits(), show_file=False)
    assert seen.file is None and seen.to_send == 1
