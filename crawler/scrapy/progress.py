"""Extension that prints a one-line progress report to stderr at a fixed interval."""

from __future__ import annotations

import sys
import time
from typing import TYPE_CHECKING

from scrapy import signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler


class Progress:
    """Every ``ANTARA_PROGRESS_INTERVAL`` seconds: pages, articles by outcome, errors, queue length."""

    def __init__(self, crawler: Crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.started = time.monotonic()
        self.loop: task.LoopingCall | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Progress:
        interval = crawler.settings.getfloat("ANTARA_PROGRESS_INTERVAL")
        if not crawler.settings.getbool("ANTARA_PROGRESS") or interval <= 0:
            raise NotConfigured
        ext = cls(crawler, interval)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    def spider_opened(self, spider: Spider) -> None:
        self.started = time.monotonic()
        self.loop = task.LoopingCall(self.report)
        self.loop.start(self.interval, now=False)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()

    def line(self) -> str:
        get = self.crawler.stats.get_value
        queued = 0
        engine = self.crawler.engine
        scheduler = engine.scheduler if engine is not None else None
        if scheduler is not None and engine is not None:
            queued = len(scheduler) + len(engine.downloader.active)  # type: ignore[arg-type]
        if self.crawler.settings.getbool("ANTARA_DISTRIBUTED"):
            return (
                f"[{time.monotonic() - self.started:6.0f}s] pages {get('downloader/response_count', 0)}"
                f" | items pushed {get('distributed/items_pushed', 0)} | shared queue {queued}"
            )
        return (
            f"[{time.monotonic() - self.started:6.0f}s] pages {get('downloader/response_count', 0)}"
            f" | articles {get('archive/articles_new', 0)} new, {get('archive/articles_updated', 0)} updated,"
            f" {get('archive/articles_unchanged', 0)} unchanged | errors {get('archive/errors', 0)}"
            f"{' | images ' + str(get('archive/images')) if get('archive/images') else ''}"
            f" | queued {queued}"
        )

    def report(self) -> None:
        print(self.line(), file=sys.stderr, flush=True)
