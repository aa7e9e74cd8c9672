"""Article extraction: one ANTARA article page (old or new template) to an Article record."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from functools import cached_property
from typing import Any, TypeAlias
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.cssselect import CSSSelector

from crawler.domain.items import Article, Link
from crawler.domain.reasons import Reason
from crawler.domain.regions import ZONES, Region
from crawler.extraction.dates import DateError, find_date_text, parse_date, to_iso
from crawler.extraction.text import (
    content_hash,
    decode_markup,
    fold,
    is_baca_juga,
    is_credit_line,
    is_dateline_only,
    parse_credits,
    shorten,
    split_dateline,
    strip_dateline,
    word_count,
)
from crawler.extraction.urls import ArticleRef, parse_article_url

__all__ = ["Element", "ExtractionError", "extract_article", "parse_html", "text_of"]

Element: TypeAlias = etree._Element  # lxml ships no type stubs here: an alias of Any for mypy


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


# One parser for every page: bytes are decoded first, so the encoding is always UTF-8.
# Plain etree elements, not lxml.html's: its per-element Python class lookup costs more
# than the whole extraction.
_PARSER = etree.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)


def parse_html(html: str | bytes) -> Element | None:
    """The document tree of a page given as text or bytes in any encoding; None when empty."""
    if isinstance(html, bytes) and _is_utf8(html):
        data = html  # the common case: parse the bytes as they came
    elif isinstance(html, (str, bytes)):
        data = decode_markup(html).encode("utf-8", "replace")
    else:
        return None
    if not data.strip():
        return None
    try:
        return etree.fromstring(data, parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def text_of(element: Element) -> str:
    """All text inside ``element``, as printed (not folded)."""
    return "".join(element.itertext())


_TEXT_AND_BREAKS = etree.XPath(".//text() | .//br")


def _line_text(element: Element) -> str:
    """Text of ``element`` with each ``<br>`` read as a space (headlines, captions), not folded."""
    return "".join(part if isinstance(part, str) else " " for part in _TEXT_AND_BREAKS(element))


def _css(selector: str) -> CSSSelector:
    return CSSSelector(selector)


# Selectors name the tag as well as the class: "div.x" lets libxml2 skip every other
# element, where ".x" evaluates the class test on all of them (several times slower).
# Old template (regional hosts, national until ~2023).
_OLD_WRAPPER = _css("article.post-wrapper")
_OLD_HEADER = _css("header.post-header")
_OLD_TITLE = _css("h1.post-title")
_OLD_CONTENT = _css("div.post-content")
_OLD_DATE = _css("span.article-date")
_OLD_CATEGORY = _css("p.simple-share a")
_OLD_TAGS = _css("div.tags-wrapper li a")
_CAPTION = _css("p.wp-caption-text")
# New template (www since ~2024).
_NEW_TITLE = _css("div.wrap__article-detail-title h1")
_NEW_CONTENT = _css("div.wrap__article-detail-content")
_NEW_INFO = _css("div.wrap__article-detail-info")
_NEW_IMAGE = _css("div.wrap__article-detail-image img")
_NEW_CAPTION = _css("div.wrap__article-detail-image figcaption")
_BREADCRUMB = _css("li.breadcrumbs__item")
_NEW_TAGS = _css("div.blog-tags a")
_ANY_TAGS = _css(".blog-tags a")  # fallback when the list is not a div
_CREDITS = _css("p.text-muted")
_JSONLD = etree.XPath("//script[contains(translate(@type, 'LDJSON', 'ldjson'), 'ld+json')]")

_SITE_SUFFIX = re.compile(r"\s+[-|\u2013\u2014]\s+ANTARA\b.*$", re.IGNORECASE)
_SITE_NAME_ONLY = re.compile(r"ANTARA(?:\s+News\b.*)?", re.IGNORECASE)
_NOTICE = re.compile(r"^\W*dilarang\s+keras\s+mengambil\s+konten", re.IGNORECASE)
_NOTICE_TEXT = (
    "dilarang keras mengambil konten, melakukan crawling atau pengindeksan otomatis untuk ai "
    "di situs web ini tanpa izin tertulis dari kantor berita antara."
)
# Paragraph openings that may be read-also lines, credits, copyright or the notice (a superset).
_BOILERPLATE = re.compile(
    r"\W*(?:baca|dilarang)\b|(?:pewarta|penulis|reporter|wartawan|editor|redaktur|fotografer|"
    r"uploader|copyright|hak\s+cipta)\b|©",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(r"no-?image|placeholder|blank\.(?:gif|png)|^data:", re.IGNORECASE)
_TAG_LABELS = frozenset({"tag", "tags", "topik", "label", "kata kunci"})
_LOCAL_OFFSETS = frozenset(zone.utcoffset(None) for zone in ZONES.values())

# Body walking: which elements end a paragraph, which are dropped with their content.
_BLOCK_TAGS = frozenset(
    "p div blockquote section article header footer aside main nav h1 h2 h3 h4 h5 h6 ul ol li "
    "dl dt dd table thead tbody tfoot tr td th caption pre hr center address details summary".split()
)
_DROP_TAGS = frozenset(
    "script style noscript template iframe frame ins form button select textarea input label "
    "svg math object embed video audio canvas figure figcaption img picture source map head".split()
)
_DROP_CLASSES = frozenset({"wp-caption", "wp-caption-text", "related-posts", "share-buttons"})
_AD_CLASSES = frozenset({"adsbygoogle", "ads", "ad", "advertisement", "advert", "iklan"})
_AD_PREFIXES = ("ads-", "ads_", "ad-", "ad_", "iklan", "div-gpt-ad", "banner-ad")
_BACA_JUGA_CLASSES = frozenset({"baca-juga", "bacajuga", "baca_juga"})


# What the walker does with an element it enters.
_SKIP, _INLINE, _BLOCK, _QUOTE = range(4)


class _BodyWalker:
    """Walks a body container once, in document order, collecting paragraphs, read-also
    anchors and credit lines.

    Paragraphs end at block elements and at every ``<br>``: bare text split by ``<br />``
    gives one paragraph per non-empty chunk, so ``<br><br>`` and ``<br>`` separate alike.
    Inside ``div.quote_old`` a ``<br>`` is a line break within the quote's paragraph; block
    elements (``<p>``) inside it still end paragraphs.
    """

    def __init__(self) -> None:
        self.paragraphs: list[str] = []
        self.anchors: list[tuple[str, str]] = []
        self.credits: list[str] = []
        self._parts: list[str] = []
        self._chunk_anchors: list[tuple[str, str]] = []
        self._quote = 0

    def walk(self, root: Element) -> _BodyWalker:
        """Collect from ``root``'s content; iterative (no recursion limit), one visit per element.

        The loop is written out flat because it runs for every element of every body.
        """
        parts = self._parts
        add = parts.append
        if root.text:
            add(root.text)
        # An element on the stack is to be entered; an (element, kind) pair is to be left.
        stack: list[Any] = list(reversed(root))
        pop, push, extend = stack.pop, stack.append, stack.extend
        while stack:
            item = pop()
            if type(item) is tuple:
                element, kind = item
                if kind != _INLINE:
                    if kind == _QUOTE:
                        self._quote -= 1
                    self._break(hard=True)
            else:
                element = item
                tag = element.tag
                if tag in _BLOCK_TAGS:
                    kind = _BLOCK
                elif tag in _DROP_TAGS or not isinstance(tag, str):
                    kind = _SKIP
                elif tag == "br":
                    self._break()
                    kind = _SKIP
                else:
                    kind = _INLINE
                if kind != _SKIP:
                    attributes = element.attrib
                    if "class" in attributes or "id" in attributes:
                        kind = self._enter_classed(element, tag, kind)
                    elif tag == "a" and "href" in attributes:
                        self._chunk_anchors.append((attributes["href"], fold(text_of(element))))
                    if kind == _BLOCK:
                        self._break(hard=True)
                if kind != _SKIP:
                    text = element.text
                    if text and (parts or not text.isspace()):
                        add(text)
                    if len(element) or kind != _INLINE:
                        push((element, kind))
                        extend(reversed(element))
                        continue
            tail = element.tail
            if tail and (parts or not tail.isspace()):
                add(tail)
        self._flush()
        return self

    def _break(self, hard: bool = False) -> None:
        """End the paragraph; a soft break (``<br>``) inside a quote is only a space."""
        if self._quote and not hard:
            self._parts.append(" ")
        elif self._parts or self._chunk_anchors:
            self._flush()

    def _enter_classed(self, element: Element, tag: str, kind: int) -> int:
        """Kind of an element that has a class or id: ads, read-also, credits, quotes."""
        classes = element.get("class")
        tokens = classes.split() if classes else []
        if _is_ad(tokens, element.get("id") or "") or _DROP_CLASSES.intersection(tokens):
            return _SKIP
        if _BACA_JUGA_CLASSES.intersection(tokens):
            self.anchors.extend(_anchors(element))
            return _SKIP
        if "text-muted" in tokens and tag in ("p", "div"):
            text = _spaced_text(element)
            if is_credit_line(text) or parse_credits(text) != (None, None):
                self.credits.append(text)
                return _SKIP
        if "quote_old" in tokens:
            self._break(hard=True)
            self._quote += 1
            return _QUOTE
        if tag == "a" and element.get("href"):
            self._chunk_anchors.append((element.get("href", ""), fold(text_of(element))))
        return kind

    def _flush(self) -> None:
        joined = "".join(self._parts)
        anchors = self._chunk_anchors
        self._parts.clear()
        self._chunk_anchors = []
        text = fold(joined) if joined and not joined.isspace() else ""
        if not text:
            return
        if not _BOILERPLATE.match(text):  # one test for the common case, a plain paragraph
            if not _is_notice_part(text):
                self.paragraphs.append(text)
        elif is_baca_juga(text):
            self.anchors.extend(anchors)
        elif is_credit_line(text) and len(text) <= 300:
            self.credits.append(text)
        elif not _NOTICE.match(text):
            self.paragraphs.append(text)


def _is_notice_part(text: str) -> bool:
    """True for a piece of the "Dilarang keras ..." notice that a ``<br>`` cut off from its start."""
    return len(text) >= 20 and len(text) <= len(_NOTICE_TEXT) and text.lower().rstrip(". ") in _NOTICE_TEXT


def _is_ad(tokens: list[str], element_id: str) -> bool:
    if _AD_CLASSES.intersection(tokens):
        return True
    return any(token.startswith(_AD_PREFIXES) for token in tokens) or element_id.startswith(_AD_PREFIXES)


def _anchors(element: Element) -> list[tuple[str, str]]:
    return [(a.get("href", ""), fold(text_of(a))) for a in element.iter("a") if a.get("href")]


def _spaced_text(element: Element) -> str:
    """Text of ``element`` with a space between text nodes (so ``A<br>B`` stays two words)."""
    return fold(" ".join(element.itertext()))


def _has_class(element: Element, name: str) -> bool:
    return name in (element.get("class") or "").split()


def _first(selector: CSSSelector, scope: Element) -> Element | None:
    found = selector(scope)
    return found[0] if found else None


class _Page:
    """One parsed article page: the tree, where its parts are, and its metadata (read once)."""

    def __init__(self, doc: Element, ref: ArticleRef) -> None:
        self.doc = doc
        self.ref = ref
        self.template, self.scope = self._locate()

    @property
    def base(self) -> str:
        """Base for relative links and images: the canonical form of the fetched URL (https)."""
        return self.ref.url

    @property
    def region(self) -> Region:
        return self.ref.region

    def _locate(self) -> tuple[str, Element]:
        doc = self.doc
        wrapper = _first(_OLD_WRAPPER, doc)  # most sites serve the old template: test it first
        if wrapper is not None:
            return "old", wrapper
        anchor = _first(_NEW_CONTENT, doc)
        if anchor is None:
            anchor = _first(_NEW_TITLE, doc)
        if anchor is not None:
            wrapper = next((a for a in anchor.iterancestors() if _has_class(a, "wrap__article-detail")), None)
            return "new", wrapper if wrapper is not None else doc
        if _first(_OLD_TITLE, doc) is not None and _first(_OLD_CONTENT, doc) is not None:
            return "old", doc
        raise ExtractionError(Reason.NO_ARTICLE, "no article container (neither the old nor the new template)")

    @cached_property
    def post_header(self) -> Element | None:
        """Old template: the post header holding title, date, image and caption."""
        return _first(_OLD_HEADER, self.scope) if self.template == "old" else None

    @property
    def header(self) -> Element:
        """The post header when there is one, else the whole article scope."""
        return self.post_header if self.post_header is not None else self.scope

    @cached_property
    def content(self) -> Element | None:
        if self.template == "new":
            return _first(_NEW_CONTENT, self.scope)
        return _first(_OLD_CONTENT, self.scope)

    @cached_property
    def metas(self) -> dict[str, str]:
        """``<meta>`` contents by lowercased name, property or itemprop (first one wins)."""
        metas: dict[str, str] = {}
        for meta in self.doc.iter("meta"):
            key = meta.get("name") or meta.get("property") or meta.get("itemprop")
            content = meta.get("content")
            if key and content and content.strip():
                metas.setdefault(key.strip().lower(), content.strip())
        return metas

    def meta(self, key: str) -> str | None:
        return self.metas.get(key)

    @cached_property
    def links(self) -> dict[str, str]:
        """``<link>`` hrefs by lowercased rel token (first one wins)."""
        links: dict[str, str] = {}
        for link in self.doc.iter("link"):
            href = link.get("href")
            if href:
                for rel in (link.get("rel") or "").lower().split():
                    links.setdefault(rel, href.strip())
        return links

    @cached_property
    def title_tag(self) -> str:
        title = self.doc.find(".//title")
        return fold(text_of(title)) if title is not None else ""

    @cached_property
    def jsonld(self) -> list[dict[str, Any]]:
        return _jsonld_objects(self.doc)

    @cached_property
    def walker(self) -> _BodyWalker:
        walker = _BodyWalker()
        return walker.walk(self.content) if self.content is not None else walker


def _jsonld_objects(doc: Element) -> list[dict[str, Any]]:
    """Every JSON-LD object on the page, top-level and in ``@graph``, in page order."""
    objects: list[dict[str, Any]] = []
    for script in _JSONLD(doc):
        try:
            data = json.loads(script.text or "", strict=False)
        except (ValueError, RecursionError):
            continue
        stack: list[Any] = [data]
        while stack and len(objects) < 200:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                objects.append(item)
                if isinstance(item.get("@graph"), list):
                    stack.extend(reversed(item["@graph"]))
    return objects


def _jsonld_value(page: _Page, key: str) -> Any:
    """``key`` of the first JSON-LD object that has it, article types first."""
    objects = sorted(page.jsonld, key=lambda o: "article" not in str(o.get("@type", "")).lower())
    return next((o[key] for o in objects if o.get(key)), None)


# ---- fields ---------------------------------------------------------------------------


def _strip_site_suffix(text: str) -> str:
    """A <title> or og:title without its " - ANTARA News ..." suffix ('' when only the site name)."""
    text = _SITE_SUFFIX.sub("", text).strip()
    return "" if _SITE_NAME_ONLY.fullmatch(text) else text


def _title(page: _Page) -> str:
    selector = _NEW_TITLE if page.template == "new" else _OLD_TITLE
    heading = _first(selector, page.scope)
    if heading is None:
        heading = _first(selector, page.doc)
    text = fold(_line_text(heading)) if heading is not None else ""
    if text:
        return text
    for candidate in (page.meta("og:title"), page.meta("twitter:title"), page.title_tag):
        text = _strip_site_suffix(fold(candidate))
        if text:
            return text
    raise ExtractionError(Reason.MISSING_TITLE, "no headline in h1, og:title or <title>")


def _body(page: _Page) -> list[str]:
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


def _date_candidates(page: _Page) -> Iterator[tuple[str, bool]]:
    """Publication date strings, best first, each flagged when it is printed text (which may
    hold more than the date): the printed date, then the machine-readable ones."""
    if page.template == "old":
        for span in _OLD_DATE(page.header) or _OLD_DATE(page.scope):
            yield _spaced_text(span), True
            for time in span.iter("time"):
                yield fold(time.get("datetime")), False
    else:
        info = _first(_NEW_INFO, page.scope)
        yield (_spaced_text(info) if info is not None else ""), True
    yield fold(page.meta("datepublished")), False
    yield fold(page.meta("article:published_time")), False
    value = _jsonld_value(page, "datePublished")
    yield (fold(value) if isinstance(value, str) else ""), False


def _localise(dt: datetime, region: Region) -> datetime:
    """``dt`` unchanged when it carries an Indonesian offset, else moved to the region's zone."""
    return dt if dt.utcoffset() in _LOCAL_OFFSETS else dt.astimezone(region.tz)


def _published(page: _Page) -> tuple[str, str]:
    """(ISO date, date as printed) from the first candidate that parses."""
    zone = page.region.zone
    bad: list[str] = []
    for text, printed in _date_candidates(page):
        if not text:
            continue
        # printed text is usually the bare date; else look for a date inside it
        tries = (text, find_date_text(text)) if printed else (text,)
        for raw in tries:
            if not raw:
                continue
            try:
                return to_iso(_localise(parse_date(raw, default_zone=zone), page.region)), raw
            except DateError:
                bad.append(raw)
    if bad:
        raise ExtractionError(Reason.BAD_DATE, f"cannot read the publication date {bad[-1]!r}")
    raise ExtractionError(Reason.MISSING_DATE, "no publication date in the page or its metadata")


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


def _links(page: _Page) -> list[Link]:
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


def _canonical_url(page: _Page) -> str:
    """The page's own canonical/og:url when it names the same article (true slug), else ours."""
    for href in (page.links.get("canonical"), page.meta("og:url")):
        if href == page.ref.url:
            return href
        ref = _article_ref(href, page.base)
        if ref is not None and ref.host == page.ref.host and ref.article_id == page.ref.article_id:
            return ref.url
    return page.ref.url


def _credits(page: _Page) -> tuple[str | None, str | None]:
    lines = page.walker.credits
    if not lines:
        for element in _CREDITS(page.scope if page.template == "old" else page.doc):
            text = _spaced_text(element)
            if parse_credits(text) != (None, None):
                lines = [text]
                break
    reporter, editor = parse_credits(" ".join(lines))
    if reporter is None and page.template == "new":
        reporter = _jsonld_author(page)
    return reporter, editor


def _jsonld_author(page: _Page) -> str | None:
    """Author name(s) from JSON-LD (``author.name``, a list of them, or a plain string)."""
    author = _jsonld_value(page, "author")
    items = author if isinstance(author, list) else [author]
    raw = [item.get("name") if isinstance(item, dict) else item for item in items]
    names = [fold(name) for name in raw if isinstance(name, str)]
    return ", ".join(n for n in names if n and not _SITE_NAME_ONLY.fullmatch(n)) or None


def _category(page: _Page) -> str | None:
    if page.template == "old":
        link = _first(_OLD_CATEGORY, page.header)
        text = fold(text_of(link)) if link is not None else ""
    else:
        items = _BREADCRUMB(page.doc)
        text = fold(text_of(items[1])) if len(items) > 1 else ""
    return text or fold(page.meta("article:section")) or None


def _tags(page: _Page) -> list[str]:
    if page.template == "old":
        anchors = _OLD_TAGS(page.scope)
    else:
        anchors = _NEW_TAGS(page.scope) or _NEW_TAGS(page.doc) or _ANY_TAGS(page.doc)
    names = [fold(text_of(a)) for a in anchors]
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
    if not src or _PLACEHOLDER.search(src):
        return None
    if src.startswith("https://") and " " not in src:
        return src
    return _resolve(src, base)


def _image_url(page: _Page) -> str | None:
    if page.template == "new":
        images = _NEW_IMAGE(page.scope)
    else:  # only the post header: the wrapper also holds related-post thumbnails
        images = list(page.post_header.iter("img")) if page.post_header is not None else []
    for img in images:
        for attr in ("data-src", "data-original", "data-lazy-src", "src"):
            url = _usable_image(img.get(attr), page.base)
            if url:
                return url
    for key in ("og:image", "twitter:image"):
        url = _usable_image(page.meta(key), page.base)
        if url:
            return url
    return None


def _image_caption(page: _Page) -> str | None:
    caption = _first(_NEW_CAPTION, page.scope) if page.template == "new" else None
    if caption is None:
        caption = _first(_CAPTION, page.header)
    return (fold(_line_text(caption)) or None) if caption is not None else None


def _summary(page: _Page, first_paragraph: str) -> str:
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
        return _extract(_Page(doc, ref))
    except ExtractionError:
        raise
    except RecursionError as exc:
        raise ExtractionError(Reason.NO_ARTICLE, "the page's markup nests too deep to be walked") from exc
    except Exception as exc:  # deliberately broad: whatever our code raised is reported as our bug, not the page's
        raise ExtractionError(Reason.EXTRACTOR_ERROR, f"the extractor failed: {type(exc).__name__}: {exc}") from exc


def _extract(page: _Page) -> Article:
    title = _title(page)
    paragraphs = _body(page)
    published_at, published_raw = _published(page)
    body = "\n\n".join(paragraphs)
    reporter, editor = _credits(page)
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
        category=_category(page),
        tags=_tags(page),
        image_url=_image_url(page),
        image_caption=_image_caption(page),
        word_count=word_count(body),
        content_hash=content_hash(title, body),
        template=page.template,
        links=_links(page),
    )
