"""Item -> archive dispatch shared by the crawl's pipeline and the distributed ingester (no Scrapy)."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from archive import Archive
from archive.frontier import Follow
from archive.store import coverage_counts
from archive.warc import seen_at
from crawler.domain.items import (
    Article,
    ArticlePage,
    BackfillProgress,
    CaptureIndexed,
    CrawlError,
    Discovered,
    LeadImage,
    NotModified,
    WarcRef,
)
from crawler.domain.reasons import Reason, list_ended
from crawler.domain.regions import FEED_PATHS, region_for_host
from crawler.extraction import EXTRACTOR_VERSION
from crawler.extraction.urls import host_of, list_page_number, parse_article_url

#: a link that failed for a reason that may pass (an outage, a timeout) is tried again by later
#: runs until it has failed this often and its first failure is this long ago: a site down for a
#: day under an hourly schedule does not lose the Baca juga targets it failed
RETRY_LATER = (3, timedelta(hours=48))

#: Article fields that may legitimately be empty on a page; counted per run so a monitor can see one vanish.
OPTIONAL_FIELDS = ("summary", "dateline", "reporter", "editor", "category", "tags", "image_url", "image_caption")


def provenance(capture: WarcRef | None) -> dict[str, Any]:
    """The ``articles`` columns that name the WARC record a row was extracted from, and the extractor."""
    columns: dict[str, Any] = {"extractor_version": EXTRACTOR_VERSION}
    if capture is not None:
        columns.update(
            warc_file=capture.file,
            warc_offset=capture.offset,
            warc_length=capture.length,
            warc_record_id=capture.record_id,
        )
    return columns


def article_key(url: str) -> tuple[str, int] | None:
    """(site, article id) of an article URL, as the archive keys articles; None for other URLs."""
    ref = parse_article_url(url)
    return (ref.host, ref.article_id) if ref is not None else None


def to_follow(follow: Sequence[tuple[str, int]]) -> list[Follow]:
    """(url, hops) of links to fetch as the frontier keeps them, with their site and article id."""
    return [(url, hops, *key) for url, hops in follow if (key := article_key(url)) is not None]


def with_link_keys(record: dict[str, Any]) -> dict[str, Any]:
    """``record`` (an ``Article.as_record()``) with each link's target ``site`` and ``article_id``."""
    links = []
    for link in record.get("links") or []:
        site, article_id = article_key(str(link["url"])) or (None, None)
        links.append({**link, "site": site, "article_id": article_id})
    return {**record, "links": links}


@dataclass
class Stored:
    """What storing one item changed, for the run's counts."""

    counts: Counter[str] = field(default_factory=Counter)  #: crawl_runs columns, e.g. articles_new
    host: str | None = None  #: the site the counts belong to (for crawl_run_regions)
    error_reason: Reason | None = None  #: crawl_errors.reason for a CrawlError
    error_url: str | None = None  #: the URL of a CrawlError


def store_item(archive: Archive, item: Any, run_id: int | None, now: str | None = None) -> Stored:
    """Write one crawler item through the archive's methods; each call is one transaction.

    ``now`` overrides the clock of first/last seen stamps (``ANTARA_NOW``). Items of other
    types are ignored. Raises :class:`archive.ArchiveError` when the archive cannot be written.
    """
    if isinstance(item, CrawlError):
        removal = _store_removal(archive, item, run_id, now)
        if removal is not None:
            return removal
        transient = not item.reason.permanent and item.reason != Reason.OLDER_THAN_SINCE
        archive.record_error(
            run_id,
            item.url,
            item.reason,
            item.status,
            item.detail,
            item.referer,
            extractor_version=EXTRACTOR_VERSION,
            keep_for=RETRY_LATER if transient else None,
            now=now,
            article=article_key(item.url),
        )
        if item.reason == Reason.OLDER_THAN_SINCE:  # left out on purpose: recorded, but no failure of the run
            return Stored(Counter({Reason.OLDER_THAN_SINCE.value: 1}), host_of(item.url))
        return Stored(Counter(errors=1), host_of(item.url), item.reason, item.url)
    if isinstance(item, (ArticlePage, Article)):
        page = item if isinstance(item, ArticlePage) else ArticlePage(item)
        record = with_link_keys(page.article.as_record())
        record.update(etag=page.etag, last_modified=page.last_modified, **provenance(page.capture))
        stamp = now or (seen_at(page.capture.date) if page.capture else None)  # when the request was sent
        result = archive.upsert_article(record, run_id, follow=to_follow(page.follow), now=stamp)
        counts = Counter({f"articles_{result.outcome}": 1, "articles_stored": 1})
        if archive.record_online(page.article.site, page.article.article_id, run_id, 200, now=stamp):
            counts["articles_restored"] += 1
        counts.update(f"missing/{name}" for name in OPTIONAL_FIELDS if not record.get(name))
        return Stored(counts, page.article.site)
    if isinstance(item, NotModified):
        stamp = now or (seen_at(item.capture.date) if item.capture else None)
        archive.touch(item.site, item.article_id, run_id, now=stamp)
        counts = Counter(not_modified=1, articles_unchanged=1)
        if archive.record_online(item.site, item.article_id, run_id, 304, now=stamp):
            counts["articles_restored"] += 1
        return Stored(counts, item.site)
    if isinstance(item, LeadImage):  # its bytes and captures row are written by the capture handler
        return Stored(Counter(images=1), host_of(item.article_url))
    if isinstance(item, CaptureIndexed):  # WARC records a distributed worker wrote
        archive.record_captures(item.rows, run_id)
    elif isinstance(item, Discovered):
        archive.remember(to_follow(item.follow), item.referer, run_id)
    elif isinstance(item, BackfillProgress):
        archive.save_backfill_state(
            item.region, item.next_page, item.until, item.last_page, item.done, to_follow(item.follow), run_id
        )
    return Stored()


def _store_removal(archive: Archive, error: CrawlError, run_id: int | None, now: str | None) -> Stored | None:
    """An answer saying an archived article is gone (:attr:`CrawlError.removed`): the fetch is
    recorded in ``crawl_errors`` as any failure (the revisit schedule counts from it), the
    removal in ``article_removals`` when it is news; nothing archived is touched. It is no
    failure of the run: counted as ``articles_removed`` (a state change) or not at all, never
    as an error. None when ``error`` is no such answer, or names no archived article."""
    key = article_key(error.url) if error.removed is not None else None
    if key is None or error.removed is None or not archive.has_article(*key):
        return None
    archive.record_error(
        run_id,
        error.url,
        error.reason,
        error.status,
        error.detail,
        error.referer,
        extractor_version=EXTRACTOR_VERSION,
        now=now,
        article=key,
    )
    news = archive.record_removal(*key, run_id, error.status, error.removed, error.location, now=now)
    return Stored(Counter(articles_removed=1) if news else Counter(), key[0])


#: The per-site counts kept in ``crawl_run_regions``.
REGION_COUNTS = ("articles_new", "articles_updated", "articles_unchanged", "errors")


def listing_failure(url: str, reason: Reason) -> str | None:
    """``list page N (reason)`` or ``RSS feed (reason)`` when a list page or the feed of a site
    failed; None for other pages, and for a list that merely ended (see :func:`list_ended`)."""
    page = list_page_number(url)
    if page is not None:
        return None if list_ended(page, reason) else f"list page {page} ({reason})"
    if url.split("?", 1)[0].endswith(FEED_PATHS):
        return f"RSS feed ({reason})"
    return None


class Tally:
    """Counts of a run built from what :func:`store_item` reports: totals, errors by kind, per region
    (every count of :attr:`Stored.counts`; ``crawl_run_regions`` keeps :data:`REGION_COUNTS`), and
    the list pages and feeds that failed, per region."""

    def __init__(self) -> None:
        self.totals: Counter[str] = Counter()
        self.errors_by_kind: Counter[str] = Counter()
        self.by_region: dict[str, Counter[str]] = {}
        #: region -> failed list pages and feeds, e.g. ``list page 1 (http_500)``, in the order met
        self.listing_failures: dict[str, list[str]] = {}

    def add(self, stored: Stored) -> None:
        self.totals.update(stored.counts)
        if stored.error_reason is not None:
            self.errors_by_kind[stored.error_reason] += 1
        region = region_for_host(stored.host) if stored.host else None
        if region is not None:
            self.by_region.setdefault(region.slug, Counter()).update(stored.counts)
        if stored.error_url is not None and stored.error_reason is not None:
            self.failed(stored.error_url, stored.error_reason)

    def failed(self, url: str, reason: Reason) -> None:
        """Note a page that ended in crawl_errors among the listing failures if it is a list page or feed."""
        region = region_for_host(host_of(url))
        failure = listing_failure(url, reason)
        if region is not None and failure is not None:
            self.listing_failures.setdefault(region.slug, []).append(failure)

    def __bool__(self) -> bool:
        return bool(self.totals or self.errors_by_kind or self.by_region)


def stored_tally(archive: Archive, run_id: int) -> Tally:
    """The tally of what run ``run_id`` stored, as the archive holds it: the counts
    :meth:`Archive.add_run_counts` added up item by item (or batch by batch), and the listing
    failures among the run's crawl_errors rows. The distributed ingester closes a run with it:
    an ingester started again after a kill holds in memory only what it stored itself."""
    run, kinds, regions = archive.run_counts(run_id)
    tally = Tally()
    names = ("articles_new", "articles_updated", "articles_unchanged", "errors", "not_modified", "images")
    tally.totals.update({name: run.get(name) or 0 for name in names})
    tally.totals.update(coverage_counts(run.get("field_coverage")))
    tally.errors_by_kind.update(kinds)
    tally.by_region = {slug: Counter(counts) for slug, counts in regions.items()}
    for url, reason in archive.run_errors(run_id):
        try:
            known = Reason(reason)
        except ValueError:  # a reason of a newer crawler
            continue
        if known != Reason.OLDER_THAN_SINCE:  # left out on purpose, no failure (as in store_item)
            tally.failed(url, known)
    return tally


def run_counts(stats: Mapping[str, Any], tally: Tally, elapsed: float) -> dict[str, Any]:
    """A run's ``crawl_runs`` counts: fetching figures from Scrapy ``stats`` (summed over workers
    in a distributed run), storing figures from ``tally``."""
    get = stats.get
    new = tally.totals["articles_new"]
    requests = get("downloader/request_count", 0) - get("httpcache/hit", 0)  # robots.txt from cache is no request
    return {
        "requests": requests,
        "pages_fetched": get("downloader/response_count", 0),
        "list_pages": sum(v for k, v in stats.items() if k.startswith("antara/list_pages/")),
        "feed_requests": sum(v for k, v in stats.items() if k.startswith("antara/feed_requests/")),
        "revisits": get("antara/revisits", 0),
        "not_modified": tally.totals["not_modified"],
        "articles_new": new,
        "articles_updated": tally.totals["articles_updated"],
        "articles_unchanged": tally.totals["articles_unchanged"],
        "errors": tally.totals["errors"],
        "errors_by_kind": dict(tally.errors_by_kind),
        "requests_per_new_article": round(requests / new, 3) if new else None,
        "elapsed_seconds": round(elapsed, 3),
        "warc_records": get("warc/records", 0),
        "warc_revisits": get("warc/revisits", 0),
        "warc_bytes": get("warc/bytes", 0),
        "images": tally.totals["images"],
    }


def region_counts(stats: Mapping[str, Any], tally: Tally, slugs: Iterable[str] = ()) -> list[dict[str, Any]]:
    """``crawl_run_regions`` rows: every region crawled or counted."""
    rows = []
    for slug in sorted(set(tally.by_region) | set(slugs)):
        counted = tally.by_region.get(slug, Counter())
        rows.append(
            {
                "region": slug,
                "list_pages": stats.get(f"antara/list_pages/{slug}", 0),
                "feed_requests": stats.get(f"antara/feed_requests/{slug}", 0),
                **{name: counted[name] for name in REGION_COUNTS},
            }
        )
    return rows


class Group:
    """Items and WARC index rows waiting for one write transaction (a group commit).

    The crawl commits a group once ``items // 2`` items wait or the oldest has waited
    ``seconds``, and at close: one ``BEGIN``/``COMMIT`` for many articles instead of one each.
    While one group is synced and committed the next fills, and the crawl waits for the commit
    before more than ``items`` items are uncommitted. What is not committed is lost if the
    process is killed, and nothing more: its articles' frontier rows commit with them, so the
    next run fetches them again.
    ``before_commit`` callables run first, in the crawl's thread: each hands its data to the
    operating system and returns the call that puts it on the disk, which the crawl runs in
    another thread before the commit (the WARC writer's :meth:`~archive.warc.WarcWriter.flush`:
    a row never points at bytes that are not on the disk).
    """

    def __init__(self, items: int = 50, seconds: float = 0.25, archive: Archive | None = None) -> None:
        self.archive = archive  #: where the group is committed; earlier captures are looked up there
        self.limit = max(1, items)
        self.seconds = seconds
        self.items: list[Any] = []
        self.captures: list[dict[str, Any]] = []
        #: (url, payload digest) -> the first pending ``response`` row with them (revisits refer to it)
        self.responses: dict[tuple[str, str], dict[str, Any]] = {}
        #: the same, of the group taken for syncing and not committed yet (:meth:`settled` drops them)
        self.syncing_responses: dict[tuple[str, str], dict[str, Any]] = {}
        self.before_commit: list[Callable[[], Callable[[], None]]] = []
        self.since: float | None = None  #: monotonic time the oldest pending thing arrived

    def add(self, item: Any) -> None:
        self._started()
        self.items.append(item)

    def add_captures(self, rows: Iterable[dict[str, Any]]) -> None:
        self._started()
        for row in rows:
            self.captures.append(row)
            if row.get("record_type") == "response" and row.get("payload_digest"):
                self.responses.setdefault((row["url"], row["payload_digest"]), row)

    def _started(self) -> None:
        if self.since is None:
            self.since = time.monotonic()

    def earlier_response(self, url: str, digest: str) -> dict[str, Any] | None:
        """:meth:`archive.Archive.earlier_response`, among the committed captures and then the pending ones."""
        if self.archive is not None and (committed := self.archive.earlier_response(url, digest)) is not None:
            return committed
        found = self.responses.get((url, digest)) or self.syncing_responses.get((url, digest))
        if found is None:
            return None
        return {"record_id": found["warc_record_id"], "url": found["url"], "date": found["fetched_at"]}

    def earlier_payload(self, digest: str, prefixes: Iterable[str]) -> dict[str, Any] | None:
        """:meth:`archive.Archive.earlier_payload` (the same bytes under another URL starting with
        one of ``prefixes``), among the committed captures and then the pending ones."""
        starts = tuple(prefixes)
        if self.archive is not None and (committed := self.archive.earlier_payload(digest, starts)) is not None:
            return committed
        for (url, payload), row in [*self.syncing_responses.items(), *self.responses.items()]:
            if payload == digest and url.startswith(starts):
                return {"record_id": row["warc_record_id"], "url": row["url"], "date": row["fetched_at"]}
        return None

    def __len__(self) -> int:
        return len(self.items) + len(self.captures)

    def due(self) -> bool:
        """Half full (the other half fills while it is synced and committed), or its oldest
        item has waited long enough."""
        if len(self.items) >= max(1, self.limit // 2):
            return True
        return self.since is not None and time.monotonic() - self.since >= self.seconds

    def take(self) -> tuple[list[Any], list[dict[str, Any]]]:
        """The pending items and capture rows, leaving the group empty."""
        items, captures = self.items, self.captures
        self.syncing_responses = self.responses
        self.items, self.captures, self.responses, self.since = [], [], {}, None
        return items, captures

    def settled(self) -> None:
        """The group :meth:`take` gave is committed (or given up): its rows are in the archive."""
        self.syncing_responses = {}
