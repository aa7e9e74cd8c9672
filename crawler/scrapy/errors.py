"""Turn a failed request (a Twisted Failure) into a CrawlError with a specific reason."""

from __future__ import annotations

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet import error as tx
from twisted.python.failure import Failure
from twisted.web.client import ResponseFailed, ResponseNeverReceived

from crawler.domain.items import CrawlError
from crawler.domain.reasons import Reason
from crawler.scrapy.robots import RobotsUnavailable

#: Exception types (Scrapy's own since 2.14, and the Twisted ones they wrap) by reason code.
_REASONS: tuple[tuple[tuple[type[BaseException], ...], Reason, str], ...] = (
    (
        (DownloadTimeoutError, tx.TimeoutError, tx.TCPTimedOutError),
        Reason.TIMEOUT,
        "no answer within the download timeout, after retries",
    ),
    ((CannotResolveHostError, tx.DNSLookupError), Reason.DNS_ERROR, "the host name did not resolve"),
    (
        (DownloadConnectionRefusedError, tx.ConnectionRefusedError),
        Reason.CONNECTION_REFUSED,
        "the server refused the connection, after retries",
    ),
    ((ResponseDataLossError,), Reason.TRUNCATED, "the response body was shorter than its declared length"),
    (
        (DownloadFailedError, ResponseFailed, ResponseNeverReceived, tx.ConnectionLost, tx.ConnectionDone),
        Reason.CONNECTION_LOST,
        "the connection dropped before the response was complete, after retries",
    ),
)

#: final answers that say the page is gone for good (a 5xx, a 429 or a timeout may pass)
GONE_STATUSES = frozenset({404, 410})


def describe_failure(failure: Failure, url: str, referer: str | None = None) -> CrawlError:
    """A CrawlError naming why ``url`` could not be fetched."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        gone = str(status) if status in GONE_STATUSES else None  # a removal, if the article was archived
        return CrawlError(
            url, Reason.for_status(status), status, f"the server answered HTTP {status}", referer, removed=gone
        )
    if isinstance(exc, DownloadCancelledError) and "max size" in str(exc):
        return CrawlError(url, Reason.TOO_LARGE, None, f"the page is larger than DOWNLOAD_MAXSIZE ({exc})", referer)
    for types, reason, detail in _REASONS:
        if isinstance(exc, types):
            return CrawlError(url, reason, None, f"{detail} ({exc})", referer)
    if isinstance(exc, RobotsUnavailable):
        return CrawlError(url, Reason.ROBOTS_UNAVAILABLE, None, str(exc), referer)
    if isinstance(exc, IgnoreRequest):
        text = str(exc) or type(exc).__name__
        if text.startswith("offsite"):
            return CrawlError(url, Reason.OFFSITE_BLOCKED, None, text, referer)
        if "robots" in text.lower() or "Forbidden by robots.txt" in text:
            return CrawlError(url, Reason.ROBOTS_DISALLOWED, None, "robots.txt forbids this URL", referer)
        if text == "max redirections reached":
            return CrawlError(
                url, Reason.REDIRECT_LOOP, None, "redirects went on past REDIRECT_MAX_TIMES (a loop)", referer
            )
        return CrawlError(url, Reason.IGNORED, None, text, referer)
    return CrawlError(url, Reason.DOWNLOAD_ERROR, None, f"{type(exc).__name__}: {exc}", referer)
