"""Kill -9 a crawl several times in a row, resume it, and compare with an uninterrupted crawl."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.extraction.urls import parse_article_url
from crawler.samplesite import SampleSite
from crawler.scrapy import settings
from tests.conftest import ROOT, RunningSite, assert_frontier_holds_only_retries, crawl_sample, rows, serve_site
from tests.test_crawl_e2e import expected_reach
from tests.test_scheduled import fetch_counts

pytestmark = pytest.mark.slow  # a series of crawls killed midway and resumed

REGIONS = ("kalteng", "kalsel", "nasional")
FOLLOW_DEPTH = 2
#: stop each run once the archive holds this many articles (the whole reach is 389)
KILL_AT = (70, 160, 250)
#: What a kill can make the next run fetch again: the article requests in flight (Scrapy's
#: CONCURRENT_REQUESTS, 16) plus the articles fetched and waiting in the pipeline's group not yet
#: committed (at most ANTARA_COMMIT_ITEMS items; the group's frontier rows commit with them)
IN_FLIGHT = 16 + settings.ANTARA_COMMIT_ITEMS

Key = tuple[str, int]


def distances(site: SampleSite, regions: tuple[str, ...], pages: int) -> dict[Key, int]:
    """Fewest Baca juga hops from a list page to every article the site links, from its truth."""
    level = [spec for slug in regions for page in range(1, pages + 1) for spec in site.listed(slug, page)]
    found: dict[Key, int] = {}
    hops = 0
    while level:
        following = []
        for spec in level:
            key = (spec.host, spec.article_id)
            if key in found:
                continue
            found[key] = hops
            for url in spec.baca_juga:
                target = site.article_by_url(url)
                if target is not None:
                    following.append(target)
        level = following
        hops += 1
    return found


def stored_keys(db: Path) -> set[Key]:
    return {(r["site"], r["article_id"]) for r in rows(db, "SELECT site, article_id FROM articles")}


def failed_keys(db: Path) -> set[Key]:
    return {(ref.host, ref.article_id) for r in rows(db, "SELECT url FROM crawl_errors") if (ref := _ref(r["url"]))}


def _ref(url: str) -> Any:
    return parse_article_url(url)


def crawl_until(running: RunningSite, db: Path, articles: int, *extra: str, table: str = "articles") -> None:
    """Start ``antara crawl`` and kill it with SIGKILL once ``table`` holds ``articles`` rows."""
    args = ["--region", ",".join(REGIONS), "--follow-depth", str(FOLLOW_DEPTH), "--db", str(db), *extra]
    crawl = subprocess.Popen(
        [sys.executable, "-m", "crawler", "crawl", *args, "--mirror", running.url, "-q"]
        + ["--delay", "0.02", "--concurrency", "1"],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 90
        count = 0
        while time.monotonic() < deadline and crawl.poll() is None and count < articles:
            time.sleep(0.05)
            try:
                count = rows(db, f"SELECT count(*) AS n FROM {table}")[0]["n"] if db.exists() else 0
            except sqlite3.OperationalError:  # the schema is not there yet
                continue
        assert crawl.poll() is None, f"the crawl ended before {table} held {articles} rows; slow it down"
        assert count >= articles, "the crawl did not get far enough in time"
    finally:
        if crawl.poll() is None:
            os.kill(crawl.pid, signal.SIGKILL)
        crawl.wait(timeout=30)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSite]:
    with serve_site(SampleSite(articles=3000, seed=7), tmp_path_factory.mktemp("site")) as site:
        yield site


@pytest.fixture(scope="module")
def kill_series(running: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Three crawls killed in a row at growing sizes, then one resumed to the end."""
    db = tmp_path_factory.mktemp("resume") / "archive.db"
    runs: list[dict[str, Any]] = []
    for threshold in KILL_AT:
        mark = running.mark()
        before = stored_keys(db) | failed_keys(db) if db.exists() else set()
        articles_before = stored_keys(db) if db.exists() else set()
        crawl_until(running, db, threshold)
        frontier = rows(db, "SELECT site, article_id, hops FROM frontier")
        runs.append(
            {
                "before": before,
                "new": stored_keys(db) - articles_before,
                "fetched": fetch_counts(running.requests()[mark:]),
                "frontier": [((r["site"], r["article_id"]), r["hops"]) for r in frontier],
            }
        )
    mark = running.mark()
    before = stored_keys(db) | failed_keys(db)
    result = crawl_sample(running, db, "--region", ",".join(REGIONS), "--follow-depth", str(FOLLOW_DEPTH))
    assert result.returncode == 0, result.stderr[-3000:]
    runs.append({"before": before, "fetched": fetch_counts(running.requests()[mark:])})
    return {"db": db, "site": running.site, "runs": runs, "result": result}


def test_the_resumed_archive_equals_an_uninterrupted_crawl(kill_series: dict[str, Any]) -> None:
    db, site = kill_series["db"], kill_series["site"]
    good, bad = expected_reach(site, REGIONS, 3, FOLLOW_DEPTH)
    assert stored_keys(db) == set(good), "not one article more or less than an uninterrupted crawl"
    assert set(bad) <= failed_keys(db)
    assert "Resuming interrupted run(s) 3 (which continued 1, 2)" in kill_series["result"].stderr
    runs = rows(db, "SELECT id, outcome, resumed FROM crawl_runs ORDER BY id")
    assert [(r["outcome"], r["resumed"]) for r in runs] == [("interrupted", 1)] * 3 + [("finished", None)]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        conn.close()
    assert_frontier_holds_only_retries(db)


def test_no_run_fetches_what_an_earlier_run_stored(kill_series: dict[str, Any]) -> None:
    runs = kill_series["runs"]
    for number, run in enumerate(runs[1:], start=2):
        again = set(run["fetched"]) & run["before"]
        assert not again, f"run {number} fetched {len(again)} articles an earlier run had stored: {sorted(again)[:5]}"
        earlier: set[Key] = set().union(*(set(r["fetched"]) for r in runs[: number - 1]))
        refetched = set(run["fetched"]) & earlier
        assert len(refetched) <= IN_FLIGHT, f"run {number} fetched again more than was in flight: {refetched}"
    fetched_twice = sum(
        len(set(r["fetched"]) & set().union(*(set(e["fetched"]) for e in runs[:i]))) for i, r in enumerate(runs) if i
    )
    assert fetched_twice <= IN_FLIGHT * len(KILL_AT)


def test_the_frontier_never_holds_fewer_hops_than_the_site_allows(kill_series: dict[str, Any]) -> None:
    """A link left for the next run keeps its real distance from a list page, so the resume
    follows it no further than an uninterrupted crawl would."""
    true = distances(kill_series["site"], REGIONS, 3)
    left = [(key, hops) for run in kill_series["runs"][:-1] for key, hops in run["frontier"]]
    assert left, "some links were waiting at each kill"
    assert all(key in true and true[key] <= hops <= FOLLOW_DEPTH + 1 for key, hops in left), [
        (key, hops, true.get(key)) for key, hops in left if key not in true or hops < true[key]
    ]


def test_killed_runs_count_what_they_stored(kill_series: dict[str, Any]) -> None:
    db = kill_series["db"]
    for run_id, run in enumerate(kill_series["runs"][:-1], start=1):
        row = rows(db, "SELECT * FROM crawl_runs WHERE id = ?", (run_id,))[0]
        assert row["articles_new"] == len(run["new"]) > 0
        errors = rows(db, "SELECT count(*) AS n FROM crawl_errors WHERE run_id = ?", (run_id,))[0]["n"]
        assert row["errors"] == errors
        regions = rows(db, "SELECT sum(articles_new) AS n FROM crawl_run_regions WHERE run_id = ?", (run_id,))
        assert regions[0]["n"] == row["articles_new"]
        assert row["pages_fetched"] >= row["articles_new"] + row["errors"]  # counted from its WARC records
    final = rows(db, "SELECT * FROM crawl_runs WHERE id = 4")[0]
    total = rows(db, "SELECT sum(articles_new) AS n FROM crawl_runs")[0]["n"]
    assert total == len(stored_keys(db)), "every article counted new by exactly one run"
    assert final["outcome"] == "finished"


def test_a_resume_follows_links_behind_archived_articles_no_further_than_follow_depth(
    running: RunningSite, tmp_path: Path
) -> None:
    """An incremental run reaches new articles through the stored links of archived ones, one hop
    or more from the list page; killed, it leaves them in the frontier with those hops, and the
    resumed run stops where an uninterrupted crawl stops."""
    db = tmp_path / "archive.db"
    first = crawl_sample(running, db, "--region", ",".join(REGIONS), "--follow-depth", "0", "-q")
    assert first.returncode == 0, first.stderr[-2000:]
    incremental = ("--incremental", "--no-feeds", "--revisit", "off", "--max-pages", "3")
    crawl_until(running, db, 8, *incremental, table="frontier")
    true = distances(running.site, REGIONS, 3)
    left = [((r["site"], r["article_id"]), r["hops"]) for r in rows(db, "SELECT * FROM frontier")]
    low = [(key, hops, true.get(key)) for key, hops in left if key not in true or hops < true[key]]
    assert not low, f"links left with fewer hops than their distance from a list page: {low}"
    resumed = crawl_sample(
        running, db, "--region", ",".join(REGIONS), "--follow-depth", str(FOLLOW_DEPTH), *incremental
    )
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    good, _bad = expected_reach(running.site, REGIONS, 3, FOLLOW_DEPTH)
    assert stored_keys(db) == set(good)


def test_a_fresh_full_run_after_the_resume_fetches_everything_again(
    running: RunningSite, kill_series: dict[str, Any], tmp_path: Path
) -> None:
    """Leaving alone what the interrupted runs fetched is for their resume only: the next full
    run refreshes every article it reaches, as full runs do."""
    db = tmp_path / "archive.db"
    source = sqlite3.connect(kill_series["db"])
    try:
        with sqlite3.connect(db) as copy:
            source.backup(copy)
    finally:
        source.close()
    mark = running.mark()
    result = crawl_sample(running, db, "--region", ",".join(REGIONS), "--follow-depth", str(FOLLOW_DEPTH), "-q")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Resuming" not in result.stderr
    fetched = fetch_counts(running.requests()[mark:])
    good, _bad = expected_reach(running.site, REGIONS, 3, FOLLOW_DEPTH)
    assert set(good) <= set(fetched)
    run = rows(db, "SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1")[0]
    assert (run["articles_new"], run["articles_unchanged"]) == (0, len(good))
