"""The archive library on a real SQLite file: upserts, identity, children, FTS, runs and errors."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from archive import Archive, ArchiveError
from crawler.regions import REGIONS


def record(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "url": "https://kalteng.antaranews.com/berita/612345/wagub-kalteng-dorong-apeksi",
        "site": "kalteng.antaranews.com",
        "region": "kalteng",
        "article_id": 612345,
        "title": "Wagub Kalteng dorong Apeksi tingkatkan kerja sama antar daerah",
        "summary": "Wakil Gubernur ...",
        "body": "Palangka Raya (ANTARA) - Wakil Gubernur Kalimantan Tengah Edy Pratowo mendorong.\n\nKedua.",
        "published_at": "2022-10-20T15:02:00+07:00",
        "published_at_raw": "Kamis, 20 Oktober 2022 15:02 WIB",
        "dateline": "Palangka Raya",
        "reporter": "Muhammad Arif Hidayat",
        "editor": "Ronny",
        "category": "Umum",
        "tags": ["Pemprov kalteng", "apeksi"],
        "image_url": "https://img.antaranews.com/cache/800x533/2022/10/a.jpg",
        "image_caption": "Caption. ANTARA/Name",
        "word_count": 12,
        "content_hash": "h1",
        "template": "old",
        "links": [
            {
                "url": "https://kalteng.antaranews.com/berita/612001/pemprov-kalteng",
                "anchor_text": "Pemprov",
                "kind": "baca_juga",
            }
        ],
    }
    base.update(changes)
    return base


@pytest.fixture
def archive(tmp_path: Path) -> Archive:
    a = Archive(tmp_path / "a.db")
    a.sync_regions(r.as_row() for r in REGIONS)
    return a


def test_new_then_unchanged_then_updated(archive: Archive) -> None:
    run = archive.start_run({"regions": ["kalteng"]}, ["kalteng"], "test")
    assert archive.upsert_article(record(), run).outcome == "new"
    first = dict(archive.db["articles"].get(record()["url"]))
    assert archive.upsert_article(record(), run).outcome == "unchanged"
    assert archive.upsert_article(record(title="Judul baru", content_hash="h2"), run).outcome == "updated"
    rows = list(archive.db["articles"].rows)
    assert len(rows) == 1
    assert rows[0]["title"] == "Judul baru"
    assert rows[0]["first_seen_at"] == first["first_seen_at"]
    assert rows[0]["last_seen_at"] >= first["last_seen_at"]


def test_a_new_slug_for_the_same_article_moves_the_row_and_its_children(archive: Archive) -> None:
    archive.upsert_article(record())
    moved = "https://kalteng.antaranews.com/berita/612345/judul-diperbaiki"
    assert archive.upsert_article(record(url=moved)).url == moved
    assert archive.count("articles") == 1
    assert [r["article_url"] for r in archive.db["article_tags"].rows] == [moved, moved]
    assert [r["source_url"] for r in archive.db["links"].rows] == [moved]
    assert archive.db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_tags_links_and_search(archive: Archive) -> None:
    archive.upsert_article(record())
    archive.upsert_article(
        record(
            url="https://kalsel.antaranews.com/berita/1/x",
            site="kalsel.antaranews.com",
            region="kalsel",
            article_id=1,
            tags=["apeksi", "APEKSI", "banjar"],
            title="Banjarmasin",
        )
    )
    assert sorted(r["name"] for r in archive.db["tags"].rows) == ["Pemprov kalteng", "apeksi", "banjar"]
    link = next(archive.db["links"].rows)
    assert link["target_site"] == "kalteng.antaranews.com" and link["target_article_id"] == 612001
    hits = list(
        archive.db.query(
            "SELECT a.url FROM articles a JOIN articles_fts f ON f.rowid = a.rowid WHERE articles_fts MATCH 'apeksi'"
        )
    )
    assert [h["url"] for h in hits] == [record()["url"]]


def test_runs_and_errors(archive: Archive) -> None:
    run = archive.start_run({"max_pages": 3}, ["kalteng"], "test")
    archive.record_error(
        run, "https://kalteng.antaranews.com/berita/9/x", "http_404", 404, "the server answered HTTP 404"
    )
    archive.finish_run(run, "finished", "finished", {"errors": 1, "articles_new": 0, "bogus": 5})
    row = archive.run(run)
    assert row["outcome"] == "finished" and row["errors"] == 1 and row["finished_at"]
    error = next(archive.db["crawl_errors"].rows)
    assert error["run_id"] == run and error["reason"] == "http_404" and error["status"] == 404


def test_article_needs_a_known_region(archive: Archive) -> None:
    with pytest.raises(sqlite3.IntegrityError):
        archive.upsert_article(record(region="atlantis"))
    assert archive.count("articles") == 0


def test_schema_is_idempotent_and_bad_files_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "a.db"
    Archive(path).close()
    Archive(path).close()
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not sqlite at all" * 50)
    with pytest.raises(ArchiveError, match="cannot use"):
        Archive(junk)
    with pytest.raises(ArchiveError, match="does not exist"):
        Archive(tmp_path / "nope" / "a.db")


def test_an_upsert_is_one_transaction(archive: Archive, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failure after the article row is written leaves nothing behind (a crash there would too)."""

    def boom(*args: Any) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(archive, "_frontier_add", boom)
    with pytest.raises(ArchiveError):
        archive.upsert_article(record(), follow=[("https://kalteng.antaranews.com/berita/612001/x", 1)])
    for table in ("articles", "tags", "article_tags", "links", "frontier"):
        assert archive.count(table) == 0, table
    monkeypatch.undo()
    archive.upsert_article(record(), follow=[("https://kalteng.antaranews.com/berita/612001/x", 1)])
    assert archive.count("frontier") == 1
    archive.upsert_article(record(url="https://kalteng.antaranews.com/berita/612001/x", article_id=612001, links=[]))
    assert archive.count("frontier") == 0


def test_distributed_run_counts_and_ledger(archive: Archive) -> None:
    run = archive.start_run({"mode": "full"}, ["kalteng"], "0", run_key="20261128T000000Z-ab12")
    local = archive.start_run({"mode": "full"}, ["kalteng"], "0")
    assert archive.run_by_key("20261128T000000Z-ab12") == run and archive.run_by_key("nope") is None
    with archive.transaction():
        assert archive.mark_ingested(run, "article kalteng.antaranews.com 1")
        assert not archive.mark_ingested(run, "article kalteng.antaranews.com 1")
        archive.add_run_counts(run, {"articles_new": 2, "errors": 1}, {"http_404": 1}, {"kalteng": {"articles_new": 2}})
    archive.add_run_counts(run, {"articles_new": 1}, {"http_404": 2}, {"kalteng": {"articles_new": 1, "errors": 1}})
    row, kinds, regions = archive.run_counts(run)
    assert (row["articles_new"], row["errors"], kinds) == (3, 1, {"http_404": 3})
    assert regions["kalteng"]["articles_new"] == 3 and regions["kalteng"]["errors"] == 1
    # a local crawl resumes killed local runs, never a distributed one (its frontier is in Redis)
    assert [r["id"] for r in archive.close_interrupted_runs()] == [local]
    archive.forget_ingested(run)
    assert archive.mark_ingested(run, "article kalteng.antaranews.com 1")
