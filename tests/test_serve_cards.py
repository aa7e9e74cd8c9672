"""The articles list and search results as cards: in-process Datasette for content, a real browser for the reader."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlparse

import pytest

from crawler.serve.plugins.antara_cards import MARKS_SQL, local_time
from tests.conftest import SCREENSHOTS, RunningSite, crawl_sample, rows, serve_archive
from tests.test_serve import get, get_json, rarest_body_word

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def archive(sample_site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("cards") / "archive.db"
    result = crawl_sample(sample_site, db, "--region", "kalteng,kalsel,nasional", "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    return db


def known_article(db: Path) -> tuple[sqlite3.Row, str]:
    known = rows(db, "SELECT * FROM articles ORDER BY published_at DESC LIMIT 1 OFFSET 2")[0]
    return known, rarest_body_word(db, known["url"])


def cards(html: str) -> list[str]:
    return re.findall(r'<li class="antara-card">(.*?)</li>', html, re.S)


def hrefs(html: str) -> list[str]:
    return [unescape(h) for h in re.findall(r'href="([^"]+)"', html)]


def test_local_time_keeps_the_sites_clock_and_names_its_zone() -> None:
    assert local_time("2024-01-01T06:00:00+08:00") == "Senin, 1 Jan 2024 06:00 WITA"
    assert local_time("2026-11-27T14:05:00+07:00") == "Jumat, 27 Nov 2026 14:05 WIB"
    assert local_time("2026-08-17T23:59:30+09:00") == "Senin, 17 Agu 2026 23:59 WIT"
    assert local_time("2026-08-17T10:00:00+00:00") == "Senin, 17 Agu 2026 10:00 UTC"
    assert local_time("2026-08-17T10:00:00") == "Senin, 17 Agu 2026 10:00"
    assert local_time("kemarin") == "kemarin"


@pytest.mark.slow
def test_search_results_are_cards_with_the_match_highlighted(archive: Path) -> None:
    known, word = known_article(archive)
    (page,) = get(archive, f"/archive/articles?_search={quote(word)}")
    assert page.status_code == 200
    assert 'class="rows-and-columns"' not in page.text, "no 31-column table"
    mine = [c for c in cards(page.text) if _row_path(known["url"]) in c]
    assert len(mine) == 1, page.text[-3000:]
    card = mine[0]
    region = rows(archive, "SELECT name FROM regions WHERE slug = ?", (known["region"],))[0]["name"]
    assert f'<a href="/archive/articles/{_row_path(known["url"])}">' in card
    assert f'<time datetime="{known["published_at"]}">{local_time(known["published_at"])}</time>' in card
    assert re.search(r"(WIB|WITA|WIT)</time>", card)
    assert region in card and known["category"] in card and known["reporter"] in card
    snippet = re.search(r'<p class="antara-card-snippet">(.*?)</p>', card, re.S)
    assert snippet and re.search(rf"<mark>{word}</mark>", snippet.group(1), re.IGNORECASE), card
    assert "&lt;mark&gt;" not in page.text
    # FTS5 syntax with _searchmode=raw is highlighted as Datasette matched it
    (raw,) = get(archive, f"/archive/articles?_search={quote(word + ' OR zzqx')}&_searchmode=raw")
    assert re.search(rf"<mark>{word}</mark>", raw.text, re.IGNORECASE)
    # without a search: the summary, no marks
    (plain,) = get(archive, "/archive/articles")
    newest = rows(archive, "SELECT * FROM articles ORDER BY published_at DESC LIMIT 1")[0]
    first = cards(plain.text)[0]
    assert _row_path(newest["url"]) in first and "<mark>" not in first
    assert f'<p class="antara-card-summary">{_esc(newest["summary"])}</p>' in first


@pytest.mark.slow
def test_newest_first_by_default_and_oldest_and_best_match_links(archive: Path) -> None:
    _, word = known_article(archive)
    (page,) = get(archive, f"/archive/articles?_search={quote(word)}")
    order = re.findall(r'<time datetime="([^"]+)"', page.text)
    expected = rows(
        archive,
        "SELECT a.published_at FROM articles a WHERE a.rowid IN"
        " (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?) ORDER BY a.published_at DESC",
        (f'"{word}"',),
    )
    assert order == [r[0] for r in expected][:50]
    links = hrefs(page.text)
    assert f"/archive/search_articles?q={word}" in links, "best match: the canned query in rank order"
    oldest = next(h for h in links if "_sort=published_at" in h)
    (older,) = get(archive, oldest)
    assert re.findall(r'<time datetime="([^"]+)"', older.text) == sorted(r[0] for r in expected)[:50]


@pytest.mark.slow
def test_json_csv_and_table_links_give_the_same_results(archive: Path) -> None:
    _, word = known_article(archive)
    (page,) = get(archive, f"/archive/articles?_search={quote(word)}")
    shown = re.findall(r'<a href="/archive/articles/([^"]+)">', page.text)
    links = hrefs(page.text)
    json_link = next(h for h in links if urlparse(h).path == "/archive/articles.json")
    csv_link = next(h for h in links if urlparse(h).path == "/archive/articles.csv")
    table_link = next(h for h in links if "_layout=table" in h)
    for link in (json_link, csv_link, table_link):
        assert f"_search={word}" in link
    data = get_json(archive, urlparse(json_link)._replace(scheme="", netloc="").geturl() + "&_shape=objects")
    urls = [r["url"] for r in data["rows"]]
    assert [_row_path(u) for u in urls] == shown
    (csv_page,) = get(archive, urlparse(csv_link)._replace(scheme="", netloc="").geturl())
    assert csv_page.status_code == 200
    assert [r["url"] for r in csv.DictReader(io.StringIO(csv_page.text))] == urls
    (table,) = get(archive, table_link)
    assert 'class="rows-and-columns"' in table.text and "<th" in table.text and "warc_record_id" in table.text
    (chosen,) = get(archive, "/archive/articles?_col=site&_col=category")
    assert 'class="rows-and-columns"' in chosen.text and 'class="antara-card"' not in chosen.text


@pytest.mark.slow
def test_atom_feed_of_a_search(archive: Path) -> None:
    _, word = known_article(archive)
    (page,) = get(archive, f"/archive/articles?_search={quote(word)}")
    feed_link = next(h for h in hrefs(page.text) if ".atom" in h)
    assert feed_link == f"/archive/search_feed.atom?q={word}"
    (feed,) = get(archive, feed_link)
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("application/xml")
    root = ET.fromstring(feed.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    expected = rows(
        archive,
        "SELECT a.url, a.title, a.published_at FROM articles a WHERE a.rowid IN"
        " (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?) ORDER BY a.published_at DESC LIMIT 50",
        (f'"{word}"',),
    )
    assert expected and {e.findtext(f"{ATOM}id") for e in entries} == {r["url"] for r in expected}
    titles = {e.findtext(f"{ATOM}id"): e.findtext(f"{ATOM}title") for e in entries}
    assert all(titles[r["url"]] == r["title"] for r in expected)
    # nothing matches yet: still a valid feed, one entry saying so (datasette-atom fails on no rows)
    (empty,) = get(archive, "/archive/search_feed.atom?q=" + quote("zzqx nothing"))
    assert empty.status_code == 200
    (entry,) = ET.fromstring(empty.content).findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == 'No article matches "zzqx nothing" yet'


@pytest.mark.slow
def test_month_facet_counts_equal_sql(archive: Path) -> None:
    facets = get_json(archive, "/archive/articles.json?_size=0")["facet_results"]
    month = next(f for f in facets.values() if f["type"] == "month")
    months = Counter(r["published_at"][:7] for r in rows(archive, "SELECT published_at FROM articles"))
    assert {r["value"]: r["count"] for r in month["results"]} == dict(months)
    value = month["results"][0]["value"]
    assert "published_at__startswith=" + value in month["results"][0]["toggle_url"]
    chosen = get_json(archive, f"/archive/articles.json?published_at__startswith={value}&_size=0")
    assert chosen["filtered_table_rows_count"] == months[value]
    # with a search the months are those of the matches
    _, word = known_article(archive)
    searched = get_json(archive, f"/archive/articles.json?_search={quote(word)}&_size=0")["facet_results"]
    matched = rows(
        archive,
        "SELECT substr(a.published_at, 1, 7) AS m, count(*) AS n FROM articles a WHERE a.rowid IN"
        " (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?) GROUP BY m",
        (f'"{word}"',),
    )
    got = next(f for f in searched.values() if f["type"] == "month")
    assert {r["value"]: r["count"] for r in got["results"]} == {r["m"]: r["n"] for r in matched}
    # facets named for readers, in reader order; months as "Nov 2026"; days once a month is picked
    (page, picked) = get(archive, "/archive/articles", f"/archive/articles?published_at__startswith={value}")
    assert re.findall(r"<h2>(\w+)</h2>", page.text) == ["Site", "Category", "Tag", "Month"]
    year, number = value.split("-")
    label = ("Jan Feb Mar Apr Mei Jun Jul Agu Sep Okt Nov Des".split()[int(number) - 1]) + " " + year
    assert f">{label}</a> {months[value]:,}</li>" in page.text
    assert re.findall(r"<h2>(\w+)</h2>", picked.text) == ["Site", "Category", "Tag", "Month", "Day"]


@pytest.mark.slow
def test_highlighting_reads_only_the_displayed_rows(archive: Path) -> None:
    """One FTS query per page, looked up by the displayed urls: never a scan of all matches."""
    conn = sqlite3.connect(f"file:{archive}?mode=ro", uri=True)
    conn.create_function("escape_fts", 1, lambda s: s)
    try:
        plan = [
            r[3]
            for r in conn.execute(
                "EXPLAIN QUERY PLAN " + MARKS_SQL.format(match="escape_fts(:search)"), {"urls": "[]", "search": "x"}
            )
        ]
    finally:
        conn.close()
    assert re.match(r"SEARCH a USING (COVERING )?INDEX sqlite_autoindex_articles_1 \(url=\?\)", plan[0]), plan
    # FTS5's plan string: "=" is a rowid lookup, "M" the MATCH, so each displayed row is one seek
    fts = [p for p in plan if p.startswith("SCAN articles_fts VIRTUAL TABLE")]
    assert len(fts) == 1 and re.search(r"INDEX \d+:=M", fts[0]), plan
    assert not any(re.match(r"SCAN a\b", p) for p in plan), plan


def _row_path(url: str) -> str:
    from datasette.utils import tilde_encode

    return str(tilde_encode(url))


def _esc(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))


# -- a real browser --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_archive(archive, tmp_path_factory.mktemp("cards-serve")) as server:
        yield server.url


def overflow(page: Any) -> int:
    return int(page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"))


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
def test_browser_search_highlight_and_open(archive: Path, served: str, browser: Any, width: int) -> None:
    known, word = known_article(archive)
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(15_000)
    page.goto(served + "archive/articles")
    assert overflow(page) == 0
    page.fill("input#_search", word)
    page.press("input#_search", "Enter")
    page.wait_for_url(re.compile(r"_search="))
    card = page.locator("li.antara-card", has_text=known["title"])
    mark = card.locator(".antara-card-snippet mark").first
    assert mark.is_visible() and mark.inner_text().lower() == word.lower()
    assert overflow(page) == 0, f"horizontal overflow at {width} px"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"search-results-{width}.png"))
    # keyboard: Tab from the top reaches the first headline link
    first = page.locator("li.antara-card h2 a").first
    href = first.get_attribute("href")
    page.locator("body").focus()
    page.evaluate("document.activeElement && document.activeElement.blur()")
    for _ in range(80):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.getAttribute('href')") == href:
            break
    else:
        pytest.fail("Tab never reached the first headline link")
    card.locator("h2 a").click()
    page.wait_for_selector("article.antara-article")
    assert page.locator("article.antara-article h1").inner_text() == known["title"]
    page.close()


@pytest.mark.slow
@pytest.mark.browser
def test_browser_article_list_without_search(served: str, browser: Any) -> None:
    for width in (1280, 375):
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(served + "archive/articles")
        assert page.locator("li.antara-card").count() == 50
        first = page.locator("li.antara-card").first.bounding_box()
        assert first is not None and first["height"] < 260, "a card is a few lines, not a 300 px row"
        assert overflow(page) == 0, f"horizontal overflow at {width} px"
        page.screenshot(path=str(SCREENSHOTS / f"articles-{width}.png"))
        page.close()
