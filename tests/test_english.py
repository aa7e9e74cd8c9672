"""The English service end to end: the sample site's en.antaranews.com, crawled, stored, searched, exported."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.domain.reasons import Reason
from crawler.domain.regions import BY_SLUG, ENGLISH, REGIONS
from crawler.extraction import extract_article, extract_feed, extract_listing
from crawler.extraction.urls import list_page_url
from crawler.samplesite import SampleSite
from crawler.samplesite.clock import truth
from crawler.samplesite.english import EnglishArticleSpec, english
from crawler.samplesite.records import article_record
from crawler.samplesite.routes import Router
from crawler.scrapy.storage import listing_failure
from tests.conftest import RunningSite, crawl_sample, rows, run_cli, serve_site

SMALL = SampleSite(articles=700, seed=3, english_links=True)
ROUTER = Router(SMALL)
#: fields of an English article record compared with what the crawler stores or extracts
FIELDS = (
    "url",
    "site",
    "region",
    "article_id",
    "title",
    "summary",
    "body",
    "published_at",
    "published_at_raw",
    "dateline",
    "reporter",
    "editor",
    "translator",
    "category",
    "image_url",
    "image_caption",
    "word_count",
    "content_hash",
    "template",
    "language",
)


def _get(router: Router, url: str) -> bytes:
    page = router.get("/" + url.split("://", 1)[1])
    assert page.status == 200, url
    return page.body


def test_english_is_a_site_but_not_a_region() -> None:
    assert BY_SLUG["en"] is ENGLISH and ENGLISH not in REGIONS
    assert (ENGLISH.feed_path, ENGLISH.list_path, ENGLISH.article_section) == ("/rss/news.xml", "/latest-news", "news")
    assert {r.feed_path for r in REGIONS} == {"/rss/terkini.xml"}


@pytest.mark.parametrize("amp", [False, True], ids=["page", "amp"])
def test_every_english_page_extracts_to_its_truth(amp: bool) -> None:
    specs = english(SMALL).articles()
    assert len(specs) == 700 // 35
    for spec in specs:
        record = article_record(spec)
        url = spec.amp_url if amp else spec.url
        article = extract_article(_get(ROUTER, url), url)
        assert {f: getattr(article, f) for f in FIELDS} == {f: record[f] for f in FIELDS}, url
        assert article.tags == spec.tags
        assert [(link.url, link.anchor_text) for link in article.links if link.kind == "baca_juga"] == [
            (link["url"], link["anchor_text"]) for link in record["links"]
        ]


def test_english_site_has_translators_and_links_both_ways() -> None:
    specs = english(SMALL).articles()
    assert any(s.translator for s in specs) and any(s.translator is None for s in specs)
    assert any(", " in (s.translator or "") for s in english(SampleSite(3000, 7)).articles())
    targets = {url.split("/")[2] for s in specs for url in s.baca_juga}
    assert targets == {"en.antaranews.com", "www.antaranews.com"}
    into_english = [
        s for r in REGIONS for s in SMALL.articles_of(r.slug) if any("//en.antaranews.com/" in u for u in s.baca_juga)
    ]
    assert into_english
    for spec in into_english:  # each linked English article exists and is older
        for url in spec.baca_juga:
            target = SMALL.article_by_url(url)
            assert target is not None and target.fault is None
            if isinstance(target, EnglishArticleSpec):
                assert datetime.fromisoformat(target.published_at) <= datetime.fromisoformat(spec.published_at)


def test_indonesian_pages_link_to_english_only_when_asked() -> None:
    plain = SampleSite(articles=700, seed=3)
    for region in REGIONS:
        for spec in plain.articles_of(region.slug):
            assert not any("//en.antaranews.com/" in url for url in spec.baca_juga)
            linked = SMALL.article(spec.host, spec.article_id)
            assert linked is not None
            # the opt-in only appends links: the rest of the article is the same
            assert linked.baca_juga[: len(spec.baca_juga)] == spec.baca_juga
            assert linked.body == spec.body


def test_list_pages_and_feed_list_the_newest_english_articles() -> None:
    service = english(SMALL)
    assert service.pages == 1
    big = SampleSite(3000, 7)
    big_router, big_service = Router(big), english(big)
    for page in range(1, big_service.pages + 1):
        url = list_page_url(ENGLISH, page)
        entries = extract_listing(_get(big_router, url), url)
        assert [(e.url, e.published_at) for e in entries] == [(s.url, s.published_at) for s in big_service.listed(page)]
    assert big_router.get(f"/{ENGLISH.host}/latest-news/{big_service.pages + 1}").status == 404
    feed_url = f"https://{ENGLISH.host}{ENGLISH.feed_path}"
    entries = extract_feed(_get(big_router, feed_url), feed_url)
    assert [(e.url, e.published_at) for e in entries] == [(s.url, s.published_at) for s in big_service.listed(1)]
    assert _get(big_router, f"https://{ENGLISH.host}/robots.txt").startswith(b"User-agent: *")
    for path in ("/terkini", "/berita/412000/x", "/rss/terkini.xml", "/news/1/x"):
        assert big_router.get(f"/{ENGLISH.host}{path}").status == 404


def test_truth_lists_english_articles_when_asked() -> None:
    assert "en" not in truth(SMALL)["articles"]
    rows = truth(SMALL, ["en"])["articles"]["en"]
    assert [r["url"] for r in rows] == [s.url for s in english(SMALL).articles()]
    assert {r["language"] for r in rows} == {"en"}
    assert article_record(english(SMALL).articles()[0])["language"] == "en"
    assert article_record(SMALL.article_at(0))["language"] == "id"


def test_english_feed_failure_is_named() -> None:
    assert listing_failure(f"https://{ENGLISH.host}{ENGLISH.feed_path}", Reason.HTTP_500) == "RSS feed (http_500)"
    assert listing_failure("https://kalteng.antaranews.com/rss/terkini.xml", Reason.HTTP_500) == "RSS feed (http_500)"


# ---------------------------------------------------------------------- crawls (slow)


@pytest.fixture(scope="module")
def linked_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSite]:
    with serve_site(SampleSite(articles=3000, seed=7, english_links=True), tmp_path_factory.mktemp("en")) as site:
        yield site


@pytest.fixture(scope="module")
def english_crawl(linked_site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("en-crawl") / "archive.db"
    result = crawl_sample(linked_site, db, "--region", "en", "--max-pages", "2", "--follow-depth", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    return db


def _assert_stored_as_truth(db: Path, spec: EnglishArticleSpec) -> None:
    record = article_record(spec)
    row = rows(db, "SELECT * FROM articles WHERE url = ?", (spec.url,))[0]
    assert {f: row[f] for f in FIELDS} == {f: record[f] for f in FIELDS}
    assert row["published_at"].endswith("+07:00")
    assert json.loads(row["tags"]) == spec.tags
    stored = rows(db, "SELECT * FROM links WHERE source_url = ? AND kind = 'baca_juga' ORDER BY position", (spec.url,))
    assert [(r["target_site"], r["target_article_id"], r["anchor_text"]) for r in stored] == [
        (link["site"], link["article_id"], link["anchor_text"]) for link in record["links"]
    ]


@pytest.mark.slow
def test_region_en_stores_english_articles_as_the_truth_says(english_crawl: Path, linked_site: RunningSite) -> None:
    service = english(linked_site.site)
    listed = [spec for page in (1, 2) for spec in service.listed(page)]
    stored = {r["url"]: r for r in rows(english_crawl, "SELECT url, language, region FROM articles")}
    for spec in listed:
        _assert_stored_as_truth(english_crawl, spec)
    english_rows = [r for r in stored.values() if r["region"] == "en"]
    assert len(english_rows) >= len(listed)
    assert {r["language"] for r in english_rows} == {"en"}
    # "Also read" links into www.antaranews.com are followed one hop: those rows are Indonesian
    national = [r for r in stored.values() if r["region"] == "nasional"]
    assert national and {r["language"] for r in national} == {"id"}
    assert rows(english_crawl, "SELECT count(*) AS n FROM articles WHERE translator IS NOT NULL")[0]["n"] > 0


@pytest.mark.slow
def test_full_text_search_finds_english_words(english_crawl: Path) -> None:
    for word in ("programme", "officials"):
        hits = rows(
            english_crawl,
            "SELECT a.language FROM articles_fts JOIN articles a ON a.rowid = articles_fts.rowid"
            " WHERE articles_fts MATCH ?",
            (word,),
        )
        assert hits and {h["language"] for h in hits} == {"en"}


@pytest.mark.slow
def test_exports_carry_language_and_translator(english_crawl: Path, tmp_path: Path) -> None:
    jsonl = run_cli("export", "--db", str(english_crawl), "--format", "jsonl", "--output", "-")
    assert jsonl.returncode == 0, jsonl.stderr
    records = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert {(r["region"], r["language"]) for r in records} == {("en", "en"), ("nasional", "id")}
    assert any(r["translator"] for r in records if r["language"] == "en")
    out = tmp_path / "en.csv"
    result = run_cli("export", "--db", str(english_crawl), "--format", "csv", "--region", "en", "--output", str(out))
    assert result.returncode == 0, result.stderr
    table = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert table and {r["language"] for r in table} == {"en"}
    assert {r["url"]: r["translator"] for r in table} == {
        r["url"]: r["translator"] or "" for r in records if r["language"] == "en"
    }


@pytest.mark.slow
def test_kalteng_follows_baca_juga_into_english(linked_site: RunningSite, tmp_path: Path) -> None:
    site = linked_site.site
    listed = site.listed("kalteng", 1)
    wanted = {url for spec in listed if spec.fault is None for url in spec.baca_juga if "//en.antaranews.com/" in url}
    assert wanted, "the first kalteng list page links no English article"
    db = tmp_path / "kalteng.db"
    result = crawl_sample(linked_site, db, "--region", "kalteng", "--max-pages", "1", "--follow-depth", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    for url in wanted:
        spec = site.article_by_url(url)
        assert isinstance(spec, EnglishArticleSpec)
        _assert_stored_as_truth(db, spec)
    languages = {(r["region"], r["language"]) for r in rows(db, "SELECT DISTINCT region, language FROM articles")}
    assert ("en", "en") in languages and ("kalteng", "id") in languages
    assert all(lang == "id" for region, lang in languages if region != "en")


@pytest.mark.slow
def test_incremental_crawl_reads_the_english_feed(linked_site: RunningSite, tmp_path: Path) -> None:
    mark = linked_site.mark()
    db = tmp_path / "incremental.db"
    result = crawl_sample(linked_site, db, "--region", "en", "--incremental", "--max-pages", "1", "--follow-depth", "0")
    assert result.returncode == 0, result.stderr[-3000:]
    log = linked_site.requests()[mark:]
    assert f"GET /{ENGLISH.host}{ENGLISH.feed_path} 200" in log
    assert not any("/rss/terkini.xml" in line for line in log)
    newest = english(linked_site.site).listed(1)
    stored = {r["url"] for r in rows(db, "SELECT url FROM articles WHERE language = 'en'")}
    assert {spec.url for spec in newest} <= stored


@pytest.mark.slow
def test_datasette_facets_articles_by_language(english_crawl: Path) -> None:
    import asyncio

    from crawler.serve.app import build_datasette
    from crawler.serve.mode import choose_mode

    async def facets() -> dict[str, Any]:
        ds = build_datasette(english_crawl, immutable=choose_mode(english_crawl, "auto").immutable, allow_sql=False)
        await ds.invoke_startup()
        answer = await ds.client.get("/archive/articles.json?_size=0")
        return dict(answer.json()["facet_results"])

    counts = {r["value"]: r["count"] for r in asyncio.run(facets())["language"]["results"]}
    stored = {
        r["language"]: r["n"] for r in rows(english_crawl, "SELECT language, count(*) AS n FROM articles GROUP BY 1")
    }
    assert counts == stored and set(counts) == {"en", "id"}


@pytest.mark.slow
def test_cards_page_offers_the_language_facet_when_both_are_held(english_crawl: Path) -> None:
    import asyncio
    import re

    from crawler.serve.app import build_datasette
    from crawler.serve.mode import choose_mode

    async def pages() -> list[str]:
        ds = build_datasette(english_crawl, immutable=choose_mode(english_crawl, "auto").immutable, allow_sql=False)
        await ds.invoke_startup()
        return [(await ds.client.get(p)).text for p in ("/archive/articles", "/archive/articles?language=en")]

    both, english_only = asyncio.run(pages())
    assert re.findall(r"<h2>(\w+)</h2>", both) == ["Site", "Language", "Category", "Tag", "Month"]
    assert re.findall(r"<h2>(\w+)</h2>", english_only)[:2] == ["Site", "Language"]  # picked: can be removed
    assert 'aria-label="Remove Language en"' in english_only
