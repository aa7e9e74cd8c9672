"""Item pipeline of a worker: push every item to the ingester's Redis list instead of SQLite."""

from __future__ import annotations

import itertools
import logging
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import NotConfigured

from crawler.distributed import keys
from crawler.distributed.messages import KINDS, encode
from crawler.distributed.worker import worker_of

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class RedisItemPipeline:
    """LPUSH each item as a JSON message (see :mod:`crawler.distributed.messages`) onto ``antara:items``.

    Synchronous on purpose: the push is done before the engine lets go of the request that
    produced the item, so a request is acknowledged only once its items are safe in Redis.
    (scrapy-redis's RedisPipeline pushes from a thread and serializes with Scrapy's JSON
    encoder; the ingester needs the type tag and the dedupe key.)
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.sequence = itertools.count(1)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedisItemPipeline:
        if not crawler.settings.getbool("ANTARA_DISTRIBUTED"):
            raise NotConfigured("ANTARA_DISTRIBUTED is off")
        return cls(crawler)

    def process_item(self, item: Any) -> Any:
        if type(item).__name__ not in KINDS:
            logger.warning("not pushing an item of unknown type %s", type(item).__name__)
            return item
        worker = worker_of(self.crawler)
        run = worker.run.id if worker.run else ""
        worker.server.lpush(keys.ITEMS, encode(item, run, f"{worker.id}/{next(self.sequence)}"))
        self.crawler.stats.inc_value("distributed/items_pushed")
        return item
