"""A full disk or a locked archive stops the crawl cleanly: a clear message, no half-written rows, resumable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from archive import Archive, ArchiveError
from crawler.samplesite import SampleSite
from tests.conftest import RunningSite, crawl_sample, serve_site
from tests.test_crawl_e2e import expected_reach

REGIONS = ("kalteng", "kalsel")
ARGS = ("--region", ",".join(REGIONS), "--max-pages", "2")


def query(db: Path, sql: str) -> list[sqlite3.Row]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def assert_whole(db: Path, site: SampleSite) -> None:
    """Every archived article is complete: its fields, tags and links as the site has them; the file is sound."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")
        for row in conn.execute("SELECT * FROM articles"):
            spec = site.article(row["site"], row["article_id"])
            assert spec is not None
            assert (row["title"], row["body"], json.loads(row["tags"])) == (spec.title, spec.body, spec.tags)
            tags = {
                r[0]
                for r in conn.execute(
                    "SELECT t.name FROM article_tags a JOIN tags t ON t.id = a.tag_id WHERE a.article_url = ?",
                    [row["url"]],
                )
            }
            assert tags == set(spec.tags)
            links = conn.execute("SELECT count(*) FROM links WHERE source_url = ?", [row["url"]]).fetchone()[0]
            assert links == len(spec.baca_juga)
    finally:
        conn.close()


def assert_resumes_to_a_full_archive(running: RunningSite, db: Path) -> None:
    result = crawl_sample(running, db, *ARGS, "-q")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Resuming interrupted run(s) 1" in result.stderr
    good, _ = expected_reach(running.site, REGIONS, 2, 2)
    assert {(r["site"], r["article_id"]) for r in query(db, "SELECT site, article_id FROM articles")} == set(good)
    assert query(db, "SELECT count(*) AS n FROM frontier")[0]["n"] == 0
    assert_whole(db, running.site)


@pytest.mark.slow
def test_a_full_disk_stops_the_crawl_cleanly_and_the_next_crawl_resumes(
    sample_site: RunningSite, tmp_path: Path
) -> None:
    db = tmp_path / "full.db"
    # room for a group commit or two (25 articles each) beyond an empty archive's pages (4 KiB each),
    # then "disk full"
    Archive(tmp_path / "empty.db").close()
    empty = sqlite3.connect(tmp_path / "empty.db").execute("PRAGMA page_count").fetchone()[0]
    result = crawl_sample(sample_site, db, *ARGS, "-q", "-s", f"ARCHIVE_MAX_PAGES={empty + 150}")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    # the write that hits the limit may be an article, an error row or the frontier
    assert last.startswith("antara: error: cannot write ")
    assert "the disk is full or the archive reached its size limit" in last
    assert "nothing of it was stored. The crawl stopped" in last
    stored = query(db, "SELECT count(*) AS n FROM articles")[0]["n"]
    assert 0 < stored < 100
    run = dict(query(db, "SELECT * FROM crawl_runs")[0])
    if run["outcome"] != "running":  # closing the run may not fit on the "disk" either
        assert (run["outcome"], run["finish_reason"], run["articles_new"]) == ("failed", "archive_error", stored)
    assert query(db, "SELECT count(*) AS n FROM frontier")[0]["n"] > 0, "what was left is kept for the next run"
    assert_whole(db, sample_site.site)
    assert_resumes_to_a_full_archive(sample_site, db)


@pytest.mark.slow
def test_a_locked_archive_stops_the_crawl_cleanly_and_the_next_crawl_resumes(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    holder: dict[str, Any] = {}
    with serve_site(SampleSite(articles=3000, seed=7), tmp_path) as running:
        router = running.server.router
        real_get = router.get
        articles = [0]

        def get(target: str) -> Any:
            """After the 15th article request, another program takes the archive's write lock and keeps it."""
            if "/berita/" in target:
                articles[0] += 1
                if articles[0] == 15:
                    conn = sqlite3.connect(db, timeout=5, isolation_level=None, check_same_thread=False)
                    conn.execute("BEGIN IMMEDIATE")
                    holder["conn"] = conn
            return real_get(target)

        router.get = get  # type: ignore[method-assign]
        result = crawl_sample(running, db, *ARGS, "-q", "-s", "ARCHIVE_BUSY_TIMEOUT=0.5")
        holder["conn"].execute("ROLLBACK")
        holder["conn"].close()
        router.get = real_get  # type: ignore[method-assign]

        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert "another program holds a write lock on it (database is locked)" in last
        assert "The crawl stopped; everything archived before is complete" in last
        # the end of the run could not be written either: the run stays "running" until the next crawl
        assert [r["outcome"] for r in query(db, "SELECT outcome FROM crawl_runs")] == ["running"]
        assert_whole(db, running.site)
        assert_resumes_to_a_full_archive(running, db)


def test_a_crawl_into_an_archive_locked_from_the_start_exits_at_once(sample_site: RunningSite, tmp_path: Path) -> None:
    db = tmp_path / "held.db"
    Archive(db).close()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = crawl_sample(sample_site, db, *ARGS, "-q", "-s", "ARCHIVE_BUSY_TIMEOUT=0.2")
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    # opening a current archive writes nothing: the first write (closing earlier runs) meets the lock
    assert last.startswith(f"antara: error: cannot write interrupted runs to {db}: another program holds a write lock")
    assert "Traceback" not in result.stderr
    assert query(db, "SELECT count(*) AS n FROM crawl_runs")[0]["n"] == 0


def test_archive_errors_say_what_kind(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    Archive(db).close()
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")
    try:
        held = Archive(db, timeout=0.1)  # a current archive opens without writing, so without the lock
        with pytest.raises(ArchiveError) as locked:
            held.start_run({}, [], "test")
        held.close()
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert locked.value.kind == "locked"
    archive = Archive(db, max_pages=1)
    with pytest.raises(ArchiveError) as full:
        archive.record_error(None, "https://kalteng.antaranews.com/berita/1/x", "http_404", 404, "x" * 50_000)
    archive.close()
    assert full.value.kind == "full"
    assert Archive(db).count("crawl_errors") == 0
