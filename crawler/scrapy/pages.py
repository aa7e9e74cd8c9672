"""A fetched article response -> Article or CrawlError: the one path crawls and ``antara reextract`` share."""

from __future__ import annotations

import logging

from scrapy.http import Response, TextResponse

from crawler.domain.items import Article, CrawlError, WarcRef
from crawler.domain.meta import CAPTURE_META
from crawler.domain.reasons import Reason
from crawler.extraction import ExtractionError, extract_article
from crawler.extraction.urls import parse_article_url

logger = logging.getLogger(__name__)

#: why an empty 200 is an error (it is retried first, as a server hiccup)
EMPTY_PAGE = "the server answered 200 with an empty body, after retries"
#: extraction verdicts that say the page answered at an article URL is no article at all (a "not
#: found" page served with 200, the home or a section page): a soft 404
NOT_AN_ARTICLE = frozenset({Reason.NO_ARTICLE, Reason.NOT_ARTICLE_URL})


def article_from_response(response: Response, referer: str | None = None) -> Article | CrawlError:
    """The article in a 2xx response at an article URL, or why there is none.

    A bug of the extractor (``extractor_error``) is logged as an error with its traceback.
    """
    if not response.body:
        return CrawlError(response.url, Reason.EMPTY_PAGE, response.status, EMPTY_PAGE, referer)
    if not isinstance(response, TextResponse):
        return CrawlError(
            response.url, Reason.NOT_HTML, response.status, "the article URL did not answer HTML", referer
        )
    try:
        return extract_article(response.text, response.url)
    except ExtractionError as exc:
        if exc.reason is Reason.EXTRACTOR_ERROR:
            # the traceback of the cause is printed after "The above exception was the direct cause"
            logger.error("extractor error on %s: %s", response.url, exc.detail, exc_info=exc)
        return CrawlError(response.url, exc.reason, response.status, exc.detail, referer)


def as_removal(response: Response, error: CrawlError) -> CrawlError:
    """``error`` (of an article request) marked with what it says if the article is archived
    (:attr:`CrawlError.removed`): redirected to a page that is not the same article (a section,
    list or home page) is ``redirect``, kept under the article's URL with the redirect's status;
    a page that is no article is ``soft_404``. Empty or non-HTML answers, or an article page
    missing a field, say nothing of a removal."""
    meta = response.request.meta if response.request is not None else {}
    redirects = meta.get("redirect_urls") or []
    requested = str(redirects[0]) if redirects else response.url
    if requested != response.url and _article_key(requested) != _article_key(response.url):
        status = next((r for r in meta.get("redirect_reasons") or [] if isinstance(r, int)), error.status)
        detail = f"redirected to {response.url}, which is not the article: {error.detail}"
        return CrawlError(requested, error.reason, status, detail, error.referer, "redirect", response.url)
    if error.reason in NOT_AN_ARTICLE:
        error.removed = "soft_404"
    return error


def _article_key(url: str) -> tuple[str, int] | None:
    ref = parse_article_url(url)
    return (ref.host, ref.article_id) if ref is not None else None


def capture_of(response: Response) -> WarcRef | None:
    """The WARC record the capture handler wrote for ``response`` (None when capture is off)."""
    found = response.meta.get(CAPTURE_META)
    return found if isinstance(found, WarcRef) else None
