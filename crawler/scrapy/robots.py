"""robots.txt obeyed as RFC 9309 asks: an unreadable one disallows all unless a good copy is kept."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Request, signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http.request import NO_CALLBACK
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.misc import build_from_crawler, load_object
from scrapy.utils.project import data_path
from twisted.internet.defer import Deferred
from twisted.python.failure import Failure

from crawler.domain.reasons import Reason
from crawler.scrapy.compat import hold_slot_delay
from crawler.scrapy.robotscache import KeptCopies

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

#: what a host whose robots.txt cannot be read, with no copy kept, is taken to say
DISALLOW_ALL = b"User-agent: *\nDisallow: /\n"
#: folder of the kept copies, inside HTTPCACHE_DIR
KEPT_FOLDER = "last-good"


class RobotsUnavailable(IgnoreRequest):
    """A page not fetched because its host's robots.txt could not be read and no copy of it is kept."""


def verdict(status: int) -> str:
    """What a robots.txt answer with this final HTTP status means (RFC 9309 2.3.1).

    ``rules`` (2xx): obey its body. ``none`` (4xx, or a 3xx left after redirects): there are
    no rules, everything is allowed. ``unreadable`` (5xx, and 429 "too many requests"): the
    crawler must assume complete disallow, unless it keeps an earlier copy.
    """
    if 200 <= status < 300:
        return "rules"
    if status >= 500 or status == 429:
        return "unreadable"
    return "none"


@dataclass(frozen=True)
class HostRules:
    """The robots.txt rules obeyed for one host during this run."""

    parser: RobotParser
    #: set when nothing of the host may be fetched (unreadable, no copy kept): why, for crawl_errors
    blocked: str | None = None
    #: the Crawl-delay the rules ask of our user agent, in seconds (at most ANTARA_CRAWL_DELAY_MAX)
    crawl_delay: float | None = None


class RobotsMiddleware(RobotsTxtMiddleware):
    """Scrapy's RobotsTxtMiddleware (same settings, parser and stats) reading robots.txt as RFC 9309 says.

    - 2xx: its rules are obeyed, and kept on disk (:class:`~crawler.scrapy.robotscache.KeptCopies`)
      beyond the day-long HTTP cache. 4xx, or redirects that loop or leave ANTARA: no rules.
    - 5xx, 429 or a network error (after retries): the kept copy is obeyed if there is one;
      otherwise nothing on the host is fetched this run, each page failing with
      :class:`RobotsUnavailable` (``robots_unavailable`` in crawl_errors, not permanent: the
      next run tries again). The log says so once per host. Scrapy's own allows everything.
    - ``Crawl-delay``: the host's requests are spaced by max(``DOWNLOAD_DELAY``, Crawl-delay).
    - Each request waiting for a host's robots.txt awaits a Deferred of its own. Scrapy 2.19's
      shares one, and with the asyncio reactor a Deferred awaited as a Future hands its result
      to the first waiter only: the others get None, "allow all".
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        settings = crawler.settings
        self.parser_class: Any = load_object(settings.get("ROBOTSTXT_PARSER"))
        self.user_agent: str = settings.get("ROBOTSTXT_USER_AGENT") or settings.get("USER_AGENT")
        self.kept = KeptCopies(Path(data_path(settings["HTTPCACHE_DIR"])) / KEPT_FOLDER)
        self.download_delay = settings.getfloat("DOWNLOAD_DELAY")
        self.jitter = settings.getfloat("DOWNLOAD_DELAY_JITTER")
        self.max_crawl_delay = settings.getfloat("ANTARA_CRAWL_DELAY_MAX", 60.0)
        #: rules of each host (``netloc``) read so far in this run
        self.hosts: dict[str, HostRules] = {}
        self._waiting: dict[str, list[Deferred[HostRules]]] = {}

    async def process_request(self, request: Request) -> None:  # type: ignore[override]
        if request.meta.get("dont_obey_robotstxt") or urlparse_cached(request).scheme not in ("http", "https"):
            return
        rules = await self.host_rules(request)
        if rules.blocked is not None:
            self.crawler.stats.inc_value("robotstxt/unavailable")
            raise RobotsUnavailable(rules.blocked)
        self.process_request_2(rules.parser, request)
        delay = self.slot_delay(rules)
        if delay is not None:
            # a documented meta key: AutoThrottle must not shorten the delay robots.txt asks for
            request.meta["autothrottle_dont_adjust_delay"] = True
            hold_slot_delay(self.crawler.engine.downloader, request, delay)

    async def robot_parser(self, request: Request) -> RobotParser:
        """The rules obeyed for ``request``'s host (disallow-all when it has none that can be read)."""
        return (await self.host_rules(request)).parser

    def crawl_delay_for(self, host: str) -> float | None:
        """The Crawl-delay ``host``'s robots.txt asks of us, once read this run; else None."""
        rules = self.hosts.get(host)
        return rules.crawl_delay if rules is not None else None

    def slot_delay(self, rules: HostRules) -> float | None:
        """The fixed delay a host's download slot needs, or None when its ordinary delay is enough.

        max(DOWNLOAD_DELAY, Crawl-delay), without jitter, whenever the jittered ordinary delay
        could come out shorter than the Crawl-delay.
        """
        wanted = rules.crawl_delay
        if not wanted or wanted <= self.download_delay * max(0.0, 1.0 - self.jitter):
            return None
        return max(self.download_delay, wanted)

    async def host_rules(self, request: Request) -> HostRules:
        """The rules of ``request``'s host, reading its robots.txt once per run."""
        netloc = urlparse_cached(request).netloc
        if netloc in self.hosts:
            return self.hosts[netloc]
        if netloc in self._waiting:
            waiter: Deferred[HostRules] = Deferred()
            self._waiting[netloc].append(waiter)
            return await maybe_deferred_to_future(waiter)
        self._waiting[netloc] = []
        try:
            rules = await self._read(request, netloc)
        except BaseException:
            failure = Failure()
            for waiter in self._waiting.pop(netloc):
                waiter.errback(failure)
            raise
        self.hosts[netloc] = rules
        for waiter in self._waiting.pop(netloc):
            waiter.callback(rules)
        return rules

    async def _read(self, request: Request, netloc: str) -> HostRules:
        robots = Request(
            f"{urlparse_cached(request).scheme}://{netloc}/robots.txt",
            priority=self.DOWNLOAD_PRIORITY,
            meta={"dont_obey_robotstxt": True},
            callback=NO_CALLBACK,
        )
        stats = self.crawler.stats
        stats.inc_value("robotstxt/request_count")
        try:
            response = await self.crawler.engine.download_async(robots)
        except IgnoreRequest as exc:
            # a redirect loop, or a redirect off ANTARA: RFC 9309 2.3.1.2 lets it count as unavailable
            logger.info("robots.txt of %s is unavailable (%s): no rules", netloc, exc)
            return await self._obey(b"", request, netloc)
        except Exception as exc:  # whatever stopped an answer (DNS, refused, timeout, reset): a network error
            stats.inc_value(f"robotstxt/exception_count/{type(exc)}")
            return await self._unreadable(request, netloc, f"could not be fetched ({type(exc).__name__}: {exc})")
        stats.inc_value("robotstxt/response_count")
        stats.inc_value(f"robotstxt/response_status_count/{response.status}")
        kind = verdict(response.status)
        if kind == "unreadable":
            return await self._unreadable(request, netloc, f"answered HTTP {response.status}")
        body = response.body if kind == "rules" else b""
        if "cached" not in response.flags or self.kept.load(netloc) is None:
            self.kept.save(netloc, body)
        return await self._obey(body, request, netloc)

    async def _unreadable(self, request: Request, netloc: str, problem: str) -> HostRules:
        stats = self.crawler.stats
        stats.inc_value("robotstxt/unreadable")
        kept = self.kept.load(netloc)
        if kept is not None:
            body, read_at = kept
            stats.inc_value("robotstxt/kept_copy_obeyed")
            logger.warning(
                "robots.txt of %s %s, after retries; obeying the copy read %s (RFC 9309 2.4)",
                netloc,
                problem,
                read_at.strftime("%Y-%m-%d %H:%M UTC"),
            )
            return await self._obey(body, request, netloc)
        why = (
            f"robots.txt of {netloc} {problem}, after retries, and no earlier copy is kept: "
            "RFC 9309 2.3.1.4 asks to fetch nothing from the host; a later run tries again"
        )
        logger.warning(
            "%s. None of its pages is fetched this run (crawl_errors: %s).", why, Reason.ROBOTS_UNAVAILABLE.value
        )
        return HostRules(build_from_crawler(self.parser_class, self.crawler, DISALLOW_ALL), blocked=why)

    async def _obey(self, body: bytes, request: Request, netloc: str) -> HostRules:
        parser = build_from_crawler(self.parser_class, self.crawler, body)
        await self.crawler.signals.send_catch_log_async(
            signal=signals.robots_parsed, robotparser=parser, request=request
        )
        delay = parser.crawl_delay(self.user_agent)
        if delay is not None and delay > self.max_crawl_delay:
            logger.warning(
                "robots.txt of %s asks for a Crawl-delay of %ss; waiting ANTARA_CRAWL_DELAY_MAX (%ss) instead",
                netloc,
                delay,
                self.max_crawl_delay,
            )
            delay = self.max_crawl_delay
        return HostRules(parser, crawl_delay=delay)


def crawl_delay_for(crawler: Crawler, host: str) -> float | None:
    """The Crawl-delay that ``host``'s robots.txt asks of this crawl, once read (None: none asked, or not yet read).

    For components that space requests themselves, e.g. a limiter shared by distributed workers.
    """
    try:
        engine = crawler.engine
    except RuntimeError:  # Scrapy 2.19 raises before the crawl starts: nothing is read yet
        return None
    if engine is None:
        return None
    for middleware in engine.downloader.middleware.middlewares:
        if isinstance(middleware, RobotsMiddleware):
            return middleware.crawl_delay_for(host)
    return None
