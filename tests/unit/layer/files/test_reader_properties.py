"""Properties of reading and classifying any CSV a program or a person writes (tests/corpus/generated.py): random
delimiters, line ends, encodings, quoting, sizes, and a mix of valid, invalid, duplicate and placeholder values.

- Reading and classifying raise nothing but BadInput, and that only for a file with no rows.
- Every data row comes out once, in order, its cells equal to what was written.
- A row classified `send` is valid by the rules, checked again on its cell as written; a duplicate's twin is an
  earlier row that is sent, asking the same; no two rows sent ask the same.
"""

from __future__ import annotations

from collections.abc import Iterator

from hypothesis import HealthCheck, example, given, note, settings
from hypothesis import strategies as st

from enrichment.errors import BadInput
from enrichment.files.reader import InMemoryFile, open_table
from enrichment.models import RowStatus, Vendor
from enrichment.pipeline import row_rules
from enrichment.pipeline.classify import SEND, RowOutcome, classify_input
from enrichment.settings import InputLimits
from tests.corpus.generated import GeneratedCsv, csv_files

# Many examples, the same every run (no example database, no randomness between runs).
PROPERTY = settings(
    max_examples=400, derandomize=True, database=None, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def read_and_classify(file: GeneratedCsv) -> tuple[list[str], list[list[str]], list[RowOutcome]]:
    read: list[list[str]] = []

    def recorded(rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
        for number, cells in rows:
            assert number == len(read) + 1, "rows are numbered from 1, in order"
            read.append(cells)
            yield number, cells

    with open_table(InMemoryFile(file.data), InputLimits()) as table:
        outcomes = list(classify_input(table.header, recorded(table.rows), Vendor(file.vendor), {}).rows)
        return table.header, read, outcomes


def key_of(file: GeneratedCsv, cells: list[str]) -> str:
    """What a row asks the vendor, as dedupe compares it, from its cell as written."""
    value = cells[file.key_column].strip()
    return row_rules.email_key(value) if file.vendor == "check365" else value


def sendable_value(file: GeneratedCsv, cells: list[str]) -> str:
    """The rules, again, on a row as written: not blank, no wider than the header, not the header again, its
    matched-on cell no placeholder and no formula, and a valid address or an id of digits. The value as sent."""
    assert any(c.strip() for c in cells) and len(cells) <= len(file.header)
    assert not row_rules.repeats_header(file.header, cells)
    value = cells[file.key_column].strip()
    assert not row_rules.is_placeholder(value)
    assert row_rules.formula_reason("value", value) is None
    if file.vendor == "check365":
        return row_rules.email_address(value)  # raises when the address is not valid
    assert value.isascii() and value.isdigit()
    return value


# Found by this test: a semicolon file with a one-cell row was read with commas, as one column.
SHORT_ROW = GeneratedCsv(
    "check365", b"Email;Name\r\nada@example.com;Ada\r\nno-at-sign\r\n", ["Email", "Name"],
    [["ada@example.com", "Ada"], ["no-at-sign"]], 0, "utf-8, ';', CRLF, a short row",
)  # fmt: skip


@PROPERTY
@given(file=st.sampled_from(["check365", "insideview"]).flatmap(csv_files))
@example(file=SHORT_ROW)
def test_any_csv_is_read_whole_and_only_valid_rows_are_sent(file: GeneratedCsv):
    note(file.dialect)
    try:
        header, read, outcomes = read_and_classify(file)
    except BadInput as refused:
        assert not file.rows and "the file has a header but no rows" in str(refused), str(refused)
        return
    assert file.rows, "a file without rows is refused"
    assert header == file.header
    assert read == file.rows, "every row once, in order, its cells as written"
    assert [o.row for o in outcomes] == list(range(1, len(read) + 1))

    sent: dict[str, int] = {}  # what a row sent asks -> that row
    for cells, outcome in zip(read, outcomes, strict=True):
        assert outcome.status in (SEND, RowStatus.INVALID_INPUT, RowStatus.DUPLICATE)
        if outcome.status == SEND:
            field = "email" if file.vendor == "check365" else "contact_id"
            assert (outcome.fields or {}).get(field) == sendable_value(file, cells)
            key = key_of(file, cells)
            assert key not in sent, f"row {outcome.row} asks what row {sent.get(key)} asks"
            sent[key] = outcome.row
        elif outcome.status == RowStatus.DUPLICATE:
            sendable_value(file, cells)
            assert outcome.twin is not None and sent.get(key_of(file, cells)) == outcome.twin
        else:
            assert outcome.reason
