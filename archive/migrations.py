"""Schema versions: what an archive file says it is, and the steps that bring an older one up to date.

An archive records its version in ``archive_meta`` (key ``schema_version``). Opening it for
writing (see :class:`archive.Archive`):

- a file without tables gets every table of :mod:`archive.schema` at :data:`SCHEMA_VERSION`;
- a file at :data:`SCHEMA_VERSION` is left alone: nothing is written;
- an older file is copied to ``<file>.schema-v<N>.bak`` and brought up to date by the
  :data:`MIGRATIONS` newer than its version, in order, all in one transaction that also
  records the new version and, under ``migrated_to_<M>``, when and from which version;
- a newer file (written by a newer antara) is refused with an :class:`ArchiveError`.

Read-only opens never write: they refuse a newer file and read an older one as it is.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import sqlite_utils

from archive import schema
from archive.errors import ArchiveError
from archive.schema import SCHEMA_VERSION
from archive.times import utc_now


@dataclass(frozen=True)
class Migration:
    """The step from version ``to - 1`` (or any older one) to version ``to``."""

    to: int
    description: str
    apply: Callable[[sqlite_utils.Database], None]


#: in ascending ``to`` order; the last one's ``to`` is :data:`SCHEMA_VERSION`
MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        5,
        "tables and columns added while the version stayed 4 (created empty); the version is checked from now on",
        schema.apply,
    ),
    Migration(
        6,
        "articles gain language, translator, story_id, removed_at, removed_status; the stories,"
        " article_stories, story_signatures and article_removals tables",
        lambda db: _to_6(db),
    ),
    Migration(7, "crawl_runs gains images (lead images fetched by the run)", schema.apply),
    Migration(
        8,
        "the facet_counts table, kept by triggers on articles and article_tags, counted from the archived rows",
        lambda db: _to_8(db),
    ),
    Migration(
        9,
        "the full-text index is updated only when title or body changes (not on every revisit)",
        schema.narrow_fts_update_triggers,
    ),
)


def _to_6(db: sqlite_utils.Database) -> None:
    schema.apply(db)
    schema.add_missing_indexes(db)
    schema.narrow_fts_update_triggers(db)  # the update below touches no indexed column: no re-indexing
    # every archive before version 6 holds Indonesian-language sites only
    db.execute("UPDATE articles SET language = 'id' WHERE language IS NULL")


def _to_8(db: sqlite_utils.Database) -> None:
    schema.apply(db)
    schema.fill_facet_counts(db)


def stored_version(db: sqlite_utils.Database) -> int | None:
    """The schema version the archive records; None for a file without tables (a new archive),
    0 for tables without a recorded version (made before versions were recorded)."""
    names = db.table_names()
    if not names:
        return None
    if "archive_meta" not in names:
        return 0
    found = db.execute("SELECT value FROM archive_meta WHERE key = 'schema_version'").fetchone()
    if found is None:
        return 0
    try:
        return int(found[0])
    except (TypeError, ValueError):
        raise ArchiveError(f"the archive records an unreadable schema version: {found[0]!r}") from None


def refuse_newer(version: int | None, path: Path) -> None:
    """Raise when ``version`` is newer than this code knows."""
    if version is not None and version > SCHEMA_VERSION:
        raise ArchiveError(
            f"{path} has archive schema version {version}, newer than the {SCHEMA_VERSION} this antara"
            " knows; open it with a newer antara"
        )


def create(db: sqlite_utils.Database) -> None:
    """Every table of a new archive, at the current version (inside the caller's transaction)."""
    schema.apply(db)
    _record(db, "schema_version", str(SCHEMA_VERSION))


def upgrade(db: sqlite_utils.Database, version: int, copy: Path | None = None) -> list[Migration]:
    """Apply the migrations newer than ``version`` and record the result (inside the caller's
    transaction, so all of it is stored or none); returns the migrations applied. ``copy``: the
    :func:`backup` made of the file at ``version``, kept as ``<file>.schema-v<version>.bak``."""
    if copy is not None:
        copy.replace(copy.with_suffix(""))
    applied = [m for m in MIGRATIONS if m.to > version]
    for migration in applied:
        migration.apply(db)
        _record(db, f"migrated_to_{migration.to}", f"{utc_now()} from version {version}")
    _record(db, "schema_version", str(SCHEMA_VERSION))
    return applied


def backup(conn: sqlite3.Connection, path: Path, version: int) -> Path:
    """Copy the archive to ``<file>.schema-v<version>.bak.part``; :func:`upgrade` of the same
    version names it ``<file>.schema-v<version>.bak`` (another process that upgraded the file
    meanwhile leaves an existing backup alone)."""
    target = path.with_name(f"{path.name}.schema-v{version}.bak.part")
    try:
        copy = sqlite3.connect(str(target))
        try:
            conn.backup(copy)
        finally:
            copy.close()
    except sqlite3.Error as exc:
        target.unlink(missing_ok=True)
        raise ArchiveError(f"cannot copy {path} to {target} before upgrading its schema: {exc}") from exc
    return target


def _record(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute(
        "INSERT INTO archive_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )
