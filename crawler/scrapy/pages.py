"""A fetched article response -> Article or CrawlError: the one path crawls and ``antara reextract`` share."""

from __future__ import annotations

import logging

from scrapy.http import Response, TextResponse

from crawler.domain.items import Article, CrawlError, WarcRef
from crawler.domain.meta import CAPTURE_META
from crawler.domain.reasons import Reason
from crawler.extraction import ExtractionError, extract_article

logger = logging.getLogger(__name__)

#: why an empty 200 is an error (it is retried first, as a server hiccup)
EMPTY_PAGE = "the server answered 200 with an empty body, after retries"


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


def capture_of(response: Response) -> WarcRef | None:
    """The WARC record the capture handler wrote for ``response`` (None when capture is off)."""
    found = response.meta.get(CAPTURE_META)
    return found if isinstance(found, WarcRef) else None
