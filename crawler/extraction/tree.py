"""The parsed page: one HTML parser for every page, and small helpers to read its elements."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TypeAlias

from lxml import etree

from crawler.extraction.text import decode_markup, fold

__all__ = [
    "Element",
    "class_tokens",
    "first_with_class",
    "has_class",
    "line_text",
    "parse_html",
    "spaced_text",
    "text_of",
    "with_class",
]

Element: TypeAlias = etree._Element  # lxml ships no type stubs here: an alias of Any for mypy

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
    if not data or data.isspace():  # what "not data.strip()" says, without copying the page
        return None
    try:
        return etree.fromstring(data, parser=_PARSER)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


def _is_utf8(data: bytes) -> bool:
    if data.isascii():  # O(n) in C without a copy; most pages are not, but it is cheap to ask
        return True
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def text_of(element: Element) -> str:
    """All text inside ``element``, as printed (not folded): ``"".join(element.itertext())``,
    read by libxml2 in one call (a quarter of the time of the Python join)."""
    if not len(element):
        return element.text or ""
    return etree.tostring(element, method="text", encoding=str, with_tail=False)


_TEXT_AND_BREAKS = etree.XPath(".//text() | .//br")


def line_text(element: Element) -> str:
    """Text of ``element`` with each ``<br>`` read as a space (headlines, captions), not folded."""
    if not len(element):
        return element.text or ""
    return "".join(part if isinstance(part, str) else " " for part in _TEXT_AND_BREAKS(element))


def spaced_text(element: Element) -> str:
    """Text of ``element`` with a space between text nodes (so ``A<br>B`` stays two words), folded."""
    if not len(element):
        return fold(element.text)
    return fold(" ".join(element.itertext()))


def class_tokens(classes: str) -> list[str]:
    """The tokens of a class attribute, split as CSS splits them (on space, tab, CR and LF only:
    a no-break space is part of a token)."""
    return classes.replace("\t", " ").replace("\n", " ").replace("\r", " ").split(" ")


def has_class(element: Element, name: str) -> bool:
    """True when ``name`` is one of ``element``'s class tokens (see :func:`class_tokens`)."""
    classes = element.get("class")
    if not classes or name not in classes:  # the substring test rules out nearly every element
        return False
    return name in class_tokens(classes)


def first_with_class(elements: Iterable[Element], name: str) -> Element | None:
    """The first of ``elements`` that has class ``name`` (``scope.iter(tag)`` stops there)."""
    for element in elements:
        if has_class(element, name):
            return element
    return None


def with_class(elements: Iterable[Element], name: str) -> list[Element]:
    """Every one of ``elements`` that has class ``name``, in order."""
    return [element for element in elements if has_class(element, name)]
