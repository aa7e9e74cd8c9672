"""End to end: the real CLI crawls the sample site on loopback into a real SQLite file."""

from __future__ import annotations

import json
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from crawler.extraction.urls import parse_article_url
from tests.conftest import ROOT, RunningSite, crawl_sample, rows

REGIONS = ("kalteng", "kalsel", "nasional")
MAX_PAGES = 3
FOLLOW_DEPTH = 2


def expected_reach(site: Any, regions: tuple[str, ...], max_pages: int, depth: int) -> tuple[dict, dict]:
    """Breadth-first walk of the site's truth: (archivable specs, faulty specs) by (host, id)."""
    frontier = []
    for slug in regions:
        for page in range(1, max_pages + 1):
            frontier.extend(site.listed(slug, page))
    good: dict[tuple[str, int], Any] = {}
    bad: dict[tuple[str, int], Any] = {}
    seen: set[tuple[str, int]] = set()
    level = 0
    while frontier:
        following = []
        for spec in frontier:
            key = (spec.host, spec.article_id)
            if key in seen:
                continue
            seen.add(key)
            if spec.fault:
                bad[key] = spec
                continue
            good[key] = spec
            if level < depth:
                for target in spec.baca_juga:
                    ref = parse_article_url(target)
                    assert ref is not None
                    found = site.article(ref.host, ref.article_id)
                    if found is not None:
                        following.append(found)
        frontier = following
        level += 1
    return good, bad


@pytest.fixture(scope="module")
def first_crawl(sample_site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    db = tmp_path_factory.mktemp("crawl") / "archive.db"
    mark = sample_site.mark()
    result = crawl_sample(
        sample_site,
        db,
        "--region",
        ",".join(REGIONS),
        "--max-pages",
        str(MAX_PAGES),
        "--follow-depth",
        str(FOLLOW_DEPTH),
        "--set",
        "ANTARA_PROGRESS_INTERVAL=0.2",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return {"db": db, "result": result, "log": sample_site.requests()[mark:]}


def test_progress_and_robots(first_crawl: dict[str, Any]) -> None:
    assert re.search(
        r"\] pages \d+ \| articles \d+ new, \d+ updated, \d+ unchanged \| errors \d+", first_crawl["result"].stderr
    )
    fetched = [line.split()[1] for line in first_crawl["log"]]
    for host in ("kalteng.antaranews.com", "kalsel.antaranews.com", "www.antaranews.com"):
        assert fetched.count(f"/{host}/robots.txt") == 1, "robots.txt is fetched once per host, through the mirror"
    assert not any("/search" in path or "/cari" in path for path in fetched)


def test_datasette_opens_the_archive(first_crawl: dict[str, Any]) -> None:
    import asyncio

    from datasette.app import Datasette

    async def probe() -> tuple[dict, dict]:
        ds = Datasette([str(first_crawl["db"])], immutables=[])
        await ds.invoke_startup()
        tables = (await ds.client.get("/archive.json")).json()
        title = rows(first_crawl["db"], "SELECT title FROM articles ORDER BY published_at DESC LIMIT 1")[0]["title"]
        word = max(re.findall(r"\w+", title), key=len)
        found = (await ds.client.get(f"/archive/articles.json?_search={word}&_shape=objects")).json()
        return tables, {"title": title, "found": found}

    tables, search = asyncio.run(probe())
    names = {t["name"] for t in tables["tables"]}
    assert {
        "articles",
        "articles_fts",
        "regions",
        "tags",
        "article_tags",
        "links",
        "crawl_runs",
        "crawl_errors",
    } <= names
    assert search["title"] in [r["title"] for r in search["found"]["rows"]]


def test_summary_is_printed(first_crawl: dict[str, Any]) -> None:
    out = first_crawl["result"].stdout
    assert re.search(r"Crawl finished in [\d.]+s: \d+ pages fetched, \d+ articles new", out), out
    assert "Traceback" not in first_crawl["result"].stderr


def test_archive_holds_exactly_the_reachable_articles(first_crawl: dict[str, Any], sample_site: RunningSite) -> None:
    good, _ = expected_reach(sample_site.site, REGIONS, MAX_PAGES, FOLLOW_DEPTH)
    stored = {(r["site"], r["article_id"]) for r in rows(first_crawl["db"], "SELECT site, article_id FROM articles")}
    assert stored == set(good)
    total = rows(first_crawl["db"], "SELECT count(*) AS n FROM articles")[0]["n"]
    assert total == len(good)  # one row per article, whatever variant led to it
    hosts = {host for host, _ in stored}
    assert {"kalteng.antaranews.com", "kalsel.antaranews.com"} <= hosts
    assert len(hosts) > 2, "Baca juga links to other hosts were followed"
    hidden = [spec for spec in good.values() if spec.hidden]
    assert hidden, "articles listed nowhere were reached through Baca juga chains"


def test_fields_match_the_site(first_crawl: dict[str, Any], sample_site: RunningSite) -> None:
    good, _ = expected_reach(sample_site.site, REGIONS, MAX_PAGES, FOLLOW_DEPTH)
    by_key = {(r["site"], r["article_id"]): r for r in rows(first_crawl["db"], "SELECT * FROM articles")}
    for key, spec in good.items():
        row = by_key[key]
        assert row["url"] == spec.url
        assert row["region"] == spec.region
        assert row["title"] == spec.title
        assert row["body"] == spec.body
        assert row["published_at"] == spec.published_at
        assert row["dateline"] == spec.dateline
        assert row["reporter"] == spec.reporter
        assert row["editor"] == spec.editor
        assert row["category"] == spec.category
        assert json.loads(row["tags"]) == list(spec.tags)
        assert row["image_url"] == spec.image_url
        assert row["image_caption"] == spec.image_caption
        assert row["word_count"] == len(spec.body.split())
        assert "no-image" not in (row["image_url"] or "")
        assert "Baca juga" not in row["body"] and "Dilarang keras" not in row["body"]


def test_baca_juga_links_and_tags_are_stored(first_crawl: dict[str, Any], sample_site: RunningSite) -> None:
    good, _ = expected_reach(sample_site.site, REGIONS, MAX_PAGES, FOLLOW_DEPTH)
    db = first_crawl["db"]
    archived = {spec.url for spec in good.values()}
    for spec in good.values():
        stored = rows(
            db, "SELECT * FROM links WHERE source_url = ? AND kind = 'baca_juga' ORDER BY position", (spec.url,)
        )
        expected = [parse_article_url(url) for url in spec.baca_juga]
        assert [(r["target_site"], r["target_article_id"]) for r in stored] == [
            (e.host, e.article_id) for e in expected
        ]
        for row, url in zip(stored, spec.baca_juga, strict=True):
            if url in archived:  # an archived target is named by the URL its own page declares
                assert row["target_url"] == url
            assert row["anchor_text"]
        tags = [
            r["name"]
            for r in rows(
                db,
                "SELECT t.name FROM article_tags a JOIN tags t ON t.id = a.tag_id"
                " WHERE a.article_url = ? ORDER BY t.name",
                (spec.url,),
            )
        ]
        assert tags == sorted(spec.tags)
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_no_photo_video_or_tag_pages(first_crawl: dict[str, Any]) -> None:
    db = first_crawl["db"]
    bad = rows(
        db, "SELECT url FROM articles WHERE url NOT LIKE 'https://%/berita/%' OR url LIKE '%/amp/%' OR url LIKE '%?%'"
    )
    assert bad == []
    fetched = " ".join(first_crawl["log"])
    assert "/foto/" not in fetched and "/video/" not in fetched and "/infografis/" not in fetched


def test_broken_pages_become_error_rows(first_crawl: dict[str, Any], sample_site: RunningSite) -> None:
    _, bad = expected_reach(sample_site.site, REGIONS, MAX_PAGES, FOLLOW_DEPTH)
    assert {spec.fault for spec in bad.values()} >= {"http_404", "http_500", "no_article", "missing_date", "bad_date"}
    errors = {}
    for row in rows(first_crawl["db"], "SELECT url, reason, status, detail FROM crawl_errors"):
        ref = parse_article_url(row["url"])
        if ref is not None:
            errors[(ref.host, ref.article_id)] = row
    for key, spec in bad.items():
        assert key in errors, f"no crawl_errors row for {spec.url} ({spec.fault})"
        assert errors[key]["reason"] == spec.fault
        assert errors[key]["detail"]
    stored = {(r["site"], r["article_id"]) for r in rows(first_crawl["db"], "SELECT site, article_id FROM articles")}
    assert not stored & set(bad)


def test_each_article_fetched_once(first_crawl: dict[str, Any]) -> None:
    counts: Counter[tuple[str, int]] = Counter()
    statuses: dict[tuple[str, int], str] = {}
    for line in first_crawl["log"]:
        method, path, status = line.split()[:3]
        ref = parse_article_url("https://" + path.lstrip("/"))
        if ref is not None:
            counts[(ref.host, ref.article_id)] += 1
            statuses[(ref.host, ref.article_id)] = status
    assert counts
    twice = {k: n for k, n in counts.items() if n > 1 and statuses[k] != "500"}
    assert twice == {}, "slug, AMP, http and query variants must not cause refetches"


def test_run_is_recorded(first_crawl: dict[str, Any]) -> None:
    runs = rows(first_crawl["db"], "SELECT * FROM crawl_runs")
    assert len(runs) == 1
    run = runs[0]
    assert run["outcome"] == "finished" and run["finish_reason"] == "finished"
    assert run["started_at"] <= run["finished_at"]
    assert json.loads(run["arguments"])["regions"] == list(REGIONS)
    articles = rows(first_crawl["db"], "SELECT count(*) AS n FROM articles")[0]["n"]
    assert run["articles_new"] == articles and run["articles_updated"] == 0
    errors = rows(first_crawl["db"], "SELECT count(*) AS n FROM crawl_errors WHERE run_id = ?", (run["id"],))[0]["n"]
    assert run["errors"] == errors > 0
    assert run["pages_fetched"] > articles
    assert len(rows(first_crawl["db"], "SELECT * FROM regions")) == 36  # 35 Indonesian sites and en


def test_full_text_search(first_crawl: dict[str, Any]) -> None:
    row = rows(first_crawl["db"], "SELECT rowid, title FROM articles ORDER BY published_at DESC LIMIT 1")[0]
    word = max(re.findall(r"\w+", row["title"]), key=len)
    hits = rows(first_crawl["db"], "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", (word,))
    assert row["rowid"] in {h["rowid"] for h in hits}


@pytest.mark.slow
def test_second_crawl_updates_in_place(first_crawl: dict[str, Any], sample_site: RunningSite, tmp_path: Path) -> None:
    db = first_crawl["db"]
    before = {r["url"]: dict(r) for r in rows(db, "SELECT url, first_seen_at, last_seen_at FROM articles")}
    result = crawl_sample(sample_site, db, "--region", ",".join(REGIONS), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    after = {r["url"]: dict(r) for r in rows(db, "SELECT url, first_seen_at, last_seen_at FROM articles")}
    assert set(after) == set(before)
    for url, row in after.items():
        assert row["first_seen_at"] == before[url]["first_seen_at"]
        assert row["last_seen_at"] >= before[url]["last_seen_at"]
    runs = rows(db, "SELECT * FROM crawl_runs ORDER BY id")
    assert len(runs) == 2
    assert runs[1]["articles_new"] == 0 and runs[1]["articles_unchanged"] == len(after)
    assert re.search(r"0 articles new, 0 updated, \d+ unchanged", result.stdout)


@pytest.mark.slow
def test_since_stops_paging(sample_site: RunningSite, tmp_path: Path) -> None:
    site = sample_site.site
    second_page = site.listed("kalteng", 2)
    cutoff = second_page[len(second_page) // 2].published_at
    db = tmp_path / "since.db"
    mark = sample_site.mark()
    result = crawl_sample(
        sample_site, db, "--region", "kalteng", "--since", cutoff, "--follow-depth", "0", "--max-pages", "5", "-q"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    fetched = sample_site.requests()[mark:]
    assert any(line.split()[1].endswith("/terkini/2") for line in fetched)
    assert not any("/terkini/3" in line.split()[1] for line in fetched)
    dates = [r["published_at"] for r in rows(db, "SELECT published_at FROM articles")]
    assert dates and min(dates) >= cutoff[:16]  # same zone: string order is time order
    expected = {
        s.article_id for p in (1, 2) for s in site.listed("kalteng", p) if s.published_at >= cutoff and not s.fault
    }
    assert {r["article_id"] for r in rows(db, "SELECT article_id FROM articles")} == expected


@pytest.mark.slow
def test_scrapy_crawl_uses_the_same_settings(sample_site: RunningSite, tmp_path: Path) -> None:
    import subprocess
    import sys

    db = tmp_path / "scrapy.db"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "scrapy",
            "crawl",
            "antara",
            "-a",
            "regions=kalteng",
            "-a",
            "max_pages=1",
            "-a",
            "follow_depth=0",
            "-s",
            f"ARCHIVE_DB={db}",
            "-s",
            f"ANTARA_MIRROR={sample_site.url}",
            "-s",
            "DOWNLOAD_DELAY=0",
            "-s",
            "AUTOTHROTTLE_ENABLED=0",
            "-s",
            "CONCURRENT_REQUESTS_PER_DOMAIN=4",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    expected = {s.article_id for s in sample_site.site.listed("kalteng", 1) if not s.fault}
    assert {r["article_id"] for r in rows(db, "SELECT article_id FROM articles")} == expected
    assert "antara-archive/" in result.stderr  # the honest user agent is in the settings dump
