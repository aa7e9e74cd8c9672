"""The archive library on a real SQLite file: upserts, identity, children, FTS, runs and errors."""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest

from archive import Archive, ArchiveError
from archive.schema import SCHEMA_VERSION
from crawler.domain.regions import REGIONS


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
                "site": "kalteng.antaranews.com",
                "article_id": 612001,
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
        archive.upsert_article(
            record(), follow=[("https://kalteng.antaranews.com/berita/612001/x", 1, "kalteng.antaranews.com", 612001)]
        )
    for table in ("articles", "tags", "article_tags", "links", "frontier"):
        assert archive.count(table) == 0, table
    monkeypatch.undo()
    archive.upsert_article(
        record(), follow=[("https://kalteng.antaranews.com/berita/612001/x", 1, "kalteng.antaranews.com", 612001)]
    )
    assert archive.count("frontier") == 1
    archive.upsert_article(record(url="https://kalteng.antaranews.com/berita/612001/x", article_id=612001, links=[]))
    assert archive.count("frontier") == 0


def test_an_archive_from_before_warc_capture_is_brought_up_to_date(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    with Archive(db) as archive:
        archive.sync_regions(r.as_row() for r in REGIONS)
        archive.upsert_article(record(), None)
    conn = sqlite3.connect(db)
    with conn:  # what a schema-2 archive looked like
        conn.execute("DROP TABLE captures")
        for table in ("articles", "article_versions"):
            for column in ("warc_file", "warc_offset", "warc_length", "warc_record_id", "extractor_version"):
                conn.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        conn.execute("UPDATE archive_meta SET value = '2' WHERE key = 'schema_version'")
    conn.close()
    with Archive(db) as archive:
        assert "captures" in archive.db.table_names()
        assert {"warc_record_id", "extractor_version"} <= set(archive.db.table("articles").columns_dict)
        assert {"warc_file", "warc_offset"} <= set(archive.db.table("article_versions").columns_dict)
        assert archive.meta("schema_version") == str(SCHEMA_VERSION)
        assert str(archive.meta("migrated_to_5")).endswith("from version 2")
        kept = archive.db.execute("SELECT title, warc_record_id FROM articles").fetchall()
    assert kept == [(record()["title"], None)]


def _dump(archive: Archive) -> dict[str, list[tuple[Any, ...]]]:
    tables = ["articles", "article_tags", "tags", "links", "article_versions", "frontier", "articles_fts"]
    return {t: sorted(archive.db.execute(f"SELECT * FROM [{t}]").fetchall(), key=repr) for t in tables}


def test_upsert_many_stores_what_upsert_article_stores(tmp_path: Path) -> None:
    from crawler.samplesite import SampleSite
    from crawler.samplesite.records import article_record

    site = SampleSite(articles=300, seed=3)
    records = [article_record(site.article_at(k)) for k in range(300)]
    # the same articles again: unchanged, edited (a version is kept), under a new slug (the row moves)
    records += records[:20]
    records += [{**r, "title": r["title"] + " (ralat)", "content_hash": "edited"} for r in records[20:40]]
    records += [{**r, "url": r["url"] + "-baru"} for r in records[40:50]]
    results = {}
    for name in ("one_by_one", "many"):
        with Archive(tmp_path / f"{name}.db") as archive:
            archive.sync_regions(r.as_row() for r in REGIONS)
            run = archive.start_run({}, [], "test")
            if name == "one_by_one":
                outcomes = [archive.upsert_article(r, run, now="2026-11-28T00:00:00+00:00") for r in records]
            else:
                outcomes = archive.upsert_many(records, run, now="2026-11-28T00:00:00+00:00", batch=64)
            results[name] = (outcomes, _dump(archive))
    assert [r.outcome for r in results["many"][0]].count("updated") == 20
    assert results["many"][0] == results["one_by_one"][0]
    assert results["many"][1] == results["one_by_one"][1]
    assert len(results["many"][1]["articles"]) == 300
    assert len(results["many"][1]["article_versions"]) == 20


def test_a_failing_batch_is_rolled_back_whole(archive: Archive) -> None:
    run = archive.start_run({}, [], "test")
    good = [record(article_id=n, url=f"https://kalteng.antaranews.com/berita/{n}/a", tags=[f"t{n}"]) for n in (1, 2)]
    bad = record(article_id=3, url="https://kalteng.antaranews.com/berita/3/a", region="atlantis", tags=["new"])
    with pytest.raises(sqlite3.IntegrityError):
        archive.upsert_many([*good, bad], run, batch=10)
    assert archive.count("articles") == 0 and archive.count("tags") == 0
    archive.upsert_many(good, run)  # tag ids learnt in the rolled-back batch are not reused
    assert archive.count("article_tags") == 2
    assert archive.db.execute("PRAGMA foreign_key_check").fetchall() == []


def _statements(archive: Archive) -> list[str]:
    traced: list[str] = []
    archive.db.conn.set_trace_callback(traced.append)
    return traced


@pytest.mark.parametrize("savepoints", [True, False])
def test_a_transaction_stores_the_same_with_or_without_savepoints(tmp_path: Path, savepoints: bool) -> None:
    """Writes in a transaction without savepoints store what they store with them, and open none."""
    archive = Archive(tmp_path / f"{savepoints}.db")
    archive.sync_regions(r.as_row() for r in REGIONS)
    run = archive.start_run({}, ["kalteng"], "test")
    traced = _statements(archive)
    with archive.transaction("a group", savepoints=savepoints):
        for n in (1, 2):
            archive.upsert_article(record(article_id=n, url=f"https://kalteng.antaranews.com/berita/{n}/a"), run)
        archive.record_error(run, "https://kalteng.antaranews.com/berita/9/x", "http_404", 404, "gone")
        archive.add_run_counts(run, {"articles_new": 2, "errors": 1}, {"http_404": 1}, {})
    archive.db.conn.set_trace_callback(None)
    opened = [s for s in traced if s.startswith("SAVEPOINT")]
    assert (len(opened) > 3) if savepoints else (opened == [])
    assert [s for s in traced if s in ("BEGIN IMMEDIATE", "COMMIT")] == ["BEGIN IMMEDIATE", "COMMIT"]
    assert archive.count("articles") == 2 and archive.count("article_tags") == 4 and archive.count("crawl_errors") == 1
    assert archive.run(run)["articles_new"] == 2
    # the next transaction has its savepoints again
    traced = _statements(archive)
    archive.upsert_article(record(article_id=3, url="https://kalteng.antaranews.com/berita/3/a"), run)
    assert any(s.startswith("SAVEPOINT") for s in traced)


def test_a_failure_without_savepoints_rolls_the_whole_transaction_back(archive: Archive) -> None:
    run = archive.start_run({}, [], "test")
    good = [record(article_id=n, url=f"https://kalteng.antaranews.com/berita/{n}/a", tags=[f"t{n}"]) for n in (1, 2)]
    bad = record(article_id=3, url="https://kalteng.antaranews.com/berita/3/a", region="atlantis", tags=["new"])
    with pytest.raises(sqlite3.IntegrityError), archive.transaction("three", savepoints=False):
        for r in [*good, bad]:
            archive.upsert_article(r, run)
    assert archive.count("articles") == 0 and archive.count("tags") == 0 and archive.count("article_tags") == 0
    archive.upsert_many(good, run)  # tag ids learnt in the rolled-back transaction are not reused
    assert archive.count("article_tags") == 2
    assert archive.db.execute("PRAGMA foreign_key_check").fetchall() == []


def test_deferred_checkpoints_and_a_log_synced_by_its_writer(archive: Archive, tmp_path: Path) -> None:
    """A writer that defers SQLite's checkpoints keeps its commits in the write-ahead log, and
    syncs that log itself (the call may run in another thread)."""
    archive.defer_checkpoints(5000)
    assert archive.db.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 5000
    for n in range(1, 81):
        archive.upsert_article(record(article_id=n, url=f"https://kalteng.antaranews.com/berita/{n}/a"))
    wal = tmp_path / "a.db-wal"
    assert wal.stat().st_size > 1000 * 4096  # past SQLite's default checkpoint, not folded in
    open_fds = len(os.listdir("/proc/self/fd"))
    sync = archive.flush_log()
    assert len(os.listdir("/proc/self/fd")) == open_fds + 1
    thread = threading.Thread(target=sync)
    thread.start()
    thread.join()
    assert len(os.listdir("/proc/self/fd")) == open_fds
    archive.close()
    assert not wal.exists()  # closing still folds the log into the file
    assert Archive(tmp_path / "a.db").count("articles") == 80


def test_the_log_of_an_archive_opened_through_a_symlink_is_synced(tmp_path: Path) -> None:
    """SQLite keeps the write-ahead log beside the file a symlinked path points to; the writer's
    sync must open that log, not give up because none sits beside the link."""
    (tmp_path / "real").mkdir()
    link = tmp_path / "link.db"
    link.symlink_to(tmp_path / "real" / "a.db")
    with Archive(link) as archive:
        archive.sync_regions(r.as_row() for r in REGIONS)
        archive.upsert_article(record())
        assert (tmp_path / "real" / "a.db-wal").exists() and not (tmp_path / "link.db-wal").exists()
        open_fds = len(os.listdir("/proc/self/fd"))
        sync = archive.flush_log()
        assert len(os.listdir("/proc/self/fd")) == open_fds + 1, "the log was opened to be synced"
        sync()
        assert len(os.listdir("/proc/self/fd")) == open_fds


def test_captures_are_indexed_as_sqlite_utils_would_and_once(archive: Archive, tmp_path: Path) -> None:
    """record_captures writes the rows insert_all(ignore=True) writes; a record indexed already
    is left alone (distributed workers may send one twice); rows may name fewer columns."""
    run = archive.start_run({}, [], "test")
    base = {"url": "https://kalteng.antaranews.com/berita/1/a", "fetched_at": "2026-11-28T07:09:38.123456Z"}
    rows = [
        {
            **base,
            "record_type": "response",
            "status": 200,
            "payload_digest": "sha1:AB",
            "mime": "text/html",
            "warc_file": "a.warc.gz",
            "warc_offset": 10,
            "warc_length": 900,
            "warc_record_id": "<urn:uuid:1>",
            "refers_to": None,
        },
        {
            **base,
            "record_type": "request",
            "warc_file": "a.warc.gz",
            "warc_offset": 910,
            "warc_length": 300,
            "warc_record_id": "<urn:uuid:2>",
        },
    ]
    archive.record_captures(rows, run)
    archive.record_captures([{**rows[0], "warc_offset": 99}], run)  # the same record again: left alone
    other = Archive(tmp_path / "other.db")
    other_run = other.start_run({}, [], "test")
    with other.db.atomic():
        other.db.table("captures").insert_all([{**r, "run_id": other_run} for r in rows], ignore=True)
    ours = list(archive.db.table("captures").rows)
    assert ours == list(other.db.table("captures").rows)
    assert [(r["warc_offset"], r["run_id"], r["mime"]) for r in ours] == [(10, run, "text/html"), (910, run, None)]


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
    # field coverage adds up too, for the run and per region (an ingester started again finds it all)
    for missing in (1, 2):
        counted = {"articles_stored": 2, "missing/reporter": missing}
        archive.add_run_counts(run, counted, {}, {"kalteng": counted})
    row, _, regions = archive.run_counts(run)
    assert json.loads(row["field_coverage"]) == {"articles": 4, "missing": {"reporter": 3}}
    assert (regions["kalteng"]["articles_stored"], regions["kalteng"]["missing/reporter"]) == (4, 3)
    # a local crawl resumes killed local runs, never a distributed one (its frontier is in Redis)
    assert [r["id"] for r in archive.close_interrupted_runs()] == [local]
    archive.forget_ingested(run)
    assert archive.mark_ingested(run, "article kalteng.antaranews.com 1")


def test_the_interrupted_chain_reaches_back_to_the_last_run_that_ended_normally(archive: Archive) -> None:
    def run(outcome: str | None, reason: str = "", key: str | None = None) -> int:
        run_id = archive.start_run({"mode": "full"}, ["kalteng"], "0", run_key=key)
        if outcome is not None:
            archive.finish_run(run_id, outcome, reason, {})
        return run_id

    finished = run("finished", "finished")
    killed = run(None)  # still marked running, as SIGKILL leaves it
    assert [r["id"] for r in archive.close_interrupted_runs()] == [killed]
    disk_full = run("failed", "archive_error")  # resumed the killed one, then the disk filled up
    assert [r["id"] for r in archive.close_interrupted_runs()] == [disk_full]
    run("finished", "finished", key="20261128T000000Z-ab12")  # a distributed run in between
    stopped = run("interrupted", "shutdown")  # Ctrl-C, resuming the two before
    archive.close_interrupted_runs()
    assert archive.interrupted_chain([stopped]) == [killed, disk_full, stopped]
    assert archive.interrupted_chain([]) == []
    assert finished not in archive.interrupted_chain([killed])
    later = run(None)
    assert archive.interrupted_chain([later]) == [killed, disk_full, stopped, later]
    run("finished", "finished")
    last = run(None)
    assert archive.interrupted_chain([last]) == [last], "a run that ended normally starts a new chain"
    assert archive.run(killed)["outcome"] == "interrupted"


def test_the_frontier_keeps_the_fewest_hops_a_link_was_found_at(archive: Archive) -> None:
    url = "https://kalteng.antaranews.com/berita/612001/pemprov-kalteng"
    key = ("kalteng.antaranews.com", 612001)
    archive.remember([(url, 2, *key)], "https://kalteng.antaranews.com/terkini", None)
    archive.remember([(url.replace("pemprov-kalteng", "other-slug"), 1, *key)], "https://a", None)
    archive.remember([(url, 2, *key)], "https://b", None)
    assert archive.pending() == [(url, 1, "https://a")]


def test_newest_published_before_and_fetched_since(archive: Archive) -> None:
    first = archive.start_run({"mode": "full"}, ["kalteng"], "0")
    archive.upsert_article(record(), first)
    site = "kalteng.antaranews.com"
    newer = record(url=f"https://{site}/berita/612400/x", article_id=612400, published_at="2022-10-21T00:30:00+07:00")
    second = archive.start_run({"mode": "full"}, ["kalteng"], "0")
    archive.upsert_article(newer, second)
    assert archive.newest_published_before(site, day="2022-10-21") == 612345
    assert archive.newest_published_before(site, day="2022-10-20") is None
    # 00:30 WIB on 21 October is 17:30 UTC on the 20th
    assert archive.newest_published_before(site, instant="2022-10-20T17:31:00+00:00") == 612400
    assert archive.newest_published_before(site, instant="2022-10-20T17:29:00+00:00") == 612345
    assert archive.newest_published_before("www.antaranews.com", day="2030-01-01") is None
    assert archive.fetched_since(site, 612400, newer["url"], second)
    assert not archive.fetched_since(site, 612345, record()["url"], second)
    archive.record_error(second, f"https://{site}/berita/612002/y", "http_500")
    assert archive.fetched_since(site, 612002, f"https://{site}/berita/612002/y", second)
