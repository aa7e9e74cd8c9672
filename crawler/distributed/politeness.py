"""One request rate per host for the whole distributed run, shared by every worker through Redis.

Scrapy's politeness (a download slot per host: ``DOWNLOAD_DELAY``, AutoThrottle,
``CONCURRENT_REQUESTS_PER_DOMAIN``) lives in each process, so N workers would send N times the
rate to one host. Here each host has one key in Redis, ``antara:turn:{host}``: the time of the
next free turn on the Redis clock. Right before a request leaves (in the download handler,
after Scrapy's own slot, so nothing local delays it past its turn) a worker reserves the next
turn with one Lua script, which moves the key one interval further, and sleeps until the turn
without holding the reactor. Turns are handed out one interval apart whichever worker asks, so
requests to a host leave at least ``max(DOWNLOAD_DELAY, Crawl-delay)`` seconds apart for the
whole run. (scrapy-cluster's throttled queues limit pops per domain queue with a moderation
key in Redis; here the queue stays one shared priority queue and the turn is taken at send time.)
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.utils.asyncio import sleep
from scrapy.utils.httpobj import urlparse_cached

from crawler.distributed import keys
from crawler.distributed.state import redis_now
from crawler.distributed.worker import worker_of
from crawler.scrapy.capture import CaptureDownloadHandler
from crawler.scrapy.retry import RETRY_WAIT
from crawler.scrapy.robots import crawl_delay_for

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

#: ``Request.meta`` key: Unix time on the Redis clock before which a retry must not be sent.
NOT_BEFORE = "antara_not_before"

#: Reserve the next turn of a host: KEYS its turn key and its interval key; ARGV the interval this
#: worker knows for the host (microseconds). The turn is taken with the longer of that and the
#: interval the host's last turn was taken with, so a worker that has not read the host's
#: robots.txt yet (its own robots.txt request) still keeps the spacing the others keep.
#: Returns the microseconds to wait until the turn (0 when no interval is known anywhere).
#: Times are the Redis server's (TIME), so the workers' own clocks never matter; both keys
#: expire once the turn's time is past.
TURN = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = math.max(tonumber(ARGV[1]), tonumber(redis.call('GET', KEYS[2]) or '0'))
if interval <= 0 then
  return 0
end
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'))
local after = at + interval
local px = math.ceil((after - now) / 1000)
redis.call('SET', KEYS[1], string.format('%.0f', after), 'PX', px)
redis.call('SET', KEYS[2], string.format('%.0f', interval), 'PX', px)
return at - now
"""


class SharedPoliteness:
    """The per-host turns of one worker's crawler (one per crawler, see :func:`politeness_of`)."""

    def __init__(self, crawler: Crawler, crawl_delay_of: Callable[[str], float | None] | None = None) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.server = worker_of(crawler).server
        self.delay = max(0.0, settings.getfloat("DOWNLOAD_DELAY"))
        #: the Crawl-delay a host's robots.txt asks (already capped by ANTARA_CRAWL_DELAY_MAX), as
        #: the robots middleware read it: fetched, from the cache, or from the last good copy kept
        self.crawl_delay_of = crawl_delay_of or (lambda host: crawl_delay_for(crawler, host))
        self._turn = self.server.register_script(TURN)

    def interval(self, host: str) -> float:
        """Seconds between two requests to ``host``, over the whole run."""
        return max(self.delay, self.crawl_delay_of(host) or 0.0)

    def reserve(self, host: str, robots_txt: bool = False) -> float:
        """Take the next turn of ``host``; returns the seconds until it (0: now).

        With no interval known here (``--delay 0`` and no Crawl-delay read) nothing is asked of
        Redis, except for a robots.txt request: the Crawl-delay it is about to read may be one
        the other workers already keep."""
        interval = self.interval(host)
        if interval <= 0 and not robots_txt:
            return 0.0
        turn = self._turn(keys=[keys.next_turn(host), keys.turn_interval(host)], args=[round(interval * 1_000_000)])
        return int(turn) / 1_000_000

    async def take_turn(self, request: Request) -> None:
        """Wait until ``request``'s host may get another request from this run."""
        parts = urlparse_cached(request)
        if not parts.hostname:
            return
        wait = self.reserve(parts.hostname, robots_txt=parts.path == "/robots.txt")
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value("distributed/turns")
        if wait > 0:
            if stats is not None:
                stats.inc_value("distributed/turn_wait_ms", round(wait * 1000))
            await sleep(wait)


_POLITENESS: weakref.WeakKeyDictionary[Any, SharedPoliteness] = weakref.WeakKeyDictionary()


def politeness_of(crawler: Crawler) -> SharedPoliteness:
    """The shared politeness of ``crawler`` (made once: the http and https handlers share it)."""
    found = _POLITENESS.get(crawler)
    if found is None:
        found = _POLITENESS[crawler] = SharedPoliteness(crawler)
    return found


class PoliteDownloadHandler(CaptureDownloadHandler):
    """The project's HTTP(S) handler (mirror, WARC capture) that takes the host's shared turn first.

    The turn is taken here, below every middleware and after Scrapy's download slot released
    the request, because this is when the request really leaves: a turn taken earlier could be
    spent waiting in the local slot, and two requests would then leave closer than the interval.
    The wait is not part of ``download_latency`` (Scrapy's HTTP handler starts that clock).
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.politeness = politeness_of(crawler)

    async def download_request(self, request: Request) -> Response:
        await self.politeness.take_turn(request)
        return await super().download_request(request)


class RetryDelayMiddleware:
    """Downloader middleware of workers: hold a retry until its ``meta[NOT_BEFORE]`` (Redis clock).

    A retry is queued in Redis at once with the time it may be sent (see
    :class:`crawler.scrapy.retry.BackoffRetryMiddleware` and the distributed scheduler); the worker that
    takes it waits here, before the request reaches its host's download slot, so other requests
    to that host keep going meanwhile.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RetryDelayMiddleware:
        return cls(crawler)

    async def process_request(self, request: Request) -> None:
        wait = request.meta.pop(RETRY_WAIT, None)
        if wait:  # a retry that never went through the queue (robots.txt, fetched by the engine itself)
            await sleep(float(wait))
            return
        not_before = request.meta.pop(NOT_BEFORE, None)  # waited out here; not carried into redirects
        if not not_before:
            return
        wait = float(not_before) - redis_now(worker_of(self.crawler).server)
        if wait > 0:
            await sleep(wait)
