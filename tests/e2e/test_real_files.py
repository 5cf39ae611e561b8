"""Files as users really have them, through the real pipeline (Check365): Excel for Mac's CR-only lines,
semicolons, tabs, Excel's `sep=;` line, Windows-1252 with its first accent on line 300, UTF-16, an .xlsx export,
gzip, a 5 MB notes cell: one row out per data row in, read as written. And what is not a table (a PDF, a PNG,
an .xls, a quote never closed, too many rows): the job FAILS saying what the file is and where, before
anything reaches the vendor.
"""

from __future__ import annotations

import codecs
import gzip
import io
import json
import uuid
import zipfile

import openpyxl
import pytest

from localrt import lambdas
from tests.conftest import read_results, run_job_bytes

ACCENTED = ["José Müller", "Zoë Ådahl", "François Lefèvre"]


def contacts(count: int, *, accents_from: int = 1) -> list[list[str]]:
    """[email, name, company] rows; names from row `accents_from` on have accents (row 1 is file line 2)."""
    salt = uuid.uuid4().hex[:8]
    return [
        [
            f"user{n}.{salt}@example.com",
            ACCENTED[n % 3] if n >= accents_from else f"Name {n}",
            "Société Générale" if n >= accents_from else "Acme",
        ]
        for n in range(1, count + 1)
    ]


def delimited(rows: list[list[str]], delimiter: str = ",", newline: str = "\r\n") -> str:
    lines = [delimiter.join(["Email", "Name", "Company"])] + [delimiter.join(r) for r in rows]
    return newline.join(lines) + newline


def summary_of(folder) -> dict:
    return json.loads((folder / "summary.json").read_text())


def assert_one_row_out_per_row_in(view, folder, rows: list[list[str]]) -> None:
    assert view.status == "SUCCEEDED", view.item.get("error")
    results = read_results(folder)
    assert [[r["Email"], r["Name"], r["Company"]] for r in results] == rows
    assert {r["result_status"] for r in results} == {"matched"}


@pytest.mark.parametrize(
    ("delimiter", "newline", "ends"),
    [(",", "\r", "CR"), (";", "\r\n", "CRLF"), ("\t", "\n", "LF")],
    ids=["CR-only (Excel for Mac)", "semicolons", "tabs"],
)
def test_line_ends_and_delimiters(runtime, check365, tmp_path, delimiter, newline, ends):
    rows = contacts(120)
    view, out = run_job_bytes(runtime, tmp_path, "check365", delimited(rows, delimiter, newline).encode())
    assert_one_row_out_per_row_in(view, out, rows)
    found = {"format": "csv", "encoding": "UTF-8", "delimiter": delimiter, "line_ends": ends}
    assert summary_of(out)["input_format"] == found


def test_excels_sep_line(runtime, check365, tmp_path):
    rows = contacts(30)
    data = ("sep=;\r\n" + delimited(rows, ";")).encode("cp1252")
    view, out = run_job_bytes(runtime, tmp_path, "check365", data)
    assert_one_row_out_per_row_in(view, out, rows)
    assert summary_of(out)["input_format"]["delimiter"] == ";"


def test_windows_1252_with_its_first_accent_on_line_300(runtime, check365, tmp_path):
    rows = contacts(320, accents_from=299)  # row 299 is line 300
    view, out = run_job_bytes(runtime, tmp_path, "check365", delimited(rows).encode("cp1252"))
    assert_one_row_out_per_row_in(view, out, rows)
    assert summary_of(out)["input_format"]["encoding"] == "windows-1252"


def test_utf16_with_bom(runtime, check365, tmp_path):
    rows = contacts(40)
    data = codecs.BOM_UTF16_LE + delimited(rows, "\t").encode("utf-16-le")  # Excel's "Unicode Text"
    view, out = run_job_bytes(runtime, tmp_path, "check365", data, suffix=".txt")
    assert_one_row_out_per_row_in(view, out, rows)
    found = {"format": "csv", "encoding": "UTF-16LE", "delimiter": "\t", "line_ends": "CRLF"}
    assert summary_of(out)["input_format"] == found


def test_an_xlsx_export(runtime, check365, tmp_path):
    rows = contacts(150)
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Export"
    sheet.append(["Email", "Name", "Company", "Employees"])
    for n, row in enumerate(rows, start=1):
        sheet.append([*row, n * 10])
    data = io.BytesIO()
    workbook.save(data)
    view, out = run_job_bytes(runtime, tmp_path, "check365", data.getvalue(), suffix=".xlsx")
    assert_one_row_out_per_row_in(view, out, rows)
    assert [r["Employees"] for r in read_results(out)] == [str(n * 10) for n in range(1, 151)]
    assert summary_of(out)["input_format"] == {"format": "xlsx", "sheet": "Export"}


def test_gzip_csv_known_by_its_bytes_not_its_name(runtime, check365, tmp_path):
    rows = contacts(200)
    data = gzip.compress(delimited(rows, ";").encode())
    view, out = run_job_bytes(runtime, tmp_path, "check365", data, suffix=".csv")
    assert_one_row_out_per_row_in(view, out, rows)
    assert summary_of(out)["input_format"]["compression"] == "gzip"


def test_a_five_megabyte_notes_cell(runtime, check365, tmp_path):
    notes = "Called twice, left a message.\n" * (5 * 2**20 // 30)
    rows = contacts(3)
    text = "Email,Name,Company,Notes\r\n" + "".join(f'{",".join(r)},"{notes}"\r\n' for r in rows[:1])
    text += "".join(f"{','.join(r)},short\r\n" for r in rows[1:])
    view, out = run_job_bytes(runtime, tmp_path, "check365", text.encode())
    assert_one_row_out_per_row_in(view, out, rows)
    assert read_results(out)[0]["Notes"].replace("\r\n", "\n") == notes


def zip_of(names: list[str]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name in names:
            archive.writestr(name, "Email\na@example.com\n")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "suffix", "says"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n", ".pdf", "this is a PDF document, not a table"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01", ".png", "this is a PNG image, not a table"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504),
            ".xls",
            "Excel 97-2003 .xls workbook (or another old or password-protected Office file): open it in Excel "
            "and save it as .xlsx or CSV",
        ),
        (zip_of(["contacts.csv"]), ".zip", "zip archive of 1 file(s), not an .xlsx workbook: unzip it"),
        (
            b"Email,Name\r\na@example.com,A\r\nb@example.com,B\r\nc@example.com,C\r\n"
            b'"d@example.com,D\r\ne@example.com,E\r\nf@example.com,F\r\n',
            ".csv",
            "a quote opened on line 5 is never closed",
        ),
        (
            b"Email,Name\r\n"
            + b"".join(b"u%d@example.com,Jos\xe9\r\n" % n for n in range(300))
            + b"x@example.com,\x81\r\n",
            ".csv",
            "line 302 has bytes that are neither UTF-8 nor Windows-1252",
        ),
    ],
    ids=["pdf", "png", "xls", "zip", "unclosed-quote", "bad-byte-line-302"],
)
def test_what_is_not_a_table_fails_saying_what_it_is(runtime, check365, tmp_path, data, suffix, says):
    uploads = check365.uploads
    view, out = run_job_bytes(runtime, tmp_path, "check365", data, suffix=suffix)
    assert view.status == "FAILED"
    assert says in view.item["error"]
    assert summary_of(out)["error"] == view.item["error"]
    assert check365.uploads == uploads  # nothing reached the vendor


def test_a_file_over_the_row_limit_fails_before_anything_is_sent(runtime, check365, tmp_path, monkeypatch):
    prepare = lambdas.FUNCTIONS[runtime.function_name("PrepareFunction")]
    monkeypatch.setitem(prepare.environment, "MAX_INPUT_ROWS", "250")
    uploads = check365.uploads
    view, _ = run_job_bytes(runtime, tmp_path, "check365", delimited(contacts(251)).encode())
    assert view.status == "FAILED"
    assert "more than 250 rows, the limit (line 252 is row 251)" in view.item["error"]
    assert check365.uploads == uploads
