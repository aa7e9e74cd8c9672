"""Item pipeline: thin glue that writes articles and crawl errors into the archive."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import NotConfigured

from archive import Archive, ArchiveError
from crawler import __version__
from crawler.items import Article, CrawlError
from crawler.regions import REGIONS

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Scrapy finish reasons and the run outcome stored for them.
_OUTCOMES = {"finished": "finished", "shutdown": "interrupted", "archive_error": "failed"}


class ArchivePipeline:
    """Store :class:`Article` items (upsert) and :class:`CrawlError` items in the ``ARCHIVE_DB`` file.

    One ``crawl_runs`` row per crawl: opened when the spider opens, closed with the finish
    reason and counts when it closes.
    """

    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = path
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self.started = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        path = crawler.settings.get("ARCHIVE_DB")
        if not path:
            raise NotConfigured("ARCHIVE_DB is empty")
        pipeline = cls(crawler, path)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        self.archive = Archive(self.path)
        self.archive.sync_regions(r.as_row() for r in REGIONS)
        spider = self.crawler.spider
        arguments = dict(getattr(spider, "run_arguments", {}) or {})
        regions = [r.slug for r in getattr(spider, "regions", [])]
        self.run_id = self.archive.start_run(arguments, regions, __version__)
        self.crawler.stats.set_value("archive/run_id", self.run_id)
        self.crawler.stats.set_value("archive/path", self.path)
        self.started = time.monotonic()

    def process_item(self, item: Any) -> Any:
        assert self.archive is not None
        stats = self.crawler.stats
        try:
            if isinstance(item, CrawlError):
                self.archive.record_error(self.run_id, item.url, item.reason, item.status, item.detail, item.referer)
                stats.inc_value("archive/errors")
            elif isinstance(item, Article):
                result = self.archive.upsert_article(ItemAdapter(item).asdict(), self.run_id)
                stats.inc_value(f"archive/articles_{result.outcome}")
        except ArchiveError as exc:
            logger.error("archive write failed, stopping the crawl: %s", exc)
            stats.set_value("archive/fatal", str(exc))
            self._stop("archive_error")
        return item

    def _stop(self, reason: str) -> None:
        engine = self.crawler.engine
        if engine is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(engine.close_spider_async(reason=reason))

    def counts(self) -> dict[str, Any]:
        get = self.crawler.stats.get_value
        return {
            "pages_fetched": get("downloader/response_count", 0),
            "articles_new": get("archive/articles_new", 0),
            "articles_updated": get("archive/articles_updated", 0),
            "articles_unchanged": get("archive/articles_unchanged", 0),
            "errors": get("archive/errors", 0),
            "elapsed_seconds": round(time.monotonic() - self.started, 3),
        }

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.archive is None or self.run_id is None:
            return
        outcome = _OUTCOMES.get(reason, "finished" if reason.startswith("closespider") else "failed")
        try:
            self.archive.finish_run(self.run_id, outcome, reason, self.counts())
        except ArchiveError as exc:
            logger.error("could not record the end of run %s: %s", self.run_id, exc)
        finally:
            self.archive.close()
            self.archive = None
