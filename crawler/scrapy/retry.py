"""Retries that wait: exponential backoff, ``Retry-After`` honoured, empty 200 answers retried too."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.downloadermiddlewares.retry import RetryMiddleware, get_retry_request
from scrapy.utils.asyncio import sleep

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

logger = logging.getLogger(__name__)

#: ``Request.meta`` key of a retry whose wait is left to whoever sends it (``ANTARA_RETRY_DEFERRED``):
#: the seconds to wait, counted from when the retry is queued.
RETRY_WAIT = "antara_retry_wait"


def retry_after_seconds(value: bytes | str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks to wait (delta-seconds or an HTTP date), or None when unreadable."""
    if value is None:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return max(0.0, (when - (now or datetime.now(timezone.utc))).total_seconds())


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's RetryMiddleware (same codes, exceptions and ``RETRY_TIMES``) that waits before a retry.

    Scrapy 2.19 retries at once and ignores ``Retry-After`` (scrapy/scrapy#3849). Here retry n
    waits ``ANTARA_RETRY_BACKOFF * 2 ** (n - 1)`` seconds, at most ``ANTARA_RETRY_BACKOFF_MAX``;
    an answer with a ``Retry-After`` header (429, 503) waits what it asks instead, at most
    ``ANTARA_RETRY_AFTER_MAX``. Other requests keep going meanwhile. An empty 200 answer (not
    robots.txt) counts as a transient failure too, and is retried the same way.

    Retries are made by Scrapy's public :func:`~scrapy.downloadermiddlewares.retry.get_retry_request`
    (the count travels in ``meta["retry_times"]``). With ``ANTARA_RETRY_DEFERRED`` (distributed
    workers) the retry is returned at once with its wait in ``meta[RETRY_WAIT]``: it is queued
    in Redis right away, in the same step that acknowledges the failed request, and whoever
    takes it waits before sending it. A worker killed during the wait then loses nothing.
    """

    def __init__(self, settings: BaseSettings) -> None:
        super().__init__(settings)
        self.backoff_base = settings.getfloat("ANTARA_RETRY_BACKOFF", 1.0)
        self.backoff_max = settings.getfloat("ANTARA_RETRY_BACKOFF_MAX", 30.0)
        self.retry_after_max = settings.getfloat("ANTARA_RETRY_AFTER_MAX", 60.0)
        self.deferred = settings.getbool("ANTARA_RETRY_DEFERRED")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        middleware = cls(crawler.settings)
        middleware.crawler = crawler
        return middleware

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1 for the first retry)."""
        return min(self.backoff_max, self.backoff_base * 2 ** max(0, attempt - 1))

    def retry_request(self, request: Request, reason: str | Exception) -> Request | None:
        """The next try of ``request``, or None when its retries are spent (what ``_retry`` does,
        through the public ``get_retry_request``; per-request meta overrides honoured)."""
        assert self.crawler.spider is not None
        return get_retry_request(
            request,
            spider=self.crawler.spider,
            reason=reason,
            max_retry_times=request.meta.get("max_retry_times", self.max_retry_times),
            priority_adjust=request.meta.get("priority_adjust", self.priority_adjust),
            give_up_log_level=request.meta.get("give_up_log_level", self.give_up_log_level),
        )

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if request.meta.get("dont_retry", False):
            return response
        if response.status in self.retry_http_codes:
            reason = f"HTTP {response.status}"
        elif response.status == 200 and not response.body and not request.url.endswith("/robots.txt"):
            reason = "empty 200 answer"
        else:
            return response
        retry = self.retry_request(request, reason)
        if retry is None:
            return response
        asked = retry_after_seconds(response.headers.get(b"Retry-After"))
        if asked is not None:
            wait = min(asked, self.retry_after_max)
            self.crawler.stats.inc_value("retry/retry_after")
        else:
            wait = self.backoff(retry.meta.get("retry_times", 1))
        return await self._wait(retry, wait, request, reason)

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:  # type: ignore[override]
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self.retry_request(request, exception)
        if retry is None:
            return None
        wait = self.backoff(retry.meta.get("retry_times", 1))
        return await self._wait(retry, wait, request, type(exception).__name__)

    async def _wait(self, retry: Request, seconds: float, request: Request, reason: str) -> Request:
        """Wait ``seconds`` and return ``retry``; deferred, return it at once with the wait in its meta."""
        if seconds <= 0:
            return retry
        self.crawler.stats.inc_value("retry/waited_ms", round(seconds * 1000))
        if self.deferred:
            retry.meta[RETRY_WAIT] = seconds
            return retry
        logger.debug("Waiting %.1fs before retrying %s (%s)", seconds, request, reason)
        await sleep(seconds)
        return retry
