"""Per-site health on the sample site: a broken /terkini, a site gone dark, a site yielding far fewer articles."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from crawler.samplesite import SampleSite
from tests.conftest import RunningSite, crawl_sample, run_cli, serve_site

KALSEL = "/kalsel.antaranews.com"
#: 500s are retried: no waiting between the tries
FAST = ("-s", "ANTARA_RETRY_BACKOFF=0", "-q")


@pytest.fixture
def site(tmp_path: Path) -> Iterator[RunningSite]:
    """A sample site of our own: the tests break some of its pages."""
    with serve_site(SampleSite(articles=3000, seed=7), tmp_path) as running:
        yield running


def last_run(db: Path) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The last crawl_runs row, and its crawl_run_regions rows by region."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        run = dict(conn.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone())
        rows = conn.execute("SELECT * FROM crawl_run_regions WHERE run_id = ?", [run["id"]])
        return run, {r["region"]: dict(r) for r in rows}
    finally:
        conn.close()


def kalsel_requests(site: RunningSite, since: int) -> list[str]:
    """Paths of the list pages and feed of kalsel requested since the ``since``-th log line, with status."""
    lines = site.requests()[since:]
    return [
        " ".join(line.split()[1:3]).removeprefix(KALSEL)
        for line in lines
        if line.split()[1].startswith((f"{KALSEL}/terkini", f"{KALSEL}/rss"))
    ]


@pytest.mark.slow
def test_a_failing_terkini_still_walks_the_next_list_pages_and_degrades_the_run(
    site: RunningSite, tmp_path: Path
) -> None:
    db = tmp_path / "terkini.db"
    args = ("--region", "kalsel", "--region", "kalteng", "--max-pages", "3", "--follow-depth", "0", *FAST)
    first = crawl_sample(site, db, *args)
    assert first.returncode == 0, first.stderr[-2000:]
    run, regions = last_run(db)
    assert run["health"] == "ok", run["health_reasons"]
    usual, broken_articles = regions["kalsel"]["articles_new"], run["errors"]  # the site's own faulty articles

    site.server.router.broken[f"{KALSEL}/terkini"] = 500  # page 1 only: /terkini/2 still answers
    mark = site.mark()
    second = crawl_sample(site, db, *args)
    assert second.returncode == 0, second.stderr[-2000:]
    run, regions = last_run(db)

    # page 1 was tried (and retried), then pages 2 and 3 were walked all the same
    walked = kalsel_requests(site, mark)
    assert [w for w in walked if not w.startswith("/terkini ")] == ["/terkini/2 200", "/terkini/3 200"]
    assert {w for w in walked if w.startswith("/terkini ")} == {"/terkini 500"}
    listed = {spec.url for page in (2, 3) for spec in site.site.listed("kalsel", page)}
    kalsel = regions["kalsel"]
    assert kalsel["articles_unchanged"] + kalsel["articles_updated"] + kalsel["articles_new"] >= len(listed) - 5
    assert usual > len(listed)  # the first run had page 1 as well

    # one more error among a hundred pages: the run's error rate is fine, the site is not
    assert run["errors"] == broken_articles + 1 and run["pages_fetched"] > 50
    reason = "list page 1 (http_500) failed; the run went on with the other list pages"
    assert run["health"] == "degraded"
    assert json.loads(run["health_reasons"]) == [f"kalsel: {reason}"]
    assert (kalsel["health"], json.loads(kalsel["health_reasons"])) == ("degraded", [reason])
    assert (regions["kalteng"]["health"], json.loads(regions["kalteng"]["health_reasons"])) == ("ok", [])
    assert f"Run {run['id']} is degraded: kalsel: list page 1 (http_500) failed" in second.stdout

    status = run_cli("status", "--db", str(db), "--fail-on-degraded")
    assert status.returncode == 1
    assert f"- kalsel: {reason}" in [line.strip() for line in status.stdout.splitlines()]
    assert f"antara: status: run {run['id']} is degraded: kalsel: list page 1 (http_500)" in status.stderr


@pytest.mark.slow
def test_a_site_gone_dark_degrades_the_run_and_its_walk_stops_after_three_failures(
    site: RunningSite, tmp_path: Path
) -> None:
    db = tmp_path / "dark.db"
    site.server.router.broken[f"{KALSEL}/terkini/"] = 503  # every list page
    site.server.router.broken[f"{KALSEL}/rss/terkini.xml"] = 503
    mark = site.mark()
    result = crawl_sample(
        site, db, *("--region", "kalteng", "--region", "kalsel", "--incremental", "--max-pages", "6"), *FAST
    )
    assert result.returncode == 0, result.stderr[-2000:]
    run, regions = last_run(db)
    assert {w.split()[0] for w in kalsel_requests(site, mark)} == {
        "/rss/terkini.xml",
        "/terkini",
        "/terkini/2",
        "/terkini/3",
    }, "three list pages failed in a row: the walk gave up before max_pages"
    gone = (
        "went dark: no list page or feed could be read (RSS feed (http_503), list page 1 (http_503),"
        " list page 2 (http_503), list page 3 (http_503))"
    )
    assert run["health"] == "degraded"
    assert json.loads(run["health_reasons"]) == [f"kalsel: {gone}"]
    assert json.loads(regions["kalsel"]["health_reasons"]) == [gone]
    assert regions["kalteng"]["health"] == "ok" and regions["kalteng"]["articles_new"] > 20
    status = json.loads(run_cli("status", "--db", str(db), "--json").stdout.splitlines()[0])
    assert status["health_reasons"] == [f"kalsel: {gone}"]
    assert status["sites"] == {
        "kalsel": {"health": "degraded", "health_reasons": [gone]},
        "kalteng": {"health": "ok", "health_reasons": []},
    }


@pytest.mark.slow
def test_a_site_yielding_far_fewer_articles_than_its_recent_runs_is_named(site: RunningSite, tmp_path: Path) -> None:
    db = tmp_path / "fewer.db"
    args = ("--region", "kalsel", "--region", "kalteng", "--max-pages", "2", "--follow-depth", "0", *FAST)
    for _ in range(2):
        assert crawl_sample(site, db, *args).returncode == 0
    run, regions = last_run(db)
    assert run["health"] == "ok", run["health_reasons"]
    usual = regions["kalsel"]["articles_unchanged"]
    assert usual >= 10

    site.server.router.broken[f"{KALSEL}/berita/"] = 404  # the list pages answer, the articles are gone
    assert crawl_sample(site, db, *args).returncode == 0
    run, regions = last_run(db)
    reasons = json.loads(run["health_reasons"])
    assert f"kalsel: 0 articles, far fewer than the {usual} of its recent runs (median of 2)" in reasons
    assert not [r for r in reasons if r.startswith("kalteng")]
    assert regions["kalsel"]["health"] == "degraded" and regions["kalteng"]["health"] == "ok"


def test_status_reads_an_archive_made_before_sites_were_judged(tmp_path: Path) -> None:
    from archive import Archive
    from crawler.domain.regions import REGIONS

    db = tmp_path / "old.db"
    with Archive(db) as archive:
        archive.sync_regions(r.as_row() for r in REGIONS)
        run = archive.start_run({}, ["kalsel"], "test")
        archive.finish_run(run, "finished", "finished", {"health": "ok"}, [{"region": "kalsel", "articles_new": 2}])
    conn = sqlite3.connect(db)
    with conn:  # status only reads: it does not bring the archive up to date
        for column in ("health", "health_reasons", "field_coverage"):
            conn.execute(f"ALTER TABLE crawl_run_regions DROP COLUMN {column}")
    conn.close()
    status = run_cli("status", "--db", str(db), "--json")
    assert status.returncode == 0, status.stderr
    line = json.loads(status.stdout)
    assert (line["health"], line["sites"]) == ("ok", {})
