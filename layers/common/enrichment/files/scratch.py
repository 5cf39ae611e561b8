"""Scratch space on disk for what a step remembers about the rows of a large file: a sqlite3 database in the
function's temporary directory (/tmp on Lambda), so memory stays at sqlite's page cache whatever the file's size.
Nothing in it outlives the step: it is deleted on close (or when the object is collected)."""

from __future__ import annotations

import tempfile
from pathlib import Path

CACHE_KIB = 4096  # sqlite's page cache: the most memory one scratch database takes


class ScratchDb:
    def __init__(self, schema: str) -> None:
        import sqlite3  # only the steps that read rows open one

        self._folder = tempfile.TemporaryDirectory(prefix="scratch-")
        self.db = sqlite3.connect(Path(self._folder.name) / "scratch.db")
        # Nothing to recover after a crash (the step starts over): no journal, no waiting for the disk.
        self.db.executescript(
            f"PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF; PRAGMA cache_size = -{CACHE_KIB};"
            "PRAGMA temp_store = FILE;" + schema
        )

    def close(self) -> None:
        self.db.close()
        self._folder.cleanup()

    def __enter__(self) -> ScratchDb:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
