"""The shared seen-set: scrapy-redis's RFPDupeFilter with the crawler's own request fingerprints."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy_redis.connection import get_redis_from_settings
from scrapy_redis.dupefilter import RFPDupeFilter

from crawler.distributed import keys

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings


class FingerprintDupeFilter(RFPDupeFilter):  # type: ignore[misc]
    """A Redis set of request fingerprints made by ``crawler.request_fingerprinter``.

    scrapy-redis 0.9.1's RFPDupeFilter hashes the canonical URL, method and body itself and
    so ignores Scrapy's fingerprinter API (``REQUEST_FINGERPRINTER_CLASS``, Scrapy >= 2.7):
    every slug, AMP or ``http`` variant of one article would be fetched again. This filter
    asks the crawler's fingerprinter (our slug-insensitive ``ArticleFingerprinter``) and stores
    its 20-byte digest as is, half the memory of the 40-character hex form.

    It never deletes the set when a worker closes (``close`` is a no-op): the set belongs to
    the run, and ``antara ingest`` removes it when the run is over.
    """

    def __init__(self, server: Any, key: str, fingerprinter: Any, debug: bool = False) -> None:
        super().__init__(server, key, debug=debug)
        self.fingerprinter = fingerprinter

    @classmethod
    def _build(cls, settings: BaseSettings, fingerprinter: Any) -> FingerprintDupeFilter:
        key = settings.get("SCHEDULER_DUPEFILTER_KEY") or keys.DUPEFILTER
        return cls(get_redis_from_settings(settings), key, fingerprinter, settings.getbool("DUPEFILTER_DEBUG"))

    @classmethod
    def from_spider(cls, spider: Spider) -> FingerprintDupeFilter:
        """What scrapy-redis's Scheduler calls when the spider opens."""
        assert spider.crawler.request_fingerprinter is not None
        return cls._build(spider.settings, spider.crawler.request_fingerprinter)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FingerprintDupeFilter:
        """For Scrapy's own scheduler (a shared seen-set with a local queue)."""
        return cls._build(crawler.settings, crawler.request_fingerprinter)

    def request_fingerprint(self, request: Request) -> bytes:
        return bytes(self.fingerprinter.fingerprint(request))

    def close(self, reason: str = "") -> None:
        """Keep the shared set: other workers still use it."""
