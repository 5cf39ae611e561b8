"""What kind of file was dropped, from its first bytes (and a zip archive's table of contents), and the plain
words that refuse the kinds that are not tables."""

from __future__ import annotations

import re
import zipfile
from enum import StrEnum
from typing import IO

from enrichment.errors import BadInput

SAVE_AS = "save it as .xlsx or CSV and drop it again"


class Kind(StrEnum):
    TEXT = "text"
    GZIP = "gzip"
    ZIP = "zip"


# Signatures of files people drop by mistake, and what to tell them.
_REFUSED_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "this is a PDF document, not a table: export the table as CSV or .xlsx and drop that"),
    (b"\x89PNG\r\n\x1a\n", "this is a PNG image, not a table"),
    (b"\xff\xd8\xff", "this is a JPEG image, not a table"),
    (b"GIF87a", "this is a GIF image, not a table"),
    (b"GIF89a", "this is a GIF image, not a table"),
    # The Compound File format: Excel 97-2003 .xls (and Word .doc, and any password-protected Office file).
    (
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        "this is an Excel 97-2003 .xls workbook (or another old or password-protected Office file): "
        f"open it in Excel and {SAVE_AS}",
    ),
    (b"{\\rtf", "this is an RTF document, not a table: export the table as CSV or .xlsx"),
    (b"7z\xbc\xaf\x27\x1c", "this is a 7-Zip archive: extract the CSV from it and drop that (or a .csv.gz)"),
    (b"Rar!\x1a\x07", "this is a RAR archive: extract the CSV from it and drop that (or a .csv.gz)"),
    (b"BZh", "this is a bzip2-compressed file: decompress it, or compress the CSV with gzip instead"),
    (b"\xfd7zXZ\x00", "this is an xz-compressed file: decompress it, or compress the CSV with gzip instead"),
    (b"SQLite format 3\x00", "this is an SQLite database, not a table: export the table as CSV"),
    (b"PAR1", "this is a Parquet file: export it as CSV"),
)
_HTML = re.compile(rb"\A(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html)", re.IGNORECASE)
_EXCEL_2003_XML = b"urn:schemas-microsoft-com:office:spreadsheet"


def identify(head: bytes) -> Kind:
    """The kind of file whose first bytes are `head`; BadInput, saying what it is, when it is not a table."""
    for signature, refusal in _REFUSED_SIGNATURES:
        if head.startswith(signature):
            raise BadInput(refusal)
    if head.startswith(b"\x1f\x8b"):
        return Kind.GZIP
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return Kind.ZIP
    if _HTML.match(head):
        raise BadInput(f"this is a web page (HTML), which some programs name .xls: open it in Excel and {SAVE_AS}")
    if head.lstrip().startswith(b"<?xml") and _EXCEL_2003_XML in head:
        raise BadInput(f"this is an Excel 2003 XML spreadsheet: open it in Excel and {SAVE_AS}")
    return Kind.TEXT


def require_xlsx(archive: IO[bytes]) -> None:
    """A zip archive is read only when it is an .xlsx workbook; any other is refused saying what it is."""
    try:
        with zipfile.ZipFile(archive) as opened:
            names = set(opened.namelist())
            mimetype = opened.read("mimetype")[:100].decode("ascii", "replace") if "mimetype" in names else ""
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise BadInput(f"this is a damaged zip archive or .xlsx workbook ({exc}): {SAVE_AS}") from None
    if "xl/workbook.bin" in names:
        raise BadInput(f"this is an Excel binary workbook (.xlsb): open it in Excel and {SAVE_AS}")
    if "xl/workbook.xml" in names:
        return
    if "word/document.xml" in names:
        raise BadInput("this is a Word document (.docx), not a table: put the table in Excel and save it as .xlsx")
    if any(name.startswith("ppt/") for name in names):
        raise BadInput("this is a PowerPoint presentation (.pptx), not a table")
    if "opendocument.spreadsheet" in mimetype:
        raise BadInput(f"this is an OpenDocument spreadsheet (.ods): {SAVE_AS}")
    if "opendocument" in mimetype:
        raise BadInput("this is an OpenDocument file, not a table")
    raise BadInput(
        f"this is a zip archive of {len(names)} file(s), not an .xlsx workbook: unzip it and drop the CSV "
        "inside (gzip-compressed CSV, .csv.gz, is read as it is)"
    )
