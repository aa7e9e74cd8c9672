"""Scheduled crawling against a sample site that changes: incremental runs, revisits, kill -9 and resume, the lock."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from crawler.domain.lock import hold_lock
from crawler.extraction.urls import parse_article_url
from crawler.samplesite import SampleSite
from crawler.scrapy import settings
from tests.conftest import ROOT, RunningSite, assert_frontier_holds_only_retries, crawl_sample, rows, serve_site
from tests.test_crawl_e2e import expected_reach

pytestmark = pytest.mark.slow  # a series of crawls of a changing site, one with kill -9


def last_run(db: Path) -> sqlite3.Row:
    return rows(db, "SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1")[0]


def kalteng_ids(db: Path) -> set[int]:
    return {r["article_id"] for r in rows(db, "SELECT article_id FROM articles WHERE region = 'kalteng'")}


@pytest.fixture(scope="module")
def changing_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSite]:
    with serve_site(SampleSite(articles=1400, seed=11), tmp_path_factory.mktemp("changing")) as site:
        yield site


@pytest.fixture(scope="module")
def scheduled_db(changing_site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("scheduled") / "archive.db"
    first = crawl_sample(changing_site, db, "--region", "kalteng", "--follow-depth", "0", "-q")
    assert first.returncode == 0, first.stderr[-2000:]
    return db


def incremental(site: RunningSite, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = crawl_sample(site, db, "--region", "kalteng", "--incremental", "--follow-depth", "0", "-q", *args)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_a_run_with_nothing_new_costs_one_feed_request(changing_site: RunningSite, scheduled_db: Path) -> None:
    incremental(changing_site, scheduled_db, "--revisit", "off")
    run = last_run(scheduled_db)
    assert run["mode"] == "incremental" and run["outcome"] == "finished"
    assert (run["requests"], run["feed_requests"], run["list_pages"], run["articles_new"]) == (1, 1, 0, 0)
    assert run["requests_per_new_article"] is None


def test_new_articles_cost_one_request_each(changing_site: RunningSite, scheduled_db: Path) -> None:
    before = kalteng_ids(scheduled_db)
    published = changing_site.site.publish(70)
    fresh = {s.article_id for s in published if s.region == "kalteng" and not s.hidden}
    assert fresh
    incremental(changing_site, scheduled_db, "--revisit", "off")
    run = last_run(scheduled_db)
    assert kalteng_ids(scheduled_db) == before | fresh
    assert run["articles_new"] == len(fresh)
    assert run["requests"] == 1 + len(fresh)  # the feed, then each new article once (robots.txt is cached)
    assert run["requests_per_new_article"] == pytest.approx(run["requests"] / len(fresh), abs=0.001)
    region = rows(scheduled_db, "SELECT * FROM crawl_run_regions WHERE run_id = ? AND region = 'kalteng'", (run["id"],))
    assert region[0]["articles_new"] == len(fresh) and region[0]["feed_requests"] == 1


def test_more_news_than_the_feed_holds_walks_list_pages_until_known(
    changing_site: RunningSite, scheduled_db: Path
) -> None:
    before = kalteng_ids(scheduled_db)
    published = changing_site.site.publish(35 * 30)
    fresh = {s.article_id for s in published if s.region == "kalteng" and not s.hidden}
    assert len(fresh) > 20, "more than one feed's worth"
    incremental(changing_site, scheduled_db, "--revisit", "off")
    run = last_run(scheduled_db)
    assert kalteng_ids(scheduled_db) == before | fresh
    assert run["articles_new"] == len(fresh)
    assert 2 <= run["list_pages"] <= 3  # stops at the first page that holds nothing new
    assert run["requests"] == 1 + run["list_pages"] + len(fresh)


def test_revisits_version_an_edited_article_and_leave_the_rest(changing_site: RunningSite, scheduled_db: Path) -> None:
    site = changing_site.site
    target = next(s for s in site.listed("kalteng", 2) if s.fault is None)
    site.edit(target.host, target.article_id)
    archived = len(kalteng_ids(scheduled_db))
    later = (datetime.now(timezone.utc) + timedelta(days=8)).isoformat()  # every article is past its 7-day mark
    incremental(changing_site, scheduled_db, "-s", f"ANTARA_NOW={later}")
    run = last_run(scheduled_db)
    assert run["revisits"] == archived
    assert run["articles_updated"] == 1 and run["not_modified"] == archived - 1
    versions = rows(scheduled_db, "SELECT * FROM article_versions")
    assert [v["article_url"] for v in versions] == [target.url]
    assert versions[0]["version"] == 1 and "ralat" not in versions[0]["body"]
    row = rows(scheduled_db, "SELECT version, body FROM articles WHERE url = ?", (target.url,))[0]
    assert row["version"] == 2 and row["body"].endswith("(ralat ke-1) untuk melengkapi keterangan narasumber.")
    # the next run has nothing due: every article was just seen
    incremental(changing_site, scheduled_db, "-s", f"ANTARA_NOW={later}")
    assert last_run(scheduled_db)["revisits"] == 0


def test_a_second_crawl_while_one_runs_exits_with_a_clear_message(changing_site: RunningSite, tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    lock = hold_lock(db)
    try:
        result = crawl_sample(changing_site, db, "--region", "kalteng", "-q")
    finally:
        lock.close()
    assert result.returncode == 75
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "another crawl is already writing" in lines[0] and f"pid {os.getpid()}" in lines[0]
    assert not db.exists() or not rows(db, "SELECT * FROM crawl_runs")


def _key(url: str) -> tuple[str, int] | None:
    ref = parse_article_url(url)
    return (ref.host, ref.article_id) if ref else None


def fetch_counts(lines: list[str]) -> Counter[tuple[str, int]]:
    counts: Counter[tuple[str, int]] = Counter()
    for line in lines:
        ref = parse_article_url("https://" + line.split()[1].lstrip("/"))
        if ref is not None:
            counts[(ref.host, ref.article_id)] += 1
    return counts


def test_kill_9_midway_then_resume_loses_nothing(tmp_path: Path) -> None:
    with serve_site(SampleSite(articles=3000, seed=7), tmp_path) as running:
        db = tmp_path / "killed.db"
        args = ["--region", "kalteng,kalsel,nasional", "--db", str(db), "--mirror", running.url, "-q"]
        crawl = subprocess.Popen(
            [sys.executable, "-m", "crawler", "crawl", *args, "--delay", "0.02", "--concurrency", "1"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        archived = 0
        while time.monotonic() < deadline and crawl.poll() is None:
            time.sleep(0.1)
            if db.exists():
                try:
                    archived = rows(db, "SELECT count(*) AS n FROM articles")[0]["n"]
                except sqlite3.OperationalError:
                    continue
                if archived >= 120:
                    break
        assert crawl.poll() is None, "the crawl ended before it could be killed; slow it down"
        os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait(timeout=30)
        assert 120 <= archived
        first = fetch_counts(running.requests())
        committed = {(r["site"], r["article_id"]) for r in rows(db, "SELECT site, article_id FROM articles")}
        committed |= {k for r in rows(db, "SELECT url FROM crawl_errors") if (k := _key(r["url"]))}
        mark = running.mark()

        resumed = crawl_sample(running, db, *args[:2])
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        assert "Resuming interrupted run(s) 1" in resumed.stderr
        second = fetch_counts(running.requests()[mark:])

    good, bad = expected_reach(running.site, ("kalteng", "kalsel", "nasional"), 3, 2)
    stored = {(r["site"], r["article_id"]) for r in rows(db, "SELECT site, article_id FROM articles")}
    assert stored == set(good), "every article present once after the resume"
    errors = {
        (ref.host, ref.article_id)
        for r in rows(db, "SELECT url FROM crawl_errors")
        if (ref := parse_article_url(r["url"]))
    }
    assert set(bad) <= errors
    refetched = {key for key in second if key in first}
    assert not refetched & committed, "nothing the killed run had stored is fetched again"
    assert len(refetched) <= 16 + settings.ANTARA_COMMIT_ITEMS, (
        "only requests in flight at the kill (CONCURRENT_REQUESTS) and items not yet committed"
        f" (ANTARA_COMMIT_ITEMS) are fetched again: {refetched}"
    )
    runs = rows(db, "SELECT id, outcome, resumed FROM crawl_runs ORDER BY id")
    assert [(r["outcome"], r["resumed"]) for r in runs] == [("interrupted", 1), ("finished", None)]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")  # raises if out of sync
    finally:
        conn.close()
    assert_frontier_holds_only_retries(db)


def test_backfill_resumes_after_the_last_finished_page(tmp_path: Path) -> None:
    with serve_site(SampleSite(articles=35 * 200, seed=5), tmp_path) as running:
        db = tmp_path / "backfill.db"
        site = running.site
        base = ["backfill", "--region", "kalsel", "--db", str(db), "--mirror", running.url, "--delay", "0", "-q"]
        first = subprocess.run(
            [sys.executable, "-m", "crawler", *base, "--pages", "1-6", "--max-pages", "3"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert first.returncode == 0, first.stderr[-2000:]
        state = rows(db, "SELECT * FROM backfill_state WHERE region = 'kalsel'")[0]
        assert (state["next_page"], state["done"]) == (4, 0)
        mark = running.mark()
        second = subprocess.run(
            [sys.executable, "-m", "crawler", *base, "--pages", "1-6"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )
        assert second.returncode == 0, second.stderr[-2000:]
        lists = [line.split()[1] for line in running.requests()[mark:] if "/terkini" in line]
        assert lists == [f"/kalsel.antaranews.com/terkini/{n}" for n in (4, 5, 6)]
        expected = {s.article_id for p in range(1, 7) for s in site.listed("kalsel", p) if s.fault is None}
        stored = {r["article_id"] for r in rows(db, "SELECT article_id FROM articles")}
        assert stored == expected
        assert rows(db, "SELECT done FROM backfill_state")[0]["done"] == 1


def test_scrapy_crawl_and_scrapyd_jobs_respect_the_lock_too(changing_site: RunningSite, tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    lock = hold_lock(db)
    try:
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "scrapy",
                "crawl",
                "antara",
                "-a",
                "regions=kalteng",
                "-s",
                f"ARCHIVE_DB={db}",
                "-s",
                f"ANTARA_MIRROR={changing_site.url}",
                "-s",
                "DOWNLOAD_DELAY=0",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    finally:
        lock.close()
    assert "another crawl is already writing" in result.stderr
    assert "'finish_reason': 'archive_locked'" in result.stderr
    assert not db.exists() or not rows(db, "SELECT name FROM sqlite_master WHERE name = 'crawl_runs'")
