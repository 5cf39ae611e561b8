"""The corpus (tests/corpus/files.py) through the reader and the row classification alone, as Prepare and the
preview run them: each file read with its cells as written and each row classified as its case expects, or
refused with the case's words. The same cases run end to end in tests/e2e/test_corpus.py; here a mismatch
shows in a second, without the local runtime."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from enrichment.errors import BadInput
from enrichment.files.reader import InMemoryFile, open_table
from enrichment.models import RowStatus, Vendor
from enrichment.pipeline.classify import SEND, classify_input
from enrichment.settings import InputLimits
from enrichment.vendors import adapter_class
from tests.corpus.files import ANSWERED, DUPLICATE, MATCHED, Case, case_names, corpus

# A case's expected status, as the classification says it (the vendor's answer comes later).
CLASSIFIED = {MATCHED: SEND, ANSWERED: SEND, DUPLICATE: RowStatus.DUPLICATE}


def limits_of(case: Case) -> InputLimits:
    env = case.environment
    return InputLimits(
        **{k: int(env[n]) for k, n in (("max_bytes", "MAX_INPUT_BYTES"), ("max_rows", "MAX_INPUT_ROWS")) if n in env}
    )


@pytest.mark.parametrize("name", case_names())
def test_each_file_is_read_and_classified_as_its_case_says(name):
    case = corpus()[name]
    read: list[list[str]] = []

    def recorded(rows: Iterator[tuple[int, list[str]]]) -> Iterator[tuple[int, list[str]]]:
        for number, cells in rows:
            read.append(cells)
            yield number, cells

    try:
        with open_table(InMemoryFile(case.data), limits_of(case)) as table:
            classified = classify_input(table.header, recorded(table.rows), Vendor(case.vendor), {})
            outcomes = list(classified.rows)
            header, details = table.header, table.details
    except BadInput as refused:
        assert case.status == "FAILED", f"refused: {refused}"
        for words in case.error:
            assert words in str(refused)
        return
    assert case.status != "FAILED", f"read, though it should fail with {case.error}"

    assert header == case.header
    assert details.items() >= case.input_format.items(), details
    assert read == [row.cells for row in case.rows], "every row once, in order, its cells as written"
    assert [o.row for o in outcomes] == list(range(1, len(case.rows) + 1))
    sent_fields = adapter_class(Vendor(case.vendor)).input_fields
    for number, (row, outcome) in enumerate(zip(case.rows, outcomes, strict=True), start=1):
        where = f"row {number} {row.cells[:3]}: {outcome.status} ({outcome.reason})"
        assert outcome.status == CLASSIFIED.get(row.status, row.status), where
        if row.reason:
            assert row.reason in (outcome.reason or ""), where
        if outcome.status == SEND:
            assert {k: v for k, v in (outcome.fields or {}).items() if k in sent_fields} == row.sent, where
