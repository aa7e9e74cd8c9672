"""The connection under :class:`archive.Archive`: opening the file at the right schema version,
write transactions, closing, and the ``archive_meta`` and ``regions`` tables."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import sqlite_utils

from archive import migrations
from archive.durable import sync_later
from archive.errors import ArchiveError, error_kind

_C = TypeVar("_C", bound="Connection")


class _Database(sqlite_utils.Database):
    """sqlite-utils' Database whose :meth:`atomic` opens no savepoint inside a transaction while
    ``flat`` is set (see :meth:`Connection.transaction`)."""

    flat = False

    @contextmanager
    def atomic(self) -> Iterator[_Database]:
        if self.flat and self.conn.in_transaction:
            yield self
            return
        with super().atomic():
            yield self


class Connection:
    """An open archive file; :class:`archive.Archive` adds the methods of each table group."""

    def __init__(
        self,
        path: str | Path,
        readonly: bool = False,
        timeout: float = 30.0,
        max_pages: int | None = None,
        create: bool = True,
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        #: tag name -> id, filled as tags are written
        self._tag_ids: dict[str, int] = {}
        if self.path.parent and not self.path.parent.exists():
            raise ArchiveError(f"folder {self.path.parent} does not exist")
        if readonly and not self.path.exists():
            raise ArchiveError(f"archive {self.path} does not exist")
        try:
            if readonly:
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
                self.db = _Database(conn)
                migrations.refuse_newer(migrations.stored_version(self.db), self.path)
                return
            conn = sqlite3.connect(str(self.path), timeout=timeout)
            self.db = _Database(conn)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            if max_pages:
                self.db.execute(f"PRAGMA max_page_count = {int(max_pages)}")
            version = migrations.stored_version(self.db)
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"cannot use {self.path} as an archive: {exc}", error_kind(exc)) from exc
        except ArchiveError:
            self.db.close()
            raise
        try:
            migrations.refuse_newer(version, self.path)
            if create and version != migrations.SCHEMA_VERSION:
                self._bring_up_to_date(version)
        except ArchiveError:
            self.db.close()
            raise

    def _bring_up_to_date(self, version: int | None) -> None:
        """Create a new archive's tables, or copy an older one beside itself and upgrade it, in one
        transaction; the version is read again under the write lock (another process may have
        done it meanwhile)."""
        copy = migrations.backup(self.db.conn, self.path, version) if version is not None else None
        try:
            with self._writing("the schema"):
                version = migrations.stored_version(self.db)
                migrations.refuse_newer(version, self.path)
                if version is None:
                    migrations.create(self.db)
                elif version < migrations.SCHEMA_VERSION:
                    migrations.upgrade(self.db, version, copy)
        finally:
            if copy is not None:
                copy.unlink(missing_ok=True)  # not used: another process upgraded the file first

    @contextmanager
    def _writing(self, what: str, savepoints: bool = True) -> Iterator[None]:
        """One write transaction, taken with ``BEGIN IMMEDIATE`` so it waits for the write lock up
        front (never failing half-way on a stale read); any SQLite error rolls all of it back and
        becomes an :class:`ArchiveError` naming ``what`` was being written (a constraint
        violation stays an ``sqlite3.IntegrityError``, also rolled back). Without ``savepoints``
        the writes inside open none (see :meth:`transaction`)."""
        conn = self.db.conn
        try:
            if conn.in_transaction:  # nested in another write: a savepoint of it (unless flat)
                with self.db.atomic():
                    yield
                return
            conn.execute("BEGIN IMMEDIATE")
            self.db.flat = not savepoints
            try:
                with self.db.atomic():  # a savepoint inside (none when flat): rolled back on any error
                    yield
                conn.execute("COMMIT")
            finally:
                self.db.flat = False
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                    self._tag_ids.clear()  # tag ids learnt inside the rolled-back transaction are void
        except sqlite3.IntegrityError:
            self._tag_ids.clear()  # tag ids learnt inside the rolled-back transaction are void
            raise  # a record that breaks a constraint: that record's problem, not the archive's
        except sqlite3.Error as exc:
            self._tag_ids.clear()
            raise self._failure(exc, what) from exc

    def _failure(self, exc: sqlite3.Error, what: str) -> ArchiveError:
        kind = error_kind(exc)
        if kind == "full":
            message = (
                f"cannot write {what} to {self.path}: the disk is full or the archive reached its size limit"
                f" ({exc}); nothing of it was stored"
            )
        elif kind == "locked":
            message = (
                f"cannot write {what} to {self.path}: another program holds a write lock on it ({exc});"
                " nothing of it was stored"
            )
        else:
            message = f"cannot write {what} to {self.path}: {exc}; nothing of it was stored"
        return ArchiveError(message, kind)

    def defer_checkpoints(self, pages: int = 10_000) -> None:
        """Let the write-ahead log grow to ``pages`` pages (4 KiB each) before a commit folds it into
        the file, instead of SQLite's 1,000. A checkpoint copies every page changed since the last
        and syncs both files, in the committing thread: a crawl's group commits write about 500
        pages each, and at 1,000 pages a checkpoint ran every other commit (1.4 s of the 14 s a
        2,975-article crawl of the sample site took); pages changed by several commits are copied
        once. With ``synchronous=NORMAL`` the log is synced only at checkpoints, so a writer that
        defers them should sync it itself (:meth:`flush_log`) or a power cut may lose more commits."""
        self.db.execute(f"PRAGMA wal_autocheckpoint = {int(pages)}")

    def flush_log(self) -> Callable[[], None]:
        """The call that puts every transaction committed so far on the disk: an fsync of the
        write-ahead log, which may run in another thread while this connection goes on writing."""
        try:  # SQLite keeps the log beside the file a symlinked path points to
            fd = os.open(f"{os.path.realpath(self.path)}-wal", os.O_RDONLY)
        except FileNotFoundError:
            fd = None
        return sync_later(fd)

    def close(self) -> None:
        """Close; a writer first folds the write-ahead log into the file and empties it, so a copy
        of the file alone holds everything (readers of the live file see it either way)."""
        if not self.readonly:
            try:
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError:
                pass  # a reader still has the file open; SQLite checkpoints later by itself
        self.db.close()

    def __enter__(self: _C) -> _C:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self: _C, what: str = "several items", savepoints: bool = True) -> Iterator[_C]:
        """One transaction around several write methods (each of them nests as a savepoint);
        ``what`` names the writes in the error raised when the transaction fails.

        With ``savepoints=False`` the methods inside open no savepoint (nor do sqlite-utils'
        ``atomic()`` blocks), so one that fails leaves its partial writes: the transaction must
        then be rolled back whole, as leaving the block by the error does. For many writes at
        once: a savepoint journals every page it changes (to a temporary file past 64 KiB) and
        makes SQLite's full-text index write out what it holds, a segment each; on a crawl's group
        commits that was 0.65 s of their 2.2 s of CPU (2,975 articles of the sample site)."""
        with self._writing(what, savepoints):
            yield self

    def meta(self, key: str) -> str | None:
        found = self.db.execute("SELECT value FROM archive_meta WHERE key = ?", [key]).fetchone()
        return found[0] if found else None

    def set_meta(self, key: str, value: str) -> None:
        with self.db.atomic():  # plain SQL: sqlite-utils' upsert probes with a scratch table (a schema change)
            self.db.execute(
                "INSERT INTO archive_meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
            )

    def count(self, table: str) -> int:
        return self.db[table].count

    def sync_regions(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Insert or refresh the region registry rows (slug, host, name, time_zone, utc_offset)."""
        with self._writing("the region registry"):
            self.db.table("regions").upsert_all([dict(r) for r in rows], pk="slug")

    def _find(self, site: str, article_id: int) -> tuple[str, str] | None:
        found = self.db.execute(
            "SELECT url, content_hash FROM articles WHERE site = ? AND article_id = ?", [site, article_id]
        ).fetchone()
        return (found[0], found[1]) if found else None


@lru_cache(maxsize=64)
def insert_sql(table: str, columns: tuple[str, ...], verb: str = "") -> str:
    names = ", ".join(f"[{c}]" for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT {verb} INTO [{table}] ({names}) VALUES ({marks})"


def checkpoint(path: str | Path) -> bool:
    """Fold the write-ahead log into the archive file and empty it, so a copy of the file alone
    holds everything; best effort (False when another connection is busy or the file is unusable)."""
    try:
        conn = sqlite3.connect(str(path), timeout=1)
    except sqlite3.Error:
        return False
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return bool(busy) and busy[0] == 0
    except sqlite3.Error:
        return False
    finally:
        conn.close()
