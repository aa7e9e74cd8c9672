"""The two ANTARA article templates as page classes: where each keeps its parts.

:func:`locate_page` looks at a parsed page once and returns an :class:`OldTemplatePage` or a
:class:`NewTemplatePage`; the field functions of :mod:`crawler.extraction.article` then ask the
page for its parts (headline, printed date, tags, ...) without knowing which template it is.
The base class, :class:`ArticlePage`, reads what both templates share: metadata, ``<link>``s,
``<title>``, JSON-LD and the body.

Elements are found with ``scope.iter(tag)`` and a class test, which stops at the first match
(most parts sit near the top of the article), rather than with CSS selectors, each a pass over
the whole page. Where a selector could return several elements from several containers (a rare
page), the selector itself is used, so the result is always the selector's.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cached_property
from typing import Any, ClassVar

from lxml import etree
from lxml.cssselect import CSSSelector

from crawler.domain.regions import Region
from crawler.extraction.body import BodyWalker
from crawler.extraction.text import fold
from crawler.extraction.tree import Element, class_tokens, first_with_class, has_class, spaced_text, text_of, with_class
from crawler.extraction.urls import ArticleRef

__all__ = ["SITE_NAME_ONLY", "ArticlePage", "NewTemplatePage", "OldTemplatePage", "locate_page"]

#: A name that is only the site's ("ANTARA", "ANTARA News Kalteng"): never a headline or an author.
SITE_NAME_ONLY = re.compile(r"ANTARA(?:\s+News\b.*)?", re.IGNORECASE)
_JSONLD = etree.XPath("//script[contains(translate(@type, 'LDJSON', 'ldjson'), 'ld+json')]")
# Selectors kept for the rare page whose parts sit in more than one container.
_OLD_TAGS = CSSSelector("div.tags-wrapper li a")
_NEW_TAGS = CSSSelector("div.blog-tags a")
_ANY_TAGS = CSSSelector(".blog-tags a")  # fallback when the list is not a div
_NEW_IMAGE = CSSSelector("div.wrap__article-detail-image img")


class ArticlePage:
    """One parsed article page: the tree, where its parts are, and its metadata (each read once).

    ``scope`` is the article's container (the whole document when there is none). Subclasses
    say where the template keeps each part; every method returns what the page holds, or an
    empty value, and the field functions decide what to do when a part is missing.
    """

    template: ClassVar[str]

    def __init__(self, doc: Element, ref: ArticleRef, scope: Element) -> None:
        self.doc = doc
        self.ref = ref
        self.scope = scope
        self._metas: dict[str, str] = {}
        self._meta_elements = doc.iter("meta")
        self._metas_read = False

    @property
    def base(self) -> str:
        """Base for relative links and images: the canonical form of the fetched URL (https)."""
        return self.ref.url

    @property
    def region(self) -> Region:
        return self.ref.region

    # ---- shared by both templates ---------------------------------------------------------

    @property
    def metas(self) -> dict[str, str]:
        """``<meta>`` contents by lowercased name, property or itemprop (first one wins)."""
        for _ in self._read_metas():
            pass
        return self._metas

    def meta(self, key: str) -> str | None:
        """The content of the first ``<meta>`` named ``key``; the page's metas are read only as far
        as needed (most pages need only the description, near the top)."""
        found = self._metas.get(key)
        if found is None and not self._metas_read:
            for name in self._read_metas():
                if name == key:
                    return self._metas[key]
        return found

    def _read_metas(self) -> Iterator[str]:
        """Read the next ``<meta>``s into ``_metas``, yielding each new name; resumes where it stopped."""
        metas = self._metas
        for meta in self._meta_elements:
            key = meta.get("name") or meta.get("property") or meta.get("itemprop")
            content = meta.get("content")
            if key and content and content.strip():
                name = key.strip().lower()
                if name not in metas:
                    metas[name] = content.strip()
                    yield name
        self._metas_read = True

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

    def link(self, rel: str) -> str | None:
        """``links.get(rel)`` for a lowercase ``rel``, reading the ``<link>``s only up to the first
        that has it (the canonical link sits near the top of the head)."""
        if "links" in self.__dict__:
            return self.links.get(rel)
        for link in self.doc.iter("link"):
            href = link.get("href")
            if href and rel in (link.get("rel") or "").lower().split():
                return href.strip()
        return None

    @cached_property
    def title_tag(self) -> str:
        title = next(self.doc.iterdescendants("title"), None)
        return fold(text_of(title)) if title is not None else ""

    @cached_property
    def jsonld(self) -> list[dict[str, Any]]:
        return _jsonld_objects(self.doc)

    def jsonld_value(self, key: str) -> Any:
        """``key`` of the first JSON-LD object that has it, article types first."""
        objects = sorted(self.jsonld, key=lambda o: "article" not in str(o.get("@type", "")).lower())
        return next((o[key] for o in objects if o.get(key)), None)

    @cached_property
    def content(self) -> Element | None:
        """The body container."""
        raise NotImplementedError

    @cached_property
    def walker(self) -> BodyWalker:
        walker = BodyWalker()
        return walker.walk(self.content) if self.content is not None else walker

    # ---- where each template keeps its parts ---------------------------------------------

    def headline(self) -> Element | None:
        """The headline element."""
        raise NotImplementedError

    def printed_dates(self) -> list[tuple[str, bool]]:
        """Dates the article prints, best first, each flagged when it is printed text (which may
        hold more than the date) rather than a machine-readable value."""
        raise NotImplementedError

    def credit_blocks(self) -> list[Element]:
        """Where to look for "Pewarta: ... Editor: ..." when the body holds no credit line."""
        raise NotImplementedError

    def fallback_reporter(self) -> str | None:
        """The reporter from elsewhere when the credits name none."""
        return None

    def category_text(self) -> str:
        """The section as printed ('' when none)."""
        raise NotImplementedError

    def tag_anchors(self) -> list[Element]:
        """The tag list's links (label items included: the field function drops them)."""
        raise NotImplementedError

    def images(self) -> list[Element]:
        """The article's own ``<img>`` elements, lead image first."""
        raise NotImplementedError

    def caption(self) -> Element | None:
        """The lead image's caption."""
        raise NotImplementedError


class OldTemplatePage(ArticlePage):
    """Regional hosts, and the national site until ~2023: ``article.post-wrapper`` holding
    ``header.post-header`` (title, date, section, image, caption) and ``div.post-content``."""

    template = "old"

    @cached_property
    def post_header(self) -> Element | None:
        """The post header holding title, date, image and caption."""
        return first_with_class(self.scope.iter("header"), "post-header")

    @property
    def header(self) -> Element:
        """The post header when there is one, else the whole article scope."""
        return self.post_header if self.post_header is not None else self.scope

    @cached_property
    def content(self) -> Element | None:
        return first_with_class(self.scope.iter("div"), "post-content")

    def headline(self) -> Element | None:
        heading = first_with_class(self.scope.iter("h1"), "post-title")
        return heading if heading is not None else first_with_class(self.doc.iter("h1"), "post-title")

    def printed_dates(self) -> list[tuple[str, bool]]:
        spans = with_class(self.header.iter("span"), "article-date") or with_class(
            self.scope.iter("span"), "article-date"
        )
        dates: list[tuple[str, bool]] = []
        for span in spans:
            dates.append((spaced_text(span), True))
            dates.extend((fold(time.get("datetime")), False) for time in span.iter("time"))
        return dates

    def credit_blocks(self) -> list[Element]:
        return with_class(self.scope.iter("p"), "text-muted")

    def category_text(self) -> str:
        # the first "p.simple-share a": the first such paragraph that holds a link holds it
        for share in self.header.iter("p"):
            if has_class(share, "simple-share"):
                link = next(share.iter("a"), None)
                if link is not None:
                    return fold(text_of(link))
        return ""

    def tag_anchors(self) -> list[Element]:
        lists = with_class(self.scope.iter("div"), "tags-wrapper")
        if len(lists) != 1:
            return _OLD_TAGS(self.scope) if lists else []
        [tags] = lists
        return [a for a in tags.iter("a") if _inside(a, "li", tags)]

    def images(self) -> list[Element]:
        # only the post header: the wrapper also holds related-post thumbnails
        return list(self.post_header.iter("img")) if self.post_header is not None else []

    def caption(self) -> Element | None:
        return first_with_class(self.header.iter("p"), "wp-caption-text")


class NewTemplatePage(ArticlePage):
    """www and en since ~2024: ``div.wrap__article-detail`` holding ``-title h1``, ``-info`` (the
    date), ``-image`` (image and figcaption) and ``-content`` (the body); breadcrumbs, tags and
    credits may sit outside it; JSON-LD names the author."""

    template = "new"

    @cached_property
    def _parts(self) -> dict[str, list[Element]]:
        """The template's ``div.wrap__article-detail-*`` and ``div.blog-tags`` containers, by name,
        in page order: one pass over the scope's ``<div>``s."""
        parts: dict[str, list[Element]] = {name: [] for name in _NEW_PARTS}
        for div in self.scope.iter("div"):
            classes = div.get("class")
            if classes and ("wrap__article-detail-" in classes or "blog-tags" in classes):
                tokens = class_tokens(classes)
                for name in _NEW_PARTS:
                    if name in tokens:
                        parts[name].append(div)
        return parts

    @cached_property
    def content(self) -> Element | None:
        found = self._parts["wrap__article-detail-content"]
        return found[0] if found else None

    def headline(self) -> Element | None:
        heading = _first_inside(self._parts["wrap__article-detail-title"], "h1")
        if heading is None and self.scope is not self.doc:
            heading = _first_inside(with_class(self.doc.iter("div"), "wrap__article-detail-title"), "h1")
        return heading

    def printed_dates(self) -> list[tuple[str, bool]]:
        info = self._parts["wrap__article-detail-info"]
        return [(spaced_text(info[0]) if info else "", True)]

    def credit_blocks(self) -> list[Element]:
        return with_class(self.doc.iter("p"), "text-muted")

    def fallback_reporter(self) -> str | None:
        """Author name(s) from JSON-LD (``author.name``, a list of them, or a plain string)."""
        author = self.jsonld_value("author")
        items = author if isinstance(author, list) else [author]
        raw = [item.get("name") if isinstance(item, dict) else item for item in items]
        names = [fold(name) for name in raw if isinstance(name, str)]
        return ", ".join(n for n in names if n and not SITE_NAME_ONLY.fullmatch(n)) or None

    def category_text(self) -> str:
        crumbs: list[Element] = []
        for item in self.doc.iter("li"):
            if has_class(item, "breadcrumbs__item"):
                crumbs.append(item)
                if len(crumbs) == 2:  # the second crumb is the category
                    return fold(text_of(item))
        return ""

    def tag_anchors(self) -> list[Element]:
        lists = self._parts["blog-tags"]
        if len(lists) == 1:
            anchors = list(lists[0].iter("a"))
        else:
            anchors = _NEW_TAGS(self.scope) if lists else []
        if not anchors and self.scope is not self.doc:
            anchors = _NEW_TAGS(self.doc)
        return anchors or _ANY_TAGS(self.doc)

    def images(self) -> list[Element]:
        holders = self._parts["wrap__article-detail-image"]
        if len(holders) == 1:
            return list(holders[0].iter("img"))
        return _NEW_IMAGE(self.scope) if holders else []

    def caption(self) -> Element | None:
        caption = _first_inside(self._parts["wrap__article-detail-image"], "figcaption")
        return caption if caption is not None else first_with_class(self.scope.iter("p"), "wp-caption-text")


_NEW_PARTS = (
    "wrap__article-detail-title",
    "wrap__article-detail-info",
    "wrap__article-detail-image",
    "wrap__article-detail-content",
    "blog-tags",
)


def locate_page(doc: Element, ref: ArticleRef) -> ArticlePage | None:
    """The page as its template's class, or None when it holds neither template's article."""
    wrapper = first_with_class(doc.iter("article"), "post-wrapper")  # most sites serve the old template
    if wrapper is not None:
        return OldTemplatePage(doc, ref, wrapper)
    anchor = first_with_class(doc.iter("div"), "wrap__article-detail-content")
    if anchor is None:
        anchor = _first_inside(with_class(doc.iter("div"), "wrap__article-detail-title"), "h1")
    if anchor is not None:
        scope = next((a for a in anchor.iterancestors() if _class_tokens_contain(a, "wrap__article-detail")), None)
        return NewTemplatePage(doc, ref, scope if scope is not None else doc)
    title = first_with_class(doc.iter("h1"), "post-title")
    if title is not None and first_with_class(doc.iter("div"), "post-content") is not None:
        return OldTemplatePage(doc, ref, doc)
    return None


def _class_tokens_contain(element: Element, name: str) -> bool:
    """``name`` among the class tokens split on any whitespace (the container test of old)."""
    return name in (element.get("class") or "").split()


def _first_inside(containers: list[Element], tag: str) -> Element | None:
    """The first ``tag`` element inside any of ``containers`` (in page order): as the selector
    "container tag" finds it, the first container that holds one holds the first one."""
    for container in containers:
        for element in container.iterdescendants(tag):
            return element
    return None


def _inside(element: Element, tag: str, stop: Element) -> bool:
    """True when an ancestor of ``element`` below ``stop`` is a ``tag``."""
    parent = element.getparent()
    if parent is not None and parent is not stop and parent.tag == tag:  # the usual <li><a>
        return True
    for ancestor in element.iterancestors():
        if ancestor is stop:
            return False
        if ancestor.tag == tag:
            return True
    return False


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
