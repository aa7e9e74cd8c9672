"""Downloader middleware that lets requests reach ANTARA news hosts only (redirects included)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from crawler.extraction.urls import is_antara_host

if TYPE_CHECKING:
    from scrapy import Request


class AntaraOnlyMiddleware:
    """Refuse any request whose URL is not http(s) on a known ANTARA host.

    Links and redirects found on pages can then never make the crawler contact another
    host (look-alike domains, userinfo tricks, IP literals, odd ports).
    """

    def process_request(self, request: Request) -> None:
        if not is_antara_host(request.url):
            raise IgnoreRequest(f"offsite: {request.url} is not on an ANTARA news host")
