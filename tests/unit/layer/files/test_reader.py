"""Opening files as users have them: encodings, line ends, delimiters, Excel's sep= line, .xlsx, gzip, huge
cells; the refusals, in plain words with the file's own line numbers; the limits; a bounded sample."""

from __future__ import annotations

import codecs
import datetime as dt
import gzip
import io
import os
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path

import openpyxl
import pytest

from enrichment.errors import BadInput
from enrichment.files.reader import HEAD_BYTES, open_table
from enrichment.settings import InputLimits

LIMITS = InputLimits()


class BytesSource:
    """An input file held in memory, in place of an S3 object."""

    def __init__(self, data: bytes, *, size: int | None = None) -> None:
        self.data = data
        self.size = len(data) if size is None else size

    def stream(self) -> io.BytesIO:
        return io.BytesIO(self.data)

    def seekable(self) -> io.BytesIO:
        return io.BytesIO(self.data)


def read(data: bytes, limits: InputLimits = LIMITS) -> tuple[list[str], list[list[str]], dict[str, str]]:
    with open_table(BytesSource(data), limits) as table:
        rows = [cells for _, cells in table.rows]
        return table.header, rows, table.details


def refusal(data: bytes, limits: InputLimits = LIMITS) -> str:
    with pytest.raises(BadInput) as refused:
        read(data, limits)
    return str(refused.value)


CONTACTS = [["ada@example.com", "Zoë Ådahl", "Société Générale"], ["bob@example.com", "Bob", "Initech"]]


def csv_bytes(encoding: str, delimiter: str = ",", newline: str = "\r\n") -> bytes:
    lines = [delimiter.join(["Email", "Name", "Company"])] + [delimiter.join(r) for r in CONTACTS]
    return newline.join(lines).encode(encoding) + newline.encode(encoding)


# ---- encodings ----


@pytest.mark.parametrize(
    ("bom", "encoding", "name"),
    [
        (b"", "utf-8", "UTF-8"),
        (codecs.BOM_UTF8, "utf-8", "UTF-8 with BOM"),
        (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16LE"),
        (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16BE"),
        (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32LE"),
        (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32BE"),
    ],
)
def test_unicode_encodings_by_their_bom(bom, encoding, name):
    header, rows, details = read(bom + csv_bytes(encoding))
    assert header == ["Email", "Name", "Company"]
    assert rows == CONTACTS
    assert details == {"format": "csv", "encoding": name, "delimiter": ",", "line_ends": "CRLF"}


def test_windows_1252_is_read_when_the_bytes_are_not_utf8():
    data = csv_bytes("cp1252").replace(b"Initech", b"Initech \x80 \x93quoted\x94")  # euro sign, curly quotes
    _, rows, details = read(data)
    assert rows == [CONTACTS[0], ["bob@example.com", "Bob", "Initech € “quoted”"]]
    assert details["encoding"] == "windows-1252"


def test_latin1_text_reads_as_written():
    # Latin-1's letters are Windows-1252's: a Latin-1 file reads the same either way.
    _, rows, details = read(csv_bytes("latin-1"))
    assert rows == CONTACTS
    assert details["encoding"] == "windows-1252"


def test_an_accent_beyond_the_sample_after_ascii_lines_is_windows_1252():
    ascii_rows = b"".join(b"user%d@example.com,Name %d\r\n" % (i, i) for i in range(HEAD_BYTES // 20))
    data = b"Email,Name\r\n" + ascii_rows + b"jose@example.com,Jos\xe9 M\xfcller\r\n"
    assert len(data) > HEAD_BYTES
    _, rows, details = read(data)
    assert rows[-1] == ["jose@example.com", "José Müller"]
    assert details["encoding"] == "windows-1252"


def test_utf8_after_ascii_lines_beyond_the_sample_stays_utf8():
    ascii_rows = b"".join(b"user%d@example.com,Name %d\n" % (i, i) for i in range(HEAD_BYTES // 20))
    data = b"Email,Name\n" + ascii_rows + "jose@example.com,José\n".encode()
    _, rows, details = read(data)
    assert rows[-1] == ["jose@example.com", "José"]
    assert details["encoding"] == "UTF-8"


# ---- line ends and delimiters ----


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r"])
def test_line_ends(newline):
    data = f'Email,Note{newline}a@x.io,"two{newline}lines"{newline}b@x.io,plain{newline}'.encode()
    header, rows, _ = read(data)
    assert header == ["Email", "Note"]
    assert rows == [["a@x.io", f"two{newline}lines"], ["b@x.io", "plain"]]


def test_mixed_line_ends():
    _, rows, _ = read(b"Email,Name\r\na@x.io,A\rb@x.io,B\nc@x.io,C\r\n")
    assert rows == [["a@x.io", "A"], ["b@x.io", "B"], ["c@x.io", "C"]]


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiters_are_sniffed(delimiter):
    header, rows, details = read(csv_bytes("utf-8", delimiter))
    assert header == ["Email", "Name", "Company"] and rows == CONTACTS
    assert details["delimiter"] == delimiter


def test_semicolons_with_commas_in_cells_and_a_cr_only_excel_for_mac_file():
    data = b'Email;Name;Company\rada@x.io;"Lovelace, Ada";Acme, Inc.\rbob@x.io;Bob;Initech\r'
    header, rows, _ = read(data)
    assert header == ["Email", "Name", "Company"]
    assert rows == [["ada@x.io", "Lovelace, Ada", "Acme, Inc."], ["bob@x.io", "Bob", "Initech"]]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_rows_that_do_not_split_alike_leave_the_delimiter_to_the_header(delimiter):
    # A short row (found by the property tests): csv.Sniffer finds no delimiter the lines share; the header has one.
    header, rows, details = read(f"Email{delimiter}Name\r\nada@x.io{delimiter}Ada\r\nbob@x.io\r\n".encode())
    assert header == ["Email", "Name"] and rows == [["ada@x.io", "Ada"], ["bob@x.io"]]
    assert details["delimiter"] == delimiter


def test_a_single_column_reads_as_one_column():
    header, rows, details = read(b"Email\na@x.io\nb@x.io\n")
    assert header == ["Email"] and rows == [["a@x.io"], ["b@x.io"]] and details["delimiter"] == ","


def test_excels_sep_line_names_the_delimiter_and_counts_as_a_line():
    header, rows, details = read(b"sep=;\r\nEmail;Name\r\na@x.io;Ada, Countess\r\n")
    assert header == ["Email", "Name"] and rows == [["a@x.io", "Ada, Countess"]] and details["delimiter"] == ";"
    # line 1 is sep=;, line 2 the header: the quote opens on line 4
    assert "line 4" in refusal(b'sep=;\nEmail;Name\na@x.io;Ada\n"b@x.io;Bob\n')


def test_trailing_delimiters_are_not_cells():
    _, rows, _ = read(b"Email,Name\na@x.io,Ada,,\nb@x.io,Bob,, \nc@x.io,Cy,extra\n")
    assert rows == [["a@x.io", "Ada"], ["b@x.io", "Bob"], ["c@x.io", "Cy", "extra"]]


def test_a_five_megabyte_cell():
    notes = "n" * (5 << 20)
    _, rows, _ = read(f'Email,Notes\na@x.io,"{notes}"\nb@x.io,short\n'.encode())
    assert rows == [["a@x.io", notes], ["b@x.io", "short"]]


# ---- workbooks and compression ----


def xlsx_bytes(build) -> bytes:
    workbook = openpyxl.Workbook()
    build(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_xlsx_first_sheet_cells_as_a_person_sees_them():
    def build(workbook):
        sheet = workbook.active
        sheet.title = "Contacts"
        sheet.append(["Email", "Id", "Score", "Since", "At", "Active", None])
        sheet.append(["ada@x.io", 13496440, 2.5, dt.datetime(2024, 5, 1), dt.datetime(2024, 5, 1, 13, 5), True])
        sheet.append([])  # a blank row between rows is a row
        sheet.append(["bob@x.io", 7.0, None, dt.date(2024, 5, 2), None, False])
        sheet["K40"].number_format = "0.00"  # formatting far right and below: not part of the table
        sheet["K40"] = None
        workbook.create_sheet("Other").append(["not", "this"])
        workbook.active = 1  # the first sheet is read, whichever was open last

    header, rows, details = read(xlsx_bytes(build))
    assert header == ["Email", "Id", "Score", "Since", "At", "Active"]
    assert rows == [
        ["ada@x.io", "13496440", "2.5", "2024-05-01", "2024-05-01T13:05:00", "TRUE"],
        [],
        ["bob@x.io", "7", "", "2024-05-02", "", "FALSE"],
    ]
    assert details == {"format": "xlsx", "sheet": "Contacts"}


def test_gzip_csv_by_its_magic_bytes():
    header, rows, details = read(gzip.compress(csv_bytes("cp1252", ";")))
    assert header == ["Email", "Name", "Company"] and rows == CONTACTS
    assert details == {
        "format": "csv",
        "encoding": "windows-1252",
        "delimiter": ";",
        "line_ends": "CRLF",
        "compression": "gzip",
    }


def test_a_cut_gzip_file_is_refused():
    whole = gzip.compress(b"Email,Name\n" + b"".join(b"user%d@x.io,N%d\n" % (i, i) for i in range(20000)))
    assert "gzip file is damaged or cut short" in refusal(whole[: len(whole) // 2])


# ---- refusals ----


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "this is a PDF document, not a table"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "this is a PNG image, not a table"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "this is a JPEG image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "Excel 97-2003 .xls workbook"),
        (b"<!DOCTYPE html><html><table>", "web page (HTML)"),
        (b"", "the file is empty"),
        (b"Email\n\x00\x01\x02", "line 2 has NUL bytes: this is a binary file"),
    ],
)
def test_what_is_not_a_table_is_named(data, says):
    assert says in refusal(data)


def zip_bytes(names: list[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "x")
    return out.getvalue()


def test_a_zip_that_is_not_xlsx():
    assert "zip archive of 2 file(s), not an .xlsx workbook: unzip it" in refusal(zip_bytes(["a.csv", "b.csv"]))
    assert "Word document" in refusal(zip_bytes(["[Content_Types].xml", "word/document.xml"]))


def test_an_unterminated_quote_names_the_line_it_opens_on():
    data = b'Email,Name\na@x.io,A\nb@x.io,B\nc@x.io,C\n"d@x.io,D\n' + b"e@x.io,E\n" * 6
    assert "a quote opened on line 5 is never closed" in refusal(data)


def test_text_after_a_closing_quote_names_its_line():
    assert "line 3 has text after a quoted cell's closing quote" in refusal(b'Email,Name\na,b\n"c"d,e\n')


@pytest.mark.parametrize("rows_before", [300, HEAD_BYTES // 20])  # the byte in the sample, and past it
def test_a_byte_windows_1252_cannot_read_names_the_files_own_line(rows_before):
    rows = b"".join(b"user%d@example.com,Jos\xe9\r\n" % i for i in range(rows_before))
    data = b"Email,Name\r\n" + rows + b"bad@example.com,M\x81ller\r\n"  # 0x81: DOS's ü, undefined here
    line = rows_before + 2
    assert f"line {line} has bytes that are neither UTF-8 nor Windows-1252 (0x81)" in refusal(data)


def test_a_file_that_mixes_encodings_names_the_line():
    utf8_rows = "".join(f"user{i}@example.com,José\n" for i in range(HEAD_BYTES // 20)).encode()
    line = utf8_rows.count(b"\n") + 2
    data = b"Email,Name\n" + utf8_rows + b"x@example.com,Jos\xe9\n"
    assert f"line {line} has bytes that are not UTF-8 (0xe9) though the lines before it are" in refusal(data)


def test_text_in_another_encoding_is_refused_with_its_line():
    data = b"Email,Name\na@x.io,Ada\n" + "b@x.io,Иван Петров\n".encode("cp1251") * 5
    assert "line 3 has bytes that are neither UTF-8 nor Windows-1252" in refusal(data)


# ---- limits and memory ----


class Unreadable(BytesSource):
    def stream(self):
        raise AssertionError("read although its size is over the limit")


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    source = Unreadable(b"", size=LIMITS.max_bytes + 1)
    with pytest.raises(BadInput, match=r"the file is 1 GB, over the 1 GB limit"):
        open_table(source, LIMITS)


def test_gzip_content_is_held_to_the_size_limit():
    data = gzip.compress(b"Email\n" + b"a@x.io\n" * 200_000)
    assert "uncompressed, the file is over the 1 MB limit" in refusal(data, InputLimits(max_bytes=10**6))


def test_rows_over_the_limit_are_refused():
    data = b"Email\n" + b"a@x.io\n" * 11
    assert read(data, InputLimits(max_rows=11))[1] == [["a@x.io"]] * 11
    assert "more than 10 rows, the limit (line 12 is row 11)" in refusal(data, InputLimits(max_rows=10))


class GeneratedCsv(io.RawIOBase):
    """A CSV file made as it is read, never held whole; counts the bytes it gave."""

    def __init__(self, rows: int) -> None:
        self.rows = iter(range(rows))
        self.pending = b"Email;Name;Company\r\n"
        self.given = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        while len(self.pending) < len(buffer):
            batch = [b"user%d@example.com;Name %d;Acme\r\n" % (i, i) for _, i in zip(range(1000), self.rows)]
            if not batch:
                break
            self.pending += b"".join(batch)
        size = min(len(buffer), len(self.pending))
        buffer[:size], self.pending = self.pending[:size], self.pending[size:]
        self.given += size
        return size


class GeneratedSource:
    size = 1

    def __init__(self, rows: int) -> None:
        self.file = GeneratedCsv(rows)

    def stream(self) -> GeneratedCsv:
        return self.file

    def seekable(self):
        raise AssertionError("a CSV file is read as a stream")


def peak_memory_reading(rows: int) -> int:
    source = GeneratedSource(rows)
    tracemalloc.start()
    try:
        with open_table(source, LIMITS) as table:
            # the header and delimiter come from a bounded sample at the start
            assert source.file.given <= HEAD_BYTES
            assert table.details["delimiter"] == ";"
            assert sum(1 for _ in table.rows) == rows
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_does_not_grow_with_the_file():
    # Measured in a process of its own: tracemalloc counts every thread's allocations, and a test worker's local
    # runtime may have jobs of other tests' still at work in this one.
    code = "from tests.unit.layer.files.test_reader import peak_memory_reading as p; print(p(50_000), p(400_000))"
    root = Path(__file__).resolve().parents[4]
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(root), str(root / "layers" / "common")])}
    measured = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)
    assert measured.returncode == 0, measured.stderr
    small, large = map(int, measured.stdout.split())  # the files: about 2 MB and 15 MB
    assert large - small < 256 << 10
