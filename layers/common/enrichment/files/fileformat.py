"""How the reader reads a file, as the preview reports it.

The reader (csvio.read_rows over storage.iter_text_lines) reads UTF-8, skipping a BOM, with commas between
cells, and takes LF and CRLF line ends alike. `describe` reports that and the line ends the file's first bytes
use. A reader that detects encodings and delimiters reports its own findings in this model instead.
"""

from __future__ import annotations

import codecs

from pydantic import BaseModel, Field

HEAD_BYTES = 64 * 1024  # enough lines to tell the line ends apart


class FileFormat(BaseModel):
    encoding: str = Field(description='what the file is decoded as, e.g. "UTF-8 with BOM"')
    delimiter: str = Field(description="the character between cells")
    line_ends: str = Field(description="LF, CRLF, CR, mixed, or none (a single line)")


def describe(head: bytes) -> FileFormat:
    """The format the reader reads a file as, from the file's first bytes."""
    crlf = head.count(b"\r\n")
    ends = {"CRLF": crlf, "LF": head.count(b"\n") - crlf, "CR": head.count(b"\r") - crlf}
    seen = [name for name, count in ends.items() if count]
    return FileFormat(
        encoding="UTF-8 with BOM" if head.startswith(codecs.BOM_UTF8) else "UTF-8",
        delimiter=",",
        line_ends=seen[0] if len(seen) == 1 else ("mixed" if seen else "none"),
    )
