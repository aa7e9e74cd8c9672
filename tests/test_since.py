"""``--since`` bounds what is stored: older Baca juga targets stay links, and the id rule spares their fetch."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from crawler.extraction.urls import parse_article_url
from crawler.samplesite import SampleSite
from tests.conftest import RunningSite, crawl_sample, rows, run_cli
from tests.test_scheduled import fetch_counts

REGIONS = ("kalteng", "kalsel")
SINCE = "2026-11-27"  # the sample site's newest day: its list pages reach back into 11-26 on page 1
FOLLOW_DEPTH = 2

Key = tuple[str, int]


def older(spec: Any) -> bool:
    return date.fromisoformat(spec.published_at[:10]) < date.fromisoformat(SINCE)


def expected(site: SampleSite, follow_older: bool) -> tuple[set[Key], set[Key]]:
    """(articles a --since crawl stores, older targets it meets), from the site's truth: list pages
    until one ends older than since, their entries not older, then Baca juga links up to the depth,
    where an older target is a dead end unless ``follow_older``."""
    level = []
    for slug in REGIONS:
        for page in range(1, 4):
            listed = site.listed(slug, page)
            level.extend(spec for spec in listed if not older(spec))
            if listed and older(listed[-1]):
                break
    stored: set[Key] = set()
    met_older: set[Key] = set()
    seen: set[Key] = set()
    for hops in range(FOLLOW_DEPTH + 1):
        following = []
        for spec in level:
            key = (spec.host, spec.article_id)
            if key in seen:
                continue
            seen.add(key)
            if older(spec) and not follow_older:
                met_older.add(key)
                continue
            if spec.fault:
                continue
            stored.add(key)
            if hops < FOLLOW_DEPTH:
                following.extend(t for url in spec.baca_juga if (t := site.article_by_url(url)) is not None)
        level = following
    return stored, met_older


def keys(db: Path, sql: str) -> set[Key]:
    return {(ref.host, ref.article_id) for r in rows(db, sql) if (ref := parse_article_url(r[0]))}


@pytest.fixture(scope="module")
def since_crawl(sample_site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("since") / "archive.db"
    mark = sample_site.mark()
    args = ("--region", ",".join(REGIONS), "--since", SINCE, "--follow-depth", str(FOLLOW_DEPTH), "-q")
    result = crawl_sample(sample_site, db, *args)
    assert result.returncode == 0, result.stderr[-2000:]
    return {"db": db, "result": result, "fetched": fetch_counts(sample_site.requests()[mark:])}


@pytest.mark.slow
def test_no_article_older_than_since_is_stored(sample_site: RunningSite, since_crawl: dict[str, Any]) -> None:
    db = since_crawl["db"]
    stored, met_older = expected(sample_site.site, follow_older=False)
    assert met_older, "the sample site links older articles from recent ones"
    assert keys(db, "SELECT url FROM articles") == stored
    dates = {r[0] for r in rows(db, "SELECT substr(published_at, 1, 10) FROM articles")}
    assert dates and min(dates) >= SINCE


@pytest.mark.slow
def test_older_targets_stay_links(sample_site: RunningSite, since_crawl: dict[str, Any]) -> None:
    db = since_crawl["db"]
    site = sample_site.site
    for url, count in rows(db, "SELECT source_url, count(*) FROM links GROUP BY source_url"):
        spec = site.article_by_url(url)
        assert spec is not None and count == len(spec.baca_juga), "every Baca juga link of a stored article is kept"
    linked_older = {
        k for k in keys(db, "SELECT target_url FROM links") if (s := site.article(*k)) is not None and older(s)
    }
    assert linked_older, "links to older articles are there"
    assert not linked_older & keys(db, "SELECT url FROM articles")


@pytest.mark.slow
def test_older_targets_are_not_fetched_when_their_id_shows_their_age(
    sample_site: RunningSite, since_crawl: dict[str, Any]
) -> None:
    db = since_crawl["db"]
    site = sample_site.site
    _stored, met_older = expected(site, follow_older=False)
    fetched_older = {k for k in since_crawl["fetched"] if (s := site.article(*k)) is not None and older(s)}
    assert fetched_older < met_older, "some older targets are known older from their id and never fetched"
    recorded = keys(db, "SELECT url FROM crawl_errors WHERE reason = 'older_than_since'")
    assert recorded == fetched_older, "an older target fetched anyway is recorded as such"
    run = rows(db, "SELECT * FROM crawl_runs")[0]
    failures = rows(db, "SELECT count(*) FROM crawl_errors WHERE reason != 'older_than_since'")[0][0]
    assert run["errors"] == failures, "older targets left out are no failures of the run"
    assert "older_than_since" not in run["errors_by_kind"]
    assert f"{len(recorded)} older than --since left out" in since_crawl["result"].stdout


@pytest.mark.slow
def test_follow_older_stores_them(sample_site: RunningSite, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    args = ("--region", ",".join(REGIONS), "--since", SINCE, "--follow-older", "--follow-depth", str(FOLLOW_DEPTH))
    result = crawl_sample(sample_site, db, *args, "-q")
    assert result.returncode == 0, result.stderr[-2000:]
    stored, _older = expected(sample_site.site, follow_older=True)
    assert keys(db, "SELECT url FROM articles") == stored
    assert rows(db, "SELECT count(*) FROM articles WHERE substr(published_at, 1, 10) < ?", (SINCE,))[0][0] > 0


def test_help_says_what_since_does() -> None:
    result = run_cli("crawl", "--help", timeout=60)
    text = " ".join(result.stdout.split())
    assert "older Baca juga targets are kept as links only" in text
    assert "--follow-older" in text
