"""The records the crawler produces, documented field by field (no Scrapy import needed)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from crawler.domain.reasons import Reason


@dataclass
class Link:
    """A link found inside an article body."""

    url: str  #: canonical article URL of the target (see :class:`Article.url`)
    anchor_text: str  #: the link's visible text, whitespace folded
    kind: str = "baca_juga"  #: ``baca_juga`` for read-also links ("Baca juga:", "Also read:", ...)


@dataclass
class Article:
    """One news article, normalised. Every string is whitespace-folded unless said otherwise."""

    #: canonical URL: https, lowercase host, ``/berita/{id}/{slug}`` (``/news/{id}/{slug}`` on
    #: en.antaranews.com), no query or fragment, never AMP
    url: str
    #: host the article belongs to, lowercase, e.g. ``kalteng.antaranews.com``
    site: str
    #: region slug from the registry, e.g. ``kalteng``; ``nasional`` for www.antaranews.com, ``en`` for
    #: en.antaranews.com
    region: str
    #: numeric article id, unique within ``site``
    article_id: int
    #: headline as printed in the article's h1 (falls back to og:title, then <title> minus the site suffix)
    title: str
    #: plain-text body: paragraphs separated by one blank line; the first paragraph keeps its dateline
    #: prefix ("Palangka Raya (ANTARA) - ..."); no "Baca juga" lines (nor their English forms "Also read",
    #: "Read also", "Related news"), credits, scripts or the AI notice
    body: str
    #: publication time, ISO 8601 with the local offset, e.g. ``2022-10-20T15:02:00+07:00``
    published_at: str
    #: the publication date exactly as the page printed it, e.g. ``Kamis, 20 Oktober 2022 15:02 WIB`` or
    #: ``Monday, November 30, 2026 15:02 WIB``
    #: (whitespace folded; the metadata value, e.g. ISO 8601, when the page prints no readable date)
    published_at_raw: str
    #: meta description (or the first paragraph without its dateline, cut to at most 200 characters on a
    #: word boundary and ended with "…", when the page has none)
    summary: str | None = None
    #: city of the dateline, e.g. ``Palangka Raya``; None when the body has no dateline
    dateline: str | None = None
    #: reporter ("Pewarta", "Reporter") name(s) as printed, whitespace folded: several stay as the page joins them
    #: ("A dan B", "A, B"); names taken from JSON-LD ``author`` (new template fallback) are joined with ", "
    reporter: str | None = None
    #: editor name as printed
    editor: str | None = None
    #: translator ("Translator: ...", English service) name(s) as printed; None when the page names none
    translator: str | None = None
    #: section / category name, e.g. ``Umum``
    category: str | None = None
    #: tags, in page order, without duplicates
    tags: list[str] = field(default_factory=list)
    #: absolute URL of the lead image (the real one from data-src, never the no-image placeholder)
    image_url: str | None = None
    #: lead image caption including its photo credit
    image_caption: str | None = None
    #: number of whitespace-separated words in ``body``
    word_count: int = 0
    #: sha256 hex digest of title + "\n\n" + body, to notice changed content
    content_hash: str = ""
    #: page template the record was extracted from: ``old`` or ``new``
    template: str = "old"
    #: language of the article, ISO 639-1, from the site's registry entry: ``id`` (Indonesian) or ``en``
    #: (English, en.antaranews.com)
    language: str = "id"
    #: "Baca juga" ("Also read", ...) links in the body, in page order, targets canonical, no duplicates
    links: list[Link] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def as_record(self) -> dict[str, Any]:
        """``to_dict()`` without its recursive deep copy (strings are immutable): the pipeline's
        per-article path, where ``asdict`` cost about as much as writing the article."""
        record = dict(self.__dict__)
        record["tags"] = list(self.tags)
        record["links"] = [{"url": link.url, "anchor_text": link.anchor_text, "kind": link.kind} for link in self.links]
        return record


@dataclass
class ListEntry:
    """One article teaser on a list page."""

    url: str  #: canonical article URL
    title: str | None = None
    #: ISO 8601 with offset when the list printed a date (relative dates resolved against ``now``)
    published_at: str | None = None


@dataclass
class CrawlError:
    """A page the crawler could not turn into a record; stored in ``crawl_errors``."""

    url: str  #: the URL as requested (real host, never the mirror)
    #: why, as a code of :class:`crawler.domain.reasons.Reason` (a code given as text is checked and converted)
    reason: Reason
    status: int | None = None  #: HTTP status when there was a response
    detail: str = ""  #: one human-readable sentence saying what went wrong
    referer: str | None = None  #: the page that linked to ``url``
    #: what the answer says if ``url`` is an archived article: it is gone from the site. ``404``,
    #: ``410``, ``soft_404`` (a 200 page that is no article: a "not found" or home page) or
    #: ``redirect`` (to a page that is not the article); None for every other failure (a 5xx, a
    #: timeout, a 429 may pass). The archive then records a removal (``article_removals``)
    removed: str | None = None
    location: str | None = None  #: for ``removed == "redirect"``: the URL the redirects ended at

    def __post_init__(self) -> None:
        self.reason = Reason(self.reason)  # ValueError for a code that is not a Reason


@dataclass(frozen=True)
class WarcRef:
    """Where a response was captured: one record of the archive's WARC files (see docs/warc.md)."""

    file: str  #: WARC file name, in the archive's WARC folder (``{db}.warc/`` unless set otherwise)
    offset: int  #: byte offset of the record's gzip member in that file
    length: int  #: bytes of the gzip member
    record_id: str  #: WARC-Record-ID, ``<urn:uuid:...>``; a ``response``, or a ``revisit`` of an identical payload
    date: str  #: WARC-Date: when the response was received, UTC


@dataclass
class ArticlePage:
    """An article as fetched: the record plus what the crawl needs to remember about the fetch."""

    article: Article
    #: HTTP validators of the response, sent back on revisits (If-None-Match / If-Modified-Since)
    etag: str | None = None
    last_modified: str | None = None
    #: Baca juga targets still to fetch, as (canonical url, hops from a list page); kept in the
    #: archive's frontier until fetched, so an interrupted crawl resumes them
    follow: list[tuple[str, int]] = field(default_factory=list)
    #: the WARC record of the response the article was extracted from; None when capture is off
    capture: WarcRef | None = None


@dataclass
class LeadImage:
    """An article's lead image, fetched and captured (the bytes live in the WARC files only)."""

    url: str  #: the image URL as the article names it (``articles.image_url``), real host, never a mirror
    article_url: str  #: canonical URL of the article whose lead image it is
    content_type: str  #: media type the server sent, lowercase, no parameters, e.g. ``image/jpeg``
    size: int  #: bytes of the image as decoded (after any Content-Encoding)
    #: the WARC record of the response (a ``revisit`` when an earlier capture holds the same bytes);
    #: None when capture is off
    capture: WarcRef | None = None


@dataclass
class CaptureIndexed:
    """``captures`` rows of the WARC records a distributed worker wrote for one exchange.

    Workers do not write the archive: they push these to the ingester, which indexes them.
    """

    rows: list[dict[str, Any]]  #: ``archive.warc.Record.as_row()`` of each record, warcinfo first


@dataclass
class NotModified:
    """A revisited article the server says has not changed (HTTP 304)."""

    url: str
    site: str
    article_id: int
    #: the WARC record of the 304 response; None when capture is off
    capture: WarcRef | None = None


@dataclass
class BackfillProgress:
    """How far a backfill got on one region, so the next run resumes after it."""

    region: str
    next_page: int
    until: str | None
    last_page: int | None
    done: bool = False
    #: articles requested from the page, kept in the frontier until fetched
    follow: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class Discovered:
    """Articles a list page led the crawl to request, kept in the frontier until fetched."""

    referer: str
    follow: list[tuple[str, int]] = field(default_factory=list)
