"""Failed downloads map to specific crawl_errors reasons."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import (
    CannotResolveHostError,
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

from crawler.errors import describe_failure

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
        (IgnoreRequest("offsite: https://evil.test/ is not on an ANTARA news host"), "offsite_blocked", None),
        (ValueError("odd"), "download_error", None),
    ],
)
def test_reasons(exc: BaseException, reason: str, status: int | None) -> None:
    error = describe_failure(Failure(exc), URL, referer="https://kalteng.antaranews.com/terkini")
    assert (error.reason, error.status) == (reason, status)
    assert error.url == URL and error.referer.endswith("/terkini")
    assert error.detail
