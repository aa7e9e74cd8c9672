"""Scrapy add-on: with ``ANTARA_DISTRIBUTED`` on, schedule through scrapy-redis in Redis."""

from __future__ import annotations

from typing import Any

from crawler.distributed import keys

#: scrapy-redis settings of a worker, with the project's components in them (see each for why).
SCHEDULING: dict[str, Any] = {
    "SCHEDULER": "crawler.distributed.scheduler.DistributedScheduler",
    "SCHEDULER_QUEUE_CLASS": "crawler.distributed.queue.ReliablePriorityQueue",
    "SCHEDULER_QUEUE_KEY": keys.REQUESTS,
    "DUPEFILTER_CLASS": "crawler.distributed.dupefilter.FingerprintDupeFilter",
    "SCHEDULER_DUPEFILTER_KEY": keys.DUPEFILTER,
    "SCHEDULER_SERIALIZER": "crawler.distributed.serializer",
    # the queue is shared: a worker that closes must not flush it (scrapy-redis flushes otherwise)
    "SCHEDULER_PERSIST": True,
    # a blocking pop would stall the whole reactor; the priority queue ignores it anyway
    "SCHEDULER_IDLE_BEFORE_CLOSE": 0,
}


class DistributedAddon:
    """Listed in ``ADDONS``; does nothing unless ``ANTARA_DISTRIBUTED`` is set (with ``REDIS_URL``).

    So ``antara crawl --distributed --redis URL`` and ``scrapy crawl antara -s
    ANTARA_DISTRIBUTED=1 -s REDIS_URL=URL`` (or a Scrapyd job) make the same worker.
    """

    def update_settings(self, settings: Any) -> None:
        if not settings.getbool("ANTARA_DISTRIBUTED"):
            return
        if not settings.get("REDIS_URL"):
            raise ValueError("ANTARA_DISTRIBUTED needs REDIS_URL, e.g. redis://127.0.0.1:6379/0")
        for name, value in SCHEDULING.items():
            settings.set(name, value, priority="addon")
        # items go to Redis for `antara ingest`, the one archive writer; workers write no SQLite
        settings["ITEM_PIPELINES"]["crawler.scrapy.pipelines.ArchivePipeline"] = None
        settings["ITEM_PIPELINES"]["crawler.distributed.pipeline.RedisItemPipeline"] = 300
        settings["EXTENSIONS"]["crawler.distributed.worker.DistributedWorker"] = 510
        # a retry goes to Redis at once, acknowledging the failed request in the same step, and
        # waits its backoff in whichever worker takes it (crawler/distributed/politeness.py)
        # (ANTARA_RETRY_DEFERRED is not in crawler/scrapy/settings.py: the project's priority would win)
        settings.set("ANTARA_RETRY_DEFERRED", True, priority="addon")
        settings["DOWNLOADER_MIDDLEWARES"]["crawler.distributed.politeness.RetryDelayMiddleware"] = 540
        if settings.getbool("ANTARA_SHARED_POLITENESS"):  # one rate per host for all workers
            for scheme in ("http", "https"):
                settings["DOWNLOAD_HANDLERS"][scheme] = "crawler.distributed.politeness.PoliteDownloadHandler"
