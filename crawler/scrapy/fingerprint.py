"""Request fingerprints that treat every URL variant of one article as the same request."""

from __future__ import annotations

from scrapy import Request
from scrapy.utils.request import RequestFingerprinter

from crawler.extraction.urls import parse_article_url


class ArticleFingerprinter(RequestFingerprinter):
    """Article URLs fingerprint as ``https://{host}/berita/{id}``: slug, AMP, http and query ignored.

    So the dupefilter fetches an article once however many slugs or variants link to it.
    """

    def fingerprint(self, request: Request) -> bytes:
        ref = parse_article_url(request.url)
        if ref is not None and request.method == "GET":
            request = request.replace(url=f"https://{ref.host}/berita/{ref.article_id}")
        return super().fingerprint(request)
