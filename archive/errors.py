"""The one exception of the archive library, and how an SQLite error becomes it."""

from __future__ import annotations

import sqlite3


class ArchiveError(Exception):
    """The archive file cannot be opened or written (bad path, not SQLite, locked, disk full).

    ``kind`` says which: ``full`` (the disk, or the ``max_pages`` limit), ``locked`` (another
    program holds a write lock past the busy timeout), or ``other``.
    """

    def __init__(self, message: str, kind: str = "other") -> None:
        super().__init__(message)
        self.kind = kind


def error_kind(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith("SQLITE_FULL") or "is full" in text:
        return "full"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return "locked"
    return "other"
