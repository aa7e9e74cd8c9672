"""scrapy-redis's scheduler for Scrapy 2.19, acknowledging requests once they are fully handled."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.utils.misc import load_object
from scrapy_redis.scheduler import Scheduler

from crawler.distributed.politeness import NOT_BEFORE
from crawler.distributed.queue import TOKEN, ReliablePriorityQueue
from crawler.distributed.state import redis_now, register
from crawler.distributed.worker import worker_of
from crawler.scrapy.compat import in_progress
from crawler.scrapy.retry import RETRY_WAIT

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class DistributedScheduler(Scheduler):  # type: ignore[misc]
    """scrapy-redis's Scheduler with the reliable queue, for one worker of a distributed run.

    - ``open`` binds the queue to this worker's id, so taken requests are recorded in flight;
    - ``next_request`` hands a request to the engine and remembers it; once the engine no
      longer holds it (its callback's requests are queued and items pushed), it is acknowledged;
    - a redirect or retry of a taken request comes back through ``enqueue_request``: it is
      queued and the original acknowledged in one atomic step (Lua), so a kill never finds
      neither in Redis; a retry's backoff becomes ``meta[NOT_BEFORE]`` in Redis time, waited
      out by whichever worker takes it (:mod:`crawler.distributed.politeness`).

    Settings as scrapy-redis's (``SCHEDULER_PERSIST`` must be True: a worker that closes must
    not flush the queue others share).
    """

    crawler: Crawler
    queue: ReliablePriorityQueue
    df: Any

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedScheduler:
        instance: DistributedScheduler = super().from_crawler(crawler)
        instance.crawler = crawler
        instance.handed = {}
        if not instance.persist:
            raise ValueError("SCHEDULER_PERSIST must be True for a distributed crawl: workers share the queue")
        return instance

    handed: dict[str, Request]

    def open(self, spider: Spider) -> None:
        """scrapy-redis's ``open`` (queue, seen-set from the spider), logging through ``logger``
        rather than the ``Spider.log()`` Scrapy 2.19 deprecates; then binds the queue to this worker."""
        self.spider = spider
        self.queue = load_object(self.queue_cls)(
            server=self.server, spider=spider, key=self.queue_key % {"spider": spider.name}, serializer=self.serializer
        )
        if not self.df:
            self.df = load_object(self.dupefilter_cls).from_spider(spider)
        if self.flush_on_start:
            self.flush()
        worker = worker_of(self.crawler)
        # alive and counted before the first request is taken: never holding requests while looking dead
        ttl = self.crawler.settings.getfloat("ANTARA_WORKER_TTL")
        register(self.server, worker.id, worker.run.id if worker.run else "", ttl)
        self.queue.bind(worker.id)
        queued = len(self.queue)
        if queued:
            logger.info("Taking requests from the shared queue (%d queued)", queued)

    # enqueue_request and next_request are scrapy-redis's, without the ``spider`` argument to
    # StatsCollector.inc_value() that Scrapy 2.19 deprecates, and with the seen-set check, the
    # push and the acknowledgement of the request this one follows in one Lua script
    def enqueue_request(self, request: Request) -> bool:
        token = request.meta.pop(TOKEN, None)
        wait = request.meta.pop(RETRY_WAIT, None)
        if wait:  # a retry's backoff, on the clock every worker shares
            request.meta[NOT_BEFORE] = redis_now(self.server) + float(wait)
        fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
        if not self.queue.enqueue(request, self.df.key, fingerprint, token):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True

    def next_request(self) -> Request | None:
        self.ack_finished()
        request: Request | None = self.queue.pop()
        if request is not None:
            self.handed[request.meta[TOKEN]] = request
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/redis")
        return request

    def ack_finished(self, closing: bool = False) -> int:
        """Acknowledge the taken requests the engine is done with; returns how many."""
        live = in_progress(self.crawler)
        if live is None and not closing:
            return 0  # no engine slot to ask: acknowledge nothing rather than too much
        done = [token for token, request in self.handed.items() if live is None or request not in live]
        for token in done:
            del self.handed[token]
        self.queue.ack(done)
        return len(done)

    def close(self, reason: str) -> Any:
        self.ack_finished(closing=True)
        if self.handed:
            logger.warning("%d requests were not finished; the next worker takes them again", len(self.handed))
        return super().close(reason)
