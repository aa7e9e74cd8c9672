"""Politeness across workers: one request rate per host for the whole distributed run, kept in
Redis, with robots.txt Crawl-delay honoured. Real redis-server, worker processes, sample site."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import TextResponse
from scrapy.utils.test import get_crawler

from crawler.distributed import keys
from crawler.distributed.politeness import SharedPoliteness, crawl_delay
from crawler.distributed.state import connect
from crawler.samplesite import SampleSite
from tests.conftest import serve_site
from tests.test_crawl_e2e import rows
from tests.test_distributed import WORKER, processes, seed

DELAY = 0.4  #: the interval asked of the workers (DOWNLOAD_DELAY, --delay); ~20 requests a host: ~8 s
TOLERANCE = 0.9  #: what the site may see of it: arrival times carry some scheduling noise


def politeness(redis_url: str, delay: float) -> SharedPoliteness:
    crawler = get_crawler(
        scrapy.Spider,
        {"ANTARA_DISTRIBUTED": True, "REDIS_URL": redis_url, "DOWNLOAD_DELAY": delay, "ANTARA_CRAWL_DELAY_MAX": 60},
    )
    return SharedPoliteness(crawler)


def test_crawl_delay_is_read_from_robots_txt() -> None:
    ua = "antara-archive/1.0 (+https://github.com/antara-archive/antara-archive)"
    assert crawl_delay(b"User-agent: *\nCrawl-delay: 2.5\nDisallow: /search\n", ua) == 2.5
    assert crawl_delay("User-agent: antara-archive\nCrawl-delay: 4\n\nUser-agent: *\nCrawl-delay: 1\n", ua) == 4.0
    assert crawl_delay(b"User-agent: *\nDisallow: /search\n", ua) is None


def test_turns_are_one_interval_apart_whichever_worker_asks(redis_url: str) -> None:
    """Two workers asking for turns on one host get them one interval apart, on the Redis clock;
    another host has turns of its own."""
    server = connect(redis_url)
    first, second = politeness(redis_url, 10.0), politeness(redis_url, 10.0)
    host = "kalteng.antaranews.com"
    waits, turns = [], []
    for worker in (first, second, first, second):
        waits.append(worker.reserve(host))
        turns.append(int(server.get(keys.next_turn(host))))
    assert [b - a for a, b in zip(turns, turns[1:], strict=False)] == [10_000_000] * 3
    assert [round(w) for w in waits] == [0, 10, 20, 30]
    assert 0 < server.pttl(keys.next_turn(host)) <= 40_000, "the key goes once its time is past"
    assert first.reserve("kalsel.antaranews.com") == 0


def test_a_robots_txt_crawl_delay_widens_the_interval_of_its_host(redis_url: str) -> None:
    worker = politeness(redis_url, 0.2)
    robots = scrapy.Request("https://kalteng.antaranews.com/robots.txt")
    answer = TextResponse(robots.url, body=b"User-agent: *\nCrawl-delay: 3\n", request=robots)
    worker.response_received(answer, robots)
    assert worker.interval("kalteng.antaranews.com") == 3.0
    assert worker.interval("kalsel.antaranews.com") == 0.2, "other hosts keep DOWNLOAD_DELAY"
    huge = TextResponse(robots.url, body=b"User-agent: *\nCrawl-delay: 86400\n", request=robots)
    worker.response_received(huge, robots)
    assert worker.interval("kalteng.antaranews.com") == 60.0, "cut to ANTARA_CRAWL_DELAY_MAX"
    page = scrapy.Request("https://kalteng.antaranews.com/berita/1/a")
    worker.response_received(TextResponse(page.url, body=b"Crawl-delay: 9", request=page), page)
    assert worker.interval("kalteng.antaranews.com") == 60.0, "only robots.txt says it"
    delay = politeness(redis_url, 5.0)
    delay.response_received(answer, robots)
    assert delay.interval("kalteng.antaranews.com") == 5.0, "DOWNLOAD_DELAY when it is the longer"


def spacing(arrivals: list[tuple[float, str]]) -> dict[str, list[float]]:
    """Seconds between consecutive requests to each host, as the site saw them arrive."""
    seen: dict[str, list[float]] = defaultdict(list)
    for when, target in sorted(arrivals):
        seen[target.lstrip("/").split("/", 1)[0]].append(when)
    return {host: [b - a for a, b in zip(times, times[1:], strict=False)] for host, times in seen.items()}


def test_three_workers_keep_one_rate_per_host(redis_url: str, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    site = SampleSite(articles=3000, seed=7)
    with serve_site(site, tmp_path) as served, processes(tmp_path) as running:
        served.server.arrivals = arrivals = []
        running.start("ingest", "ingest", "--redis", redis_url, "--db", str(db), "-q")
        seed(redis_url, "--region", "kalteng,kalsel", "--max-pages", "1", "--follow-depth", "0")
        for n in (1, 2, 3):
            running.start(
                f"worker{n}", "crawl", "--distributed", "--redis", redis_url, "--mirror", served.url, *WORKER,
                "--delay", str(DELAY), "-s", f"HTTPCACHE_DIR={tmp_path / 'robots-cache'}",
            )  # fmt: skip
        running.wait_all(timeout=180)
        for name, process in running.started:
            assert process.returncode == 0, running.output(name)[-3000:]
        seen = list(arrivals)

    fetched = [int(m) for n in (1, 2, 3) for m in re.findall(r"(\d+) pages fetched", running.output(f"worker{n}"))]
    assert len(fetched) == 3 and all(fetched), f"every worker fetched pages of the two hosts: {fetched}"
    gaps = spacing(seen)
    assert set(gaps) == {"kalteng.antaranews.com", "kalsel.antaranews.com"}
    for host, between in gaps.items():
        assert len(between) >= 20, (host, len(between))
        closest = min(between)
        assert closest >= TOLERANCE * DELAY, f"{host}: two requests {closest:.3f}s apart (interval {DELAY}s)"
    run: dict[str, Any] = dict(rows(db, "SELECT outcome, workers, articles_new FROM crawl_runs")[0])
    assert run["outcome"] == "finished" and run["workers"] == 3 and run["articles_new"] > 30
