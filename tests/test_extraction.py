"""Saved pages beside their expected records, walked by parametrized tests; plus cleaner tables."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from crawler.extraction import ExtractionError, extract_article, extract_feed, extract_listing
from crawler.extraction.text import (
    content_hash,
    decode_markup,
    fold,
    is_baca_juga,
    parse_credits,
    parse_translator,
    shorten,
    split_dateline,
    word_count,
)

FIXTURES = Path(__file__).parent / "fixtures"
ARTICLES = FIXTURES / "articles"
LISTS = FIXTURES / "lists"


def _spec(page: Path) -> dict[str, Any]:
    return json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("page", sorted(ARTICLES.glob("*.html")), ids=lambda p: p.stem)
def test_article_fixture(page: Path) -> None:
    spec = _spec(page)
    html = page.read_bytes()
    if "error" in spec:
        with pytest.raises(ExtractionError) as caught:
            extract_article(html, spec["url"])
        assert caught.value.reason == spec["error"]
        assert str(caught.value).startswith(f"{spec['error']}: ")
    else:
        article = extract_article(html, spec["url"])
        assert article.to_dict() == spec["expected"]
        assert article.as_record() == spec["expected"]  # what the pipeline stores


@pytest.mark.parametrize(
    "page", sorted(p for p in LISTS.iterdir() if p.suffix in (".html", ".xml")), ids=lambda p: p.name
)
def test_list_fixture(page: Path) -> None:
    spec = _spec(page)
    if page.suffix == ".xml":
        entries = extract_feed(page.read_bytes(), spec["url"])
    else:
        now = datetime.fromisoformat(spec["now"]) if spec.get("now") else None
        entries = extract_listing(page.read_bytes(), spec["url"], now=now)
    assert [vars(entry) for entry in entries] == spec["expected"]


def test_every_fixture_has_its_expectation() -> None:
    pages = [*ARTICLES.glob("*.html"), *LISTS.glob("*.html"), *LISTS.glob("*.xml")]
    assert pages
    assert [p.name for p in pages if not p.with_suffix(".json").exists()] == []


# ---- robustness: nothing but ExtractionError, whatever arrives -----------------------------

SEED = (ARTICLES / "kalteng_seed.html").read_bytes()
SEED_URL = _spec(ARTICLES / "kalteng_seed.html")["url"]
REASONS = {"not_article_url", "no_article", "missing_title", "missing_body", "missing_date", "bad_date"}
GARBAGE: list[Any] = [
    "",
    b"",
    "   \n\t",
    b"\x00\x00\x00",
    b"\xff\xfe\xfd\x80\x81",
    "<",
    "<html>",
    "<!-- only a comment -->",
    "plain text, no markup at all",
    "<?xml version='1.0' encoding='latin-1'?><html><body><p>x</p></body></html>",
    "\ud800 lone surrogate <p>x</p>",
    "<div>" * 20000 + "deep",
    "<div class='post-content'>" + "<b>" * 5000 + "deep",
    b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 50,
    SEED[: len(SEED) // 3],
    SEED.decode("utf-8").encode("utf-16"),
    SEED.replace(b"Kamis, 20 Oktober 2022 15:02 WIB", b"\xff\xfe\x00 garbage"),
    "<script type='application/ld+json'>" + "[" * 50000 + "</script>",
    "<article class='post-wrapper'><h1 class='post-title'>T</h1><div class='post-content'><p>Jakarta (ANTARA) - x"
    "<span class='baca-juga'><a href='http://[x'>a</a><a href='//'>b</a></span></p></div>"
    "<link rel='canonical' href='http://[bad'><meta property='og:image' content='::'>"
    "<meta itemprop='datePublished' content='2022-10-20T15:02:00'></article>",
    None,
    12345,
]


@pytest.mark.parametrize("html", GARBAGE, ids=range(len(GARBAGE)))
@pytest.mark.parametrize("url", [SEED_URL, "https://kalteng.antaranews.com/foto/1/x", "http://[bad", None])
def test_garbage_raises_only_extraction_error(html: Any, url: Any) -> None:
    try:
        extract_article(html, url)
    except ExtractionError as exc:
        assert exc.reason in REASONS
        assert str(exc) == f"{exc.reason}: {exc.detail}"


@pytest.mark.parametrize("html", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_lists_and_feeds_give_lists(html: Any) -> None:
    assert isinstance(extract_listing(html, "https://kalteng.antaranews.com/terkini"), list)
    assert isinstance(extract_feed(html, "https://kalteng.antaranews.com/rss/terkini.xml"), list)


def test_huge_page_is_read() -> None:
    noise = b"<div class='widget'><a href='/x'>menu</a></div>" * 100_000  # ~4.7 MB of navigation
    page = SEED.replace(b"<body>", b"<body>" + noise, 1)
    assert extract_article(page, SEED_URL).to_dict() == _spec(ARTICLES / "kalteng_seed.html")["expected"]


def test_same_record_from_text_and_bytes() -> None:
    assert extract_article(SEED.decode("utf-8"), SEED_URL) == extract_article(SEED, SEED_URL)


# ---- the small cleaners ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  a  b\n\tc  ", "a b c"),
        ("a\xa0\xa0b", "a b"),
        ("a\u200bb", "ab"),
        ("\ufeffJudul", "Judul"),
        ("x\u2009y\u3000z", "x y z"),
        ("caf\u00e9\u00ad", "caf\u00e9"),
        ("", ""),
        (None, ""),
        ("\u200b \xa0", ""),
    ],
)
def test_fold(text: str | None, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("paragraph", "city"),
    [
        ("Palangka Raya (ANTARA) - Wakil Gubernur ...", "Palangka Raya"),
        ("Palangka Raya (ANTARA) -", "Palangka Raya"),
        ("Jakarta (ANTARA News) - Presiden ...", "Jakarta"),
        ("Jakarta (ANTARA) \u2013 Presiden ...", "Jakarta"),
        ("Jakarta (ANTARA) \u2014 Presiden ...", "Jakarta"),
        ("Jakarta (ANTARA) -- Presiden ...", "Jakarta"),
        ("Jakarta(ANTARA)-Presiden ...", "Jakarta"),
        ("JAKARTA (ANTARA) - Presiden ...", "JAKARTA"),
        ("Jakarta, 5/3 (ANTARA) - Presiden ...", "Jakarta"),
        ("Tanjung\xa0Selor (ANTARA) - Bupati ...", "Tanjung Selor"),
        ("Jakarta (ANTARA/JACX) - ...", "Jakarta"),
        ("Wakil Gubernur Kalimantan Tengah Edy Pratowo mendorong ...", None),
        ("Menurut ANTARA (ANTARA) kemarin", None),
        ("Sebuah kalimat yang sangat panjang sekali tentang banyak hal (ANTARA) - x", None),
        ("(ANTARA) - tanpa kota", None),
        ("", None),
        (None, None),
    ],
)
def test_split_dateline(paragraph: str | None, city: str | None) -> None:
    assert split_dateline(paragraph) == city


@pytest.mark.parametrize(
    ("text", "reporter", "editor"),
    [
        (
            "Pewarta: Muhammad Arif Hidayat\nEditor: Ronny NT\nCOPYRIGHT © ANTARA News Kalimantan Tengah 2022",
            "Muhammad Arif Hidayat",
            "Ronny NT",
        ),
        ("Pewarta: A Editor: B COPYRIGHT © ANTARA 2022", "A", "B"),
        ("Pewarta : Miko  Elfisha\nEditor : Siri Antoni", "Miko Elfisha", "Siri Antoni"),
        (
            "Pewarta: Miko Elfisha dan Altas Maulana\nEditor: Siri Antoni",
            "Miko Elfisha dan Altas Maulana",
            "Siri Antoni",
        ),
        (
            "Pewarta: Fathur Rochman, Genta Tenri Mawangi\nEditor: Agus Setiawan\nCopyright © ANTARA 2026",
            "Fathur Rochman, Genta Tenri Mawangi",
            "Agus Setiawan",
        ),
        ("PEWARTA: ANDI\nEDITOR: BUDI", "ANDI", "BUDI"),
        ("Editor: Bayu Kuncahyo\nCopyright © ANTARA 2025", None, "Bayu Kuncahyo"),
        ("Pewarta: Sukarli", "Sukarli", None),
        ("Penulis: Rina\nRedaktur: Dodi", "Rina", "Dodi"),
        ("Pewarta: Rina\nEditor: Dodi\nFotografer: Eka", "Rina", "Dodi"),
        ("Pewarta:\nEditor:", None, None),
        # the English service
        (
            "Reporter: Fathur Rochman\nEditor: Rahmad Nasution\nCopyright © ANTARA 2026",
            "Fathur Rochman",
            "Rahmad Nasution",
        ),
        (
            "Reporter : Diana Syafni\nTranslator : Resinta S, Raka Adji\nEditor : Anton Santoso",
            "Diana Syafni",
            "Anton Santoso",
        ),
        ("Reporter: Diana Syafni Translator: Raka Adji", "Diana Syafni", None),
        ("COPYRIGHT © ANTARA News 2022", None, None),
        ("", None, None),
        (None, None, None),
    ],
)
def test_parse_credits(text: str | None, reporter: str | None, editor: str | None) -> None:
    assert parse_credits(text) == (reporter, editor)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Baca juga: Pemprov Kalteng salurkan paket sembako", True),
        ("Baca Juga : Judul", True),
        ("BACA JUGA: Judul", True),
        ("baca juga Judul", True),
        ("Baca pula: Judul", True),
        ("[Baca juga: Judul]", True),
        ("Also read: Indonesia prices retail green sukuk", True),
        ("ALSO READ : Title", True),
        ("Read also: Title", True),
        ("Read Also : Title", True),
        ("Related news: Title", True),
        ("[Related News: Title]", True),
        ("Also, read the fine print", False),
        ("Readers also asked about the fares", False),
        ("Related newspapers reported the same", False),
        ("The minister also read a statement", False),
        ("Bacaan juga penting", False),
        ("Warga diminta membaca juga aturan baru", False),
        ("", False),
        (None, False),
    ],
)
def test_is_baca_juga(text: str | None, expected: bool) -> None:
    assert is_baca_juga(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reporter : Diana Syafni\nTranslator : Resinta S, Raka Adji\nEditor : Anton Santoso", "Resinta S, Raka Adji"),
        ("Reporter: A\nEditor: B\nTranslator: C\nCopyright © ANTARA 2026", "C"),
        ("TRANSLATOR: Raka Adji", "Raka Adji"),
        ("Tran\u017flator: Raka Adji", "Raka Adji"),  # the regex reads a long s as "s": so must the test before it
        ("TranslatorX: Raka Adji", None),
        ("Reporter: A\nEditor: B\nCopyright © ANTARA 2026", None),
        ("Translator:\nEditor: B", None),
        ("Pewarta: A\nEditor: B", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_translator(text: str | None, expected: str | None) -> None:
    assert parse_translator(text) == expected


def test_content_hash_and_word_count() -> None:
    # printf 'Judul\n\nIsi.' | sha256sum
    assert content_hash("Judul", "Isi.") == "a2b6b974e3bbd612f261b8002bc91d91d6df34dd29dacee7f6558dcd13b03c6c"
    assert content_hash("Judul", "Isi.") != content_hash("Judul", "Isi")
    assert content_hash("a\n\nb", "c") == content_hash("a", "b\n\nc")  # the documented separator
    assert word_count("Palangka Raya (ANTARA) - Wakil\n\nGubernur") == 6
    assert word_count("") == 0


@pytest.mark.parametrize(
    ("text", "limit", "expected"),
    [
        ("pendek", 200, "pendek"),
        ("satu dua tiga empat", 12, "satu dua\u2026"),
        ("satu, dua tiga", 8, "satu\u2026"),
        ("x" * 30, 10, "x" * 9 + "\u2026"),
    ],
)
def test_shorten(text: str, limit: int, expected: str) -> None:
    assert shorten(text, limit) == expected
    assert len(shorten(text, limit)) <= limit


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("sudah teks", "sudah teks"),
        ("café".encode(), "café"),
        (b"\xef\xbb\xbfcaf\xc3\xa9", "café"),
        ("café".encode("utf-16"), "café"),
        (b'<meta charset="iso-8859-1"><p>caf\xe9 \x93kutip\x94</p>', '<meta charset="iso-8859-1"><p>café “kutip”</p>'),
        (
            b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">\x96',
            '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252">\u2013',
        ),
        (
            b"<?xml version='1.0' encoding='ISO-8859-1'?><t>\xe9</t>",
            "<?xml version='1.0' encoding='ISO-8859-1'?><t>é</t>",
        ),
        (b"<p>caf\xe9</p>", "<p>café</p>"),  # undeclared and not UTF-8: windows-1252
        (b'<meta charset="no-such-codec"><p>\xe9</p>', '<meta charset="no-such-codec"><p>é</p>'),
    ],
)
def test_decode_markup(data: str | bytes, expected: str) -> None:
    assert decode_markup(data) == expected
