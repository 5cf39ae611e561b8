"""Hypothesis strategies: CSV files as programs and people write them, in random dialects.

A file: a header naming the column a vendor matches on (Email, or InsideView Contact ID) among others, then
0..N rows; the delimiter a comma, semicolon, tab or pipe (Excel's `sep=` line naming it, or not); line ends
LF, CRLF, CR or a mix; UTF-8 with or without a BOM, UTF-16 (BOM), or Windows-1252 when every cell is
representable in it; quoting minimal or of every cell, cells holding delimiters, quotes and line ends; rows
that are blank, short, or longer than the header; the matched-on cells a mix of valid, invalid, duplicate,
placeholder and formula-like values. Each file knows the rows it holds, as the reader must give them back.
"""

from __future__ import annotations

import codecs
import csv
import io
from dataclasses import dataclass

from hypothesis import strategies as st

DELIMITERS = (",", ";", "\t", "|")
LINE_ENDS = ("\r\n", "\n", "\r")
ENCODINGS = ("utf-8", "utf-8-sig", "utf-16", "utf-16-be", "cp1252")
KEY_HEADERS = {"check365": "Email", "insideview": "InsideView Contact ID"}
OTHER_HEADERS = ("Name", "Company", "Notes", "Phone", "City", "Title")

# Cells people's files hold, every one representable in Windows-1252.
WORDS = (
    "Ada",
    "Zoë Ådahl",
    "José Müller",
    "Société Générale",
    "O'Brien",
    "Lovelace, Ada",
    'He said "hi"',
    "a;b",
    "x|y",
    "tab\there",
    "two\nlines",
    "cr\ronly",
    "crlf\r\nend",
    "  padded  ",
    "",
    " ",
    "n/a",
    "#N/A",
    "-",
    "(none)",
    "=1+1",
    '=HYPERLINK("http://x")',
    "+1 555 0100",
    "@handle",
    "1.5E+06",
    "00123",
    "1,5",
    "Email",
    "“Acme” — €5",
)
INVALID_EMAILS = (
    "no-at-sign",
    "a@b",
    "<ada@example.com>",
    "Ada <ada@example.com>",
    '"ada"@example.com',
    "ada@example.com.",
    "ada..b@example.com",
    "-ada@example.com",
    "@example.com",
    "a" * 65 + "@example.com",
    "=1+1@example.com",
    "ada@[127.0.0.1]",
)
UNICODE_EMAILS = ("用户@例子.广告", "ñandú@correo.es")  # not representable in Windows-1252 (the first)
INVALID_IDS = ("1.35E+07", "13496440.0", "13,496,440", "-1", "abc123", "12 345", "=1+1", "٣٤٥")


@dataclass(frozen=True)
class GeneratedCsv:
    vendor: str
    data: bytes
    header: list[str]
    written: list[list[str]]  # the data rows, as written
    key_column: int  # the column the vendor matches on
    dialect: str  # for a failure's message: encoding, delimiter, line ends, quoting

    @property
    def rows(self) -> list[list[str]]:
        """The rows as the reader must give them back: as written, less empty cells past the header's."""
        width = len(self.header)
        return [
            cells[:width] if len(cells) > width and not any(c.strip() for c in cells[width:]) else cells
            for cells in self.written
        ]


def _free_text(western: bool) -> st.SearchStrategy[str]:
    if western:  # accents come in words (WORDS): charset-normalizer rightly refuses a soup of them as text
        alphabet = st.sampled_from("abcXYZ 019.,;|\t\r\n\"'=+-@#")
    else:  # any character a file can hold, but NUL (refused: a binary file)
        alphabet = st.characters(exclude_categories=("Cs",), exclude_characters="\x00")
    return st.text(alphabet, max_size=12)


def _emails(western: bool) -> st.SearchStrategy[str]:
    locals_ = st.sampled_from(["ada", "Ada", "bob", "ada+crm", "b.moss", "jürgen", "x_y"])
    domains = st.sampled_from(["example.com", "Example.COM", "münchen.de", "xn--mnchen-3ya.de", "sub.example.co.uk"])
    built = st.builds(
        lambda local, domain, pad: f"{pad}{local}@{domain}{pad}", locals_, domains, st.sampled_from(["", " "])
    )
    choices = [built, built, st.sampled_from(INVALID_EMAILS), st.sampled_from(WORDS), _free_text(western)]
    if not western:
        choices.append(st.sampled_from(UNICODE_EMAILS))
    return st.one_of(choices)


def _contact_ids(western: bool) -> st.SearchStrategy[str]:
    digits = st.text("0123456789", min_size=1, max_size=9)
    padded = st.builds(lambda d, pad: f"{pad}{d}{pad}", digits, st.sampled_from(["", " "]))
    return st.one_of(
        padded, padded, st.sampled_from(INVALID_IDS[:-1] if western else INVALID_IDS), st.sampled_from(WORDS)
    )


@st.composite
def csv_files(draw: st.DrawFn, vendor: str = "check365", max_rows: int = 25, max_columns: int = 5) -> GeneratedCsv:
    encoding = draw(st.sampled_from(ENCODINGS))
    western = encoding == "cp1252"
    columns = draw(st.integers(1, max_columns))
    others = draw(st.permutations(OTHER_HEADERS))[: columns - 1]
    key_column = draw(st.integers(0, columns - 1))
    header = [*others[:key_column], KEY_HEADERS[vendor], *others[key_column:]]
    # A one-column file has no delimiter to tell: it is written, and read, by comma rules.
    delimiter = draw(st.sampled_from(DELIMITERS)) if columns > 1 else ","
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    line_end = draw(st.sampled_from((*LINE_ENDS, "mixed")))
    sep_line = columns > 1 and draw(st.booleans())

    key_cells = _emails(western) if vendor == "check365" else _contact_ids(western)
    other_cells = st.one_of(st.sampled_from(WORDS), _free_text(western))
    rows: list[list[str]] = []
    for _ in range(draw(st.integers(0, max_rows))):
        cells = [draw(key_cells) if i == key_column else draw(other_cells) for i in range(columns)]
        shape = draw(st.sampled_from(["whole"] * 6 + ["blank", "short", "trailing", "longer"]))
        if shape == "blank":
            cells = []
        elif shape == "short":
            cells = cells[: draw(st.integers(1, columns))]
        elif shape == "trailing":
            cells += [""] * draw(st.integers(1, 3))
        elif shape == "longer":
            cells += [draw(st.sampled_from(WORDS[:4]))]
        rows.append(cells)

    lines = [f"sep={delimiter}"] if sep_line else []
    lines += [_line(cells, delimiter, quoting) for cells in [header, *rows]]
    ends = [draw(st.sampled_from(LINE_ENDS)) if line_end == "mixed" else line_end for _ in lines]
    for n in range(1, len(lines)):
        if ends[n - 1] == "\r" and not lines[n] and ends[n].startswith("\n"):
            ends[n - 1] = "\r\n"  # CR, then an empty line's LF, is one CRLF: the empty line would vanish
    text = "".join(line + end for line, end in zip(lines, ends, strict=True))
    # utf-8-sig and utf-16 write their BOM; utf-16-be is given one
    data = codecs.BOM_UTF16_BE + text.encode("utf-16-be") if encoding == "utf-16-be" else text.encode(encoding)
    dialect = f"{encoding}, {delimiter!r}, {line_end!r}, quoting {quoting}, sep line {sep_line}"
    return GeneratedCsv(vendor, data, header, rows, key_column, dialect)


def _line(cells: list[str], delimiter: str, quoting: int) -> str:
    """One row as csv.writer writes it, without its line end (any cell holding CR or LF is quoted)."""
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator="\r\n").writerow(cells)
    return out.getvalue().removesuffix("\r\n")
