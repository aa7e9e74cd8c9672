"""Mirror mode: fetch ``https://{host}{path}`` from ``{ANTARA_MIRROR}/{host}{path}``; all else sees the real URL.

ANTARA news hosts and the lead-image hosts (``ANTARA_IMAGE_HOSTS``) are both mapped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.core.downloader.handlers.http11 import HTTP11DownloadHandler

from crawler.extraction.urls import host_of, is_antara_host
from crawler.scrapy.images import image_hosts, on_image_host

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


def mirror_url(mirror: str, url: str) -> str:
    """The URL on ``mirror`` that serves ``url``: ``{mirror}/{host}{path}?{query}``."""
    parts = urlsplit(url)
    query = f"?{parts.query}" if parts.query else ""
    return f"{mirror.rstrip('/')}/{host_of(url)}{parts.path or '/'}{query}"


class MirrorDownloadHandler(HTTP11DownloadHandler):
    """HTTP(S) download handler that sends requests for ANTARA hosts to the mirror, if one is set.

    Rewriting happens below every middleware, so robots.txt, the dupefilter, download slots
    (politeness per real host), redirects, the spider and the pipelines all see real URLs.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.mirror: str = crawler.settings.get("ANTARA_MIRROR") or ""
        self.image_hosts = image_hosts(crawler.settings)

    async def download_request(self, request: Request) -> Response:
        sent = self.outgoing(request)
        response = await super().download_request(sent)
        return self.incoming(request, sent, response)

    def outgoing(self, request: Request) -> Request:
        """The request to send: its mirror copy for an ANTARA or image host when a mirror is set, else itself."""
        if not self.mirror or not (is_antara_host(request.url) or on_image_host(request.url, self.image_hosts)):
            return request
        return request.replace(url=mirror_url(self.mirror, request.url))

    def incoming(self, request: Request, sent: Request, response: Response) -> Response:
        """The response as everything above sees it: at the real URL, whatever was sent."""
        if sent is request:
            return response
        return response.replace(url=request.url, request=request)
