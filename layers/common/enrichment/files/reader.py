"""A dropped file opened as a table, whatever users really have: CSV in UTF-8 (with or without a BOM), UTF-16
or UTF-32 with a BOM, Windows-1252 or Latin-1; any line ends; comma, semicolon, tab or pipe delimiters;
gzip-compressed CSV; .xlsx workbooks. Anything else is refused saying what the file is and what to do.

Streamed: the kind of file, its encoding and its delimiter are decided from a bounded sample at its start, and
the rest is read as it comes, so memory does not grow with the file (a cell is held whole, up to the size
limit; an .xlsx workbook's shared strings are held whole, as openpyxl reads them).
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import itertools
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, Any, Protocol

from enrichment.errors import BadInput
from enrichment.files import csvio, formats, text
from enrichment.files.formats import Kind
from enrichment.settings import InputLimits

HEAD_BYTES = 1 << 20  # the sample the kind of file and its encoding are decided from


class InputSource(Protocol):
    """Where the file is: its size before a byte is read, a stream from its start, and seekable access."""

    @property
    def size(self) -> int: ...

    def stream(self) -> IO[bytes]: ...

    def seekable(self) -> IO[bytes]: ...


class LocalFile:
    """A file on this machine (`make preview`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = path
        self.size = os.stat(path).st_size

    def stream(self) -> IO[bytes]:
        return open(self.path, "rb")  # noqa: SIM115 (the table's resources close it)

    seekable = stream


class InMemoryFile:
    """A file built in memory (the API's inline records)."""

    def __init__(self, content: bytes) -> None:
        self.content = content
        self.size = len(content)

    def stream(self) -> IO[bytes]:
        return io.BytesIO(self.content)

    seekable = stream


@dataclass
class InputTable:
    """The file's header and rows. The rows own the open file: it closes when they are read to the end, or
    with close() (or a with block) when they are left unread."""

    header: list[str]
    rows: Iterator[tuple[int, list[str]]]
    _describe: Callable[[], dict[str, str]]
    _resources: contextlib.ExitStack

    @property
    def details(self) -> dict[str, str]:
        """How the file was read (format, encoding, delimiter, compression), for summary.json. The encoding is
        final once the rows are read: ASCII lines followed by Windows-1252 ones are Windows-1252."""
        return self._describe()

    def close(self) -> None:
        self._resources.close()

    def __enter__(self) -> InputTable:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def size_text(size: int) -> str:
    for unit, scale in (("GB", 10**9), ("MB", 10**6), ("KB", 10**3)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} bytes"


def open_table(source: InputSource, limits: InputLimits) -> InputTable:
    """The file as a header and rows; BadInput saying why when it is not a table."""
    if source.size > limits.max_bytes:
        raise BadInput(
            f"the file is {size_text(source.size)}, over the {size_text(limits.max_bytes)} limit: "
            "split it into smaller files"
        )
    if source.size == 0:
        raise BadInput("the file is empty: expected a header row and at least one row")
    resources = contextlib.ExitStack()
    try:
        header, rows, describe = _open(resources, source, limits)
    except BaseException:
        resources.close()
        raise
    return InputTable(header, _closing_when_done(rows, resources), describe, resources)


def _closing_when_done(
    rows: Iterator[tuple[int, list[str]]], resources: contextlib.ExitStack
) -> Iterator[tuple[int, list[str]]]:
    with resources:
        yield from rows


def _open(
    resources: contextlib.ExitStack, source: InputSource, limits: InputLimits
) -> tuple[list[str], Iterator[tuple[int, list[str]]], Callable[[], dict[str, str]]]:
    raw = resources.enter_context(contextlib.closing(source.stream()))
    head = _read_head(raw)
    kind = formats.identify(head)
    if kind is Kind.ZIP:
        raw.close()  # a zip archive is read from its end: seekable access instead
        archive = resources.enter_context(source.seekable())
        formats.require_xlsx(archive)
        from enrichment.files import xlsx  # openpyxl, for workbooks only

        sheet, records = resources.enter_context(xlsx.first_sheet(archive))
        header, rows = csvio.tabulate(records, max_rows=limits.max_rows)
        return header, rows, lambda: {"format": "xlsx", "sheet": sheet}
    stream: IO[bytes] = io.BufferedReader(_Rejoined(head, raw))
    compression: dict[str, str] = {}
    if kind is Kind.GZIP:
        stream = resources.enter_context(gzip.GzipFile(fileobj=stream))
        try:
            head = _read_head(stream)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadInput(f"the gzip file is damaged or cut short ({exc})") from None
        if formats.identify(head) is not Kind.TEXT:
            raise BadInput("this gzip file holds another archive: compress the CSV file itself with gzip")
        # Uncompressed, the file is held to the same size limit (a small gzip file can hold a huge one).
        stream = io.BufferedReader(_Rejoined(head, stream, limit=limits.max_bytes))
        compression = {"compression": "gzip"}
    return _text_table(head, stream, limits, compression)


def _text_table(
    head: bytes, stream: IO[bytes], limits: InputLimits, compression: dict[str, str]
) -> tuple[list[str], Iterator[tuple[int, list[str]]], Callable[[], dict[str, str]]]:
    encoding = text.detect_encoding(head, whole=len(head) < HEAD_BYTES)
    lines = text.Lines(stream, encoding)
    physical = iter(lines)
    sample = text.first_lines(physical)
    ends = text.line_ends(sample)
    first_line = 1
    if sample and (delimiter := text.sep_line(sample[0])):
        sample.pop(0)  # Excel's "sep=;" line: it is not the header, and lines still count it
        first_line = 2
    else:
        delimiter = text.sniff_delimiter(sample)
    csv.field_size_limit(limits.max_bytes)  # a cell may be as large as the file may be
    header, rows = csvio.read_rows(
        itertools.chain(sample, physical), delimiter=delimiter, first_line=first_line, max_rows=limits.max_rows
    )

    def describe() -> dict[str, str]:
        found = {"format": "csv", "encoding": lines.encoding.name, "delimiter": delimiter, "line_ends": ends}
        return found | compression

    return header, rows, describe


def _read_head(stream: IO[bytes]) -> bytes:
    parts: list[bytes] = []
    left = HEAD_BYTES
    while left and (part := stream.read(left)):
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


class _Rejoined(io.RawIOBase):
    """The sample already read, then the rest of the stream: one stream again. With `limit`, a stream that
    goes on past `limit` bytes is refused as over the size limit."""

    def __init__(self, head: bytes, rest: IO[bytes], *, limit: int | None = None) -> None:
        self._head = memoryview(head)
        self._rest = rest
        self._limit = limit
        self._read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._read < len(self._head):
            data: bytes | memoryview = self._head[self._read : self._read + len(buffer)]
        else:
            data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        self._read += len(data)
        if self._limit is not None and self._read > self._limit:
            raise BadInput(
                f"uncompressed, the file is over the {size_text(self._limit)} limit: split it into smaller files"
            )
        return len(data)
