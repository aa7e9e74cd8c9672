"""The ``antara`` spider: latest-news pages of chosen sites, their articles, and "Baca juga" links."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import scrapy
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from crawler.domain.items import (
    Article,
    ArticlePage,
    BackfillProgress,
    CrawlError,
    Discovered,
    LeadImage,
    ListEntry,
    NotModified,
)
from crawler.domain.memory import CrawlMemory, Key, LocalMemory
from crawler.domain.options import CrawlOptions, Since
from crawler.domain.reasons import Reason, list_ended
from crawler.domain.regions import BY_SLUG, Region
from crawler.extraction import extract_feed, extract_listing
from crawler.extraction.urls import list_page_url, parse_article_url
from crawler.scrapy.errors import describe_failure
from crawler.scrapy.images import (
    IMAGE_META,
    content_type,
    image_hosts,
    image_problem,
    on_image_host,
    too_large,
)
from crawler.scrapy.memory import memory_from_settings
from crawler.scrapy.pages import EMPTY_PAGE, article_from_response, as_removal, capture_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

LIST_PRIORITY = 100
ARTICLE_PRIORITY = 50
#: below articles: a page's images wait behind the pages still to fetch, and never delay the walk
IMAGE_PRIORITY = 10
#: a site's list walk gives up after this many list pages failed in a row (the site is down)
LIST_FAILURES_IN_A_ROW = 3


class AntaraSpider(scrapy.Spider):
    """Crawl the latest news of chosen ANTARA sites and follow Baca juga links.

    Modes (``mode``): ``full`` walks ``/terkini`` pages 1..max_pages and fetches every article
    listed; ``incremental`` looks at the RSS feed first, walks list pages only until a page
    holds nothing new, never refetches an archived article, and revisits recent articles at
    the ``revisit`` ages with conditional requests; ``backfill`` walks far back through
    ``/terkini/N`` (``pages``, ``until``), resumably. Every mode first fetches links an
    interrupted run left in the archive's frontier. In every mode a list page that fails does
    not end the walk (the next one is tried); three failing in a row do.

    Arguments (``-a`` on ``scrapy crawl``): ``regions``, ``all_regions``, ``mode``,
    ``max_pages``, ``since``, ``follow_older``, ``follow_depth``, ``until``, ``pages``,
    ``revisit``, ``feeds``, ``resume_runs``, ``images``.

    ``images``: after each article page, its lead image is requested once (not when the
    archive holds a capture of that URL already, or it failed for good), from an
    ``ANTARA_IMAGE_HOSTS`` host only, at most ``ANTARA_IMAGE_MAX_BYTES`` large; the capture
    handler writes it into the WARC files (a ``revisit`` record when its bytes were captured
    before), and the callback yields a :class:`LeadImage`, or a ``CrawlError`` when the answer
    is no image.

    ``since`` bounds what is stored: list and feed entries dated before it are skipped, and a
    Baca juga target older than it is neither stored nor followed further (the linking
    article keeps the link). Article ids grow with publication time on each host, so a target
    whose id is at most that of an article known to be older (a list or feed entry, a page
    fetched in this run, an archived article) is not fetched at all; one fetched and found
    older gets a ``crawl_errors`` row ``older_than_since`` instead of an ``articles`` row.
    ``follow_older`` fetches and stores such targets like any other.

    Distributed (``ANTARA_DISTRIBUTED``, see docs/distributed.md): ``antara seed`` makes the
    start requests and stores the arguments with the run; every worker's spider takes them
    from there, yields no start requests of its own, and shares hops and targets through Redis.
    Callback arguments are plain data (region slugs, key tuples) so requests serialize.
    """

    name = "antara"
    allowed_domains = ["antaranews.com"]

    def __init__(
        self,
        regions: str | list[str] | None = None,
        max_pages: Any = None,
        since: str | None = None,
        follow_depth: Any = 2,
        all_regions: Any = False,
        mode: str = "full",
        until: str | None = None,
        pages: str | None = None,
        revisit: str | None = None,
        feeds: Any = True,
        resume_runs: str | None = None,
        follow_older: Any = False,
        images: Any = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        all_flag = str(all_regions).lower() in ("1", "true", "yes")
        self.options = CrawlOptions.parse(
            regions, max_pages, follow_depth, since, all_flag, mode, until, pages, revisit, feeds, follow_older, images
        )
        self.regions: list[Region] = self.options.regions
        self.run_arguments = self.options.as_arguments()
        #: fewest hops from a list page to each article requested in this run, the Baca juga
        #: targets of parsed articles that a shorter path could still reach again, and what
        #: earlier runs left in the archive (``from_crawler`` gives the one the settings ask for)
        self.memory: CrawlMemory = LocalMemory()
        #: articles seen on each region's list pages in this run (items move down as news arrives)
        self._listed: dict[str, set[Key]] = {}
        #: articles this run requested (not those it left alone)
        self._requested: set[Key] = set()
        #: archived articles fetched again in this run because of their age
        self._revisiting: set[Key] = set()
        #: backfill: the list page this run started at, per region
        self._backfill_first: dict[str, int] = {}
        #: list pages of each region that failed since the last one read
        self._list_failures: dict[str, int] = {}
        #: interrupted runs this one completes: their list walks are redone in full, and what
        #: they, and the interrupted runs they completed in turn, fetched is not fetched again
        self.resume_runs: list[int] = [int(x) for x in str(resume_runs or "").split(",") if x.strip().isdigit()]
        self._resume_from: int | None = None
        #: per host, the highest article id known to be older than ``since`` (ids grow with time
        #: on each host, so every id up to it is older too); None: the archive was not asked yet
        self._older_up_to: dict[str, int | None] = {}
        #: lead images: the hosts they may come from and their size cap
        self.image_hosts: frozenset[str] = frozenset()
        self.image_max_bytes = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> AntaraSpider:
        if crawler.settings.getbool("ANTARA_DISTRIBUTED") and not kwargs.get("regions"):
            from crawler.distributed.state import seeded_arguments

            kwargs.update(seeded_arguments(crawler.settings))  # a worker crawls the seeded run
        spider = super().from_crawler(crawler, *args, **kwargs)
        assert isinstance(spider, AntaraSpider)
        spider.memory = memory_from_settings(crawler.settings)
        settings = crawler.settings
        spider.image_hosts = image_hosts(settings)
        spider.image_max_bytes = settings.getint("ANTARA_IMAGE_MAX_BYTES")
        return spider

    @property
    def distributed(self) -> bool:
        return hasattr(self, "settings") and self.settings.getbool("ANTARA_DISTRIBUTED")

    # -- what the archive already holds --------------------------------------------------------
    @property
    def resume_from(self) -> int | None:
        """The first run of the chain of interrupted runs this one completes (None: no resume).

        After several kills in a row each run resumed the one before it; what any of them
        fetched is done, and anything archived since the first of them began is as fresh as
        this run would make it.
        """
        if self._resume_from is None and self.resume_runs:
            self._resume_from = self.memory.first_of_chain(self.resume_runs)
        return self._resume_from

    def already_done(self, key: Key, url: str) -> bool:
        """Whether this run should leave the article alone: archived before (outside ``full`` mode),
        fetched by the chain of interrupted runs being resumed, or failed for good earlier."""
        first = self.resume_from
        if first is not None and self.memory.fetched_since(key, url, first):
            return True
        return self.options.mode != "full" and (self.memory.archived(key) or self.memory.failed_for_good(url))

    # -- --since: what is too old to store --------------------------------------------------
    @property
    def bounds_by_since(self) -> bool:
        """Whether articles older than ``since`` are left out (``--since`` without ``--follow-older``)."""
        return self.options.since is not None and not self.options.follow_older

    def known_older(self, key: Key) -> bool:
        """Whether the article is older than ``since`` before fetching it: its id is at most the
        id of an article of the same host known to be older (from a list page, a page fetched
        in this run, or the archive). Article ids grow with publication time on each host."""
        if not self.bounds_by_since:
            return False
        host, article_id = key
        if host not in self._older_up_to:  # first look at this host: what the archive knows
            since = self.options.since
            self._older_up_to[host] = self.memory.newest_before(host, since) if since is not None else None
        bound = self._older_up_to[host]
        return bound is not None and article_id <= bound

    def note_older(self, key: Key) -> None:
        """Remember that the article is older than ``since`` (and so is every lower id on its host)."""
        host, article_id = key
        self.known_older(key)  # the archive's bound first, so it is not asked after this
        bound = self._older_up_to.get(host)
        if bound is None or article_id > bound:
            self._older_up_to[host] = article_id

    def _not_older(self, entries: list[ListEntry]) -> list[ListEntry]:
        """The list or feed entries not dated before ``since``; the others teach which ids are older."""
        since = self.options.since
        if since is None:
            return entries
        fresh = []
        for entry in entries:
            if since.admits(entry.published_at):
                fresh.append(entry)
            elif (key := _key(entry.url)) is not None:
                self.note_older(key)
        return fresh

    def known_before(self, key: Key) -> bool:
        """Archived by an earlier run (not by this one)."""
        return (key not in self._requested or key in self._revisiting) and self.memory.archived(key)

    def now(self) -> datetime:
        fixed = self.settings.get("ANTARA_NOW")
        return datetime.fromisoformat(fixed) if fixed else datetime.now(timezone.utc)

    def closed(self, reason: str) -> None:
        self.memory.close()

    # -- start ---------------------------------------------------------------------------------
    async def start(self) -> AsyncIterator[Any]:
        if self.distributed:
            return  # `antara seed` queued the start requests; workers take them from Redis
        for request in self.initial_requests():
            yield request

    def initial_requests(self) -> Iterator[scrapy.Request]:
        """The run's first requests: links an interrupted run left, revisits, then feeds or list pages."""
        for url, hops, _referer in self.memory.pending():  # links an interrupted run found
            yield from self.follow(url, hops)
        if self.options.mode == "incremental" and self.options.revisit:
            due = self.memory.due_for_revisit([r.slug for r in self.regions], self.now(), self.options.revisit)
            for row in due:
                yield self.revisit_request(row)
        for region in self.regions:
            if self.options.mode == "incremental" and self.options.feeds and not self.resume_runs:
                yield self.feed_request(region)
            elif self.options.mode == "backfill":
                self._backfill_first[region.slug] = self.backfill_start(region)
                yield self.list_request(region, self._backfill_first[region.slug])
            else:
                yield self.list_request(region, 1)

    def backfill_start(self, region: Region) -> int:
        first = self.options.pages[0]
        state = self.memory.backfill_state(region.slug)
        until = self.options.until.text if self.options.until else None
        if state and not state["done"] and state["until"] == until and first == 1 and state["next_page"] > first:
            self.logger.info("backfill of %s resumes at page %s", region.slug, state["next_page"])
            return int(state["next_page"])
        return first

    # -- requests ------------------------------------------------------------------------------
    def list_request(self, region: Region, page: int, first: int | None = None) -> scrapy.Request:
        cb_kwargs: dict[str, Any] = {"region": region.slug, "page": page}
        if self.options.mode == "backfill":  # where this run's walk began, for its page budget
            cb_kwargs["first"] = page if first is None else first
        return scrapy.Request(
            list_page_url(region, page),
            callback=self.parse_list,
            errback=self.on_list_error,
            cb_kwargs=cb_kwargs,
            priority=LIST_PRIORITY - min(page, 50),
        )

    def feed_request(self, region: Region) -> scrapy.Request:
        return scrapy.Request(
            f"https://{region.host}{region.feed_path}",
            callback=self.parse_feed,
            errback=self.on_feed_error,
            cb_kwargs={"region": region.slug},
            priority=LIST_PRIORITY + 1,
        )

    def revisit_request(self, row: dict[str, Any]) -> scrapy.Request:
        key = (row["site"], row["article_id"])
        self.memory.lower_hops(key, 0)
        self._requested.add(key)
        self._revisiting.add(key)
        headers = {}
        if row.get("etag"):
            headers["If-None-Match"] = row["etag"]
        if row.get("last_modified"):
            headers["If-Modified-Since"] = row["last_modified"]
        self.crawler.stats.inc_value("antara/revisits")
        return scrapy.Request(
            row["url"],
            headers=headers,
            callback=self.parse_article,
            errback=self.on_error,
            cb_kwargs={"key": key},
            meta={"handle_httpstatus_list": [304]},
            priority=ARTICLE_PRIORITY,
        )

    def follow(self, url: str, hops: int, priority: int | None = None) -> Iterator[scrapy.Request]:
        """Request the article at ``url``, reached after ``hops`` Baca juga links, at most once.

        An article first met through a long chain and later through a shorter one is not
        fetched again, but its own links are followed again with the hops they now have left.
        An article this run leaves alone (archived before, outside ``full`` mode; fetched by the
        interrupted runs being resumed) is not fetched either: its links stored in the archive
        are followed instead, with the hops they have left, so what lies behind it is reached
        exactly as far as an uninterrupted run would reach it.
        """
        ref = parse_article_url(url)
        if ref is None:
            return
        key = (ref.host, ref.article_id)
        if self.known_older(key):
            # older than --since: neither fetched nor stored, and nothing behind it is followed
            # (the page linking to it keeps the link in the ``links`` table)
            self.crawler.stats.inc_value("antara/older_than_since/skipped")
            return
        known = self.memory.lower_hops(key, hops)
        request = scrapy.Request(
            ref.url,
            callback=self.parse_article,
            errback=self.on_error,
            cb_kwargs={"key": key},
            priority=-hops if priority is None else priority,
        )
        if known is not None and self.memory.resend_claimed:
            # Another worker may have claimed this article in a shared memory and died before its
            # request reached the shared queue: ask again, and let the shared seen-set (the
            # scrapy-redis dupefilter) drop the request if it is queued or done.
            yield request
        if known is not None and known <= hops:
            return
        if known is None and not self.already_done(key, ref.url):
            self._requested.add(key)
            yield request
            return
        if hops >= self.options.follow_depth:
            return
        targets = self.memory.targets(key)
        if targets is None and key not in self._requested:
            targets = self.memory.archived_targets(key)
        for target in targets or ():
            yield from self.follow(target, hops + 1)

    # -- callbacks -----------------------------------------------------------------------------
    def parse_feed(self, response: Response, region: str) -> Iterator[Any]:
        self.crawler.stats.inc_value(f"antara/feed_requests/{region}")
        if not response.body:
            yield CrawlError(
                response.url, Reason.EMPTY_PAGE, response.status, f"RSS feed: {EMPTY_PAGE}; walking list pages instead"
            )
            yield self.list_request(BY_SLUG[region], 1)
            return
        self.crawler.stats.inc_value(f"antara/feed_read/{region}")
        entries = extract_feed(response.body, response.url)
        keys = [k for k in map(_key, (e.url for e in entries)) if k is not None]
        overlaps = any(self.known_before(k) for k in keys)  # before follow() marks them as this run's
        for entry in self._not_older(entries):
            yield from self.follow(entry.url, 0, priority=ARTICLE_PRIORITY)
        if not overlaps:
            # the feed is empty, broken, or all new: it may not reach back to what we hold
            yield self.list_request(BY_SLUG[region], 1)

    def on_feed_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        region = BY_SLUG[request.cb_kwargs["region"]]
        error = describe_failure(failure, _first_url(request), None)
        error.detail = f"RSS feed unavailable, walking list pages instead: {error.detail}"
        yield error
        yield self.list_request(region, 1)

    def parse_list(self, response: Response, region: str, page: int, first: int | None = None) -> Iterator[Any]:
        self.crawler.stats.inc_value(f"antara/list_pages/{region}")
        yield from self._walk_list(response, BY_SLUG[region], page, page if first is None else first)

    def on_list_error(self, failure: Failure) -> Iterator[Any]:
        request = failure.request  # type: ignore[attr-defined]
        error = describe_failure(failure, _first_url(request), _referer(request))
        yield error
        kwargs = request.cb_kwargs
        if not list_ended(kwargs["page"], error.reason):
            yield from self._after_failed_list_page(BY_SLUG[kwargs["region"]], kwargs["page"], kwargs.get("first"))

    def _after_failed_list_page(self, region: Region, page: int, first: int | None) -> Iterator[scrapy.Request]:
        """A list page failed for good: walk on to the next one, as far as the walk would have
        gone, so a broken ``/terkini`` does not cost the site's whole run; but stop after
        ``LIST_FAILURES_IN_A_ROW`` failures in a row (the site is down: the run's health says so)."""
        failed = self._list_failures[region.slug] = self._list_failures.get(region.slug, 0) + 1
        if failed >= LIST_FAILURES_IN_A_ROW:
            return
        if self.options.mode == "backfill":
            first = page if first is None else first
            last = self.options.pages[1]
            if page - first + 1 < self.options.max_pages and (last is None or page < last):
                yield self.list_request(region, page + 1, first)
        elif page < self.options.max_pages:
            yield self.list_request(region, page + 1)

    def _walk_list(self, response: Response, region: Region, page: int, first: int) -> Iterator[Any]:
        if not response.body:
            yield CrawlError(response.url, Reason.EMPTY_PAGE, response.status, EMPTY_PAGE)
            yield from self._after_failed_list_page(region, page, first)
            return
        if not isinstance(response, TextResponse):
            yield CrawlError(response.url, Reason.NOT_HTML, response.status, "the list page is not HTML")
            yield from self._after_failed_list_page(region, page, first)
            return
        entries = extract_listing(response.text, response.url, now=datetime.now(region.tz))
        if not entries:
            yield CrawlError(response.url, Reason.EMPTY_LIST, response.status, "the list page holds no article links")
            if self.options.mode == "backfill":
                yield self.backfill_progress(region, page, [], done=True)
            return
        self._list_failures[region.slug] = 0
        self.crawler.stats.inc_value(f"antara/list_read/{region.slug}")
        since = self.options.since
        fresh = self._not_older(entries)
        listed = self._listed.setdefault(region.slug, set())
        nothing_new = all((k := _key(e.url)) is None or k in listed or self.known_before(k) for e in entries)
        listed.update(k for k in map(_key, (e.url for e in entries)) if k is not None)
        requested: list[tuple[str, int]] = []
        requests: list[scrapy.Request] = []
        for entry in fresh:
            for request in self.follow(entry.url, 0, priority=ARTICLE_PRIORITY - min(page, 50)):
                # the entry itself (0 hops), or a link behind an article left alone (more hops):
                # the frontier keeps the real count, so a resume never follows past follow_depth
                requested.append((request.url, self._hops_of(request.url)))
                requests.append(request)
        if requested and self.options.mode != "backfill":
            yield Discovered(response.url, requested)  # in the frontier before any is fetched
        yield from requests
        if self.options.mode == "backfill":
            last = self.options.pages[1]
            complete = _reached_since(entries, self.options.until) or (last is not None and page >= last)
            budget_spent = page - first + 1 >= self.options.max_pages
            yield self.backfill_progress(region, page + 1, requested, done=complete)
            if not complete and not budget_spent:
                yield self.list_request(region, page + 1, first)
            return
        if page >= self.options.max_pages or _reached_since(entries, since):
            return
        if self.options.mode == "incremental" and nothing_new and not self.resume_runs:
            return
        yield self.list_request(region, page + 1)

    def backfill_progress(
        self, region: Region, next_page: int, requested: list[tuple[str, int]], done: bool
    ) -> BackfillProgress:
        until = self.options.until.text if self.options.until else None
        return BackfillProgress(region.slug, next_page, until, self.options.pages[1], done, requested)

    def parse_article(self, response: Response, key: Key) -> Iterator[Any]:
        key = (key[0], int(key[1]))
        if response.status == 304:
            yield NotModified(response.url, key[0], key[1], capture=capture_of(response))
            return
        article = article_from_response(response, _referer(response.request))
        if isinstance(article, CrawlError):
            yield as_removal(response, article)  # gone from the site, if the archive holds it
            return
        since = self.options.since
        if self.bounds_by_since and since and key not in self._revisiting and not since.admits(article.published_at):
            self.note_older(key)
            self.crawler.stats.inc_value("antara/older_than_since/fetched")
            yield CrawlError(
                response.url,
                Reason.OLDER_THAN_SINCE,
                response.status,
                f"published {article.published_at}, before --since {since.text}: kept as a link only"
                " (--follow-older stores it)",
                _referer(response.request),
            )
            return
        hops = self.memory.note_targets(key, tuple(link.url for link in article.links))
        requests: list[scrapy.Request] = []
        if hops < self.options.follow_depth:
            for link in article.links:
                requests.extend(self.follow(link.url, hops + 1))
        yield ArticlePage(
            article,
            etag=_header(response, b"ETag"),
            last_modified=_header(response, b"Last-Modified"),
            follow=[(r.url, self._hops_of(r.url)) for r in requests],
            capture=capture_of(response),
        )
        yield from requests
        yield from self.image_request(article)

    # -- lead images ---------------------------------------------------------------------------
    def image_request(self, article: Article) -> Iterator[scrapy.Request]:
        """The request of ``article``'s lead image, when this run fetches images and it is still to fetch."""
        url = article.image_url
        if not self.options.images or not url or not on_image_host(url, self.image_hosts):
            return
        if self.memory.failed_for_good(url) or self.memory.captured(url):
            self.crawler.stats.inc_value("antara/images/archived_before")
            return
        meta: dict[str, Any] = {IMAGE_META: True}
        if self.image_max_bytes:
            meta["download_maxsize"] = self.image_max_bytes
        yield scrapy.Request(
            url,
            callback=self.parse_image,
            errback=self.on_image_error,
            cb_kwargs={"article_url": article.url},
            meta=meta,
            headers={"Referer": article.url},
            priority=IMAGE_PRIORITY,
        )

    def parse_image(self, response: Response, article_url: str) -> Iterator[Any]:
        problem = image_problem(response, self.image_max_bytes, article_url)
        if problem is not None:
            yield problem
            return
        self.crawler.stats.inc_value("antara/images/fetched")
        yield LeadImage(response.url, article_url, content_type(response), len(response.body), capture_of(response))

    def on_image_error(self, failure: Failure) -> Iterator[CrawlError]:
        request = failure.request  # type: ignore[attr-defined]
        error = describe_failure(failure, _first_url(request), request.cb_kwargs.get("article_url"))
        if error.reason is Reason.TOO_LARGE:
            error = too_large(error.url, self.image_max_bytes, error.referer)
        yield error

    def _hops_of(self, url: str) -> int:
        key = _key(url)
        return self.memory.hops(key) if key is not None else 0

    def on_error(self, failure: Failure) -> Iterator[CrawlError]:
        request = getattr(failure, "request", None)
        url = _first_url(request) if request is not None else "?"
        yield describe_failure(failure, url, _referer(request))


def _first_url(request: scrapy.Request) -> str:
    """The URL the crawl asked for, before any redirect."""
    redirects = request.meta.get("redirect_urls") or []
    return str(redirects[0]) if redirects else request.url


def _key(url: str) -> Key | None:
    ref = parse_article_url(url)
    return (ref.host, ref.article_id) if ref else None


def _reached_since(entries: list[ListEntry], since: Since | None) -> bool:
    """True when the page's last dated entry is older than ``since``: later pages hold only older news.

    Lists run newest first; looking at the last entry (not the first) keeps a pinned old
    teaser at the top from ending the walk early.
    """
    if since is None:
        return False
    dated = [e for e in entries if e.published_at]
    return bool(dated) and not since.admits(dated[-1].published_at)


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def _referer(request: scrapy.Request | None) -> str | None:
    if request is None:
        return None
    value = request.headers.get("Referer")
    return value.decode("latin-1") if value else None
