"""A worker's life in a distributed run: heartbeat, stats for the ledger, idling out, reclaiming."""

from __future__ import annotations

import logging
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy_redis.connection import get_redis_from_settings
from twisted.internet import task

from crawler.distributed import keys
from crawler.distributed.state import RunState, in_flight, new_worker_id, reclaim_dead, register
from crawler.scrapy.compat import wake_engine

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

_WORKERS: weakref.WeakKeyDictionary[Any, Worker] = weakref.WeakKeyDictionary()


@dataclass
class Worker:
    """Who this process is in the run: an id, a Redis client, the run it works on."""

    id: str
    server: Any
    run: RunState | None


def worker_of(crawler: Crawler) -> Worker:
    """The worker identity of ``crawler`` (made once, shared by scheduler, pipeline and extension)."""
    worker = _WORKERS.get(crawler)
    if worker is None:
        server = get_redis_from_settings(crawler.settings)
        worker = _WORKERS[crawler] = Worker(new_worker_id(), server, RunState.load(server))
    return worker


#: Scrapy stats a worker reports for the run's ledger (prefixes).
REPORTED = (
    "downloader/request_count",
    "downloader/response_count",
    "httpcache/hit",
    "antara/",
    "distributed/",
    "warc/",
)


class DistributedWorker:
    """Extension for workers (``ANTARA_DISTRIBUTED``).

    - registers the worker and refreshes its heartbeat key (time to live ``ANTARA_WORKER_TTL``
      seconds) and its stats every third of it; a worker whose key expires is dead and its
      in-flight requests go back in the queue;
    - every ``ANTARA_WORKER_TICK`` seconds acknowledges finished requests and wakes the engine
      when the shared queue holds work (the engine itself only looks every 5 s when idle);
    - keeps the spider open while the run may still produce work (requests queued or in
      flight anywhere); closes it once nothing was queued or in flight for ``ANTARA_IDLE_CLOSE``
      seconds.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.ttl = max(1.0, settings.getfloat("ANTARA_WORKER_TTL"))
        self.tick_interval = settings.getfloat("ANTARA_WORKER_TICK")
        self.idle_close = settings.getfloat("ANTARA_IDLE_CLOSE")
        self.queue_key = settings.get("SCHEDULER_QUEUE_KEY") or keys.REQUESTS
        self.loop: task.LoopingCall | None = None
        self.last_beat = 0.0
        self.idle_since: float | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DistributedWorker:
        if not crawler.settings.getbool("ANTARA_DISTRIBUTED"):
            raise NotConfigured("ANTARA_DISTRIBUTED is off")
        ext = cls(crawler)
        crawler.signals.connect(ext.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(ext.spider_idle, signal=signals.spider_idle)
        crawler.signals.connect(ext.spider_closed, signal=signals.spider_closed)
        return ext

    @property
    def worker(self) -> Worker:
        return worker_of(self.crawler)

    def spider_opened(self, spider: Spider) -> None:
        worker = self.worker
        self.beat()
        reclaimed = reclaim_dead(worker.server, self.queue_key, exclude=worker.id)
        if reclaimed:
            logger.warning("put %d requests of dead workers back in the queue", reclaimed)
        self.loop = task.LoopingCall(self.tick)
        self.loop.start(self.tick_interval, now=False)

    def beat(self) -> None:
        worker = self.worker
        started = worker.run.id if worker.run else ""
        register(worker.server, worker.id, started, self.ttl)
        stats = {k: v for k, v in self.crawler.stats.get_stats().items() if k.startswith(REPORTED)}
        if stats:
            worker.server.hset(keys.stats(worker.id), mapping={k: int(v) for k, v in stats.items()})
        self.last_beat = time.monotonic()

    def tick(self) -> None:
        scheduler = self._scheduler()
        if scheduler is not None:
            scheduler.ack_finished()
        if time.monotonic() - self.last_beat >= self.ttl / 3:
            self.beat()
        if scheduler is not None and self.worker.server.zcard(self.queue_key):
            wake_engine(self.crawler.engine)  # take the work now rather than at the engine's next 5 s heartbeat

    def _scheduler(self) -> Any:
        """The open engine's scheduler (None while no spider is open)."""
        engine = self.crawler.engine
        return engine.scheduler if engine is not None else None

    def run_over(self) -> bool:
        """Nothing queued, nothing in flight in any worker (dead ones' requests are reclaimed)."""
        server = self.worker.server
        if server.zcard(self.queue_key):
            return False
        if in_flight(server) == 0:
            return True
        if reclaim_dead(server, self.queue_key, exclude=self.worker.id):
            logger.warning("put requests of dead workers back in the queue")
        return False

    def spider_idle(self, spider: Spider) -> None:
        if not self.run_over():
            self.idle_since = None
            raise DontCloseSpider
        now = time.monotonic()
        if self.idle_since is None:
            self.idle_since = now
        if now - self.idle_since < self.idle_close:
            raise DontCloseSpider

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.loop is not None and self.loop.running:
            self.loop.stop()
        self.beat()  # last stats
        self.worker.server.delete(keys.heartbeat(self.worker.id))
