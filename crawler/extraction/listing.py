"""List pages (both templates) and RSS feeds to ListEntry records; tolerant, never raising."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from html import unescape
from html.entities import html5 as HTML5_ENTITIES

from lxml import etree

from crawler.domain.items import ListEntry
from crawler.extraction.article import Element, parse_html, text_of
from crawler.extraction.dates import DateError, find_date_text, parse_date, to_iso
from crawler.extraction.text import decode_markup, fold
from crawler.extraction.urls import ArticleRef, parse_article_url

__all__ = ["extract_feed", "extract_listing"]


def _has_class(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


# Old template: article.simple-post; new template: div.card__post (document order).
_ENTRIES = etree.XPath(f"//article[{_has_class('simple-post')}] | //div[{_has_class('card__post')}]")
_HEADING_LINKS = etree.XPath(".//h2//a[@href] | .//h3//a[@href] | .//h4//a[@href]")
_ALL_LINKS = etree.XPath(".//a[@href]")
_DATE_HOLDERS = etree.XPath(
    f".//p[{_has_class('simple-share')}] | .//*[{_has_class('list-inline-item')}] | .//span | .//time"
)

_XML_PARSER = etree.XMLParser(
    encoding="utf-8",
    recover=True,
    resolve_entities=False,
    no_network=True,
    remove_comments=True,
    remove_pis=True,
)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>", re.IGNORECASE)
# An ampersand with what follows it; group 1 is an entity name.
_AMPERSAND = re.compile(r"&(?:#[0-9]{1,7};|#[xX][0-9a-fA-F]{1,6};|([A-Za-z][A-Za-z0-9]{1,31});)?")
_XML_ENTITIES = frozenset({"amp", "lt", "gt", "quot", "apos"})
_FEED_DATES = ("pubdate", "date", "published", "updated", "issued")


def _entry_ref(anchors: Iterable[Element], base: str) -> ArticleRef | None:
    for anchor in anchors:
        href = anchor.get("href")
        ref = parse_article_url(href, base) if href else None
        if ref is not None:
            return ref
    return None


def _entry_title(headings: list[Element]) -> str | None:
    if not headings:
        return None
    anchor = headings[0]
    return fold(anchor.get("title")) or fold(text_of(anchor)) or None


def _entry_date(entry: Element, zone: str, now: datetime | None) -> str | None:
    """ISO date of the first readable date in the teaser; None when there is none."""
    for holder in _DATE_HOLDERS(entry):
        text = holder.get("datetime") if holder.tag == "time" else None
        text = text or find_date_text(" ".join(holder.itertext()))
        if not text:
            continue
        try:
            return to_iso(parse_date(text, default_zone=zone, now=now))
        except DateError:
            continue
    return None


def _add(entries: dict[str, ListEntry], entry: ListEntry) -> None:
    """Keep the first entry per URL, filling its gaps from later duplicates."""
    kept = entries.setdefault(entry.url, entry)
    if kept is not entry:
        kept.title = kept.title or entry.title
        kept.published_at = kept.published_at or entry.published_at


def extract_listing(html: str | bytes, url: str, now: datetime | None = None) -> list[ListEntry]:
    """Article teasers of a list page (``/terkini/{n}``, sections, tags), in page order.

    Only article URLs are kept (canonical, relative links resolved, tracking stripped, no
    repeats). ``published_at`` is ISO 8601, relative dates ("26 menit lalu") resolved against
    ``now`` (a naive ``now`` is taken as site-local time); it is None when the teaser prints
    no date, one that cannot be read, or a relative one and ``now`` is None.
    """
    doc = parse_html(html)
    if doc is None or not isinstance(url, str):
        return []
    entries: dict[str, ListEntry] = {}
    for element in _ENTRIES(doc):
        headings = _HEADING_LINKS(element)
        ref = _entry_ref([*headings, *_ALL_LINKS(element)], url)
        if ref is None:
            continue
        published = _entry_date(element, ref.region.zone, now)
        _add(entries, ListEntry(url=ref.url, title=_entry_title(headings), published_at=published))
    return list(entries.values())


def _xml_safe(match: re.Match[str]) -> str:
    """A bare "&" or an HTML-only entity (``&nbsp;``) rewritten so that XML keeps its meaning.

    libxml2's recovery drops a bare "&" and garbles the references after an undefined entity.
    """
    name = match.group(1)
    if match.group(0) == "&":
        return "&amp;"
    if name is None or name in _XML_ENTITIES:
        return match.group(0)
    char = HTML5_ENTITIES.get(f"{name};")
    return "".join(f"&#{ord(c)};" for c in char) if char else f"&amp;{name};"


def _parse_xml(xml: str | bytes) -> etree._Element | None:
    if not isinstance(xml, (str, bytes)):
        return None
    text = _AMPERSAND.sub(_xml_safe, _XML_DECLARATION.sub("", decode_markup(xml), count=1))
    if not text.strip():
        return None
    try:
        return etree.fromstring(text.encode("utf-8", "replace"), parser=_XML_PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return None


def _children(item: etree._Element) -> dict[str, etree._Element]:
    """An item's child elements by lowercase local name (first one wins)."""
    children: dict[str, etree._Element] = {}
    for child in item:
        if isinstance(child.tag, str):
            # "{ns}date", or "dc:date" as a literal name when the prefix was never declared
            name = child.tag.rsplit("}", 1)[-1].rsplit(":", 1)[-1]
            children.setdefault(name.lower(), child)
    return children


def _text(element: etree._Element | None) -> str:
    return fold("".join(element.itertext())) if element is not None else ""


def _feed_entry(item: etree._Element, base: str) -> ListEntry | None:
    children = _children(item)
    link, guid = children.get("link"), children.get("guid")
    candidates = [_text(link), link.get("href") if link is not None else None, _text(guid)]
    ref = next(filter(None, (parse_article_url(c, base) for c in candidates if c)), None)
    if ref is None:
        return None
    published = None
    for name in _FEED_DATES:
        text = _text(children.get(name))
        if text:
            try:
                published = to_iso(parse_date(text, default_zone=ref.region.zone))
                break
            except DateError:
                continue
    # titles may carry HTML entities, escaped once more or not defined in XML (&nbsp;)
    title = fold(unescape(_text(children.get("title"))))
    return ListEntry(url=ref.url, title=title or None, published_at=published)


def extract_feed(xml: str | bytes, url: str) -> list[ListEntry]:
    """Article items of an RSS (or Atom) feed, in feed order; broken XML is read as far as it goes.

    Each item's ``link``, else its ``guid``, must be an article URL; ``published_at`` comes
    from ``pubDate`` (or ``dc:date``/``published``) and is None when unreadable. Never raises.
    """
    root = _parse_xml(xml)
    if root is None or not isinstance(url, str):
        return []
    entries: dict[str, ListEntry] = {}
    for item in root.iter("{*}item", "{*}entry"):
        entry = _feed_entry(item, url)
        if entry is not None:
            _add(entries, entry)
    return list(entries.values())
