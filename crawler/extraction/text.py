"""Small reusable text cleaners: whitespace folding, datelines, credits, hashes, decoding."""

from __future__ import annotations

import codecs
import hashlib
import re

__all__ = [
    "content_hash",
    "decode_markup",
    "fold",
    "folded_word_count",
    "is_baca_juga",
    "is_credit_line",
    "is_dateline_only",
    "parse_credits",
    "parse_translator",
    "shorten",
    "split_dateline",
    "strip_dateline",
    "word_count",
]

#: Characters that are invisible in print and dropped by :func:`fold`.
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")

# "Palangka Raya (ANTARA) -", "Jakarta (ANTARA News) –", "Jakarta, 5/3 (ANTARA) —"
_DATELINE = re.compile(
    r"^(?P<place>[^\W\d_][^()\n]{0,60}?)\s*\(\s*ANTARA\b[^()]{0,40}\)\s*[-\u2013\u2014]+",
    re.IGNORECASE,
)
_REPORTER_LABEL = r"(?:pewarta|penulis|reporter|wartawan)"
_ANY_LABEL = r"(?:pewarta|penulis|reporter|wartawan|editor|redaktur|translator|fotografer|uploader)\s*:"
_STOP = rf"(?={_ANY_LABEL}|copyright\b|hak\s+cipta\b|©|$)"
_REPORTER = re.compile(rf"\b{_REPORTER_LABEL}\s*:\s*(?P<name>.*?)\s*{_STOP}", re.IGNORECASE)
_EDITOR = re.compile(rf"\b(?:editor|redaktur)\s*:\s*(?P<name>.*?)\s*{_STOP}", re.IGNORECASE)
_TRANSLATOR = re.compile(rf"\btranslator\s*:\s*(?P<name>.*?)\s*{_STOP}", re.IGNORECASE)
_CREDIT_LINE = re.compile(rf"^(?:{_ANY_LABEL}|copyright\b|hak\s+cipta\b|©)", re.IGNORECASE)
# "Baca juga:", and on the English service "Also read:", "Read also:", "Related news:"
_BACA_JUGA = re.compile(r"^\W*(?:baca\s+(?:juga|pula)|also\s+read|read\s+also|related\s+news)\b", re.IGNORECASE)

# charset declared in the first bytes of a page or feed
_DECLARED = re.compile(rb"""(?:charset|encoding)\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: Labels browsers read as windows-1252 (WHATWG encoding standard).
_AS_CP1252 = frozenset({"iso-8859-1", "iso8859-1", "latin-1", "latin1", "us-ascii", "ascii", "l1"})


def fold(text: str | None) -> str:
    """Collapse runs of whitespace (incl. nbsp) to one space, drop zero-width characters, strip."""
    if not text:
        return ""
    # Already folded (most paragraphs): every whitespace and zero-width character but the space is
    # non-printable, so a printable text without double, leading or trailing spaces has none to fold.
    if text.isprintable() and "  " not in text and text[0] != " " and text[-1] != " ":
        return text
    if not text.isascii() and _INVISIBLE.search(text):  # isascii() is O(1)
        text = _INVISIBLE.sub("", text)
    return " ".join(text.split())


def split_dateline(first_paragraph: str | None) -> str | None:
    """City of a dateline ("Palangka Raya (ANTARA) - ..." -> "Palangka Raya"), or None."""
    match = _DATELINE.match(fold(first_paragraph))
    if not match:
        return None
    place = fold(match.group("place").split(",")[0])
    if not place or len(place.split()) > 6:
        return None
    return place


def strip_dateline(paragraph: str) -> str:
    """``paragraph`` without its leading "City (ANTARA) -" dateline."""
    match = _DATELINE.match(paragraph)
    return paragraph[match.end() :].strip() if match else paragraph


def is_dateline_only(paragraph: str) -> bool:
    """True when ``paragraph`` is nothing but a dateline, e.g. "Palangka Raya (ANTARA) -"."""
    match = _DATELINE.match(paragraph)
    return match is not None and not paragraph[match.end() :].strip()


def _name(match: re.Match[str] | None) -> str | None:
    if not match:
        return None
    name = fold(match.group("name")).strip(" ,;|/-")
    return name or None


def parse_credits(text: str | None) -> tuple[str | None, str | None]:
    """(reporter, editor) from a credits block such as "Pewarta: A<br>Editor: B<br>COPYRIGHT © ...".

    Accepts "Pewarta : A" spacing and the block folded onto one line; several reporters
    ("A dan B", "A, B") are kept as printed, whitespace folded.
    """
    folded = fold(text)
    return _name(_REPORTER.search(folded)), _name(_EDITOR.search(folded))


def parse_translator(text: str | None) -> str | None:
    """The translator named in a credits block ("Translator: A, B" on the English service), or None."""
    folded = fold(text)
    # the regex can only match where the word is (IGNORECASE also reads U+017F long s as "s"):
    # most credit blocks name no translator, and the test is a fraction of the search
    if "translator" not in folded.lower().replace("\u017f", "s"):
        return None
    return _name(_TRANSLATOR.search(folded))


def is_credit_line(text: str) -> bool:
    """True for a credits or copyright line ("Pewarta: ...", "Editor : ...", "Translator: ...",
    "COPYRIGHT © ...")."""
    return bool(_CREDIT_LINE.match(text))


def is_baca_juga(text: str | None) -> bool:
    """True for a read-also line ("Baca juga: ...", "Baca Juga : ...", "Also read: ...", "Read also: ...",
    "Related news: ...")."""
    return bool(text) and bool(_BACA_JUGA.match(text or ""))


def content_hash(title: str, body: str) -> str:
    """sha256 hex digest of ``title + "\\n\\n" + body``."""
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()


def word_count(body: str) -> int:
    """Number of whitespace-separated words in ``body``."""
    return len(body.split())


def folded_word_count(paragraphs: list[str]) -> int:
    """``word_count("\\n\\n".join(paragraphs))`` for paragraphs that :func:`fold` returned, without
    splitting the body: a folded, non-empty paragraph's only whitespace is single spaces between
    words, so it holds one word more than spaces."""
    return sum(p.count(" ") for p in paragraphs) + len(paragraphs)


def shorten(text: str, limit: int = 200) -> str:
    """``text`` cut to at most ``limit`` characters on a word boundary, with "…" when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:-\u2013\u2014") + "\u2026"


def _codec(label: bytes) -> str | None:
    name = label.decode("ascii", "replace").lower()
    if name in _AS_CP1252:
        return "cp1252"
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def decode_markup(data: str | bytes) -> str:
    """Text of an HTML or XML document given as bytes in any encoding (str passes through).

    Order: byte-order mark, then strict UTF-8, then the charset the document declares,
    then windows-1252; undecodable bytes become U+FFFD rather than an error.
    """
    if isinstance(data, str):
        return data
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(name, "replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _DECLARED.search(data[:2048])
    codec = _codec(declared.group(1)) if declared else None
    if codec is None or codec.startswith(("utf-16", "utf-32")):  # a BOM-less declaration lies
        codec = "cp1252"
    return data.decode(codec, "replace")
