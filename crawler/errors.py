"""Turn a failed request (a Twisted Failure) into a CrawlError with a specific reason."""

from __future__ import annotations

from scrapy.exceptions import IgnoreRequest
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import (
    ConnectionLost,
    ConnectionRefusedError,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawler.items import CrawlError


def describe_failure(failure: Failure, url: str, referer: str | None = None) -> CrawlError:
    """A CrawlError naming why ``url`` could not be fetched."""
    exc = failure.value
    if isinstance(exc, HttpError):
        status = exc.response.status
        return CrawlError(url, f"http_{status}", status, f"the server answered HTTP {status}", referer)
    if isinstance(exc, (TimeoutError, TCPTimedOutError)):
        return CrawlError(url, "timeout", None, "no answer within the download timeout, after retries", referer)
    if isinstance(exc, DNSLookupError):
        return CrawlError(url, "dns_error", None, "the host name did not resolve", referer)
    if isinstance(exc, ConnectionRefusedError):
        return CrawlError(url, "connection_refused", None, "the server refused the connection, after retries", referer)
    if isinstance(exc, (ConnectionLost, ResponseFailed, ResponseNeverReceived)):
        return CrawlError(
            url, "connection_lost", None, "the connection dropped before the response was complete", referer
        )
    if isinstance(exc, IgnoreRequest):
        text = str(exc) or type(exc).__name__
        reason = "robots_disallowed" if "robots" in text.lower() else "ignored"
        if text.startswith("offsite"):
            reason = "offsite_blocked"
        return CrawlError(url, reason, None, text, referer)
    return CrawlError(url, "download_error", None, f"{type(exc).__name__}: {exc}", referer)
