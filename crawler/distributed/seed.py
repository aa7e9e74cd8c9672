"""``antara seed``: start a distributed run by queuing its first requests in Redis."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

from scrapy.crawler import Crawler
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.project import get_project_settings

from crawler.distributed import keys, serializer
from crawler.distributed.dupefilter import FingerprintDupeFilter
from crawler.distributed.messages import run_started
from crawler.distributed.queue import ReliablePriorityQueue
from crawler.distributed.state import Progress, Redis, RunState, new_run_id
from crawler.domain.options import CrawlOptions, setting_overrides


class RunInProgress(RuntimeError):
    """The Redis database holds a run that is not over."""


@dataclass(frozen=True)
class Seeded:
    run: RunState
    queued: int


def seed(server: Redis, redis_url: str, options: CrawlOptions) -> Seeded:
    """Open a new run in ``server`` and queue its start requests through the same seen-set and
    queue classes the workers use; the run's spider arguments are stored for the workers."""
    if options.mode == "incremental":
        raise ValueError(
            "incremental runs are not distributed: they decide what is new from the archive, which"
            " workers do not read; run `antara crawl --incremental` on the archive's machine"
        )
    current = RunState.load(server)
    progress = Progress.read(server)
    if current is not None and current.state == "running":
        raise RunInProgress(
            f"run {current.id} is still in progress ({progress.line()}); wait until its workers"
            " idle out and `antara ingest` closes it"
        )
    if progress.queued or progress.in_flight:
        raise RunInProgress(f"{keys.REQUESTS} holds requests of no known run ({progress.line()})")
    server.delete(keys.DUPEFILTER, keys.HOPS, keys.TARGETS, keys.RUN_WORKERS, keys.OWNERS)

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.scrapy.settings")
    settings = get_project_settings()
    settings.setdict({**setting_overrides(redis_url=redis_url), "ARCHIVE_DB": ""}, priority="cmdline")
    from spiders.antara import AntaraSpider

    crawler = Crawler(AntaraSpider, settings)
    arguments = options.spider_arguments()
    spider = AntaraSpider.from_crawler(crawler, **arguments)
    fingerprinter: Any = build_from_crawler(load_object(settings["REQUEST_FINGERPRINTER_CLASS"]), crawler)
    seen = FingerprintDupeFilter(server, keys.DUPEFILTER, fingerprinter)
    queue = ReliablePriorityQueue(server=server, spider=spider, key=keys.REQUESTS, serializer=serializer)

    run = RunState(new_run_id(), "running", arguments, time.time(), ledger=options.as_arguments())
    run.save(server)
    server.lpush(keys.ITEMS, run_started(run.id, run.ledger, run.seeded_at))  # before anything a worker pushes
    queued = 0
    for request in spider.initial_requests():
        if not seen.request_seen(request):
            queue.push(request)
            queued += 1
    return Seeded(run, queued)
