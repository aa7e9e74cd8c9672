"""The spider over each crawl memory the settings can give it: in-process, reading a real SQLite
archive, and shared by workers in a real Redis."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from archive import Archive
from crawler.distributed.memory import RedisMemory
from crawler.domain.items import ArticlePage
from crawler.domain.memory import LocalMemory
from crawler.domain.reasons import EXTRACTOR_VERDICTS, PERMANENT_CODES
from crawler.extraction import EXTRACTOR_VERSION
from crawler.extraction.urls import parse_article_url
from crawler.samplesite import SampleSite
from crawler.samplesite.model import ArticleSpec
from crawler.samplesite.routes import Router
from crawler.scrapy.memory import ArchiveMemory
from crawler.scrapy.storage import to_follow
from spiders.antara import AntaraSpider
from tests.conftest import SAMPLE_ARTICLES, SAMPLE_SEED, RunningSite, crawl_sample

MakeSpider = Callable[..., AntaraSpider]


@pytest.fixture
def spiders() -> Iterator[list[AntaraSpider]]:
    made: list[AntaraSpider] = []
    yield made
    for spider in made:
        spider.closed("finished")


@pytest.fixture
def make_spider(spiders: list[AntaraSpider]) -> MakeSpider:
    """A spider made the way Scrapy makes it (``from_crawler``) from these settings and arguments."""

    def make(settings: dict[str, Any], **arguments: Any) -> AntaraSpider:
        crawler = get_crawler(AntaraSpider, settings)
        spider = AntaraSpider.from_crawler(crawler, **{"regions": "kalteng", **arguments})
        spiders.append(spider)
        return spider

    return make


@pytest.fixture(params=["local", "archive", "redis"])
def memory_settings(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, dict[str, Any]]:
    """Settings that choose each memory: no archive, an (empty) archive file, a distributed worker."""
    if request.param == "local":
        return "local", {}
    if request.param == "archive":
        db = tmp_path / "archive.db"
        Archive(db).close()
        return "archive", {"ARCHIVE_DB": str(db)}
    return "redis", {"ANTARA_DISTRIBUTED": True, "REDIS_URL": request.getfixturevalue("redis_url")}


SITE = SampleSite(articles=SAMPLE_ARTICLES, seed=SAMPLE_SEED)
ROUTER = Router(SITE)


def response(spec: ArticleSpec) -> HtmlResponse:
    """The sample site's real page of ``spec``, as the spider gets it."""
    page = ROUTER.get(f"/{spec.host}{spec.path}")
    assert page.status == 200
    return HtmlResponse(spec.url, body=page.body, encoding="utf-8", request=Request(spec.url))


def linking_article() -> ArticleSpec:
    """A listed kalteng article without faults whose Baca juga targets are all distinct articles."""
    for spec in SITE.articles_of("kalteng"):
        if not spec.hidden and spec.fault is None and len(spec.baca_juga) >= 2:
            return spec
    raise AssertionError("the sample site has no linking article")


def urls(requests: Any) -> list[str]:
    return [r.url for r in requests]


def test_the_settings_choose_the_memory(make_spider: MakeSpider, memory_settings: tuple[str, dict[str, Any]]) -> None:
    kind, settings = memory_settings
    expected = {"local": LocalMemory, "archive": ArchiveMemory, "redis": RedisMemory}[kind]
    assert type(make_spider(settings).memory) is expected


def test_each_memory_follows_baca_juga_by_fewest_hops(
    make_spider: MakeSpider, memory_settings: tuple[str, dict[str, Any]]
) -> None:
    kind, settings = memory_settings
    spec = linking_article()
    key = (spec.host, spec.article_id)
    spider = make_spider(settings, follow_depth=2)

    assert urls(spider.follow(spec.url, 2)) == [spec.url]  # first sight: fetched
    parsed = list(spider.parse_article(response(spec), key))
    page = parsed[0]
    assert isinstance(page, ArticlePage) and len(parsed) == 1  # at the depth limit: nothing followed
    targets = [link.url for link in page.article.links]
    assert targets == spec.baca_juga and page.follow == []
    assert spider.memory.targets(key) == tuple(targets)
    assert spider.memory.hops(key) == 2

    # met again by as long a path: not fetched again (a shared memory asks again; its seen-set drops it)
    again = [spec.url] if kind == "redis" else []
    assert urls(spider.follow(spec.url, 2)) == again
    # met by a shorter path: not fetched again, but its targets are followed with the hops now left
    shorter = urls(spider.follow(spec.url, 0))
    assert shorter == again + targets
    assert spider.memory.hops(key) == 0
    assert [spider.memory.hops(k) for k in map(_key, targets)] == [1] * len(targets)


@pytest.mark.redis
def test_workers_share_hops_and_targets_through_redis(make_spider: MakeSpider, redis_url: str) -> None:
    settings = {"ANTARA_DISTRIBUTED": True, "REDIS_URL": redis_url}
    spec = linking_article()
    key = (spec.host, spec.article_id)
    first, second = make_spider(settings, follow_depth=2), make_spider(settings, follow_depth=2)
    assert urls(first.follow(spec.url, 1)) == [spec.url]
    pages = [item for item in first.parse_article(response(spec), key) if isinstance(item, ArticlePage)]
    assert [url for url, _hops in pages[0].follow] == spec.baca_juga  # followed at hops 2
    # the other worker asks again (the first may have died before queueing it) and, reaching the
    # article by a shorter path, follows the targets the first noted, with the hops left
    assert urls(second.follow(spec.url, 0)) == [spec.url, *(t for t in spec.baca_juga)]
    assert [second.memory.hops(_key(t)) for t in spec.baca_juga] == [1] * len(spec.baca_juga)


@pytest.fixture(scope="module")
def crawled(sample_site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real archive: one list page of kalteng, Baca juga followed one hop."""
    db = tmp_path_factory.mktemp("memory") / "archive.db"
    result = crawl_sample(sample_site, db, "--region", "kalteng", "--max-pages", "1", "--follow-depth", "1", "-q")
    assert result.returncode == 0, result.stderr[-2000:]
    return db


def reach(archive: Archive, url: str, depth: int) -> set[str]:
    """What an incremental run should fetch when it meets archived ``url`` on a list page: the
    articles not archived (nor failed for good) within ``depth`` hops, reached through archived ones."""
    found: set[str] = set()
    frontier, seen = [url], {url}
    for _hops in range(depth + 1):
        after = []
        for current in frontier:
            ref = parse_article_url(current)
            assert ref is not None
            if archive.has_article(ref.host, ref.article_id):
                after.extend(t for t in archive.link_targets(ref.host, ref.article_id) if t not in seen)
                seen.update(after)
            elif not archive.failed_for_good(current, PERMANENT_CODES, EXTRACTOR_VERSION, EXTRACTOR_VERDICTS):
                found.add(ref.url)
        frontier = after
    return found


def test_the_archive_memory_answers_from_the_archive(make_spider: MakeSpider, crawled: Path, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    shutil.copy(crawled, db)
    with Archive(db, readonly=True) as archive:
        rows = archive.db.execute(
            "SELECT a.url, a.site, a.article_id FROM articles a WHERE EXISTS"
            " (SELECT 1 FROM links l WHERE l.source_url = a.url) ORDER BY a.article_id"
        ).fetchall()
        url, site, article_id = rows[0]
        expected = reach(archive, url, 2)
        bound = archive.db.execute("SELECT max(article_id) FROM articles WHERE site = ?", [site]).fetchone()[0]
    assert expected, "the archive should hold links not followed yet"

    spider = make_spider({"ARCHIVE_DB": str(db)}, mode="incremental", follow_depth=2)
    assert spider.known_before((site, article_id))
    # archived: left alone, and what lies behind it is reached as an uninterrupted run would
    requested = urls(spider.follow(url, 0))
    assert url not in requested and set(requested) == expected and len(requested) == len(expected)

    # the frontier an interrupted run left is fetched first
    pending = sorted(expected)[0]
    with Archive(db) as writer:
        writer.remember(to_follow([(pending, 1)]), url, None)
    fresh = make_spider({"ARCHIVE_DB": str(db)}, mode="incremental", follow_depth=2, revisit="off", feeds=False)
    first = urls(fresh.initial_requests())
    assert pending in first and first.index(pending) < len(first) - 1  # before the list page
    assert first[-1].endswith("/terkini")

    # --since after every archived article: their ids, and lower ones, are known to be older
    newest = max(r[0] for r in Archive(db, readonly=True).db.execute("SELECT published_at FROM articles"))
    later = make_spider({"ARCHIVE_DB": str(db)}, since=newest[:10] + "T23:59:59+07:00", follow_depth=2)
    assert later.known_older((site, bound)) and not later.known_older((site, bound + 1))
    assert urls(later.follow(url, 0)) == []
    assert later.crawler.stats.get_value("antara/older_than_since/skipped") == 1


def test_an_archive_not_there_yet_answers_as_empty_until_it_is(
    make_spider: MakeSpider, crawled: Path, tmp_path: Path
) -> None:
    db = tmp_path / "later.db"
    spider = make_spider({"ARCHIVE_DB": str(db)}, mode="incremental")
    with Archive(crawled, readonly=True) as archive:
        url, site, article_id = archive.db.execute("SELECT url, site, article_id FROM articles LIMIT 1").fetchone()
    assert not spider.known_before((site, article_id))
    assert spider.memory.pending() == [] and spider.memory.backfill_state("kalteng") is None
    shutil.copy(crawled, db)
    assert spider.known_before((site, article_id))
    assert url not in urls(spider.follow(url, 0))


@pytest.mark.redis
def test_a_distributed_worker_never_reads_the_archive(make_spider: MakeSpider, crawled: Path, redis_url: str) -> None:
    settings = {"ANTARA_DISTRIBUTED": True, "REDIS_URL": redis_url, "ARCHIVE_DB": str(crawled)}
    spider = make_spider(settings, mode="incremental")
    with Archive(crawled, readonly=True) as archive:
        url, site, article_id = archive.db.execute("SELECT url, site, article_id FROM articles LIMIT 1").fetchone()
    assert not spider.known_before((site, article_id))
    assert urls(spider.follow(url, 0)) == [url]
    assert spider.memory.pending() == []


def _key(url: str) -> tuple[str, int]:
    ref = parse_article_url(url)
    assert ref is not None
    return (ref.host, ref.article_id)
