"""The article body: one walk over its container collecting paragraphs, read-also links and credits."""

from __future__ import annotations

import re
from typing import Any

from crawler.extraction.text import fold, is_baca_juga, is_credit_line, parse_credits
from crawler.extraction.tree import Element, spaced_text, text_of

__all__ = ["BodyWalker"]

_NOTICE = re.compile(r"^\W*dilarang\s+keras\s+mengambil\s+konten", re.IGNORECASE)
_NOTICE_TEXT = (
    "dilarang keras mengambil konten, melakukan crawling atau pengindeksan otomatis untuk ai "
    "di situs web ini tanpa izin tertulis dari kantor berita antara."
)
# Paragraph openings that may be read-also lines, credits, copyright or the notice (a superset).
_BOILERPLATE = re.compile(
    r"\W*(?:baca|dilarang|also|read|related)\b|(?:pewarta|penulis|reporter|wartawan|editor|redaktur|translator|fotografer|"
    r"uploader|copyright|hak\s+cipta)\b|©",
    re.IGNORECASE,
)
#: The first letters of those openings, either case: a paragraph opening with any other ASCII letter or
#: digit matches none of them (``\W*`` matches nothing before a letter or digit).
_OPENERS = frozenset("bdarpwetfuchBDARPWETFUCH")
# Body walking: which elements end a paragraph, which are dropped with their content.
_BLOCK_TAGS = frozenset(
    "p div blockquote section article header footer aside main nav h1 h2 h3 h4 h5 h6 ul ol li "
    "dl dt dd table thead tbody tfoot tr td th caption pre hr center address details summary".split()
)
_DROP_TAGS = frozenset(
    "script style noscript template iframe frame ins form button select textarea input label "
    "svg math object embed video audio canvas figure figcaption img picture source map head".split()
)
#: Elements that a paragraph read at once may not hold.
_NOT_PLAIN = _BLOCK_TAGS | _DROP_TAGS | {"br"}
_DROP_CLASSES = frozenset({"wp-caption", "wp-caption-text", "related-posts", "share-buttons"})
_AD_CLASSES = frozenset({"adsbygoogle", "ads", "ad", "advertisement", "advert", "iklan"})
_AD_PREFIXES = ("ads-", "ads_", "ad-", "ad_", "iklan", "div-gpt-ad", "banner-ad")
_BACA_JUGA_CLASSES = frozenset({"baca-juga", "bacajuga", "baca_juga"})


# What the walker does with an element it enters.
_SKIP, _INLINE, _BLOCK, _QUOTE = range(4)


class BodyWalker:
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

    def walk(self, root: Element) -> BodyWalker:
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
                if tag == "p" and not len(element) and not element.keys():
                    # a bare paragraph of plain text, the most common element of a body
                    if parts or self._chunk_anchors:
                        self._flush()
                    text = element.text
                    if text:
                        self._emit(text, [])
                    kind = _SKIP
                elif tag == "p" and self._read_plain_paragraph(element):
                    kind = _SKIP  # read whole: only its tail is left
                elif tag in _BLOCK_TAGS:
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

    def _read_plain_paragraph(self, p: Element) -> bool:
        """Read a ``<p>`` at once when nothing in it needs the walk (the common case): no class or id
        on it or inside it, and only inline elements inside (no ``<br>``, block, dropped element).
        Gives what the walk would: the paragraph ends before and after it, its ``<a href>`` anchors
        are kept for a read-also line. False, having read nothing, for any other paragraph."""
        names = p.keys()
        if names and ("class" in names or "id" in names):
            return False
        anchors: list[Element] = []
        if len(p):
            for element in p.iterdescendants():
                tag = element.tag
                if type(tag) is not str or tag in _NOT_PLAIN:
                    return False
                names = element.keys()
                if names and ("class" in names or "id" in names):
                    return False
                if tag == "a" and "href" in names:
                    anchors.append(element)
        if self._parts or self._chunk_anchors:
            self._flush()
        self._emit(text_of(p), [(a.get("href"), fold(text_of(a))) for a in anchors])
        return True

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
            text = spaced_text(element)
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
        self._emit(joined, anchors)

    def _emit(self, joined: str, anchors: list[tuple[str, str]]) -> None:
        """File one paragraph's text: body paragraph, read-also line, credit line or notice."""
        text = fold(joined) if joined and not joined.isspace() else ""
        if not text:
            return
        first = text[0]
        if (first.isascii() and first.isalnum() and first not in _OPENERS) or not _BOILERPLATE.match(text):
            # the common case, a plain paragraph: an ASCII letter or digit no boilerplate word opens with
            # settles it without the regex
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
