"""HTTP cache policy that keeps robots.txt answers for a day and caches nothing else."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.extensions.httpcache import DummyPolicy
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response


class RobotsTxtOnlyPolicy(DummyPolicy):
    """Scrapy's HttpCacheMiddleware with this policy serves robots.txt from a disk cache.

    Scheduled runs come every hour; fetching every host's robots.txt each time would be
    most of a quiet run's requests. RFC 9309 lets crawlers keep robots.txt for up to
    24 hours (``HTTPCACHE_EXPIRATION_SECS``); server errors are never cached.
    """

    def should_cache_request(self, request: Request) -> bool:
        return urlparse_cached(request).path == "/robots.txt" and super().should_cache_request(request)

    def should_cache_response(self, response: Response, request: Request) -> bool:
        return response.status < 500 and super().should_cache_response(response, request)
