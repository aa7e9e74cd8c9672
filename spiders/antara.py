"""The ``antara`` spider: latest-news pages of chosen sites, their articles, and "Baca juga" links."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.errors import describe_failure
from crawler.extraction import ExtractionError, extract_article, extract_listing
from crawler.extraction.urls import list_page_url, parse_article_url
from crawler.items import Article, CrawlError, ListEntry
from crawler.options import CrawlOptions, Since
from crawler.regions import Region

LIST_PRIORITY = 100
ARTICLE_PRIORITY = 50


class AntaraSpider(scrapy.Spider):
    """Crawl ``/terkini`` pages 1..max_pages of each region and follow Baca juga links.

    Arguments (``-a`` on ``scrapy crawl``, options on ``antara crawl``): ``regions``
    (comma-separated slugs), ``all_regions``, ``max_pages`` (3), ``since`` (a date or
    ISO time), ``follow_depth`` (2).
    """

    name = "antara"
    allowed_domains = ["antaranews.com"]

    def __init__(
        self,
        regions: str | list[str] | None = None,
        max_pages: Any = 3,
        since: str | None = None,
        follow_depth: Any = 2,
        all_regions: Any = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        all_flag = str(all_regions).lower() in ("1", "true", "yes")
        self.options = CrawlOptions.parse(regions, max_pages, follow_depth, since, all_flag)
        self.regions: list[Region] = self.options.regions
        self.run_arguments = self.options.as_arguments()
        #: fewest hops known from a list page to each article, by (host, article id)
        self._hops: dict[tuple[str, int], int] = {}
        #: Baca juga targets of parsed articles that a shorter path could still reach again
        self._targets: dict[tuple[str, int], tuple[str, ...]] = {}

    async def start(self) -> AsyncIterator[Any]:
        for region in self.regions:
            yield self.list_request(region, 1)

    def list_request(self, region: Region, page: int) -> scrapy.Request:
        return scrapy.Request(
            list_page_url(region, page),
            callback=self.parse_list,
            errback=self.on_error,
            cb_kwargs={"region": region, "page": page},
            priority=LIST_PRIORITY - page,
        )

    def parse_list(self, response: Response, region: Region, page: int) -> Iterator[Any]:
        if not isinstance(response, TextResponse):
            yield CrawlError(response.url, "not_html", response.status, "the list page is not HTML")
            return
        entries = extract_listing(response.text, response.url, now=datetime.now(region.tz))
        if not entries:
            yield CrawlError(response.url, "empty_list", response.status, "the list page holds no article links")
            return
        since = self.options.since
        fresh = [e for e in entries if since is None or since.admits(e.published_at)]
        for entry in fresh:
            yield from self.follow(entry.url, 0, priority=ARTICLE_PRIORITY - page)
        if page < self.options.max_pages and not _reached_since(entries, since):
            yield self.list_request(region, page + 1)

    def follow(self, url: str, hops: int, priority: int | None = None) -> Iterator[scrapy.Request]:
        """Request the article at ``url`` reached after ``hops`` Baca juga links, once.

        An article first met through a long chain and later through a shorter one is not
        fetched again, but its own links are followed again with the hops they now have left.
        """
        ref = parse_article_url(url)
        if ref is None:
            return
        key = (ref.host, ref.article_id)
        known = self._hops.get(key)
        if known is not None and known <= hops:
            return
        self._hops[key] = hops
        if known is None:
            yield scrapy.Request(
                url,
                callback=self.parse_article,
                errback=self.on_error,
                cb_kwargs={"key": key},
                priority=-hops if priority is None else priority,
            )
        elif hops < self.options.follow_depth:
            for target in self._targets.pop(key, ()):
                yield from self.follow(target, hops + 1)

    def parse_article(self, response: Response, key: tuple[str, int]) -> Iterator[Any]:
        depth = self._hops.get(key, 0)
        referer = _referer(response.request)
        if not isinstance(response, TextResponse):
            yield CrawlError(response.url, "not_html", response.status, "the article URL did not answer HTML", referer)
            return
        try:
            article: Article = extract_article(response.text, response.url)
        except ExtractionError as exc:
            yield CrawlError(response.url, exc.reason, response.status, exc.detail, referer)
            return
        yield article
        if depth >= self.options.follow_depth:
            if depth > 0:
                self._targets[key] = tuple(link.url for link in article.links)
            return
        if depth > 0:
            self._targets[key] = tuple(link.url for link in article.links)
        for link in article.links:
            yield from self.follow(link.url, depth + 1)

    def on_error(self, failure: Failure) -> Iterator[CrawlError]:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        yield describe_failure(failure, url, _referer(request))


def _reached_since(entries: list[ListEntry], since: Since | None) -> bool:
    """True when the page's last dated entry is older than ``since``: later pages hold only older news.

    Lists run newest first; looking at the last entry (not the first) keeps a pinned old
    teaser at the top from ending the walk early.
    """
    if since is None:
        return False
    dated = [e for e in entries if e.published_at]
    return bool(dated) and not since.admits(dated[-1].published_at)


def _referer(request: scrapy.Request | None) -> str | None:
    if request is None:
        return None
    value = request.headers.get("Referer")
    return value.decode("latin-1") if value else None
