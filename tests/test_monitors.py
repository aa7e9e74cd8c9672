"""Run health: Spidermon monitors flag degraded runs, stay quiet on clean ones, and `antara status` reports them."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from crawler.samplesite import SampleSite
from crawler.samplesite.faults import FaultPlan
from crawler.scrapy.monitors import RunFacts, SiteFacts, Thresholds, check_run, check_site
from tests.conftest import RunningSite, crawl_sample, run_cli, serve_site

SITE = SiteFacts(
    region="kalsel",
    list_read=3,
    feed_read=0,
    articles=60,
    errors=1,
    parsed=60,
    missing={"reporter": 1, "tags": 0},
    baseline=(58, 61, 60),
    earlier_parsed=400,
    earlier_missing={"reporter": 4, "tags": 0},
)
CLEAN = RunFacts(
    mode="full",
    finish_reason="finished",
    articles=120,
    parsed=120,
    errors=3,
    pages=130,
    sites=(SITE, replace(SITE, region="kalteng")),
)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"articles": 0, "parsed": 0, "errors": 0, "pages": 3}, "too few articles: 0 stored, at least 1 expected"),
        ({"mode": "incremental", "articles": 0, "parsed": 0, "errors": 0, "pages": 1}, None),  # a quiet hour
        ({"errors": 40, "pages": 160}, "error rate 25% (40 of 160 pages) is above 20%"),
        (
            {"errors": 40, "pages": 160, "errors_by_site": {"kalteng": 4, "kalsel": 36, "jambi": 0}},
            "error rate 25% (40 of 160 pages; most in kalsel (36), kalteng (4)) is above 20%",
        ),
        ({"finish_reason": "shutdown"}, "the run ended with finish reason 'shutdown', not 'finished'"),
        ({"finish_reason": "closespider_pagecount"}, "finish reason 'closespider_pagecount'"),
    ],
)
def test_run_checks(changes: dict[str, Any], reason: str | None) -> None:
    health = check_run(replace(CLEAN, **changes), Thresholds())
    if reason is None:
        assert (health.status, health.reasons) == ("ok", [])
        assert {slug: h.status for slug, h in health.sites.items()} == {"kalsel": "ok", "kalteng": "ok"}
    else:
        assert health.status == "degraded"
        assert len(health.reasons) == 1 and reason in health.reasons[0]


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        (
            {"list_read": 0, "listing_failures": ("RSS feed (timeout)", "list page 1 (http_500)")},
            "went dark: no list page or feed could be read (RSS feed (timeout), list page 1 (http_500))",
        ),
        ({"list_read": 0, "feed_read": 1}, None),  # the feed overlapped what the archive holds: no list page needed
        (
            {"listing_failures": ("list page 1 (http_404)",)},
            "list page 1 (http_404) failed; the run went on with the other list pages",
        ),
        ({"articles": 14}, "14 articles, far fewer than the 60 of its recent runs (median of 3)"),
        ({"articles": 15}, None),  # a quarter of the usual is still fine
        ({"articles": 5, "resumed": True}, None),  # a resumed run stores only what the killed runs left
        ({"articles": 0, "mode": "incremental"}, None),  # a quiet hour: incremental runs are not compared
        ({"articles": 1, "baseline": (8, 9, 1)}, None),  # too few usually to judge
        ({"articles": 0, "baseline": ()}, None),  # no earlier run
        (
            {"missing": {"reporter": 55, "tags": 0}},
            "reporter missing on 92% of 60 articles (was 1% in earlier runs)",
        ),
        ({"missing": {"reporter": 55}, "earlier_parsed": 0, "earlier_missing": {}}, None),  # no baseline yet
        ({"missing": {"reporter": 10}, "parsed": 10, "articles": 10, "baseline": ()}, None),  # too few to judge
    ],
)
def test_site_checks(changes: dict[str, Any], reason: str | None) -> None:
    site = replace(SITE, **changes)
    health = check_run(replace(CLEAN, sites=(site, replace(SITE, region="kalteng"))), Thresholds())
    assert check_site(site, Thresholds()).reasons == ([] if reason is None else [reason])
    if reason is None:
        assert (health.status, health.reasons) == ("ok", [])
    else:
        assert health.status == "degraded"
        assert health.reasons == [f"kalsel: {reason}"]
        assert (health.sites["kalsel"].status, health.sites["kalteng"].status) == ("degraded", "ok")


def test_a_dark_site_degrades_a_run_whatever_its_error_rate_and_cut_short_runs_are_not_judged_by_site() -> None:
    dark = replace(SITE, list_read=0, articles=0, parsed=0, listing_failures=("list page 1 (http_500)",))
    facts = replace(CLEAN, errors=2, pages=200, sites=(dark, replace(SITE, region="kalteng")))
    health = check_run(facts, Thresholds())
    assert health.status == "degraded"
    assert health.reasons == ["kalsel: went dark: no list page or feed could be read (list page 1 (http_500))"]
    cut = check_run(replace(facts, finish_reason="shutdown"), Thresholds())
    assert cut.reasons == ["the run ended with finish reason 'shutdown', not 'finished'"] and cut.sites == {}


def test_every_failed_check_is_a_reason_and_thresholds_come_from_settings() -> None:
    from scrapy.settings import Settings

    bad = replace(CLEAN, articles=0, parsed=0, errors=10, pages=10, finish_reason="shutdown")
    assert len(check_run(bad, Thresholds()).reasons) == 3
    limits = Thresholds.from_settings(
        Settings(
            {
                "ANTARA_HEALTH_MAX_ERROR_RATE": "0.01",
                "ANTARA_HEALTH_MIN_ARTICLES": 500,
                "ANTARA_HEALTH_SITE_DROP": "0.99",
                "ANTARA_HEALTH_SITE_MIN_BASELINE": "5",
                "ANTARA_HEALTH_SITE_RUNS": "2",
            }
        )
    )
    assert (limits.max_error_rate, limits.min_articles) == (0.01, 500)
    assert (limits.site_drop, limits.site_min_baseline, limits.site_runs) == (0.99, 5, 2)
    assert len(check_run(CLEAN, limits).reasons) == 2  # error rate, too few
    fewer = replace(CLEAN, sites=(replace(SITE, articles=59),))  # 59 < 99 % of 60
    assert check_run(fewer, limits).reasons[2:] == [
        "kalsel: 59 articles, far fewer than the 60 of its recent runs (median of 3)"
    ]


def runs(db: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM crawl_runs ORDER BY id")]
    finally:
        conn.close()


def region_rows(db: Path, run_id: int) -> dict[str, tuple[str, list[str]]]:
    """(health, reasons) of each site the run judged, from crawl_run_regions."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT region, health, health_reasons FROM crawl_run_regions WHERE run_id = ? AND health IS NOT NULL",
            [run_id],
        ).fetchall()
    finally:
        conn.close()
    return {region: (health, json.loads(reasons)) for region, health, reasons in rows}


@pytest.mark.slow
def test_a_clean_run_is_healthy_and_status_exits_0(sample_site: RunningSite, tmp_path: Path) -> None:
    db = tmp_path / "clean.db"
    result = crawl_sample(sample_site, db, "--region", "kalteng", "--max-pages", "2", "-q")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "degraded" not in result.stdout
    run = runs(db)[0]
    assert (run["health"], json.loads(run["health_reasons"])) == ("ok", [])
    coverage = json.loads(run["field_coverage"])
    assert coverage["articles"] == run["articles_new"] and set(coverage["missing"].values()) == {0}
    assert region_rows(db, run["id"]) == {"kalteng": ("ok", [])}
    status = run_cli("status", "--db", str(db), "--fail-on-degraded")
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[1].split()[-1] == "ok"


@pytest.mark.slow
def test_a_markup_change_that_loses_a_field_makes_the_run_degraded(tmp_path: Path) -> None:
    db = tmp_path / "markup.db"
    args = ("--region", "kalteng", "--max-pages", "2", "--follow-depth", "0", "-q")
    with serve_site(SampleSite(articles=3000, seed=7), tmp_path) as running:
        assert crawl_sample(running, db, *args).returncode == 0
        router = running.server.router
        real_get = router.get

        def redesigned(target: str) -> Any:
            """The site renames its credit line: the reporter can no longer be found."""
            page = real_get(target)
            return replace(page, body=page.body.replace(b"Pewarta", b"Oleh"))

        router.get = redesigned  # type: ignore[method-assign]
        result = crawl_sample(running, db, *args)
    assert result.returncode == 0, "a degraded run still finishes; the archive keeps what it got"
    assert "Run 2 is degraded: kalteng: reporter missing on 100% of" in result.stdout
    first, second = runs(db)
    assert first["health"] == "ok"
    assert second["health"] == "degraded"
    drift = (
        f"reporter missing on 100% of {second['articles_unchanged'] + second['articles_updated']} articles"
        " (was 0% in earlier runs)"
    )
    assert json.loads(second["health_reasons"]) == [f"kalteng: {drift}"]
    assert region_rows(db, second["id"]) == {"kalteng": ("degraded", [drift])}
    status = run_cli("status", "--db", str(db), "--fail-on-degraded")
    assert status.returncode == 1
    assert "run 2 is degraded: kalteng: reporter missing on 100%" in status.stderr
    assert "- kalteng: reporter missing on 100%" in status.stdout


@pytest.mark.slow
def test_a_run_with_many_errors_and_no_articles_is_degraded(tmp_path: Path) -> None:
    import threading

    from crawler.samplesite import make_server

    server = make_server(SampleSite(3000, 7), faults=FaultPlan(1.0, kinds=("http_503",), pages=("article",)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    db = tmp_path / "down.db"
    try:
        result = run_cli(
            *("crawl", "--db", str(db), "--mirror", server.base_url, "--delay", "0", "--concurrency", "4"),
            *("--region", "kalteng", "--max-pages", "1", "--follow-depth", "0", "-q", "-s", "ANTARA_RETRY_BACKOFF=0"),
        )
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 0, result.stderr[-2000:]
    reasons = json.loads(runs(db)[0]["health_reasons"])
    assert [r.split(":")[0].split(" (")[0] for r in reasons] == ["too few articles", "error rate 95%"]
    status = run_cli("status", "--db", str(db), "--json")
    assert json.loads(status.stdout.splitlines()[0])["health"] == "degraded"


def test_status_of_a_missing_archive_is_a_usage_error(tmp_path: Path) -> None:
    result = run_cli("status", "--db", str(tmp_path / "nope.db"))
    assert result.returncode == 2
    assert result.stderr.strip() == f"antara: error: archive {tmp_path / 'nope.db'} does not exist"
