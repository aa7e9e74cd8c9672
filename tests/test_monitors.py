"""Run health: Spidermon monitors flag degraded runs, stay quiet on clean ones, and `antara status` reports them."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from crawler.monitors import RunFacts, Thresholds, check_run
from crawler.samplesite import SampleSite
from crawler.samplesite.faults import FaultPlan
from tests.conftest import RunningSite, crawl_sample, run_cli, serve_site

CLEAN = RunFacts(
    mode="full",
    finish_reason="finished",
    articles=120,
    parsed=120,
    errors=3,
    pages=130,
    missing={"reporter": 1, "tags": 0},
    earlier_parsed=400,
    earlier_missing={"reporter": 4, "tags": 0},
)


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({}, None),
        ({"articles": 0, "parsed": 0, "errors": 0, "pages": 3}, "too few articles: 0 stored, at least 1 expected"),
        ({"mode": "incremental", "articles": 0, "parsed": 0, "errors": 0, "pages": 1}, None),  # a quiet hour
        ({"errors": 40, "pages": 160}, "error rate 25% (40 of 160 pages) is above 20%"),
        ({"missing": {"reporter": 110, "tags": 0}}, "reporter missing on 92% of 120 articles (was 1% in earlier runs)"),
        ({"missing": {"reporter": 110}, "earlier_parsed": 0, "earlier_missing": {}}, None),  # no baseline yet
        ({"missing": {"reporter": 10}, "parsed": 10, "articles": 10}, None),  # too few to judge fields
        ({"finish_reason": "shutdown"}, "the run ended with finish reason 'shutdown', not 'finished'"),
        ({"finish_reason": "closespider_pagecount"}, "finish reason 'closespider_pagecount'"),
    ],
)
def test_checks(changes: dict[str, Any], reason: str | None) -> None:
    health = check_run(replace(CLEAN, **changes), Thresholds())
    if reason is None:
        assert (health.status, health.reasons) == ("ok", [])
    else:
        assert health.status == "degraded"
        assert len(health.reasons) == 1 and reason in health.reasons[0]


def test_every_failed_check_is_a_reason_and_thresholds_come_from_settings() -> None:
    from scrapy.settings import Settings

    bad = replace(CLEAN, articles=0, parsed=0, errors=10, pages=10, finish_reason="shutdown")
    assert len(check_run(bad, Thresholds()).reasons) == 3
    limits = Thresholds.from_settings(
        Settings({"ANTARA_HEALTH_MAX_ERROR_RATE": "0.01", "ANTARA_HEALTH_MIN_ARTICLES": 500})
    )
    assert limits.max_error_rate == 0.01 and limits.min_articles == 500
    assert len(check_run(CLEAN, limits).reasons) == 2


def runs(db: Path) -> list[dict[str, Any]]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute("SELECT * FROM crawl_runs ORDER BY id")]
    finally:
        conn.close()


def test_a_clean_run_is_healthy_and_status_exits_0(sample_site: RunningSite, tmp_path: Path) -> None:
    db = tmp_path / "clean.db"
    result = crawl_sample(sample_site, db, "--region", "kalteng", "--max-pages", "2", "-q")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "degraded" not in result.stdout
    run = runs(db)[0]
    assert (run["health"], json.loads(run["health_reasons"])) == ("ok", [])
    coverage = json.loads(run["field_coverage"])
    assert coverage["articles"] == run["articles_new"] and set(coverage["missing"].values()) == {0}
    status = run_cli("status", "--db", str(db), "--fail-on-degraded")
    assert status.returncode == 0, status.stderr
    assert status.stdout.splitlines()[1].split()[-1] == "ok"


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
    assert "Run 2 is degraded: reporter missing on 100% of" in result.stdout
    first, second = runs(db)
    assert first["health"] == "ok"
    assert second["health"] == "degraded"
    assert json.loads(second["health_reasons"]) == [
        f"reporter missing on 100% of {second['articles_unchanged'] + second['articles_updated']} articles"
        " (was 0% in earlier runs)"
    ]
    status = run_cli("status", "--db", str(db), "--fail-on-degraded")
    assert status.returncode == 1
    assert "run 2 is degraded: reporter missing on 100%" in status.stderr
    assert "- reporter missing on 100%" in status.stdout


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
