"""Schema versions on open: a new archive has exactly the expected schema, an archive of the previous
release is upgraded with every row kept, a newer one is refused, a current one is not written to.

``tests/fixtures/schema.sql`` is the schema of a new archive as the code before the schema became
data made it (``dump_schema`` of a fresh ``Archive``); a change of it is a schema change, which
needs a new version and a migration (see ``archive/migrations.py``).

``tests/fixtures/archives/archive-v4.db.gz`` is an archive of the previous release (schema version
4, commit db47e4f), made with that release's own code by ``tests/fixtures/archives/make-v4.sh``.
"""

from __future__ import annotations

import gzip
import hashlib
import sqlite3
from pathlib import Path

import pytest

from archive import Archive, ArchiveError
from archive.schema import SCHEMA_VERSION
from crawler.domain.regions import REGIONS
from crawler.samplesite import SampleSite
from crawler.samplesite.records import article_record
from tests.conftest import run_cli

FIXTURES = Path(__file__).parent / "fixtures"


def dump_schema(path: Path) -> str:
    """Every entry of ``sqlite_master`` (tables, indexes, triggers, views), by type and name."""
    conn = sqlite3.connect(path)
    try:
        rows = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    finally:
        conn.close()
    return "".join(f"-- {kind} {name} on {table}\n{sql or '-- (made by SQLite)'};\n" for kind, name, table, sql in rows)


def shape_of(path: Path) -> dict[str, object]:
    """The schema as what it does, not how it was written: each table's columns (name, type,
    not null, default, key; an added column has the same shape as one created with the table) and
    foreign keys, and the SQL of every index and trigger."""
    conn = sqlite3.connect(path)
    try:
        shape: dict[str, object] = {}
        for kind, name, sql in conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY type, name"):
            if kind == "table":
                info = sorted(tuple(row[1:]) for row in conn.execute(f"PRAGMA table_info([{name}])"))
                keys = sorted(tuple(row[2:5]) for row in conn.execute(f"PRAGMA foreign_key_list([{name}])"))
                shape[f"table {name}"] = (info, keys)
            else:
                shape[f"{kind} {name}"] = sql
        return shape
    finally:
        conn.close()


def columns_of(path: Path) -> dict[str, list[str]]:
    """The columns of every table but ``archive_meta`` and the FTS index's shadow tables."""
    conn = sqlite3.connect(path)
    try:
        names = [
            n
            for (n,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            if n != "archive_meta" and not n.startswith("articles_fts")
        ]
        return {n: [row[1] for row in conn.execute(f"PRAGMA table_info([{n}])")] for n in names}
    finally:
        conn.close()


def rows_of(path: Path, columns: dict[str, list[str]] | None = None) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table (or of ``columns``' tables, those columns only), sorted."""
    columns = columns if columns is not None else columns_of(path)
    conn = sqlite3.connect(path)
    try:
        return {
            n: sorted(conn.execute(f"SELECT {', '.join(f'[{c}]' for c in cols)} FROM [{n}]").fetchall(), key=repr)
            for n, cols in columns.items()
        }
    finally:
        conn.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def previous_release(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "archive-v4.db"
    path.write_bytes(gzip.decompress((FIXTURES / "archives" / "archive-v4.db.gz").read_bytes()))
    return path


def test_a_new_archive_has_exactly_the_expected_schema(tmp_path: Path) -> None:
    Archive(tmp_path / "a.db").close()
    assert dump_schema(tmp_path / "a.db") == (FIXTURES / "schema.sql").read_text()


def test_an_archive_of_the_previous_release_is_upgraded_with_every_row(tmp_path: Path) -> None:
    path = previous_release(tmp_path)
    before = rows_of(path)
    assert sum(len(rows) for rows in before.values()) > 300 and before["articles"] and before["captures"]
    with Archive(path) as archive:
        assert archive.meta("schema_version") == str(SCHEMA_VERSION) == "9"
        assert str(archive.meta("migrated_to_5")).endswith("from version 4")
        assert str(archive.meta("migrated_to_6")).endswith("from version 4")
        assert str(archive.meta("migrated_to_7")).endswith("from version 4")
        assert str(archive.meta("migrated_to_8")).endswith("from version 4")
        assert str(archive.meta("migrated_to_9")).endswith("from version 4")
        assert {row[0] for row in archive.db.execute("SELECT DISTINCT language FROM articles")} == {"id"}
        assert archive.db.execute("PRAGMA foreign_key_check").fetchall() == []
        assert archive.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        hits = archive.db.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'kalimantan'").fetchone()
        assert hits[0] > 0, "the full-text index still answers"
    assert rows_of(path, columns_of(previous_release(tmp_path / "again"))) == before, "every row kept"
    new_tables = set(columns_of(path)) - set(before) - {"facet_counts"}  # counted from the rows (test_facet_counts)
    assert new_tables and all(not rows for name, rows in rows_of(path).items() if name in new_tables)
    fresh = tmp_path / "fresh.db"
    Archive(fresh).close()
    assert shape_of(path) == shape_of(fresh), "an upgraded archive has the schema of a new one"
    backup = tmp_path / "archive-v4.db.schema-v4.bak"
    assert rows_of(backup) == before
    assert sorted(p.name for p in tmp_path.glob("*.bak*")) == [backup.name]
    conn = sqlite3.connect(backup)
    assert conn.execute("SELECT value FROM archive_meta WHERE key = 'schema_version'").fetchone() == ("4",)
    conn.close()

    # a crawl of the same sample site into it: the same articles, seen again by a second run
    done = run_cli(
        "crawl", "--demo", "--region", "kalteng", "--max-pages", "1", "--follow-depth", "1", "--db", str(path)
    )
    assert done.returncode == 0, done.stderr[-2000:]
    with Archive(path) as archive:
        runs = archive.recent_runs()
        assert [r["id"] for r in runs] == [2, 1] and runs[0]["outcome"] == "finished"
        assert runs[0]["articles_unchanged"] == len(before["articles"]) and runs[0]["articles_new"] == 0
        assert archive.count("articles") == len(before["articles"])
        # and the archive API writes into it
        site = SampleSite(seed=5)
        result = archive.upsert_article(article_record(site.article_at(0)), runs[0]["id"])
        assert result.outcome == "new" and archive.count("articles") == len(before["articles"]) + 1


def test_an_older_archive_is_upgraded_in_one_transaction(tmp_path: Path) -> None:
    """An upgrade that cannot be written (here: the archive may not grow) leaves the file as it was."""
    path = tmp_path / "old.db"
    with Archive(path) as archive:
        archive.sync_regions(r.as_row() for r in REGIONS)
    conn = sqlite3.connect(path)
    with conn:  # a version-4 archive from before WARC capture and before errors kept the extractor
        conn.execute("DROP TABLE captures")
        conn.execute("ALTER TABLE crawl_errors DROP COLUMN extractor_version")
        conn.execute("UPDATE archive_meta SET value = '4' WHERE key = 'schema_version'")
    conn.execute("VACUUM")  # no free pages left: the upgrade must grow the file
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.close()
    before = dump_schema(path)
    with pytest.raises(ArchiveError) as failed:
        Archive(path, max_pages=pages)
    assert failed.value.kind == "full"
    assert dump_schema(path) == before
    with Archive(path, readonly=True) as archive:
        assert archive.meta("schema_version") == "4" and archive.meta("migrated_to_5") is None
    with Archive(path) as archive:
        assert archive.meta("schema_version") == str(SCHEMA_VERSION)
        assert "extractor_version" in archive.db.table("crawl_errors").columns_dict
    assert "captures" in rows_of(path)


def test_a_newer_archive_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    Archive(path).close()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE archive_meta SET value = '99' WHERE key = 'schema_version'")
    conn.close()
    before = digest(path)
    for options in ({}, {"readonly": True}, {"create": False}):
        with pytest.raises(ArchiveError, match=f"schema version 99, newer than the {SCHEMA_VERSION} this antara knows"):
            Archive(path, **options)  # type: ignore[arg-type]
    for command in (("status",), ("crawl", "--region", "kalteng", "--mirror", "http://127.0.0.1:9", "--delay", "0")):
        done = run_cli(*command, "--db", str(path))
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("antara: error: ") and "newer" in lines[0], done.stderr
    assert digest(path) == before


def test_opening_a_current_archive_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with Archive(path) as archive:
        archive.sync_regions(r.as_row() for r in REGIONS)
    before = (digest(path), path.stat().st_mtime_ns)
    with Archive(path) as archive:
        assert archive.db.conn.total_changes == 0
    with Archive(path, create=False) as archive:
        assert archive.db.conn.total_changes == 0
    with Archive(path, readonly=True) as archive:
        assert archive.meta("schema_version") == str(SCHEMA_VERSION)
    assert (digest(path), path.stat().st_mtime_ns) == before


def test_a_read_only_open_of_an_older_archive_reads_it_as_it_is(tmp_path: Path) -> None:
    path = previous_release(tmp_path)
    before = digest(path)
    with Archive(path, readonly=True) as archive:
        assert archive.meta("schema_version") == "4"
        assert archive.count("articles") > 0
    assert digest(path) == before
    assert not (tmp_path / "archive-v4.db.schema-v4.bak").exists()


def test_the_full_text_index_is_rewritten_only_when_title_or_body_changes(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    with Archive(path) as archive:
        archive.sync_regions(r.as_row() for r in REGIONS)
        spec = SampleSite(seed=5).article_at(0)
        archive.upsert_article(article_record(spec))
    conn = sqlite3.connect(path)
    with conn:
        before = conn.total_changes  # counts the rows triggers write too
        conn.execute("UPDATE articles SET last_seen_at = '2030-01-01T00:00:00+00:00', story_id = 7")
        assert conn.total_changes - before == 1, "a revisit's update re-wrote the full-text index"
    with conn:
        conn.execute("UPDATE articles SET body = 'zyxwvut pembaruan'")
    match = "SELECT count(*) FROM articles_fts WHERE articles_fts MATCH ?"
    assert conn.execute(match, ["zyxwvut"]).fetchone() == (1,)
    first_word = spec.paragraphs[0].split()[0]
    assert conn.execute(match, [f'"{first_word}"']).fetchone() == (0,) or first_word.lower() in spec.title.lower()
    conn.close()
