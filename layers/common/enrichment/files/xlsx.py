"""The first sheet of an .xlsx workbook, streamed (openpyxl's read-only mode), as the text a person sees."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any

import openpyxl

from enrichment.errors import BadInput
from enrichment.files.formats import SAVE_AS


def cell_text(value: Any) -> str:
    """A cell's value as it reads in Excel: whole numbers without ".0", dates in ISO form, TRUE and FALSE."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


@contextmanager
def first_sheet(archive: IO[bytes]) -> Iterator[tuple[str, Iterator[tuple[int, list[str]]]]]:
    """The first worksheet's name and its rows as (sheet row number, cells), the header first."""
    try:
        # data_only: a formula cell reads as the value Excel last computed for it, as a person sees it.
        workbook = openpyxl.load_workbook(archive, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl reports a damaged workbook with many kinds of error
        raise BadInput(f"this .xlsx workbook cannot be read ({type(exc).__name__}: {exc}): {SAVE_AS}") from None
    try:
        if not workbook.worksheets:
            raise BadInput("the workbook has no worksheet (only charts): put the table on the first sheet")
        sheet = workbook.worksheets[0]
        yield sheet.title, _records(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _records(values: Iterator[tuple[Any, ...]]) -> Iterator[tuple[int, list[str]]]:
    started = False
    blank_run = 0
    for number, row in enumerate(values, start=1):
        cells = [cell_text(v) for v in row]
        # Rows come as wide as anything on the sheet (a formatted cell far right): a row ends at its last value.
        while cells and not cells[-1].strip():
            cells.pop()
        if not cells:
            # A blank row is a row only between rows: not above the header, nor in the sheet's formatted tail.
            blank_run += 1
            continue
        if started:
            for blank in range(number - blank_run, number):
                yield blank, []
        started, blank_run = True, 0
        yield number, cells
