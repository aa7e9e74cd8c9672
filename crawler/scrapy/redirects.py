"""Redirects that end in a recorded error when they leave ANTARA or loop, never in silence."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest

from crawler.extraction.urls import is_antara_host

if TYPE_CHECKING:
    from scrapy import Request


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
    """

    def _redirect(self, redirected: Request, request: Request, reason: Any) -> Request:
        if not is_antara_host(redirected.url):
            raise IgnoreRequest(f"offsite: {request.url} redirects to {redirected.url}, not an ANTARA news host")
        redirected = super()._redirect(redirected, request, reason)
        redirected.dont_filter = True
        return redirected
