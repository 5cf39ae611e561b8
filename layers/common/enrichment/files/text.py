"""Text files as users have them: their encoding, their lines as written, their delimiter.

The encoding: a byte-order mark says it (UTF-8, UTF-16, UTF-32); else UTF-8 when the bytes are UTF-8; else
Windows-1252 (what Excel for Windows saves as "CSV") when charset-normalizer finds they read as text in it or in
Latin-1, whose letters are Windows-1252's: a Latin-1 file reads the same either way. Lines end with
LF, CRLF or CR, or a mix of them. The delimiter is a comma, semicolon, tab or pipe (csv.Sniffer, restricted to
those; the header's own when the rows do not settle it), or what Excel's `sep=` first line says.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from enrichment.errors import BadInput

SAVE_AS_UTF8 = 'save it as "CSV UTF-8" and drop it again'
_BOMS = (  # UTF-32's BOMs first: UTF-32LE's begins with UTF-16LE's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32BE"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16BE"),
)
# Decoding marks each byte it cannot read as a lone surrogate (errors="surrogateescape"), which no decoded
# text holds otherwise: the line that has one is the line to name.
_UNREADABLE = re.compile("[\x00\udc80-\udcff]")
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")
DELIMITERS = ",;\t|"
SNIFF_LINES = 50
SNIFF_CHARS = 64 << 10
_SEP_LINE = re.compile(r'\A"?sep=(.)"?\s*\Z')


@dataclass
class Encoding:
    codec: str  # Python's codec
    name: str  # as summary.json says it
    # False while every line read was ASCII: a later line that is not UTF-8 may still show Windows-1252.
    decided: bool = True


def line_of(data: bytes, offset: int) -> int:
    """The line (from 1) that the byte at `offset` of the file's start `data` is on."""
    return len(_LINE_BREAK.findall(data, 0, offset)) + 1


def windows_1252() -> Encoding:
    return Encoding("cp1252", "windows-1252")


def reads_as_western_text(data: bytes) -> bool:
    """Whether charset-normalizer finds `data` is text in Windows-1252 or Latin-1. Either way it is decoded as
    Windows-1252 (strictly): bytes it leaves undefined are not letters in Latin-1 either, but C1 control codes,
    and name the line to fix."""
    import charset_normalizer  # only for a file that is not UTF-8: most never need it

    return charset_normalizer.from_bytes(data, cp_isolation=["cp1252", "latin_1"]).best() is not None


def detect_encoding(head: bytes, *, whole: bool) -> Encoding:
    """The encoding of a text file whose first bytes are `head` (the whole file when `whole`)."""
    for bom, codec, name in _BOMS:
        if head.startswith(bom):
            return Encoding(codec, name)
    if (nul := head.find(b"\x00")) >= 0:
        raise BadInput(f"line {line_of(head, nul)} has NUL bytes: this is a binary file, not a table of text")
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=whole)  # a sequence cut at the end may go on
    except UnicodeDecodeError as exc:
        first_bad = exc.start
    else:
        return Encoding("utf-8", "UTF-8", decided=whole or not head.isascii())
    try:
        head.decode("cp1252")
    except UnicodeDecodeError as exc:
        first_bad = exc.start  # a byte Windows-1252 leaves undefined: its line is the one to fix
    else:
        if reads_as_western_text(head):
            return windows_1252()
    raise BadInput(
        f"line {line_of(head, first_bad)} has bytes that are neither UTF-8 nor Windows-1252 "
        f"(0x{head[first_bad]:02x}): {SAVE_AS_UTF8}"
    )


class Lines:
    """The file's physical lines as written, line ends kept (csv needs them), numbered from 1 as the file's
    own lines: any of LF, CRLF and CR ends a line. Each is checked for bytes its encoding cannot read."""

    def __init__(self, stream: IO[bytes], encoding: Encoding) -> None:
        self.encoding = encoding
        self.number = 0
        # newline="": any line end splits lines and is kept as it is (the csv module's own advice).
        self._text = io.TextIOWrapper(stream, encoding=encoding.codec, errors="surrogateescape", newline="")
        self._switched = False  # to Windows-1252, after ASCII lines

    def __iter__(self) -> Iterator[str]:
        while True:
            try:
                line = self._text.readline()
            except UnicodeDecodeError:  # what surrogateescape cannot mark (a UTF-16 file cut mid-character)
                raise BadInput(
                    f"after line {self.number}, the file is not valid {self.encoding.name}: {SAVE_AS_UTF8}"
                ) from None
            except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
                raise BadInput(f"the gzip file is damaged or cut short after line {self.number} ({exc})") from None
            if not line:
                return
            self.number += 1
            if self._switched:
                line = self._transcoded(line)
            elif _UNREADABLE.search(line):
                line = self._unreadable(line)
            elif not self.encoding.decided and not line.isascii():
                self.encoding.decided = True  # UTF-8 beyond ASCII: UTF-8 for good
            yield line

    def _unreadable(self, line: str) -> str:
        found = _UNREADABLE.search(line)
        assert found is not None
        if found.group() == "\x00":
            raise BadInput(f"line {self.number} has NUL bytes: this is a binary file, not a table of text")
        byte = f"0x{ord(found.group()) - 0xDC00:02x}"
        if self.encoding.codec == "utf-8" and not self.encoding.decided:
            # ASCII until here, so as much Windows-1252 as UTF-8: this line decides.
            if reads_as_western_text(line.encode("utf-8", "surrogateescape")):
                self._switched = True
                self.encoding = windows_1252()
                return self._transcoded(line)
        elif self.encoding.codec == "utf-8":
            raise BadInput(
                f"line {self.number} has bytes that are not UTF-8 ({byte}) though the lines before it are: "
                f"the file mixes encodings; {SAVE_AS_UTF8}"
            )
        elif self.encoding.codec != "cp1252":
            raise BadInput(f"line {self.number} has bytes that are not valid {self.encoding.name} ({byte})")
        raise BadInput(f"line {self.number} has bytes that are neither UTF-8 nor Windows-1252 ({byte}): {SAVE_AS_UTF8}")

    def _transcoded(self, line: str) -> str:
        """A line decoded as UTF-8 (its unreadable bytes marked), decoded again from its own bytes as Windows-1252."""
        raw = line.encode("utf-8", "surrogateescape")
        try:
            return raw.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise BadInput(
                f"line {self.number} has bytes that are neither UTF-8 nor Windows-1252 (0x{raw[exc.start]:02x}): "
                f"{SAVE_AS_UTF8}"
            ) from None


def sep_line(line: str) -> str | None:
    """The delimiter Excel's first line `sep=;` names, if the line is one."""
    found = _SEP_LINE.match(line)
    return found.group(1) if found else None


def first_lines(lines: Iterator[str]) -> list[str]:
    """The lines the delimiter is sniffed from: SNIFF_LINES of them, fewer when they pass SNIFF_CHARS."""
    sample: list[str] = []
    chars = 0
    for line in lines:
        sample.append(line)
        chars += len(line)
        if len(sample) == SNIFF_LINES or chars >= SNIFF_CHARS:
            break
    return sample


def line_ends(lines: list[str]) -> str:
    """How the sample's lines end, as the preview reports it: LF, CRLF, CR, mixed, or none (a single line)."""
    seen = {
        "CRLF" if line.endswith("\r\n") else "LF" if line.endswith("\n") else "CR"
        for line in lines
        if line.endswith(("\n", "\r"))
    }
    return seen.pop() if len(seen) == 1 else ("mixed" if seen else "none")


def sniff_delimiter(lines: list[str]) -> str:
    """The delimiter of the header and first rows: whichever of comma, semicolon, tab and pipe csv.Sniffer finds
    splitting them alike, if the header holds it; else the one the header holds most (the rows may not split
    alike: a short row); a comma when the header holds none (a single column)."""
    sample: list[str] = []
    for line in lines:
        if sample and sum(map(len, sample)) + len(line) > SNIFF_CHARS:
            break  # a huge cell is no help: the lines before it are sample enough
        sample.append(line.rstrip("\r\n") + "\n")  # the Sniffer splits lines on LF alone
    if not sample:
        return ","
    try:
        found = csv.Sniffer().sniff("".join(sample), delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = None
    if found and found in sample[0]:
        return found
    # max() keeps the first of equals: a comma first.
    most = max(DELIMITERS, key=sample[0].count)
    return most if most in sample[0] else ","
