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
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.items import CrawlError
from crawler.robots import ROBOTS_UNAVAILABLE, RobotsUnavailable

#: Exception types (Scrapy's own since 2.14, and the Twisted ones they wrap) by reason code.
_REASONS: tuple[tuple[tuple[type[BaseException], ...], str, str], ...] = (
    (
        (DownloadTimeoutError, tx.TimeoutError, tx.TCPTimedOutError),
        "timeout",
        "no answer within the download timeout, after retries",
    ),
    ((CannotResolveHostError, tx.DNSLookupError), "dns_error", "the host name did not resolve"),
    (
        (DownloadConnectionRefusedError, tx.ConnectionRefusedError),
        "connection_refused",
        "the server refused the connection, after retries",
    ),
    ((ResponseDataLossError,), "truncated", "the response body was shorter than its declared length"),
    (
        (DownloadFailedError, ResponseFailed, ResponseNeverReceived, tx.ConnectionLost, tx.ConnectionDone),
        "connection_lost",
        "the connection dropped before the response was complete, after retries",
    ),
)


def describe_failure(failure: Failure, url: str, referer: str | None = None) -> CrawlError:
    """A CrawlError naming why ``url`` could not be fetched."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return CrawlError(url, f"http_{status}", status, f"the server answered HTTP {status}", referer)
    if isinstance(exc, DownloadCancelledError) and "max size" in str(exc):
        return CrawlError(url, "too_large", None, f"the page is larger than DOWNLOAD_MAXSIZE ({exc})", referer)
    for types, reason, detail in _REASONS:
        if isinstance(exc, types):
            return CrawlError(url, reason, None, f"{detail} ({exc})", referer)
    if isinstance(exc, RobotsUnavailable):
        return CrawlError(url, ROBOTS_UNAVAILABLE, None, str(exc), referer)
    if isinstance(exc, IgnoreRequest):
        text = str(exc) or type(exc).__name__
        if text.startswith("offsite"):
            return CrawlError(url, "offsite_blocked", None, text, referer)
        if "robots" in text.lower() or "Forbidden by robots.txt" in text:
            return CrawlError(url, "robots_disallowed", None, "robots.txt forbids this URL", referer)
        if text == "max redirections reached":
            return CrawlError(url, "redirect_loop", None, "redirects went on past REDIRECT_MAX_TIMES (a loop)", referer)
        return CrawlError(url, "ignored", None, text, referer)
    return CrawlError(url, "download_error", None, f"{type(exc).__name__}: {exc}", referer)
