"""Whether a file can be served as an archive, and how: live (following crawls) or immutable."""

from __future__ import annotations

import fcntl
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from crawler.domain.lock import lock_path

RECENT_RUN = timedelta(hours=24)  # a run still 'running' after this is taken for a crawl that died


class ArchiveUnusable(Exception):
    """The file cannot be served as an archive (missing, not SQLite, no articles table, unreadable)."""


@dataclass(frozen=True)
class ServeMode:
    immutable: bool
    reason: str

    @property
    def name(self) -> str:
        return "immutable" if self.immutable else "live"


def choose_mode(path: Path, requested: str = "auto", now: datetime | None = None) -> ServeMode:
    """Live unless ``requested`` is ``immutable``; check that the file is an archive either way.

    Live (``auto``, ``live``): Datasette's read-only ``mode=ro`` connections on the archive,
    which a crawl keeps in WAL mode, so every page load reads the last committed state and
    nothing a crawl does (writing, a checkpoint, a kill) can make a page fail or go stale.
    Immutable: ``immutable=1``, for a copy nothing writes; refused while a crawl holds the
    archive's lock, since reading a changing file that way answers "malformed" errors.
    The probe never opens a file a crawl may be writing with ``immutable=1``.
    """
    _check_sqlite_file(path)
    holder = crawl_lock_holder(path)
    if requested == "immutable" and holder is not None:
        raise ArchiveUnusable(
            f"a crawl is writing {path} ({holder}); --mode immutable is for a file nothing writes:"
            " leave out --mode to follow the crawl"
        )
    tables, running = _probe(path, immutable=requested == "immutable")
    if "articles" not in tables or "articles_fts" not in tables:
        raise ArchiveUnusable(f"{path} is a SQLite file but not an antara archive (no articles table)")
    notes = []
    if holder is not None:
        notes.append(f"a crawl is writing it now ({holder})")
    elif running is not None:
        started = _parse_time(running[1])
        if started is not None and (now or datetime.now(timezone.utc)) - started < RECENT_RUN:
            notes.append(f"crawl run {running[0]}, started {running[1]}, is still marked running")
    if requested != "immutable":
        return ServeMode(False, "; ".join(["new rows show on the next page load", *notes]))
    wal = path.with_name(path.name + "-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    if wal_bytes:
        notes.append(f"its write-ahead log holds {wal_bytes:,} bytes that this mode does not read")
    return ServeMode(True, "; ".join(["--mode immutable: later changes are not shown until a restart", *notes]))


def _probe(path: Path, immutable: bool) -> tuple[set[str], tuple[int, str] | None]:
    """The file's table names and its latest run still marked running, read as the server will read them."""
    uri = f"{path.resolve().as_uri()}?{'immutable=1' if immutable else 'mode=ro'}"
    try:
        # the busy timeout covers a file still in rollback-journal mode while a crawl commits to it
        conn = sqlite3.connect(uri, uri=True, timeout=10)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            running = (
                conn.execute(
                    "SELECT id, started_at FROM crawl_runs WHERE outcome = 'running' ORDER BY id DESC LIMIT 1"
                ).fetchone()
                if "crawl_runs" in tables
                else None
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        if getattr(exc, "sqlite_errorname", "") in _CANNOT_SHARE:
            raise ArchiveUnusable(
                f"cannot follow {path} live: SQLite must create {path.name}-wal and {path.name}-shm in"
                f" {path.resolve().parent}, which this user cannot write ({exc}); give it write access to"
                " that folder (the archive stays read-only), or serve a copy nothing writes with --mode immutable"
            ) from None
        raise ArchiveUnusable(f"cannot read {path}: {exc}") from None
    return tables, running


#: errors of a ``mode=ro`` connection that cannot create the WAL's shared-memory file beside the archive
_CANNOT_SHARE = ("SQLITE_READONLY_DIRECTORY", "SQLITE_CANTOPEN", "SQLITE_READONLY_CANTINIT")


def crawl_lock_holder(path: Path) -> str | None:
    """Who holds ``antara crawl``'s lock on the archive (``pid N, started T``), or None."""
    lock = lock_path(path)
    if not lock.exists():
        return None
    with lock.open(encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or "unknown process"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def _check_sqlite_file(path: Path) -> None:
    if not path.exists():
        raise ArchiveUnusable(f"no archive at {path}; create one with: antara crawl --db {path}")
    if not path.is_file():
        raise ArchiveUnusable(f"{path} is not a file")
    with path.open("rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise ArchiveUnusable(f"{path} is not a SQLite database")


def _parse_time(value: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
