"""Property-based tests (hypothesis): random and mutated input never breaks extraction, dates, URLs or storage.

Each property holds for every input: a record or a specific error, never an exception of
another kind, never a half-filled record. Example counts are bounded so the suite stays fast.
Run ``HYPOTHESIS_PROFILE=explore pytest tests/test_properties.py`` to draw fresh examples.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archive import Archive
from archive.export import neutralise
from crawler.domain.regions import REGIONS, ZONES
from crawler.extraction import ExtractionError, extract_article, extract_feed, extract_listing, urls
from crawler.extraction.dates import DateError, parse_date
from crawler.extraction.text import fold, folded_word_count, word_count
from crawler.extraction.tree import parse_html, text_of
from crawler.extraction.urls import canonical_article_url, is_antara_host, parse_article_url
from crawler.samplesite import SampleSite
from crawler.samplesite.render import article as render_article

# The suite runs a fixed set of examples (reproducible in CI, no .hypothesis/ folder);
# HYPOTHESIS_PROFILE=explore draws new ones on every run, to hunt for more.
settings.register_profile("antara", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "antara"))

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REASONS = {"not_article_url", "no_article", "missing_title", "missing_body", "missing_date", "bad_date"}
URL = "https://kalteng.antaranews.com/berita/612837/wagub-kalteng-dorong-apeksi"
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_SITE = SampleSite(400, 3)
#: the fields of a record that the sample site's truth (ArticleSpec) gives too
SPEC_FIELDS = ("url", "region", "article_id", "title", "body", "published_at", "published_at_raw", "dateline")
SPEC_FIELDS += ("reporter", "editor", "category", "tags", "image_url", "image_caption", "summary", "template")


def _truths() -> list[tuple[str, bytes, dict[str, object] | str]]:
    """(url, page, truth) of every article fixture and of a spread of sample-site articles; the
    truth is the fields extraction must give, or the reason of the ExtractionError it must raise."""
    cases: list[tuple[str, bytes, dict[str, object] | str]] = []
    for path in sorted((FIXTURES / "articles").glob("*.html")):
        spec = json.loads(path.with_suffix(".json").read_text())
        cases.append((spec["url"], path.read_bytes(), spec.get("error") or spec["expected"]))
    for spec in (_SITE.article_at(k) for k in range(0, 400, 23)):
        # the page as written, whatever its fault (the site's router is what serves faults)
        page = render_article(_SITE, spec).encode()
        cases.append((spec.url, page, {field: getattr(spec, field) for field in SPEC_FIELDS}))
    return cases


TRUTHS = _truths()
PAGES = [(url, page) for url, page, _ in TRUTHS]


def check_article_or_error(html: str | bytes, url: str) -> None:
    """The property: a complete, self-consistent record, or an ExtractionError with a known reason."""
    try:
        article = extract_article(html, url)
    except ExtractionError as exc:
        assert exc.reason in REASONS and exc.detail
        return
    assert article.title.strip() and article.body.strip()
    assert parse_article_url(article.url) is not None and article.url == canonical_article_url(article.url)
    published = datetime.fromisoformat(article.published_at)
    assert published.utcoffset() is not None
    assert article.word_count == len(article.body.split())
    assert article.content_hash == hashlib.sha256(f"{article.title}\n\n{article.body}".encode()).hexdigest()
    assert all(is_antara_host(link.url) and parse_article_url(link.url) for link in article.links)
    assert len(
        {(parse_article_url(link.url).host, parse_article_url(link.url).article_id) for link in article.links}
    ) == len(  # type: ignore[union-attr]
        article.links
    )


# ---------------------------------------------------------------------- extraction


@FAST
@given(st.binary(max_size=3000))
def test_random_bytes_never_break_extraction(data: bytes) -> None:
    check_article_or_error(data, URL)


@FAST
@given(st.text(max_size=3000))
def test_random_text_never_breaks_extraction(text: str) -> None:
    check_article_or_error(text, URL)


@st.composite
def mutated_page(draw: st.DrawFn) -> tuple[str, bytes]:
    """A real page (fixture or sample site) with a few random cuts, splices, repeats and junk."""
    url, page = draw(st.sampled_from(PAGES))
    for _ in range(draw(st.integers(1, 4))):
        size = len(page)
        start = draw(st.integers(0, size))
        end = draw(st.integers(start, min(size, start + 4000)))
        action = draw(st.sampled_from(["cut", "junk", "repeat", "truncate", "tag", "bytes"]))
        if action == "cut":
            page = page[:start] + page[end:]
        elif action == "junk":
            page = page[:start] + draw(st.text(max_size=40)).encode() + page[start:]
        elif action == "repeat":
            page = page[:end] + page[start:end] + page[end:]
        elif action == "truncate":
            page = page[:start]
        elif action == "tag":
            tag = draw(st.sampled_from(["<p>", "</div>", "<script>", "<!--", "<h1>", "</article>", "<br>", "]]>"]))
            page = page[:start] + tag.encode() + page[start:]
        else:
            page = page[:start] + draw(st.binary(max_size=12)) + page[start:]
    return url, page


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_page())
def test_mutated_pages_give_a_record_or_a_specific_error(case: tuple[str, bytes]) -> None:
    url, page = case
    check_article_or_error(page, url)
    check_article_or_error(page.decode("utf-8", "replace"), url)


@pytest.mark.parametrize(("url", "page", "truth"), TRUTHS)
def test_unmutated_pages_still_extract(url: str, page: bytes, truth: dict[str, object] | str) -> None:
    """The pages the mutations start from give their true record (or their true error) untouched."""
    check_article_or_error(page, url)
    if isinstance(truth, str):
        with pytest.raises(ExtractionError) as caught:
            extract_article(page, url)
        assert caught.value.reason == truth
    else:
        record = extract_article(page, url).to_dict()
        assert {field: record[field] for field in truth} == truth


@FAST
@given(st.binary(max_size=3000), st.sampled_from([r.host for r in REGIONS]))
def test_list_and_feed_extraction_never_raise_and_keep_only_antara_articles(data: bytes, host: str) -> None:
    now = datetime(2026, 11, 27, 12, 0, tzinfo=timezone(timedelta(hours=7)))
    for entries in (
        extract_listing(data, f"https://{host}/terkini", now=now),
        extract_feed(data, f"https://{host}/rss"),
    ):
        for entry in entries:
            assert parse_article_url(entry.url) is not None and entry.url == canonical_article_url(entry.url)
            if entry.published_at is not None:
                assert datetime.fromisoformat(entry.published_at).utcoffset() is not None


@FAST
@given(mutated_page())
def test_mutated_pages_as_list_pages_never_raise(case: tuple[str, bytes]) -> None:
    url, page = case
    for entry in extract_listing(page, url):
        assert parse_article_url(entry.url) is not None


# ---------------------------------------------------------------------- dates

DAYS = ["Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu"]
MONTH_NAMES = [
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
]


@FAST
@given(st.text(max_size=120), st.sampled_from(sorted(ZONES)))
def test_any_text_is_a_date_or_a_date_error(text: str, zone: str) -> None:
    try:
        parsed = parse_date(text, zone)
    except DateError:
        return
    assert parsed.utcoffset() is not None


@FAST
@given(
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 12, 31)),
    st.sampled_from(sorted(ZONES)),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_printed_dates_read_back_exactly(when: datetime, zone: str, weekday: bool, label: bool, pad: bool) -> None:
    when = when.replace(second=0, microsecond=0)
    hour = f"{when.hour:02d}" if pad else str(when.hour)
    text = f"{when.day} {MONTH_NAMES[when.month - 1]} {when.year} {hour}:{when.minute:02d}"
    if weekday:
        text = f"{DAYS[when.weekday()]}, {text}"
    if label:
        text = f"{text} {zone}"
    parsed = parse_date(text, zone)
    assert parsed == when.replace(tzinfo=ZONES[zone])
    assert parsed.utcoffset() == ZONES[zone].utcoffset(None)


@FAST
@given(st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 12, 31)), st.sampled_from(DAYS))
def test_the_weekday_name_never_moves_the_date(when: datetime, day: str) -> None:
    """Weekday names are checked to be weekday names, never used: the printed date wins."""
    text = f"{day}, {when.day} {MONTH_NAMES[when.month - 1]} {when.year} 10:00 WIB"
    assert parse_date(text) == datetime(when.year, when.month, when.day, 10, 0, tzinfo=ZONES["WIB"])


# ---------------------------------------------------------------------- URLs

HOSTS = [r.host for r in REGIONS]
_HOSTILE_HOST = st.one_of(
    st.builds(
        lambda h, t: f"{h}.{t}", st.sampled_from(HOSTS + ["antaranews.com"]), st.sampled_from(["evil.test", "co", "x"])
    ),
    st.builds(lambda h: f"{h}@evil.test", st.sampled_from(HOSTS)),
    st.builds(
        lambda h, p: f"{h}:{p}", st.sampled_from(HOSTS), st.integers(1, 65535).filter(lambda p: p not in (80, 443))
    ),
    st.builds(lambda a, b, c, d: f"{a}.{b}.{c}.{d}", *(st.integers(0, 255) for _ in range(4))),
    st.builds(lambda h: f"user:pw@{h}", st.sampled_from(HOSTS)),
    st.builds(lambda h: f"evil{h}", st.sampled_from(HOSTS)),
    st.just("[::1]"),
)


@FAST
@given(st.text(max_size=200))
def test_url_helpers_never_raise_and_agree(text: str) -> None:
    antara = is_antara_host(text)
    ref = parse_article_url(text)
    if ref is not None:
        assert antara
        assert is_antara_host(ref.url) and ref.url == canonical_article_url(ref.url)
        assert re.fullmatch(r"https://[a-z0-9.-]+\.antaranews\.com/berita/\d+(/[^/?#]*)?", ref.url)
    parse_article_url(text, base=URL)


_LINKISH = st.one_of(
    st.text(max_size=60),
    st.builds(
        "{}{}/{}berita/{}/{}".format,
        st.sampled_from(["", "https://", "http://", "HTTPS://", " "]),
        st.sampled_from(["", "kalteng.antaranews.com", "kalut.antaranews.com.", "www.antaranews.com:443", "a..b"]),
        st.sampled_from(["", "amp/"]),
        st.from_regex(r"[0-9]{1,13}", fullmatch=True),
        st.from_regex(r"[a-zA-Z0-9./?#-]{0,12}", fullmatch=True),
    ),
)


@FAST
@given(
    _LINKISH, st.one_of(st.none(), st.just(URL), st.text(max_size=40), st.sampled_from(["https://[x/", "http://a:9/"]))
)
def test_plain_links_read_as_urljoin_reads_them(href: str, base: str | None) -> None:
    assert parse_article_url(href, base) == urls._parse_joined(href, base)


_MARKUP = st.lists(
    st.one_of(
        st.text(max_size=12),
        st.sampled_from(["<p>", "</p>", "<b>", "</b>", "<br>", "<a href='/x'>", "</a>", "<div class='q'>", "</div>"]),
        st.sampled_from(["&amp;", "&lt;", "&nbsp;", "&#0;", "<!-- c -->", "<script>a<b</script>", "<![CDATA[x]]>"]),
    ),
    max_size=30,
).map("".join)


@FAST
@given(_MARKUP)
def test_text_of_is_the_join_of_itertext(markup: str) -> None:
    doc = parse_html(markup)
    for element in doc.iter() if doc is not None else ():
        assert text_of(element) == "".join(element.itertext())


@FAST
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=40))
def test_fold_is_the_split_join_of_the_visible_text(text: str) -> None:
    visible = re.sub("[\u00ad\u200b\u200c\u200d\u2060\ufeff]", "", text)
    assert fold(text) == " ".join(visible.split())


@FAST
@given(_HOSTILE_HOST, st.sampled_from(["http", "https"]), st.integers(1, 10**9), st.text(max_size=30))
def test_hostile_hosts_are_never_antara(host: str, scheme: str, number: int, slug: str) -> None:
    url = f"{scheme}://{host}/berita/{number}/{slug}"
    assert not is_antara_host(url)
    assert parse_article_url(url) is None


@FAST
@given(
    st.sampled_from(HOSTS),
    st.integers(0, 10**12 - 1),
    st.from_regex(r"[a-z0-9-]{0,40}", fullmatch=True),
    st.sampled_from(["", "/amp"]),
    st.sampled_from(["https", "http"]),
    st.sampled_from(["", "?utm_source=x", "#top", "?a=1&utm_medium=y"]),
    st.booleans(),
)
def test_every_variant_of_an_article_url_is_one_article(
    host: str, number: int, slug: str, amp: str, scheme: str, tail: str, upper: bool
) -> None:
    url = f"{scheme}://{host.upper() if upper else host}{amp}/berita/{number}/{slug}{tail}"
    ref = parse_article_url(url)
    assert ref is not None
    assert (ref.host, ref.article_id) == (host, number)
    assert ref.url == (f"https://{host}/berita/{number}/{slug}" if slug else f"https://{host}/berita/{number}")


# ---------------------------------------------------------------------- storage: text is data, never SQL

_NASTY = st.one_of(
    st.text(max_size=300),
    st.sampled_from(
        [
            "'; DROP TABLE articles; --",
            'Robert"); DELETE FROM crawl_runs; --',
            "x' OR '1'='1",
            "\x00 NUL inside",
            "=cmd|'/C calc'!A0",
            "articles_fts MATCH 'a' OR 1=1",
        ]
    ),
)


@pytest.mark.slow
@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(title=_NASTY, body=_NASTY, tags=st.lists(_NASTY, max_size=4), anchor=_NASTY)
def test_any_page_text_is_stored_as_data(tmp_path: Path, title: str, body: str, tags: list[str], anchor: str) -> None:
    db = tmp_path / "prop.db"
    with Archive(db) as archive:
        archive.sync_regions(r.as_row() for r in REGIONS)
        record = {
            "url": URL,
            "site": "kalteng.antaranews.com",
            "region": "kalteng",
            "article_id": 612837,
            "title": title or "x",
            "body": body or "x",
            "published_at": "2022-10-20T15:02:00+07:00",
            "published_at_raw": title,
            "tags": tags,
            "content_hash": hashlib.sha256((title + body).encode()).hexdigest(),
            "links": [{"url": "https://www.antaranews.com/berita/1/x", "anchor_text": anchor, "kind": "baca_juga"}],
        }
        archive.upsert_article(record)
        row = archive.db.execute("SELECT title, body, published_at_raw, tags FROM articles").fetchone()
        assert row[:3] == (title or "x", body or "x", title)
        stored_tags = json.loads(row[3])
        assert all(t.strip() in stored_tags for t in tags if t.strip())
        assert archive.db.execute("SELECT anchor_text FROM links").fetchone()[0] == anchor
        assert set(archive.db.table_names()) >= {"articles", "crawl_runs", "links", "tags", "articles_fts"}
        assert archive.count("articles") == 1
        assert archive.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db.unlink()
    for extra in ("-wal", "-shm"):
        Path(f"{db}{extra}").unlink(missing_ok=True)


@FAST
@given(st.text(max_size=60))
def test_no_exported_csv_cell_can_start_a_formula(value: str) -> None:
    cell = neutralise(value)
    assert cell == value or cell == "'" + value
    assert not cell or cell[0] not in "=+-@\t\r"


@settings(max_examples=300)
@given(st.lists(st.text(alphabet=st.characters(codec="utf-8"), max_size=60), max_size=8))
def test_word_count_of_folded_paragraphs_is_the_split_count(raw: list[str]) -> None:
    """The extractor counts words from its folded paragraphs without splitting the body; it must
    equal ``len(body.split())`` for any text fold gives (whitespace of every kind, zero-width marks)."""
    paragraphs = [text for text in (fold(part) for part in raw) if text]
    assert folded_word_count(paragraphs) == word_count("\n\n".join(paragraphs))
