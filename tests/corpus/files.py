"""The corpus: awkward input files, each with the outcome a job must give it.

Each case builds its file's bytes here, the same every time (binary and large files are built, not committed),
and says what must come out: for a job that runs, every data row once, in order, its cells as written, and its
status (and the words of its reason); for a job that fails, the words of the error (with the file's own line
number where there is one). `tests/e2e/test_corpus.py` runs every case through the real pipeline,
`tests/unit/layer/pipeline/test_corpus_rows.py` through the reader and the classification alone.

    .venv/bin/python -m tests.corpus.files out/corpus    # writes the files and manifest.json, for a look or `make run`
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import functools
import gzip
import io
import json
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import openpyxl

# A row's expected status. Check365 answers every address it is sent; Prospeo and InsideView match or not by
# the simulator's luck: ANSWERED is either.
MATCHED = "matched"
ANSWERED = "answered"
INVALID = "invalid_input"
DUPLICATE = "duplicate"

BLANK_ROW = "blank row"
HEADER_AGAIN = "a header row repeated in the data"
FORMULA = "looks like a spreadsheet formula"
NOT_AN_ADDRESS = "is not a valid email address"
# Lowered limits for the cases that are over them (the real ones, 1 GB and 1,000,000 rows, are too big to run).
LOWERED_LIMITS = {"MAX_INPUT_ROWS": "250", "MAX_INPUT_BYTES": "100000"}


@dataclass(frozen=True)
class Row:
    cells: list[str]  # as the file holds them: the reader must give them back unchanged
    status: str
    reason: str | None = None  # words its reason holds
    sent: dict[str, str] | None = None  # the fields the vendor receives for it, when it is sent


@dataclass(frozen=True)
class Case:
    name: str
    about: str  # what is awkward about the file
    vendor: str
    data: bytes
    suffix: str = ".csv"
    header: list[str] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    status: str = "SUCCEEDED"
    error: tuple[str, ...] = ()  # a FAILED job's error holds each of these
    names: list[str] | None = None  # the output columns' names, where they are not the header's own
    input_format: dict[str, str] = field(default_factory=dict)  # summary.json's input_format holds these
    environment: dict[str, str] = field(default_factory=dict)  # Prepare's and Finalize's settings for the job


BUILDERS: list[Callable[[], Case]] = []


def case(build: Callable[[], Case]) -> Callable[[], Case]:
    BUILDERS.append(build)
    return build


def case_names() -> list[str]:
    """The cases' names, without building their files (for test ids)."""
    return [build.__name__ for build in BUILDERS]


@functools.cache
def corpus() -> dict[str, Case]:
    """Every case by name, built once."""
    built = {}
    for build in BUILDERS:
        made = build()
        assert made.name == build.__name__, (made.name, build.__name__)
        built[made.name] = made
    return built


# ---- rows and files ----


def valid(email: str, *rest: str, sends: str | None = None) -> Row:
    """A row Check365 is sent: its address as the library normalizes it (`sends`), else as written, trimmed."""
    return Row([email, *rest], MATCHED, sent={"email": sends or email.strip()})


def invalid(reason: str, *cells: str) -> Row:
    return Row(list(cells), INVALID, reason)


def duplicate(of: int, *cells: str) -> Row:
    return Row(list(cells), DUPLICATE, f"same request as row {of}")


def answered(*cells: str) -> Callable[..., Row]:
    """A row Prospeo or InsideView is sent and answers (matched or not): answered(cells...)(fields as sent)."""
    return lambda **sent: Row(list(cells), ANSWERED, sent=sent)


def blank(*cells: str) -> Row:
    return Row(list(cells), INVALID, BLANK_ROW)


def people(count: int, *, start: int = 1, accents: bool = False) -> list[Row]:
    """Valid [Email, Name, Company] rows."""
    names = ["Zoë Ådahl", "José Müller", "François Lefèvre"] if accents else ["Ada Byron", "Bob Moss", "Cy Lane"]
    company = "Société Générale" if accents else "Acme"
    return [valid(f"person{n}@example.com", names[n % 3], company) for n in range(start, start + count)]


EMAIL_NAME_COMPANY = ["Email", "Name", "Company"]


def written(
    header: Sequence[str],
    rows: Sequence[Row],
    *,
    delimiter: str = ",",
    newline: str = "\r\n",
    quoting: int = csv.QUOTE_MINIMAL,
) -> str:
    """The CSV text a spreadsheet would write: csv.writer's quoting, the line end given."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline, quoting=quoting)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row.cells)
    return out.getvalue()


def xlsx(sheet_title: str, rows: Sequence[Sequence[object]], *, tail_formatted: bool = False) -> bytes:
    """An .xlsx workbook whose first sheet holds `rows` (None: an empty cell); `tail_formatted`: a formatted but
    empty cell below and right of the table, as a sheet someone formatted has."""
    workbook = openpyxl.Workbook()
    workbook.properties.created = workbook.properties.modified = dt.datetime(2024, 5, 1)
    sheet = workbook.active
    sheet.title = sheet_title
    for values in rows:
        sheet.append(list(values))
    if tail_formatted:
        sheet.cell(row=len(rows) + 4, column=12).number_format = "0.00"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_of(files: dict[str, str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, text in files.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 5, 1, 0, 0, 0)), text)
    return out.getvalue()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def csv_format(encoding: str, delimiter: str = ",", line_ends: str = "CRLF") -> dict[str, str]:
    return {"format": "csv", "encoding": encoding, "delimiter": delimiter, "line_ends": line_ends}


def failed(name: str, about: str, data: bytes, *error: str, suffix: str = ".csv", vendor: str = "check365") -> Case:
    return Case(name, about, vendor, data, suffix=suffix, status="FAILED", error=error)


# ---- encodings ----


@case
def utf8_lf() -> Case:
    rows = people(12, accents=True)
    return Case(
        "utf8_lf",
        "UTF-8 without a BOM, LF line ends (what Linux and Google Sheets write)",
        "check365",
        written(EMAIL_NAME_COMPANY, rows, newline="\n").encode(),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
        input_format=csv_format("UTF-8", line_ends="LF"),
    )


@case
def utf8_bom_crlf() -> Case:
    rows = people(12, accents=True)
    return Case(
        "utf8_bom_crlf",
        'UTF-8 with a BOM, CRLF (Excel\'s "CSV UTF-8")',
        "check365",
        written(EMAIL_NAME_COMPANY, rows).encode("utf-8-sig"),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
        input_format=csv_format("UTF-8 with BOM"),
    )


@case
def windows_1252_accents_past_the_first_megabyte() -> Case:
    # 130 rows of 8.5 KB ASCII notes pass the 1 MB sample the encoding is decided from; the accents come after.
    header = [*EMAIL_NAME_COMPANY, "Notes"]
    rows = [Row([*r.cells, "called, no answer. " * 450], r.status, sent=r.sent) for r in people(130)]
    rows += [Row([*r.cells, "rappel jeudi"], r.status, sent=r.sent) for r in people(10, start=131, accents=True)]
    data = written(header, rows).encode("cp1252")
    assert data.find(b"\xe9") > 1 << 20
    return Case(
        "windows_1252_accents_past_the_first_megabyte",
        "Windows-1252 (Excel's CSV) whose first accent is past the first 1 MB",
        "check365",
        data,
        header=header,
        rows=rows,
        input_format=csv_format("windows-1252"),
    )


@case
def windows_1252_euro_and_smart_quotes() -> Case:
    rows = [
        valid("ada@example.com", "“Ada” Byron", "Œuvre & Fils — €5m"),
        valid("bob@example.com", "Bob Šimek", "Müller‘s Café"),
        valid("cy@example.com", "Cy “the Guy”", "Façade…"),
    ]
    return Case(
        "windows_1252_euro_and_smart_quotes",
        "Windows-1252's own characters, those Latin-1 lacks: € “ ” ‘ — … Œ Š",
        "check365",
        written(EMAIL_NAME_COMPANY, rows).encode("cp1252"),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
        input_format=csv_format("windows-1252"),
    )


@case
def latin1() -> Case:
    rows = [
        valid("zoe@example.com", "Zoë Ådahl", "Øresund ApS"),
        valid("jose@example.com", "José Núñez", "Señor Diseño"),
        valid("francois@example.com", "François Lefèvre", "Société Générale"),
    ]
    return Case(
        "latin1",
        "Latin-1 (ISO-8859-1): read as Windows-1252, whose letters are the same",
        "check365",
        written(EMAIL_NAME_COMPANY, rows, delimiter=";").encode("latin-1"),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
        input_format=csv_format("windows-1252", ";"),
    )


def _unicode_text(name: str, about: str, bom: bytes, codec: str, delimiter: str, encoding: str) -> Case:
    rows = [
        *people(6, accents=True),
        valid("jürgen@münchen.de", "Jürgen", "Münchner Bank"),
        valid("李@例子.广告", "李娜", "公司"),
    ]
    text = written(EMAIL_NAME_COMPANY, rows, delimiter=delimiter)
    return Case(
        name,
        about,
        "check365",
        bom + text.encode(codec),
        suffix=".txt",
        header=EMAIL_NAME_COMPANY,
        rows=rows,
        input_format=csv_format(encoding, delimiter),
    )


@case
def utf16le_bom_tabs() -> Case:
    return _unicode_text(
        "utf16le_bom_tabs",
        'UTF-16LE with a BOM, tab-delimited (Excel\'s "Unicode Text")',
        codecs.BOM_UTF16_LE,
        "utf-16-le",
        "\t",
        "UTF-16LE",
    )


@case
def utf16be_bom() -> Case:
    return _unicode_text("utf16be_bom", "UTF-16BE with a BOM", codecs.BOM_UTF16_BE, "utf-16-be", ",", "UTF-16BE")


@case
def utf32le_bom() -> Case:
    return _unicode_text("utf32le_bom", "UTF-32LE with a BOM", codecs.BOM_UTF32_LE, "utf-32-le", ";", "UTF-32LE")


@case
def utf32be_bom() -> Case:
    return _unicode_text("utf32be_bom", "UTF-32BE with a BOM", codecs.BOM_UTF32_BE, "utf-32-be", "|", "UTF-32BE")


@case
def utf16_without_bom() -> Case:
    text = written(EMAIL_NAME_COMPANY, people(3))
    return failed(
        "utf16_without_bom",
        "UTF-16 without its BOM: every other byte is NUL",
        text.encode("utf-16-le"),
        "line 1 has NUL bytes",
        "not a table of text",
    )


@case
def neither_utf8_nor_windows_1252() -> Case:
    data = b"Email,Name\r\na@example.com,A\r\nb@example.com,B\r\nc@example.com,C\x81\r\nd@example.com,D\r\n"
    return failed(
        "neither_utf8_nor_windows_1252",
        "a byte Windows-1252 leaves undefined (0x81), on line 4",
        data,
        "line 4 has bytes that are neither UTF-8 nor Windows-1252 (0x81)",
        'save it as "CSV UTF-8"',
    )


@case
def gbk_chinese() -> Case:
    text = "Email,Name,Company\r\nli@example.com,李娜,北京科技有限公司\r\nwang@example.com,王伟,上海贸易公司\r\n"
    return failed(
        "gbk_chinese",
        "Chinese in GBK: neither UTF-8 nor Western text",
        text.encode("gbk"),
        "line 2 has bytes that are neither UTF-8 nor Windows-1252 (0xc0)",
    )


@case
def utf8_then_another_encoding_past_the_first_megabyte() -> Case:
    # UTF-8 with accents from the start; past the 1 MB sample, a line saved in Windows-1252.
    header = [*EMAIL_NAME_COMPANY, "Notes"]
    good = [[*r.cells, "called, no answer. " * 450] for r in people(130, accents=True)]
    text = written(header, [Row(cells, MATCHED) for cells in good]).encode()
    data = text + "late@example.com,José,Acme,x\r\n".encode("cp1252") + b"z@example.com,Z,Acme,x\r\n"
    return failed(
        "utf8_then_another_encoding_past_the_first_megabyte",
        "UTF-8 for 1 MB, then a line in Windows-1252 (files pasted together)",
        data,
        "line 132 has bytes that are not UTF-8 (0xe9) though the lines before it are",
        "the file mixes encodings",
    )


# ---- line ends and delimiters ----


@case
def cr_only() -> Case:
    rows = [*people(5), valid("ada@example.com", "Ada\rLovelace", "Acme"), *people(5, start=6)]
    return Case(
        "cr_only",
        "CR-only line ends (Excel for Mac), and a quoted CR inside a cell",
        "check365",
        written(EMAIL_NAME_COMPANY, rows, newline="\r").encode(),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
        input_format=csv_format("UTF-8", line_ends="CR"),
    )


@case
def mixed_line_ends() -> Case:
    rows = people(6)
    lines = [",".join(EMAIL_NAME_COMPANY)] + [",".join(r.cells) for r in rows]
    ends = ["\r\n", "\n", "\r", "\r\n", "\n", "\r", "\n"]
    return Case(
        "mixed_line_ends",
        "LF, CRLF and CR in one file (files pasted together)",
        "check365",
        "".join(line + end for line, end in zip(lines, ends, strict=True)).encode(),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
        input_format=csv_format("UTF-8", line_ends="mixed"),
    )


@case
def semicolons_and_decimal_commas() -> Case:
    header = ["Email", "Name", "Revenue", "Company"]
    rows = [
        valid("ada@example.com", "Byron, Ada", "1.234,56", "Société Générale"),
        valid("bob@example.com", "Moss, Bob", "0,5", "Acme, Inc."),
        valid("cy@example.com", "Lane, Cy", "12,00", "Initech"),
    ]
    return Case(
        "semicolons_and_decimal_commas",
        "semicolons, as Excel writes in Europe, with commas inside the cells (decimal commas, 'Last, First')",
        "check365",
        written(header, rows, delimiter=";").encode(),
        header=header,
        rows=rows,
        input_format=csv_format("UTF-8", ";"),
    )


@case
def tabs() -> Case:
    rows = [
        valid("ada@example.com", "Byron, Ada", "Acme; Inc."),
        valid("bob@example.com", "Moss, Bob", "Initech"),
        valid("cy@example.com", "Lane, Cy", "Globex, Ltd."),
    ]
    return Case(
        "tabs",
        "tab-delimited, commas and semicolons inside cells",
        "check365",
        written(EMAIL_NAME_COMPANY, rows, delimiter="\t").encode(),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
        input_format=csv_format("UTF-8", "\t"),
    )


@case
def pipes() -> Case:
    rows = [
        valid("ada@example.com", "Byron, Ada", "Acme, Inc."),
        valid("bob@example.com", "Moss; Bob", "Initech"),
        valid("cy@example.com", "Lane, Cy", "Globex"),
    ]
    return Case(
        "pipes",
        "pipe-delimited, commas and semicolons inside cells",
        "check365",
        written(EMAIL_NAME_COMPANY, rows, delimiter="|").encode(),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
        input_format=csv_format("UTF-8", "|"),
    )


@case
def excel_sep_line() -> Case:
    rows = [
        valid("ada@example.com", "Byron, Ada", "Acme"),
        valid("bob@example.com", "Moss, Bob", "Initech, Ltd."),
        valid("cy@example.com", "Lane, Cy", "Globex"),
    ]
    return Case(
        "excel_sep_line",
        "Excel's `sep=;` first line, then semicolons (and commas inside cells)",
        "check365",
        ("sep=;\r\n" + written(EMAIL_NAME_COMPANY, rows, delimiter=";")).encode(),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
        input_format=csv_format("UTF-8", ";"),
    )


@case
def single_column() -> Case:
    rows = [valid("ada@example.com"), valid("bob@example.com"), invalid("must have an @-sign", "not an address")]
    return Case(
        "single_column",
        "one column, so no delimiter at all",
        "check365",
        written(["Email"], rows, newline="\n").encode(),
        header=["Email"],
        rows=rows,
        input_format=csv_format("UTF-8", ",", "LF"),
    )


# ---- other kinds of file ----


@case
def xlsx_export() -> Case:
    header = ["Email", "Name", "Employees", "Revenue", "Joined", "Active", "Phone"]
    sheet = [
        [None],  # blank rows above the header are not part of the table
        [None],
        header,
        ["ada@example.com", "Ada Byron", 1200, 1_500_000.0, dt.datetime(2024, 5, 1), True, "+1 555 0100"],
        ["  bob@example.com ", "Bob Moss", 12, 2.5, dt.datetime(2024, 5, 1, 13, 5), False, 15550100],
        [None],  # a blank row between rows is a row: blank
        ["cy@example.com", "Cy Lane", None, None, None, None, None],
        ["n/a", "Dee", 3, None, None, None, None],
    ]
    rows = [
        valid("ada@example.com", "Ada Byron", "1200", "1500000", "2024-05-01", "TRUE", "+1 555 0100"),
        valid("  bob@example.com ", "Bob Moss", "12", "2.5", "2024-05-01T13:05:00", "FALSE", "15550100"),
        blank(),
        valid("cy@example.com", "Cy Lane"),
        invalid("'n/a' is a placeholder", "n/a", "Dee", "3"),
    ]
    return Case(
        "xlsx_export",
        ".xlsx: blank rows above the header, numbers, dates, booleans, a blank row, a formatted empty tail",
        "check365",
        xlsx("Contacts", sheet, tail_formatted=True),
        suffix=".xlsx",
        header=header,
        rows=rows,
        input_format={"format": "xlsx", "sheet": "Contacts"},
    )


@case
def gzip_csv() -> Case:
    rows = people(40)
    return Case(
        "gzip_csv",
        "gzip-compressed CSV named .csv: known by its bytes",
        "check365",
        gzipped(written(EMAIL_NAME_COMPANY, rows, delimiter=";").encode()),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
        input_format=csv_format("UTF-8", ";") | {"compression": "gzip"},
    )


@case
def gzip_cut_short() -> Case:
    data = gzipped(written(EMAIL_NAME_COMPANY, people(200)).encode())
    return failed(
        "gzip_cut_short",
        "a gzip file cut in half (an interrupted upload)",
        data[: len(data) // 2],
        "the gzip file is damaged or cut short",
    )


@case
def gzip_of_a_zip() -> Case:
    data = gzipped(zip_of({"contacts.csv": "Email\na@example.com\n"}))
    return failed("gzip_of_a_zip", "a zip archive, gzip-compressed", data, "this gzip file holds another archive")


@case
def pdf() -> Case:
    data = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
    return failed("pdf", "a PDF", data, "this is a PDF document, not a table", suffix=".pdf")


@case
def png() -> Case:
    data = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
    return failed("png", "a PNG image", data, "this is a PNG image, not a table", suffix=".png")


@case
def xls_ole2() -> Case:
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)
    return failed(
        "xls_ole2",
        "an Excel 97-2003 .xls (OLE2 compound file)",
        data,
        "this is an Excel 97-2003 .xls workbook",
        "open it in Excel and save it as .xlsx or CSV",
        suffix=".xls",
    )


@case
def zip_not_xlsx() -> Case:
    data = zip_of({"contacts.csv": "Email\na@example.com\n", "readme.txt": "contacts"})
    return failed(
        "zip_not_xlsx",
        "a zip archive holding a CSV, not an .xlsx",
        data,
        "this is a zip archive of 2 file(s), not an .xlsx workbook: unzip it",
        suffix=".zip",
    )


@case
def docx() -> Case:
    data = zip_of({"[Content_Types].xml": "<Types/>", "word/document.xml": "<w:document/>"})
    return failed("docx", "a Word document", data, "this is a Word document (.docx), not a table", suffix=".docx")


@case
def html_saved_as_xls() -> Case:
    data = b"<!DOCTYPE html>\n<html><body><table><tr><td>Email</td></tr><tr><td>a@x.com</td></tr></table></body></html>"
    return failed(
        "html_saved_as_xls", "a web page some tools save as .xls", data, "this is a web page (HTML)", suffix=".xls"
    )


# ---- size ----


@case
def five_megabyte_cell() -> Case:
    header = [*EMAIL_NAME_COMPANY, "Notes"]
    notes = "Called twice, left a message.\n" * (5 * 2**20 // 30)
    rows = [Row([*r.cells, notes if n == 0 else "short"], r.status, sent=r.sent) for n, r in enumerate(people(3))]
    return Case(
        "five_megabyte_cell",
        "a CRM notes cell of 5 MB, newlines inside",
        "check365",
        written(header, rows).encode(),
        header=header,
        rows=rows,
    )


@case
def two_thousand_columns() -> Case:
    header = ["Email"] + [f"Field {n}" for n in range(2, 2001)]
    rows = [valid(f"wide{r}@example.com", *(f"r{r}c{c}" for c in range(2, 2001))) for r in range(1, 5)]
    rows.append(valid("short@example.com", "only", "three"))  # a short row is read as it is
    return Case(
        "two_thousand_columns",
        "2,000 columns",
        "check365",
        written(header, rows).encode(),
        header=header,
        rows=rows,
    )


@case
def rows_over_the_limit() -> Case:
    data = written(EMAIL_NAME_COMPANY, people(251)).encode()
    return Case(
        "rows_over_the_limit",
        "251 rows where the limit is 250 (the limit lowered for the test)",
        "check365",
        data,
        status="FAILED",
        error=(
            "the file has more than 250 rows, the limit (line 252 is row 251)",
            "split it into files of at most 250 rows",
        ),
        environment=LOWERED_LIMITS,
    )


@case
def bytes_over_the_limit() -> Case:
    rows = [Row([*r.cells, "x" * 590], MATCHED) for r in people(200)]
    data = written([*EMAIL_NAME_COMPANY, "Notes"], rows).encode()
    assert 100_000 < len(data) < 200_000
    return Case(
        "bytes_over_the_limit",
        "a file over the size limit (100 KB here, lowered for the test)",
        "check365",
        data,
        status="FAILED",
        error=("over the 100 KB limit: split it into smaller files",),
        environment=LOWERED_LIMITS,
    )


@case
def gzip_over_the_limit_uncompressed() -> Case:
    rows = [Row([*r.cells, "x" * 590], MATCHED) for r in people(200)]
    data = gzipped(written([*EMAIL_NAME_COMPANY, "Notes"], rows).encode())
    assert len(data) < 100_000
    return Case(
        "gzip_over_the_limit_uncompressed",
        "a small gzip file whose content is over the size limit",
        "check365",
        data,
        status="FAILED",
        error=("uncompressed, the file is over the 100 KB limit",),
        environment=LOWERED_LIMITS,
    )


# ---- structure ----


@case
def empty() -> Case:
    return failed("empty", "0 bytes", b"", "the file is empty")


@case
def bom_only() -> Case:
    return failed("bom_only", "a UTF-8 BOM and nothing else", codecs.BOM_UTF8, "the file is empty")


@case
def only_blank_lines() -> Case:
    return failed("only_blank_lines", "line ends and nothing else", b"\r\n\r\n\r\n", "the first row is blank")


@case
def first_row_blank() -> Case:
    return failed(
        "first_row_blank",
        "an empty first row (delimiters only), the header below it",
        b",,\r\nEmail,Name,Company\r\nada@example.com,Ada,Acme\r\n",
        "the first row is blank: expected a header row naming the columns",
    )


@case
def header_only() -> Case:
    return failed("header_only", "a header and no rows", b"Email,Name,Company\r\n", "the file has a header but no rows")


@case
def no_column_to_match_on() -> Case:
    return failed(
        "no_column_to_match_on",
        "no email column for Check365",
        b"Name,Company\r\nAda,Acme\r\n",
        "no column check365 can match on",
        "Found columns: Name, Company",
    )


@case
def nul_bytes() -> Case:
    data = b"Email,Name\r\na@example.com,A\r\nb@example.com,B\r\nc@example.com,C\x00\x00\r\n"
    return failed("nul_bytes", "NUL bytes on line 4", data, "line 4 has NUL bytes: this is a binary file")


@case
def unclosed_quote() -> Case:
    data = (
        b"Email,Name\r\na@example.com,A\r\nb@example.com,B\r\nc@example.com,C\r\n"
        b'"d@example.com,D\r\ne@example.com,E\r\nf@example.com,F\r\n'
    )
    return failed(
        "unclosed_quote", "a quote opened on line 5, never closed", data, "a quote opened on line 5 is never closed"
    )


@case
def sep_line_then_unclosed_quote() -> Case:
    data = b'sep=;\r\nEmail;Name\r\na@example.com;A\r\n"b@example.com;B\r\nc@example.com;C\r\n'
    return failed(
        "sep_line_then_unclosed_quote",
        "a quote never closed on line 4, the `sep=;` line counted",
        data,
        "a quote opened on line 4 is never closed",
    )


@case
def text_after_closing_quote() -> Case:
    data = b'Email,Name\r\na@example.com,Ada\r\nb@example.com,"Bob" Moss\r\n'
    return failed(
        "text_after_closing_quote",
        'text after a quoted cell\'s closing quote ("Bob" Moss)',
        data,
        "line 3 has text after a quoted cell's closing quote",
    )


@case
def blank_and_whitespace_rows() -> Case:
    header = ["Email", "Name"]
    rows = [
        valid("ada@example.com", "Ada"),
        blank(),
        blank("   "),
        blank("", ""),
        blank(" \t ", " "),
        valid("bob@example.com", "Bob"),
        blank("", ""),
        blank(),  # the file ends with an empty line
    ]
    text = 'Email,Name\r\nada@example.com,Ada\r\n\r\n   \r\n,\r\n \t , \r\nbob@example.com,Bob\r\n"",""\r\n\r\n'
    return Case(
        "blank_and_whitespace_rows",
        "empty lines, whitespace-only rows, delimiter-only rows, an empty line at the end",
        "check365",
        text.encode(),
        header=header,
        rows=rows,
    )


@case
def quoted_newlines_quotes_and_delimiters() -> Case:
    header = ["Email", "Name", "Notes"]
    rows = [
        valid("ada@example.com", "Ada\nLovelace", "line one\r\nline two"),
        valid("bob@example.com", "Moss, Bob", 'He said "hi"'),
        valid("cy@example.com", "Cy", "ends with CR\r"),
        valid("dee@example.com\n", "Dee", "an address with a newline after it, inside its quotes"),
        valid("eve@example.com", "Eve", "\n\n\n"),
        valid("fay@example.com", "Fay", '"quoted"'),
        valid("gus@example.com", "Gus", ",;|\t"),
    ]
    return Case(
        "quoted_newlines_quotes_and_delimiters",
        "quoted cells holding newlines (LF, CRLF, CR), quotes and delimiters",
        "check365",
        written(header, rows).encode(),
        header=header,
        rows=rows,
    )


@case
def trailing_delimiters_on_rows() -> Case:
    rows = [
        valid("ada@example.com", "Ada", "Acme"),
        valid("bob@example.com", "Bob", ""),
        valid("cy@example.com", "Cy", "Initech"),
    ]
    text = (
        "Email,Name,Company\r\nada@example.com,Ada,Acme,,,\r\nbob@example.com,Bob,,,,\r\ncy@example.com,Cy,Initech\r\n"
    )
    return Case(
        "trailing_delimiters_on_rows",
        "rows with trailing delimiters past the header's columns (dropped: not cells)",
        "check365",
        text.encode(),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
    )


@case
def trailing_delimiters_on_every_line() -> Case:
    header = ["Email", "Name", "Company", "", ""]
    rows = [valid("ada@example.com", "Ada", "Acme", "", ""), valid("bob@example.com", "Bob", "Initech", "", "")]
    return Case(
        "trailing_delimiters_on_every_line",
        "trailing delimiters on the header too: two unnamed columns",
        "check365",
        written(header, rows).encode(),
        header=header,
        rows=rows,
        names=["Email", "Name", "Company", "column 4", "column 5"],
    )


@case
def rows_longer_and_shorter_than_the_header() -> Case:
    rows = [
        valid("ada@example.com", "Ada"),
        invalid("row has 4 fields but the header has 3 (unquoted comma?)", "bob@example.com", "Moss", "Bob", "Acme"),
        valid("cy@example.com"),
        invalid("row has 5 fields but the header has 3", "dee@example.com", "Dee", "Acme", "", "x"),
    ]
    return Case(
        "rows_longer_and_shorter_than_the_header",
        "short rows (read as they are) and rows with more cells than the header (an unquoted comma)",
        "check365",
        written(EMAIL_NAME_COMPANY, rows).encode(),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
    )


@case
def header_repeated_mid_file() -> Case:
    rows = [
        *people(3),
        invalid(HEADER_AGAIN, "Email", "Name", "Company"),
        *people(2, start=4),
        invalid(HEADER_AGAIN, "E-mail Address", "name", "COMPANY"),  # the same columns by other names
        *people(1, start=6),
        invalid("must have an @-sign", "email", "", ""),  # one column's name alone is not the header again
    ]
    return Case(
        "header_repeated_mid_file",
        "the header again mid-file (files pasted together), once by other names",
        "check365",
        written(EMAIL_NAME_COMPANY, rows).encode(),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
    )


@case
def two_email_columns() -> Case:
    header = ["Email", "Name", "Email"]
    rows = [
        valid("ada@example.com", "Ada", "ada@work.example"),
        invalid("email is missing", "", "Bob", "bob@work.example"),
        invalid("'n/a' is a placeholder", "n/a", "Cy", "cy@work.example"),
        valid("dee@example.com", "Dee", "not an address"),
    ]
    return Case(
        "two_email_columns",
        "two columns named Email: the leftmost is read, both are kept",
        "check365",
        written(header, rows).encode(),
        header=header,
        rows=rows,
        names=["Email", "Name", "Email (2)"],
    )


@case
def hubspot_name_and_website() -> Case:
    header = ["Record ID", "First Name", "Last Name", "Email", "Email", "Company Name", "Website URL", "Phone Number"]

    # Prospeo is sent every field a row has (the names, the first Email, the company and its website).
    rows = [
        answered("101", "Ada", "Lovelace", "", "", "", "analytical.io", "")(
            first_name="Ada", last_name="Lovelace", company_website="analytical.io"
        ),
        answered("102", "Grace", "Hopper", "", "", "", "https://www.cobol.dev", "")(
            first_name="Grace", last_name="Hopper", company_website="https://www.cobol.dev"
        ),
        answered("103", "Barbara", "Liskov", "barbara@clu.org", "b.liskov@mit.example", "CLU Labs", "clu.org", "+1 5")(
            first_name="Barbara",
            last_name="Liskov",
            email="barbara@clu.org",
            company_name="CLU Labs",
            company_website="clu.org",
        ),
        invalid("too few datapoints", "104", "", "", "", "", "", "lonely.site", ""),
        # The first Email column holds a placeholder: the second is not read instead; names and company suffice.
        answered("105", "Ken", "Thompson", "n/a", "ken@unix.dev", "Bell Labs", "", "")(
            first_name="Ken", last_name="Thompson", company_name="Bell Labs"
        ),
        duplicate(1, "106", "Ada", "Lovelace", "", "", "", "analytical.io", ""),
        invalid("too few datapoints", "107", "Edsger", "", "", "", "", "", ""),
    ]
    return Case(
        "hubspot_name_and_website",
        "a HubSpot export: names with `Website URL`, two Email columns, other tools' ids",
        "prospeo",
        written(header, rows).encode(),
        header=header,
        rows=rows,
        names=[
            "Record ID",
            "First Name",
            "Last Name",
            "Email",
            "Email (2)",
            "Company Name",
            "Website URL",
            "Phone Number",
        ],
    )


# ---- values ----


@case
def formula_like_cells_in_every_column() -> Case:
    header = ["Email", "Name", "Company", "+Score", "Notes"]
    rows = [
        invalid(FORMULA, "=1+1", "=cmd|' /C calc'!A0", "+Globex", "-2+3", "@SUM(A1)"),
        valid("ada@example.com", '=HYPERLINK("http://evil.example","click")', "@Globex", "-5", "+1"),
        invalid(FORMULA, "-ada@example.com", "=A1", "=B2", "=C3", "=D4"),
        invalid(FORMULA, '"=1+1"@example.com', "Ada", "Acme", "1", ""),
        invalid(NOT_AN_ADDRESS, "+15550100", "Bob", "@Acme", "+7", "\t"),
        invalid("before the @-sign", "@example.com", "Cy", "Acme", "0", ""),
        valid(
            "\tbob@example.com", "Bob", "Acme", "1", "a tab before the address is whitespace", sends="bob@example.com"
        ),
        invalid(FORMULA, " =1+1@example.com", "Dee", "Acme", "1", ""),
        valid("cy@example.com", "=1+1", "=SUM(A1:A3)", "\r", "-"),
        invalid(FORMULA, '=HYPERLINK("http://x")@example.com', "Eve", "Acme", "", ""),
    ]
    return Case(
        "formula_like_cells_in_every_column",
        "cells a spreadsheet would run as formulas, in every column (and a header): never sent as an address, kept as "
        "written in results.jsonl, quoted with ' in results.csv",
        "check365",
        written(header, rows).encode(),
        header=header,
        rows=rows,
    )


@case
def idn_and_plus_addressed_emails() -> Case:
    header = ["Email", "Name"]
    rows = [
        valid("ada+news@example.com", "Ada"),
        valid("ada@example.com", "Ada (another address than +news)"),
        valid("jürgen@münchen.de", "Jürgen"),
        valid("x@xn--mnchen-3ya.de", "X, its domain in ASCII", sends="x@münchen.de"),
        duplicate(4, "X@MÜNCHEN.DE", "X again, in capitals"),
        valid("用户@例子.广告", "Yonghu"),
        valid("ñandú@Correo.ES", "Ñandú", sends="ñandú@correo.es"),
        valid("user@xn--80ak6aa92e.com", "Cyrillic domain", sends="user@аррӏе.com"),
        valid(" Ada.Lovelace+crm@Example.COM\u00a0", "no-break space after", sends="Ada.Lovelace+crm@example.com"),
        invalid("should have a period", "jürgen@münchen", "no top-level domain"),
        invalid("period", "ada..lovelace@example.com", "two periods"),
        invalid("too long before the @-sign", "a" * 65 + "@example.com", "too long before the @"),
    ]
    return Case(
        "idn_and_plus_addressed_emails",
        "international domains (Unicode and punycode), Unicode local parts, plus-addressing, case",
        "check365",
        written(header, rows).encode(),
        header=header,
        rows=rows,
    )


@case
def duplicates_and_placeholders() -> Case:
    rows = [
        valid("ada@example.com", "Ada", "Acme"),
        duplicate(1, "ADA@EXAMPLE.COM", "Ada", "Acme"),
        duplicate(1, " ada@example.com ", "Ada", "Acme"),
        invalid("'n/a' is a placeholder", "n/a", "Bob", "Acme"),
        invalid("'#N/A' is a placeholder", "#N/A", "Cy", "Acme"),
        invalid("'(none)' is a placeholder", "(none)", "Dee", "Acme"),
        invalid("email is missing", "", "Eve", "Acme"),
        invalid("'TBD' is a placeholder", "TBD", "Fay", "Acme"),
        valid("bob@example.com", "Bob", "n/a"),
        duplicate(9, "Bob@Example.com", "Bob", "Acme"),
        invalid("'unknown' is a placeholder", "unknown", "Gus", "Acme"),
        invalid("'--' is a placeholder", "--", "Hal", "Acme"),
    ]
    return Case(
        "duplicates_and_placeholders",
        "one address three ways; placeholders (n/a, #N/A, (none), TBD, unknown, --)",
        "check365",
        written(EMAIL_NAME_COMPANY, rows).encode(),
        header=EMAIL_NAME_COMPANY,
        rows=rows,
    )


@case
def numbers_as_a_spreadsheet_writes_them() -> Case:
    header = ["Email", "Phone", "Employees", "Revenue", "ZIP", "Share"]
    rows = [
        valid("ada@example.com", "1.5550100E+10", "1,200", "1.5E+06", "2134", "12.50%"),
        valid("bob@example.com", "15550100", "12", "-1500.5", "02134", "0.5"),
        invalid(NOT_AN_ADDRESS, "1.23E+05", "", "", "", ""),
        valid("cy@example.com", "(555) 010-0100", "1 200", "$1,500,000.00", "2134.0", "1/2"),
    ]
    return Case(
        "numbers_as_a_spreadsheet_writes_them",
        "numbers as spreadsheets rewrite them (scientific notation, thousands separators, leading zeros lost): "
        "kept exactly as written",
        "check365",
        written(header, rows).encode(),
        header=header,
        rows=rows,
    )


def _id(contact_id: str, *rest: str, sends: str | None = None) -> Row:
    return Row([contact_id, *rest], ANSWERED, sent={"contact_id": sends or contact_id.strip()})


@case
def insideview_ids_as_a_spreadsheet_writes_them() -> Case:
    header = ["InsideView Contact ID", "Name", "Employees"]
    rows = [
        _id("13496440", "Ada", "1,200"),
        invalid("scientific notation; format the column as text", "1.35E+07", "Bob", ""),
        invalid("has a decimal part", "13496440.0", "Cy", ""),
        invalid("is not an InsideView contact id", "13,496,440", "Dee", ""),
        _id("0008802619", "Eve (leading zeros are part of the id)", ""),
        _id(" 225 ", "Fay", ""),
        invalid("digits only", "-1", "Gus", ""),
        invalid("'#N/A' is a placeholder", "#N/A", "Hal", ""),
        duplicate(1, "13496440", "Ada again", ""),
        invalid("scientific notation", "1.3496440E+13", "Ivy", ""),
        invalid(FORMULA, "=13496440", "Jo", ""),
        invalid("contact_id is missing", "", "Kay", "3"),
    ]
    return Case(
        "insideview_ids_as_a_spreadsheet_writes_them",
        "InsideView ids as spreadsheets rewrite them: scientific notation, a decimal part, thousands separators",
        "insideview",
        written(header, rows).encode(),
        header=header,
        rows=rows,
    )


@case
def insideview_xlsx_numeric_ids() -> Case:
    header = ["InsideView Contact ID", "Account", "Employees"]
    sheet = [
        header,
        [8802619, "Globex", 1200],
        [13500000.0, "Initech", 15.0],  # a whole number stored as a float reads as Excel shows it
        ["00012345", "Umbrella", None],  # an id kept as text keeps its zeros
        ["1.35E+07", "Hooli", None],
        [8802619.5, "Vandelay", None],
        [None, "Stark", 40],
    ]
    rows = [
        _id("8802619", "Globex", "1200"),
        _id("13500000", "Initech", "15"),
        _id("00012345", "Umbrella"),
        invalid("scientific notation", "1.35E+07", "Hooli"),
        invalid("is not an InsideView contact id", "8802619.5", "Vandelay"),
        invalid("contact_id is missing", "", "Stark", "40"),
    ]
    return Case(
        "insideview_xlsx_numeric_ids",
        ".xlsx with InsideView ids stored as numbers",
        "insideview",
        xlsx("Export", sheet),
        suffix=".xlsx",
        header=header,
        rows=rows,
        input_format={"format": "xlsx", "sheet": "Export"},
    )


# ---- writing the corpus out ----


def _shortened(cell: str) -> str:
    return cell if len(cell) <= 200 else f"{cell[:200]}… ({len(cell):,} characters)"


def write(folder: Path) -> None:
    """Each case's file, and manifest.json: its vendor and expected outcome."""
    folder.mkdir(parents=True, exist_ok=True)
    manifest = []
    for built in corpus().values():
        (folder / (built.name + built.suffix)).write_bytes(built.data)
        entry = {k: v for k, v in asdict(built).items() if k != "data"}
        rows = [asdict(r) | {"cells": [_shortened(c) for c in r.cells]} for r in built.rows]
        manifest.append(entry | {"file": built.name + built.suffix, "rows": rows})
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    write(Path(sys.argv[1] if len(sys.argv) > 1 else "out/corpus"))
