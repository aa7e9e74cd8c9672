"""Downloader middleware that lets requests reach ANTARA news hosts only (redirects included),
and lead-image requests the image hosts too."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

from crawler.extraction.urls import is_antara_host
from crawler.scrapy.images import IMAGE_META, image_hosts, on_image_host

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class AntaraOnlyMiddleware:
    """Refuse any request whose URL is not http(s) on a known ANTARA host.

    Links and redirects found on pages can then never make the crawler contact another
    host (look-alike domains, userinfo tricks, IP literals, odd ports). A lead-image request
    (``request.meta[IMAGE_META]``, made by the spider) may also reach a host of
    ``ANTARA_IMAGE_HOSTS``, and so may the robots.txt request of such a host (its rules are
    obeyed); no other request may, so no page of an image host is crawled.
    """

    def __init__(self, hosts: frozenset[str] = frozenset()) -> None:
        self.image_hosts = hosts

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AntaraOnlyMiddleware:
        return cls(image_hosts(crawler.settings))

    def process_request(self, request: Request) -> None:
        if is_antara_host(request.url):
            return
        if on_image_host(request.url, self.image_hosts) and (
            request.meta.get(IMAGE_META) or urlsplit(request.url).path == "/robots.txt"
        ):  # an image, or the image host's rules that image requests obey
            return
        raise IgnoreRequest(f"offsite: {request.url} is not on an ANTARA news host")
