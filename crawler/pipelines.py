"""Item pipeline: thin glue that writes articles, revisits, progress and crawl errors into the archive."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections import Counter
from typing import IO, TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

from archive import Archive, ArchiveError
from crawler import __version__
from crawler.lock import LockHeld, hold_lock
from crawler.monitors import Health, RunFacts, SiteFacts, Thresholds, check_run
from crawler.regions import REGIONS
from crawler.storage import OPTIONAL_FIELDS, Tally, region_counts, run_counts, store_item

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Scrapy finish reasons and the run outcome stored for them.
_OUTCOMES = {"finished": "finished", "shutdown": "interrupted", "archive_error": "failed"}


class ArchivePipeline:
    """Store what the spider yields in the ``ARCHIVE_DB`` file, one transaction per item.

    One ``crawl_runs`` row per crawl: opened when the spider opens, closed with the finish
    reason, the counts and per-region counts (``crawl_run_regions``) when it closes.
    """

    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = path
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self.started = time.monotonic()
        self.tally = Tally()
        self.lock: IO[str] | None = None
        #: set once a write failed (disk full, locked archive): nothing more is written
        self.failed: ArchiveError | None = None
        self.timeout = crawler.settings.getfloat("ARCHIVE_BUSY_TIMEOUT", 30.0)
        self.max_pages = crawler.settings.getint("ARCHIVE_MAX_PAGES", 0) or None
        #: ``ANTARA_NOW``: the crawl's clock for first/last seen times (tests and replays); None is now
        self.clock: str | None = crawler.settings.get("ANTARA_NOW") or None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        path = crawler.settings.get("ARCHIVE_DB")
        if not path:
            raise NotConfigured("ARCHIVE_DB is empty")
        pipeline = cls(crawler, path)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        if not self.crawler.settings.getbool("ANTARA_LOCK_HELD"):  # antara crawl takes it before starting
            try:
                self.lock = hold_lock(self.path)
            except LockHeld as exc:
                logger.error("%s", exc)
                self.crawler.stats.set_value("archive/fatal", str(exc))
                # close once the spider is fully open (closing from here would upset CoreStats)
                self.crawler.signals.connect(self._refuse, signal=signals.spider_opened)
                return
        spider = self.crawler.spider
        arguments = dict(getattr(spider, "run_arguments", {}) or {})
        regions = [r.slug for r in getattr(spider, "regions", [])]
        try:
            self.archive = Archive(self.path, timeout=self.timeout, max_pages=self.max_pages)
            self.archive.sync_regions(r.as_row() for r in REGIONS)
            self.run_id = self.archive.start_run(arguments, regions, __version__, arguments.get("mode", "full"))
        except ArchiveError as exc:
            self._fail(exc)
            if self.archive is not None:
                self.archive.close()
                self.archive = None
            self.crawler.signals.connect(self._abandon, signal=signals.spider_opened)
            return
        self.crawler.stats.set_value("archive/run_id", self.run_id)
        self.crawler.stats.set_value("archive/path", self.path)
        self.started = time.monotonic()

    def process_item(self, item: Any) -> Any:
        if self.archive is None or self.failed is not None:
            # locked by another crawl, or a write failed: this crawl is closing, and what it
            # fetched but could not store stays in the frontier for the next one
            return item
        try:
            self._store(item)
        except ArchiveError as exc:
            self._fail(exc)
            self._stop("archive_error")
        return item

    def _fail(self, exc: ArchiveError) -> None:
        """Remember the first failed write and say clearly what happened and what it means."""
        if self.failed is not None:
            return
        self.failed = exc
        message = (
            f"{exc}. The crawl stopped; everything archived before is complete, and the next crawl resumes what is left"
        )
        # antara crawl prints the message as its last line; plain scrapy crawl only has the log
        logger.log(logging.INFO if self.crawler.settings.getbool("ANTARA_LOCK_HELD") else logging.ERROR, "%s", message)
        self.crawler.stats.set_value("archive/fatal", message)
        self.crawler.stats.set_value("archive/fatal_kind", exc.kind)

    def _store(self, item: Any) -> None:
        assert self.archive is not None and self.run_id is not None
        with self.archive.transaction(_describe(item)):
            stored = store_item(self.archive, item, self.run_id, now=self.clock)
            if stored.counts:  # the run's ledger row counts it in the same transaction, so a
                # killed run's row still says what it stored (the close replaces them with the totals)
                one = Tally()
                one.add(stored)
                self.archive.add_run_counts(self.run_id, one.totals, one.errors_by_kind, one.by_region)
        self.tally.add(stored)
        for name, count in stored.counts.items():
            self.crawler.stats.inc_value(f"archive/{name}", count)

    def _refuse(self, spider: Spider) -> None:
        self._stop("archive_locked")

    def _abandon(self, spider: Spider) -> None:
        self._stop("archive_error")

    def _stop(self, reason: str) -> None:
        engine = self.crawler.engine
        if engine is not None:
            deferred_from_coro(engine.close_spider_async(reason=reason))

    def counts(self) -> dict[str, Any]:
        return run_counts(self.crawler.stats.get_stats(), self.tally, time.monotonic() - self.started)

    def region_counts(self) -> list[dict[str, Any]]:
        slugs = [r.slug for r in getattr(self.crawler.spider, "regions", [])]
        return region_counts(self.crawler.stats.get_stats(), self.tally, slugs)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.archive is None or self.run_id is None:
            return
        try:
            self._close_run(reason)
        finally:
            if self.lock is not None:
                self.lock.close()

    def health(self, reason: str, counts: dict[str, Any]) -> tuple[dict[str, Any], Health]:
        """The run's field coverage and the monitors' verdict, as crawl_runs columns, and the verdict."""
        get = self.crawler.stats.get_value
        parsed = get("archive/articles_stored", 0)
        missing = {name: get(f"archive/missing/{name}", 0) for name in OPTIONAL_FIELDS}
        articles = counts["articles_new"] + counts["articles_updated"] + counts["articles_unchanged"]
        mode = str(getattr(self.crawler.spider, "run_arguments", {}).get("mode", "full"))
        limits = Thresholds.from_settings(self.crawler.settings)
        facts = RunFacts(
            mode=mode,
            finish_reason=reason,
            articles=articles,
            parsed=parsed,
            errors=counts["errors"],
            pages=articles + counts["list_pages"] + counts["feed_requests"] + counts["errors"],
            sites=tuple(self.site_facts(slug, mode, limits) for slug in self.crawled_regions()),
            errors_by_site={slug: c["errors"] for slug, c in self.tally.by_region.items()},
        )
        verdict = check_run(facts, limits)
        self.crawler.stats.set_value("archive/health", verdict.status)
        self.crawler.stats.set_value("archive/health_reasons", verdict.reasons)
        columns = {
            "health": verdict.status,
            "health_reasons": json.dumps(verdict.reasons, ensure_ascii=False),
            "field_coverage": json.dumps({"articles": parsed, "missing": missing}, sort_keys=True),
        }
        return columns, verdict

    def crawled_regions(self) -> list[str]:
        """The regions the run crawled (not those its Baca juga links reached)."""
        return [r.slug for r in getattr(self.crawler.spider, "regions", [])]

    def site_facts(self, slug: str, mode: str, limits: Thresholds) -> SiteFacts:
        """What this run did on one site, and what its recent runs did (from the archive)."""
        assert self.archive is not None
        get = self.crawler.stats.get_value
        counted = self.tally.by_region.get(slug, Counter())
        try:
            same_mode = self.archive.site_history(slug, self.run_id, limits.site_runs, mode)
            recent = self.archive.site_history(slug, self.run_id, limits.site_runs)
        except sqlite3.Error:
            same_mode, recent = [], []
        earlier_parsed, earlier_missing = 0, Counter[str]()
        for row in recent:
            coverage = _coverage(row.get("field_coverage"))
            if coverage is not None:
                earlier_parsed += coverage[0]
                earlier_missing.update(coverage[1])
        return SiteFacts(
            region=slug,
            mode=mode,
            resumed=bool(getattr(self.crawler.spider, "resume_runs", None)),
            list_read=get(f"antara/list_read/{slug}", 0),
            feed_read=get(f"antara/feed_read/{slug}", 0),
            listing_failures=tuple(self.tally.listing_failures.get(slug, ())),
            articles=sum(counted[k] for k in ("articles_new", "articles_updated", "articles_unchanged")),
            errors=counted["errors"],
            parsed=counted["articles_stored"],
            missing={name: counted[f"missing/{name}"] for name in OPTIONAL_FIELDS},
            baseline=tuple(
                sum(row.get(k) or 0 for k in ("articles_new", "articles_updated", "articles_unchanged"))
                for row in same_mode
            ),
            earlier_parsed=earlier_parsed,
            earlier_missing=dict(earlier_missing),
        )

    def region_rows(self, verdict: Health) -> list[dict[str, Any]]:
        """``crawl_run_regions`` rows: counts and field coverage, and the verdict of each site the run crawled."""
        rows = self.region_counts()
        for row in rows:
            slug = row["region"]
            counted = self.tally.by_region.get(slug, Counter())
            row["field_coverage"] = json.dumps(
                {
                    "articles": counted["articles_stored"],
                    "missing": {name: counted[f"missing/{name}"] for name in OPTIONAL_FIELDS},
                },
                sort_keys=True,
            )
            site = verdict.sites.get(slug)
            if site is not None:
                row["health"] = site.status
                row["health_reasons"] = json.dumps(site.reasons, ensure_ascii=False)
        return rows

    def _close_run(self, reason: str) -> None:
        assert self.archive is not None and self.run_id is not None
        outcome = _OUTCOMES.get(reason, "finished" if reason.startswith("closespider") else "failed")
        if self.failed is not None:
            outcome = "failed"
        counts = self.counts()
        columns, verdict = self.health(reason, counts)
        counts.update(columns)
        try:
            self.archive.finish_run(self.run_id, outcome, reason, counts, self.region_rows(verdict))
        except ArchiveError as exc:
            # e.g. the disk is still full: the run stays marked running, and the next crawl
            # marks it interrupted and resumes it
            logger.error("could not record the end of run %s: %s", self.run_id, exc)
        finally:
            self.archive.close()
            self.archive = None


def _coverage(text: Any) -> tuple[int, dict[str, int]] | None:
    """(articles parsed, missing per field) of a stored ``field_coverage`` JSON; None when unreadable."""
    try:
        coverage = json.loads(text)
        return int(coverage.get("articles", 0)), {str(k): int(v) for k, v in dict(coverage["missing"]).items()}
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def _describe(item: Any) -> str:
    """What storing ``item`` writes, for the message of a failed write."""
    page = getattr(item, "article", None)
    url = getattr(page, "url", None) or getattr(item, "url", None) or getattr(item, "referer", None)
    return str(url) if url else type(item).__name__
