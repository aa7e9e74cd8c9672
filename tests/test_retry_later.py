"""A link whose fetch failed for a reason that may pass stays in the frontier for later runs.

Without this, a Baca juga target that met an outage (a 503 after all retries) was recorded in
``crawl_errors`` and forgotten: a later run reached it again only through its referer, which
may no longer be listed anywhere, so the article was lost for good.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from archive import Archive
from crawler.samplesite import SampleSite
from crawler.scrapy.storage import RETRY_LATER
from tests.conftest import RunningSite, crawl_sample, serve_site

FAST = ("-s", "ANTARA_RETRY_BACKOFF=0", "-q")
ARGS = ("--region", "kalteng", "--max-pages", "1", "--follow-depth", "1", *FAST)
#: later runs follow no Baca juga link: what they fetch of the target, they fetch from the frontier
NO_LINKS = ("--region", "kalteng", "--max-pages", "1", "--follow-depth", "0", *FAST)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[RunningSite]:
    with serve_site(SampleSite(articles=800, seed=11), tmp_path) as running:
        yield running


def rows(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def link_only_target(site: RunningSite, tmp_path: Path) -> str:
    """An article reached only through a Baca juga link (not on the first list page), archived by a plain crawl."""
    scratch = tmp_path / "scratch.db"
    assert crawl_sample(site, scratch, *ARGS).returncode == 0
    listed = {spec.url for spec in site.site.listed("kalteng", 1)}
    found = rows(
        scratch,
        "SELECT DISTINCT a.url FROM links l JOIN articles a ON a.url = l.target_url"
        " WHERE a.site = 'kalteng.antaranews.com' ORDER BY a.url",
    )
    targets = [str(url) for (url,) in found if url not in listed]
    assert targets, "the sample site's first list page links to articles it does not list"
    return targets[0]


@pytest.mark.slow
def test_a_link_that_met_an_outage_is_fetched_by_the_next_run(site: RunningSite, tmp_path: Path) -> None:
    target = link_only_target(site, tmp_path)
    path = "/" + target.removeprefix("https://")
    db = tmp_path / "a.db"

    site.server.router.broken[path] = 503
    first = crawl_sample(site, db, *ARGS)
    assert first.returncode == 0, first.stderr[-2000:]
    assert rows(db, "SELECT reason FROM crawl_errors WHERE url = ?", (target,)) == [("http_503",)]
    assert rows(db, "SELECT failures FROM frontier WHERE url = ?", (target,)) == [(1,)]
    assert not rows(db, "SELECT 1 FROM articles WHERE url = ?", (target,))

    del site.server.router.broken[path]
    mark = site.mark()
    second = crawl_sample(site, db, "--incremental", *NO_LINKS)
    assert second.returncode == 0, second.stderr[-2000:]
    fetched = [line for line in site.requests()[mark:] if line.split()[1] == path]
    assert [line.split()[2] for line in fetched] == ["200"]
    assert rows(db, "SELECT 1 FROM articles WHERE url = ?", (target,)) == [(1,)]
    assert not rows(db, "SELECT 1 FROM frontier WHERE url = ?", (target,))


@pytest.mark.slow
def test_a_link_that_keeps_failing_leaves_the_frontier_after_its_runs_and_hours(
    site: RunningSite, tmp_path: Path
) -> None:
    """Hourly runs keep trying it through a day-long outage; it goes once it failed often enough
    over long enough."""
    times, span = RETRY_LATER
    target = link_only_target(site, tmp_path)
    path = "/" + target.removeprefix("https://")
    db = tmp_path / "a.db"
    site.server.router.broken[path] = 503
    start = datetime(2026, 11, 30, 0, 0, tzinfo=timezone.utc)
    hours = [0, 1, 2, 3, int(span.total_seconds() // 3600) - 1, int(span.total_seconds() // 3600)]
    kept = []
    for n, hour in enumerate(hours):
        clock = ("-s", f"ANTARA_NOW={(start + timedelta(hours=hour)).isoformat()}")
        mark = site.mark()
        done = crawl_sample(site, db, "--incremental", *(ARGS if n == 0 else NO_LINKS), *clock)
        assert done.returncode == 0, done.stderr[-2000:]
        assert any(line.split()[1] == path for line in site.requests()[mark:]), f"the run at hour {hour} tried it"
        kept.append(rows(db, "SELECT failures FROM frontier WHERE url = ?", (target,)))
    assert kept[:-1] == [[(n,)] for n in range(1, len(hours))], "kept past 3 failures while the span runs"
    assert kept[-1] == [], f"gone after {times} failures and {span}"
    mark = site.mark()
    assert crawl_sample(site, db, "--incremental", *NO_LINKS).returncode == 0
    assert not any(line.split()[1] == path for line in site.requests()[mark:]), "given up"


def test_record_error_keeps_a_link_only_for_reasons_that_may_pass(tmp_path: Path) -> None:
    url = "https://kalteng.antaranews.com/berita/5/x"
    keep = (2, timedelta(hours=10))
    article = ("kalteng.antaranews.com", 5)
    with Archive(tmp_path / "a.db") as archive:
        archive.remember([(url, 1, *article)], None, None)
        archive.record_error(
            None, url, "http_503", 503, keep_for=keep, article=article, now="2026-11-30T00:00:00+00:00"
        )
        archive.record_error(
            None, url, "http_503", 503, keep_for=keep, article=article, now="2026-11-30T09:00:00+07:00"
        )
        assert archive.pending() == [(url, 1, None)], "twice, but not yet 10 hours after the first"
        archive.record_error(None, url, "http_503", 503, keep_for=keep, article=article, now="2026-11-30T10:00:00Z")
        assert archive.pending() == []
        archive.remember([(url, 1, *article)], None, None)
        archive.record_error(None, url, "http_404", 404, article=article)
        assert archive.pending() == []
