"""Article extraction: one ANTARA article page (old or new template) to an Article record.

The page's template is found once (:func:`crawler.extraction.templates.locate_page`); each field
function below asks the page for its parts and never looks at which template it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import urljoin, urlsplit

from crawler.domain.items import Article, Link
from crawler.domain.reasons import Reason
from crawler.domain.regions import ZONES, Region
from crawler.extraction.dates import DateError, find_date_text, parse_date, to_iso
from crawler.extraction.templates import SITE_NAME_ONLY, ArticlePage, locate_page
from crawler.extraction.text import (
    content_hash,
    fold,
    folded_word_count,
    is_dateline_only,
    parse_credits,
    parse_translator,
    shorten,
    split_dateline,
    strip_dateline,
)
from crawler.extraction.tree import Element, line_text, parse_html, spaced_text, text_of
from crawler.extraction.urls import ArticleRef, parse_article_url

__all__ = ["Element", "ExtractionError", "extract_article", "parse_html", "text_of"]


class ExtractionError(Exception):
    """A page that cannot become an :class:`Article`, and why.

    ``reason`` is a condition of the page (``not_article_url``, ``no_article``,
    ``missing_title``, ``missing_body``, ``missing_date``, ``bad_date``), or
    ``extractor_error``: an unexpected exception in the extractor itself, a bug, chained as
    ``__cause__`` so its traceback can be logged.
    """

    def __init__(self, reason: Reason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


_SITE_SUFFIX = re.compile(r"\s+[-|\u2013\u2014]\s+ANTARA\b.*$", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"no-?image|placeholder|blank\.(?:gif|png)|^data:", re.IGNORECASE)
_TAG_LABELS = frozenset({"tag", "tags", "topik", "label", "kata kunci"})
_LOCAL_OFFSETS = frozenset(zone.utcoffset(None) for zone in ZONES.values())


# ---- fields ---------------------------------------------------------------------------


def _strip_site_suffix(text: str) -> str:
    """A <title> or og:title without its " - ANTARA News ..." suffix ('' when only the site name)."""
    text = _SITE_SUFFIX.sub("", text).strip()
    return "" if SITE_NAME_ONLY.fullmatch(text) else text


def _title(page: ArticlePage) -> str:
    heading = page.headline()
    text = fold(line_text(heading)) if heading is not None else ""
    if text:
        return text
    for candidate in (page.meta("og:title"), page.meta("twitter:title"), page.title_tag):
        text = _strip_site_suffix(fold(candidate))
        if text:
            return text
    raise ExtractionError(Reason.MISSING_TITLE, "no headline in h1, og:title or <title>")


def _body(page: ArticlePage) -> list[str]:
    if page.content is None:
        raise ExtractionError(Reason.MISSING_BODY, "no article body container")
    paragraphs = list(page.walker.paragraphs)
    if paragraphs and is_dateline_only(paragraphs[0]):
        if len(paragraphs) == 1:
            paragraphs = []
        else:
            paragraphs[0:2] = [f"{paragraphs[0]} {paragraphs[1]}"]
    if not paragraphs:
        raise ExtractionError(Reason.MISSING_BODY, "the article body has no text")
    return paragraphs


def _date_candidates(page: ArticlePage) -> Iterator[tuple[str, bool]]:
    """Publication date strings, best first, each flagged when it is printed text (which may
    hold more than the date): the printed date, then the machine-readable ones."""
    yield from page.printed_dates()
    yield fold(page.meta("datepublished")), False
    yield fold(page.meta("article:published_time")), False
    value = page.jsonld_value("datePublished")
    yield (fold(value) if isinstance(value, str) else ""), False


def _localise(dt: datetime, region: Region) -> datetime:
    """``dt`` unchanged when it carries an Indonesian offset, else moved to the region's zone."""
    return dt if dt.utcoffset() in _LOCAL_OFFSETS else dt.astimezone(region.tz)


def _published(page: ArticlePage) -> tuple[str, str]:
    """(ISO date, date as printed) from the first candidate that parses."""
    zone = page.region.zone
    bad: list[str] = []
    for text, printed in _date_candidates(page):
        if not text:
            continue
        # printed text is usually the bare date; else look for a date inside it
        for raw in _tries(text) if printed else (text,):
            if not raw:
                continue
            try:
                return to_iso(_localise(parse_date(raw, default_zone=zone), page.region)), raw
            except DateError:
                bad.append(raw)
    if bad:
        raise ExtractionError(Reason.BAD_DATE, f"cannot read the publication date {bad[-1]!r}")
    raise ExtractionError(Reason.MISSING_DATE, "no publication date in the page or its metadata")


def _tries(text: str) -> Iterator[str | None]:
    """``text``, then the date found inside it (searched only when ``text`` itself is no date)."""
    yield text
    yield find_date_text(text)


def _resolve(href: str | None, base: str) -> str | None:
    """Absolute http(s) URL of ``href`` against ``base``, or None."""
    if not href or not href.strip():
        return None
    try:
        absolute = urljoin(base, href.strip())
        scheme = urlsplit(absolute).scheme
    except ValueError:
        return None
    return absolute if scheme in ("http", "https") else None


def _article_ref(href: str | None, base: str) -> ArticleRef | None:
    """The article ``href`` points at, resolved against ``base``; None for anything else."""
    if not href:
        return None
    if href.startswith(("https://", "http://")):
        return parse_article_url(href)  # absolute: skip the (slow) urljoin
    return parse_article_url(href, base)


def _links(page: ArticlePage) -> list[Link]:
    """One link per target article (the first one in the page), whatever slugs the others use."""
    links: list[Link] = []
    seen: set[tuple[str, int]] = set()
    for href, anchor_text in page.walker.anchors:
        ref = _article_ref(href, page.base)
        if ref is None or (ref.host, ref.article_id) in seen:
            continue
        seen.add((ref.host, ref.article_id))
        links.append(Link(url=ref.url, anchor_text=anchor_text, kind="baca_juga"))
    return links


def _canonical_url(page: ArticlePage) -> str:
    """The page's own canonical/og:url when it names the same article (true slug), else ours:
    ``<link rel="canonical">`` first, og:url read only when the link does not settle it."""
    own = page.ref
    href = page.link("canonical")
    if href == own.url:  # the usual page
        return own.url
    for candidate in (href, page.meta("og:url")):
        if candidate == own.url:
            return own.url
        ref = _article_ref(candidate, page.base)
        if ref is not None and ref.host == own.host and ref.article_id == own.article_id:
            return ref.url
    return own.url


def _credits(page: ArticlePage) -> tuple[str | None, str | None, str | None]:
    """(reporter, editor, translator) from the body's credit lines, else the template's credit block."""
    lines = page.walker.credits
    if not lines:
        for element in page.credit_blocks():
            text = spaced_text(element)
            if parse_credits(text) != (None, None):
                lines = [text]
                break
    joined = " ".join(lines)
    reporter, editor = parse_credits(joined)
    if reporter is None:
        reporter = page.fallback_reporter()
    return reporter, editor, parse_translator(joined)


def _category(page: ArticlePage) -> str | None:
    return page.category_text() or fold(page.meta("article:section")) or None


def _tags(page: ArticlePage) -> list[str]:
    names = [fold(text_of(a)) for a in page.tag_anchors()]
    names = [n for n in names if n.lower().rstrip(":") not in _TAG_LABELS]
    if not names:
        names = [fold(part) for part in (page.meta("keywords") or "").split(",")]
    return _dedupe(names)


def _dedupe(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        if name and name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def _usable_image(src: str | None, base: str) -> str | None:
    src = src.strip() if src else ""
    if not src or _is_placeholder(src):
        return None
    if src.startswith("https://") and " " not in src:
        return src
    return _resolve(src, base)


def _is_placeholder(src: str) -> bool:
    """True for a lazy image's stand-in ("no-image.jpg", a blank gif, a data: URL)."""
    if src.isascii():  # on ASCII the regex's case folding is lower(): test for its words first
        lower = src.lower()
        if "image" not in lower and "placeholder" not in lower and "blank." not in lower and "data:" not in lower:
            return False
    return bool(_PLACEHOLDER.search(src))


def _image_url(page: ArticlePage) -> str | None:
    for img in page.images():
        for attr in ("data-src", "data-original", "data-lazy-src", "src"):
            url = _usable_image(img.get(attr), page.base)
            if url:
                return url
    for key in ("og:image", "twitter:image"):
        url = _usable_image(page.meta(key), page.base)
        if url:
            return url
    return None


def _image_caption(page: ArticlePage) -> str | None:
    caption = page.caption()
    return (fold(line_text(caption)) or None) if caption is not None else None


def _summary(page: ArticlePage, first_paragraph: str) -> str:
    for key in ("description", "og:description"):
        text = fold(page.meta(key))
        if text:
            return text
    return shorten(strip_dateline(first_paragraph))


# ---- entry point ----------------------------------------------------------------------


def _ref_for(url: str) -> ArticleRef:
    ref = parse_article_url(url) if isinstance(url, str) else None
    if ref is None:
        raise ExtractionError(Reason.NOT_ARTICLE_URL, f"{url!r} is not an ANTARA article URL")
    return ref


def extract_article(html: str | bytes, url: str) -> Article:
    """The :class:`Article` in an ANTARA page fetched from ``url``.

    Raises :class:`ExtractionError` (and nothing else) when ``url`` is not an article URL
    or the page lacks an article container, title, body or a readable publication date.
    Conditions of the page are found by the field helpers, which raise their own reason;
    markup nested too deep for the tree walkers is ``no_article``. Any other exception is a
    bug of the extractor (a ``KeyError`` in a field helper, say), whatever the page: it
    becomes ``extractor_error`` with the exception as ``__cause__``, never a page condition,
    so the page is fetched again once the bug is fixed.
    """
    ref = _ref_for(url)
    doc = parse_html(html)
    if doc is None:
        raise ExtractionError(Reason.NO_ARTICLE, "the page is empty or not HTML")
    try:
        page = locate_page(doc, ref)
        if page is None:
            raise ExtractionError(Reason.NO_ARTICLE, "no article container (neither the old nor the new template)")
        return _extract(page)
    except ExtractionError:
        raise
    except RecursionError as exc:
        raise ExtractionError(Reason.NO_ARTICLE, "the page's markup nests too deep to be walked") from exc
    except Exception as exc:  # deliberately broad: whatever our code raised is reported as our bug, not the page's
        raise ExtractionError(Reason.EXTRACTOR_ERROR, f"the extractor failed: {type(exc).__name__}: {exc}") from exc


def _extract(page: ArticlePage) -> Article:
    title = _title(page)
    paragraphs = _body(page)
    published_at, published_raw = _published(page)
    body = "\n\n".join(paragraphs)
    reporter, editor, translator = _credits(page)
    return Article(
        url=_canonical_url(page),
        site=page.ref.host,
        region=page.region.slug,
        article_id=page.ref.article_id,
        title=title,
        body=body,
        published_at=published_at,
        published_at_raw=published_raw,
        summary=_summary(page, paragraphs[0]),
        dateline=split_dateline(paragraphs[0]),
        reporter=reporter,
        editor=editor,
        translator=translator,
        category=_category(page),
        tags=_tags(page),
        image_url=_image_url(page),
        image_caption=_image_caption(page),
        word_count=folded_word_count(paragraphs),
        content_hash=content_hash(title, body),
        template=page.template,
        language=page.region.language,
        links=_links(page),
    )
