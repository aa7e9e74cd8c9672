"""Redirects that end in a recorded error when they leave ANTARA or loop, never in silence."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.httpobj import urlparse_cached

from crawler.extraction.urls import is_antara_host

if TYPE_CHECKING:
    from scrapy.http import Response


class AntaraRedirectMiddleware(RedirectMiddleware):
    """Scrapy's RedirectMiddleware, with two changes that keep every redirect accounted for.

    - A redirect to anything but an ANTARA news host (look-alike domain, userinfo trick, IP
      literal, odd port) fails the request with ``offsite: ...``, so its errback records
      ``offsite_blocked``. Scrapy would drop it silently (its OffsiteMiddleware filters the
      rescheduled request without calling any errback), or, for hosts under antaranews.com,
      leave it to :class:`~crawler.scrapy.middlewares.AntaraOnlyMiddleware`.
    - The redirected request skips the duplicate filter: a redirect to another URL of the same
      article (a new slug, https, a query) has the same fingerprint and would otherwise be
      dropped without a trace. ``REDIRECT_MAX_TIMES`` still ends a loop, as
      ``max redirections reached`` (recorded as ``redirect_loop``).

    Both through public methods: ``handle_referer`` is called with every redirect request
    Scrapy builds, before the redirect counts against ``REDIRECT_MAX_TIMES`` (so a redirect
    offsite is ``offsite`` even at the limit); ``process_response`` returns the accepted one.
    """

    def handle_referer(self, request: Request, response: Response) -> None:
        super().handle_referer(request, response)
        # Scrapy follows only http(s) redirects and hands any other back as the response
        if urlparse_cached(request).scheme in ("http", "https") and not is_antara_host(request.url):
            raise _Offsite(request.url)

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        try:
            result = super().process_response(request, response)
        except _Offsite as offsite:
            raise IgnoreRequest(f"offsite: {request.url} redirects to {offsite.url}, not an ANTARA news host") from None
        if isinstance(result, Request):  # a redirect, accepted
            result.dont_filter = True
        return result


class _Offsite(Exception):
    """A redirect to ``url``, which is not an ANTARA news host (turned into ``IgnoreRequest`` above)."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.url = url
