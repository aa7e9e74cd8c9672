"""Why a page could not be archived: every ``crawl_errors.reason``, and which ones are permanent.

The one definition of the reason codes (no Scrapy import: the extraction layer, the archive
glue and the monitors use it alike). A reason is *permanent* when it is a condition of the
page that fetching it again would meet again (a 404, a page that is no article, an unreadable
date, robots.txt forbidding it): incremental and backfill runs do not fetch such a URL again.
Everything else (timeouts, 5xx, an empty answer, and ``extractor_error``, a bug of ours met
while reading the page) is retried by the next run.

Verdicts of the extraction rules (``no_article``, ``missing_*``, ``bad_date``) are permanent
only for the extractor version that gave them: a crawler with a newer ``EXTRACTOR_VERSION``
fetches such a page once more (``crawl_errors.extractor_version`` says which version judged).
"""

from __future__ import annotations

from enum import Enum


class Reason(str, Enum):
    """A ``crawl_errors.reason`` code; the value is what the archive stores."""

    # -- the server's final answer, after retries (crawl_errors.status holds the exact code) --
    HTTP_400 = "http_400"
    HTTP_401 = "http_401"
    HTTP_403 = "http_403"
    HTTP_404 = "http_404"
    HTTP_405 = "http_405"
    HTTP_408 = "http_408"
    HTTP_410 = "http_410"
    HTTP_429 = "http_429"
    HTTP_451 = "http_451"
    HTTP_500 = "http_500"
    HTTP_502 = "http_502"
    HTTP_503 = "http_503"
    HTTP_504 = "http_504"
    HTTP_3XX = "http_3xx"  #: another 3xx that was not followed
    HTTP_4XX = "http_4xx"  #: another 4xx
    HTTP_5XX = "http_5xx"  #: another 5xx
    HTTP_OTHER = "http_other"  #: a status outside 300-599 that Scrapy still refused
    # -- the network, after retries --
    TIMEOUT = "timeout"
    DNS_ERROR = "dns_error"
    CONNECTION_REFUSED = "connection_refused"
    CONNECTION_LOST = "connection_lost"
    TRUNCATED = "truncated"
    DOWNLOAD_ERROR = "download_error"  #: a download failure of another kind (named in the detail)
    TOO_LARGE = "too_large"
    # -- the crawl's own rules --
    REDIRECT_LOOP = "redirect_loop"
    ROBOTS_DISALLOWED = "robots_disallowed"
    ROBOTS_UNAVAILABLE = "robots_unavailable"  #: the host's robots.txt could not be read and no copy was kept
    OFFSITE_BLOCKED = "offsite_blocked"
    IGNORED = "ignored"  #: a request dropped by a downloader middleware for another reason
    OLDER_THAN_SINCE = "older_than_since"  #: published before ``--since``: kept out of this run
    # -- what the page held --
    EMPTY_PAGE = "empty_page"  #: a 200 answer with an empty body, after retries
    NOT_HTML = "not_html"
    EMPTY_LIST = "empty_list"  #: a list page without article links
    NOT_ARTICLE_URL = "not_article_url"
    NO_ARTICLE = "no_article"  #: neither template's article container, or markup too broken to walk
    MISSING_TITLE = "missing_title"
    MISSING_BODY = "missing_body"
    MISSING_DATE = "missing_date"
    BAD_DATE = "bad_date"
    # -- lead images (``antara crawl --with-images``) --
    IMAGE_NOT_AN_IMAGE = "image_not_an_image"  #: the lead image URL answered another content type (HTML, text)
    IMAGE_TOO_LARGE = "image_too_large"  #: the lead image is larger than ``ANTARA_IMAGE_MAX_BYTES``
    # -- our code --
    EXTRACTOR_ERROR = "extractor_error"  #: an unexpected exception in the extractor: a bug, logged with its traceback

    def __str__(self) -> str:
        return self.value

    @property
    def permanent(self) -> bool:
        """Fetching the page again would meet the same condition (see the module docstring)."""
        return self in _PERMANENT

    @property
    def by_extractor(self) -> bool:
        """A verdict of the extraction rules: permanent only for the extractor version that gave it."""
        return self in _BY_EXTRACTOR

    @classmethod
    def for_status(cls, status: int) -> Reason:
        """``http_404`` for 404; ``http_4xx`` (and the like) for a status without its own code."""
        try:
            return cls(f"http_{status}")
        except ValueError:
            pass
        return {3: cls.HTTP_3XX, 4: cls.HTTP_4XX, 5: cls.HTTP_5XX}.get(status // 100, cls.HTTP_OTHER)


_BY_EXTRACTOR = frozenset(
    {
        Reason.NOT_ARTICLE_URL,
        Reason.NO_ARTICLE,
        Reason.MISSING_TITLE,
        Reason.MISSING_BODY,
        Reason.MISSING_DATE,
        Reason.BAD_DATE,
    }
)
_PERMANENT = _BY_EXTRACTOR | {
    Reason.HTTP_404,
    Reason.HTTP_410,
    Reason.ROBOTS_DISALLOWED,
    Reason.OFFSITE_BLOCKED,
    Reason.NOT_HTML,
    Reason.REDIRECT_LOOP,
    Reason.TOO_LARGE,
    Reason.IMAGE_NOT_AN_IMAGE,
    Reason.IMAGE_TOO_LARGE,
}

#: the stored codes of the permanent reasons, and of the extractor's verdicts among them
PERMANENT_CODES: tuple[str, ...] = tuple(sorted(r.value for r in _PERMANENT))
EXTRACTOR_VERDICTS: tuple[str, ...] = tuple(sorted(r.value for r in _BY_EXTRACTOR))


def list_ended(page: int, reason: Reason) -> bool:
    """A list page past the first that is not there (404, 410) or lists nothing: the list ends
    before it, which is no failure of the site; the walk stops there."""
    return page > 1 and reason in (Reason.HTTP_404, Reason.HTTP_410, Reason.EMPTY_LIST)
