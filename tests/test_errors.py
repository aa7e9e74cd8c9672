"""Failed downloads map to specific crawl_errors reasons."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.internet.error import DNSLookupError, TimeoutError
from twisted.python.failure import Failure

from crawler.scrapy.errors import describe_failure
from crawler.scrapy.retry import retry_after_seconds
from crawler.scrapy.robots import RobotsUnavailable

URL = "https://kalteng.antaranews.com/berita/1/x"


def http_error(status: int) -> HttpError:
    response = HtmlResponse(URL, status=status, body=b"", request=Request(URL))
    return HttpError(response, "Ignoring non-200 response")


@pytest.mark.parametrize(
    ("exc", "reason", "status"),
    [
        (http_error(404), "http_404", 404),
        (http_error(500), "http_500", 500),
        (http_error(429), "http_429", 429),
        (DownloadTimeoutError("took too long"), "timeout", None),
        (TimeoutError(), "timeout", None),
        (CannotResolveHostError("no such host"), "dns_error", None),
        (DNSLookupError("no such host"), "dns_error", None),
        (DownloadConnectionRefusedError("refused"), "connection_refused", None),
        (ResponseDataLossError("short"), "truncated", None),
        (DownloadFailedError("reset"), "connection_lost", None),
        (IgnoreRequest("Forbidden by robots.txt"), "robots_disallowed", None),
        (RobotsUnavailable("robots.txt of kalteng.antaranews.com answered HTTP 500"), "robots_unavailable", None),
        (IgnoreRequest("offsite: https://evil.test/ is not on an ANTARA news host"), "offsite_blocked", None),
        (
            IgnoreRequest("offsite: https://x redirects to https://evil.test/, not an ANTARA news host"),
            "offsite_blocked",
            None,
        ),
        (IgnoreRequest("max redirections reached"), "redirect_loop", None),
        (
            DownloadCancelledError(
                "Expected to receive 20971520 bytes which is larger than download max size (16777216)"
            ),
            "too_large",
            None,
        ),
        (ValueError("odd"), "download_error", None),
    ],
)
def test_reasons(exc: BaseException, reason: str, status: int | None) -> None:
    error = describe_failure(Failure(exc), URL, referer="https://kalteng.antaranews.com/terkini")
    assert (error.reason, error.status) == (reason, status)
    assert error.url == URL and error.referer.endswith("/terkini")
    assert error.detail


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (b"3", 3.0),
        (" 7 ", 7.0),
        ("Wed, 21 Oct 2026 07:28:30 GMT", 30.0),  # an HTTP date 30 s after "now"
        ("Wed, 21 Oct 2026 07:27:00 GMT", 0.0),  # already past
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_header(header: str | bytes | None, seconds: float | None) -> None:
    now = datetime(2026, 10, 21, 7, 28, 0, tzinfo=timezone.utc)
    assert retry_after_seconds(header, now=now) == seconds
