"""Distributed retries survive kills: a retry is in Redis before the failed request is
acknowledged, its count travels with it, and a page whose retries run out always gets its
crawl_errors row, whichever worker or ingester died on the way. Real redis-server throughout."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.distributed import keys, messages, serializer
from crawler.distributed.addon import SCHEDULING
from crawler.distributed.politeness import NOT_BEFORE, RetryDelayMiddleware
from crawler.distributed.queue import TOKEN, ReliablePriorityQueue
from crawler.distributed.scheduler import DistributedScheduler
from crawler.distributed.state import connect, in_flight, reclaim_dead, redis_now, register
from crawler.distributed.worker import worker_of
from crawler.domain.items import CrawlError
from crawler.samplesite import SampleSite
from crawler.scrapy.retry import RETRY_WAIT, BackoffRetryMiddleware
from tests.conftest import RunningRedis, rows, serve_site
from tests.test_distributed import WORKER, processes, seed, wait_for

pytestmark = pytest.mark.redis  # every test here talks to a redis-server

URL = "https://www.antaranews.com/berita/4812079/x"


class Probe(scrapy.Spider):
    name = "probe"

    def parse(self, response: Any) -> None: ...

    def on_error(self, failure: Any) -> None: ...


def worker_crawler(redis_url: str, backoff: float = 2.0) -> Any:
    """A configured crawler with a spider, as one worker process has (no engine, no reactor)."""
    settings = {
        **SCHEDULING,
        "ANTARA_DISTRIBUTED": True,
        "REDIS_URL": redis_url,
        "REQUEST_FINGERPRINTER_CLASS": "crawler.scrapy.fingerprint.ArticleFingerprinter",
        "ANTARA_RETRY_DEFERRED": True,
        "ANTARA_RETRY_BACKOFF": backoff,
        "ANTARA_WORKER_TTL": 30,
        "RETRY_TIMES": 2,
    }
    crawler = get_crawler(Probe, settings)
    crawler.spider = Probe.from_crawler(crawler)
    # the engine's set of requests in progress, which the scheduler reads to acknowledge
    crawler.engine = SimpleNamespace(_slot=SimpleNamespace(inprogress=set()))
    return crawler


def opened(crawler: Any) -> DistributedScheduler:
    scheduler = DistributedScheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return scheduler


def take(scheduler: DistributedScheduler) -> scrapy.Request:
    """Take the next request as the engine does: it is in progress until its output is handled."""
    request = scheduler.next_request()
    assert request is not None
    scheduler.crawler.engine._slot.inprogress.add(request)
    return request


def answer_500(crawler: Any, request: scrapy.Request) -> scrapy.Request | HtmlResponse:
    """What the worker's retry middleware makes of a 500 answer to ``request``."""
    middleware = BackoffRetryMiddleware.from_crawler(crawler)
    response = HtmlResponse(request.url, status=500, body=b"<html>error</html>", request=request)
    return asyncio.run(middleware.process_response(request, response))


def everywhere(server: Any, url: str) -> list[dict[str, Any]]:
    """The request dicts whose URL holds ``url``, in the queue and in every in-flight hash."""
    found = [serializer.loads(data) for data in server.zrange(keys.REQUESTS, 0, -1)]
    for key in server.scan_iter(match=keys.inflight("*")):
        for entry in server.hvals(key):
            found.append(serializer.loads(entry.split(b"|", 1)[1]))
    return [d for d in found if url in d["url"]]


def test_a_retry_is_queued_in_the_step_that_acknowledges_the_failed_request(redis_url: str) -> None:
    server = connect(redis_url)
    first = worker_crawler(redis_url, backoff=2.0)
    scheduler = opened(first)
    spider = first.spider
    assert scheduler.enqueue_request(scrapy.Request(URL, callback=spider.parse, errback=spider.on_error))
    taken = take(scheduler)
    inflight = keys.inflight(worker_of(first).id)
    assert server.hlen(inflight) == 1

    retry = answer_500(first, taken)
    assert isinstance(retry, scrapy.Request), "a retry, handed back at once: its wait is in its meta"
    assert retry.meta["retry_times"] == 1 and retry.meta[RETRY_WAIT] == 2.0
    assert server.hlen(inflight) == 1, "the failed request stays in flight until its retry is queued"
    before = redis_now(server)
    assert scheduler.enqueue_request(retry)
    assert server.hlen(inflight) == 0, "queued and acknowledged together"
    [queued] = everywhere(server, URL)
    assert queued["meta"]["retry_times"] == 1
    assert before + 2.0 <= queued["meta"][NOT_BEFORE] <= redis_now(server) + 2.0
    assert TOKEN not in queued["meta"] and RETRY_WAIT not in queued["meta"]

    # another worker (the first one killed) takes the retry: its count came through Redis
    second = worker_crawler(redis_url, backoff=2.0)
    other = opened(second)
    again = take(other)
    assert again.meta["retry_times"] == 1
    assert again.callback == second.spider.parse and again.errback == second.spider.on_error
    last = answer_500(second, again)
    assert isinstance(last, scrapy.Request) and last.meta["retry_times"] == 2
    assert last.meta[RETRY_WAIT] == 4.0, "the second retry backs off twice as long"
    assert other.enqueue_request(last)
    final = take(other)
    response = answer_500(second, final)
    assert isinstance(response, HtmlResponse) and response.status == 500, "retries spent: the errback's turn"
    assert everywhere(server, URL) != [] and server.zcard(keys.REQUESTS) == 0


def test_a_retry_is_held_until_its_time(redis_url: str) -> None:
    """Whichever worker takes a retry sends it no earlier than its not-before time (Redis clock);
    a retry that never went through the queue (robots.txt) waits its backoff where it is."""
    server = connect(redis_url)
    middleware = RetryDelayMiddleware.from_crawler(worker_crawler(redis_url))
    due = redis_now(server) + 0.3
    retry = scrapy.Request(URL, meta={NOT_BEFORE: due, "retry_times": 1})
    asyncio.run(middleware.process_request(retry))
    assert redis_now(server) >= due and NOT_BEFORE not in retry.meta
    robots = scrapy.Request("https://www.antaranews.com/robots.txt", meta={RETRY_WAIT: 0.2})
    started = time.monotonic()
    asyncio.run(middleware.process_request(robots))
    assert time.monotonic() - started >= 0.2 and RETRY_WAIT not in robots.meta
    late = scrapy.Request(URL, meta={NOT_BEFORE: redis_now(server) - 5})
    asyncio.run(middleware.process_request(late))
    assert NOT_BEFORE not in late.meta


def test_a_request_seen_before_is_not_queued_but_still_acknowledges(redis_url: str) -> None:
    server = connect(redis_url)
    crawler = worker_crawler(redis_url)
    scheduler = opened(crawler)
    spider = crawler.spider
    assert scheduler.enqueue_request(scrapy.Request(URL, callback=spider.parse))
    taken = take(scheduler)
    other = "https://www.antaranews.com/berita/4812080/y"
    follow = scrapy.Request(other, callback=spider.parse, meta={TOKEN: taken.meta[TOKEN]})
    assert not scheduler.enqueue_request(taken.replace(dont_filter=False)), "the seen-set has it"
    assert server.hlen(keys.inflight(worker_of(crawler).id)) == 0
    assert scheduler.enqueue_request(follow) and server.zcard(keys.REQUESTS) == 1


def test_a_worker_taken_for_dead_while_alive_keeps_its_requests_counted(redis_url: str) -> None:
    """A stalled worker whose heartbeat expired is reclaimed and dropped from the owners; what it
    takes afterwards must still count as in flight and go back to the queue when it really dies."""
    server = connect(redis_url)
    crawler = worker_crawler(redis_url)
    queue = ReliablePriorityQueue(server=server, spider=crawler.spider, key=keys.REQUESTS, serializer=serializer)
    register(server, "stalled", "run", ttl=0.2)
    queue.bind("stalled")
    time.sleep(0.3)  # its heartbeat lapses (a process stopped, a reactor stuck)
    assert reclaim_dead(server) == 0 and not server.sismember(keys.OWNERS, "stalled")
    queue.push(scrapy.Request(URL, callback=crawler.spider.parse))
    assert queue.pop() is not None  # it goes on working, then dies before its next heartbeat
    assert in_flight(server) == 1, "still counted: the run is not over"
    assert reclaim_dead(server) == 1 and server.zcard(keys.REQUESTS) == 1 and in_flight(server) == 0


def test_a_worker_is_alive_before_it_takes_anything(redis_url: str) -> None:
    """Two workers starting together: one reclaiming the dead must not take the other, which has
    bound its queue, for dead (it would drop out of the in-flight count for the whole run)."""
    server = connect(redis_url)
    crawler = worker_crawler(redis_url)
    opened(crawler)
    worker = worker_of(crawler).id
    assert server.exists(keys.heartbeat(worker)) and server.sismember(keys.RUN_WORKERS, worker)
    assert reclaim_dead(server) == 0 and server.sismember(keys.OWNERS, worker)


def test_an_ingester_killed_after_taking_messages_loses_none(redis_url: str, tmp_path: Path) -> None:
    from archive import Archive
    from crawler.distributed.ingest import Ingester
    from crawler.distributed.state import RunState

    server = connect(redis_url)
    run = RunState("r1", "running", {}, time.time(), ledger={"mode": "full", "regions": ["nasional"]})
    run.save(server)
    server.sadd(keys.RUN_WORKERS, "w")  # gone: its heartbeat expired
    server.lpush(keys.ITEMS, messages.run_started("r1", run.ledger, run.seeded_at))
    errors = [CrawlError(f"{URL}{n}", "http_500", 500, "the server answered HTTP 500") for n in range(5)]
    for n, error in enumerate(errors):
        server.lpush(keys.ITEMS, messages.encode(error, "r1", f"w/{n}"))
    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        taken = Ingester(server, archive, batch=4, wait=0.1).take()  # BLMOVE, then killed
    assert len(taken) == 4 and server.llen(keys.PROCESSING) == 4
    with Archive(db) as archive:
        deadline = time.monotonic() + 30
        stats = Ingester(server, archive, batch=4, wait=0.1).run(stop=lambda: time.monotonic() > deadline)
    assert stats.finished_runs == [1] and stats.stored["errors"] == 5
    assert sorted(r["url"] for r in rows(db, "SELECT url FROM crawl_errors")) == sorted(e.url for e in errors)


@pytest.mark.slow
def test_a_retry_waiting_out_its_backoff_survives_killed_worker_and_ingester(
    redis_server: RunningRedis, redis_url: str, tmp_path: Path
) -> None:
    """The page answering 500 for good is tried exactly three times and gets its crawl_errors row
    although the worker that got the first 500 and the ingester are killed during the backoff."""
    db = tmp_path / "archive.db"
    site = SampleSite(articles=3000, seed=7)
    listed = site.listed("nasional", 1)
    failing = next(spec for spec in listed if spec.fault == "http_500")
    marker = f"/berita/{failing.article_id}/"
    server = redis_server.client()

    def tries(log: list[str]) -> int:
        return sum(1 for line in log if marker in line.split()[1] and line.split()[2] == "500")

    with serve_site(site, tmp_path) as served, processes(tmp_path) as running:
        ingester = running.start("ingest1", "ingest", "--redis", redis_url, "--db", str(db), "-q")
        seed(redis_url, "--region", "nasional", "--max-pages", "1", "--follow-depth", "0")
        options = ("--mirror", served.url, *WORKER, "-s", f"HTTPCACHE_DIR={tmp_path / 'robots-cache'}")
        options += ("-s", "ANTARA_RETRY_BACKOFF=8", "-s", "ANTARA_RETRY_BACKOFF_MAX=8")
        victim = running.start("worker1", "crawl", "--distributed", "--redis", redis_url, *options)
        wait_for(lambda: tries(served.requests()) >= 1, 90, "the first answer 500")
        # its retry is in Redis long before the 8 s backoff is over: queued at once, not after the wait
        retried = lambda: any(d["meta"].get("retry_times") == 1 for d in everywhere(server, marker))  # noqa: E731
        wait_for(retried, 6, "the retry in Redis")
        victim.kill()
        ingester.kill()
        victim.wait(timeout=10)
        ingester.wait(timeout=10)
        held = everywhere(server, marker)
        assert [d["meta"].get("retry_times") for d in held] == [1], "the retry alone, counted, and not the failed try"
        running.start("worker2", "crawl", "--distributed", "--redis", redis_url, *options)
        running.start("ingest2", "ingest", "--redis", redis_url, "--db", str(db), "-q")
        running.wait_all(timeout=150)
        for name, process in running.started[2:]:
            assert process.returncode == 0, running.output(name)[-3000:]
        log = served.requests()

    assert tries(log) == 3, "RETRY_TIMES=2: three tries in all, none lost and none repeated by the kill"
    errors = rows(db, "SELECT url, reason, status FROM crawl_errors WHERE url LIKE ?", (f"%{marker}%",))
    assert [(r["reason"], r["status"]) for r in errors] == [("http_500", 500)]
    good = {spec.article_id for spec in listed if spec.fault is None}
    assert {r["article_id"] for r in rows(db, "SELECT article_id FROM articles")} == good
    run = dict(rows(db, "SELECT outcome, workers FROM crawl_runs")[0])
    assert run == {"outcome": "finished", "workers": 2}
