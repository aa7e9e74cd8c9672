"""Item pipeline: thin glue that writes articles, revisits, progress and crawl errors into the archive."""

from __future__ import annotations

import logging
import time
from typing import IO, TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro

from archive import Archive, ArchiveError
from crawler import __version__
from crawler.lock import LockHeld, hold_lock
from crawler.regions import REGIONS
from crawler.storage import Tally, region_counts, run_counts, store_item

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
        self.archive = Archive(self.path)
        self.archive.sync_regions(r.as_row() for r in REGIONS)
        spider = self.crawler.spider
        arguments = dict(getattr(spider, "run_arguments", {}) or {})
        regions = [r.slug for r in getattr(spider, "regions", [])]
        self.run_id = self.archive.start_run(arguments, regions, __version__, arguments.get("mode", "full"))
        self.crawler.stats.set_value("archive/run_id", self.run_id)
        self.crawler.stats.set_value("archive/path", self.path)
        self.started = time.monotonic()

    def process_item(self, item: Any) -> Any:
        if self.archive is None:  # the archive is locked by another crawl: this one is closing
            return item
        try:
            self._store(item)
        except ArchiveError as exc:
            logger.error("archive write failed, stopping the crawl: %s", exc)
            self.crawler.stats.set_value("archive/fatal", str(exc))
            self._stop("archive_error")
        return item

    def _store(self, item: Any) -> None:
        assert self.archive is not None
        stored = store_item(self.archive, item, self.run_id, now=self.clock)
        self.tally.add(stored)
        for name, count in stored.counts.items():
            self.crawler.stats.inc_value(f"archive/{name}", count)

    def _refuse(self, spider: Spider) -> None:
        self._stop("archive_locked")

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

    def _close_run(self, reason: str) -> None:
        assert self.archive is not None and self.run_id is not None
        outcome = _OUTCOMES.get(reason, "finished" if reason.startswith("closespider") else "failed")
        try:
            self.archive.finish_run(self.run_id, outcome, reason, self.counts(), self.region_counts())
        except ArchiveError as exc:
            logger.error("could not record the end of run %s: %s", self.run_id, exc)
        finally:
            self.archive.close()
            self.archive = None
