"""``antara serve``: a real Datasette on an archive built by a real crawl, and a real browser on the command."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import shutil
import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest

from crawler.domain.lock import hold_lock
from crawler.serve.app import build_datasette
from crawler.serve.mode import ArchiveUnusable, choose_mode
from tests.conftest import ROOT, RunningSite, crawl_sample, rows, run_cli, serve_archive

REGIONS = ("kalteng", "kalsel", "nasional")
ARTIFACTS = ROOT / "tests" / "artifacts"
CHART_FRAGMENT = (
    "#g.mark=line&g.x_column=day&g.x_type=temporal&g.y_column=articles&g.y_type=quantitative&g.color_column=region"
)


@pytest.fixture(scope="module")
def archive(sample_site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("serve") / "archive.db"
    result = crawl_sample(sample_site, db, "--region", ",".join(REGIONS), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    return db


def get(db: Path, *paths: str, allow_sql: bool = False, immutable: bool = False) -> list[httpx.Response]:
    """GET each path from a Datasette configured exactly as ``antara serve`` configures it."""

    async def run() -> list[httpx.Response]:
        mode = choose_mode(db, "immutable" if immutable else "auto")
        ds = build_datasette(db, immutable=mode.immutable, allow_sql=allow_sql)
        await ds.invoke_startup()
        return [await ds.client.get(path) for path in paths]

    return asyncio.run(run())


def get_json(db: Path, path: str, immutable: bool = False) -> Any:
    (response,) = get(db, path, immutable=immutable)
    assert response.status_code == 200, response.text[:500]
    return response.json()


def canned(db: Path, name: str, **params: str) -> list[dict[str, Any]]:
    query = "&".join(f"{k}={quote(v)}" for k, v in params.items())
    return get_json(db, f"/archive/{name}.json?_shape=array&{query}")  # type: ignore[no-any-return]


def rarest_body_word(db: Path, url: str) -> str:
    """A word of the article's body that as few other articles as possible contain."""
    body = rows(db, "SELECT body FROM articles WHERE url = ?", (url,))[0]["body"]
    words = sorted({w for w in re.findall(r"[A-Za-z]{6,}", body)})

    def frequency(word: str) -> int:
        return len(rows(db, "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", (f'"{word}"',)))

    return min(words, key=lambda w: (frequency(w), w))


# -- configuration ------------------------------------------------------------------------------


@pytest.mark.slow
def test_metadata_applies(archive: Path) -> None:
    index, table, metadata = get(archive, "/", "/archive/articles", "/-/metadata.json")
    assert "<h1>ANTARA news archive</h1>" in index.text
    assert "Articles © ANTARA; archived for research only" in table.text
    assert 'href="https://www.antaranews.com/"' in table.text
    described = metadata.json()["databases"]["archive"]["tables"]["articles"]["columns"]
    columns = [r["name"] for r in rows(archive, "PRAGMA table_info(articles)")]
    assert set(columns) <= set(described), "every column of articles is described"
    for column in columns:
        assert f"<dt>{column}</dt>" in table.text
    tables = metadata.json()["databases"]["archive"]["tables"]
    for name, needed in {
        "crawl_runs": {"health", "health_reasons"},
        "crawl_run_regions": {"health", "health_reasons", "field_coverage"},
        "crawl_errors": {"reason", "extractor_version"},
        "frontier": {"hops", "failures", "failed_at"},
    }.items():
        present = {r["name"] for r in rows(archive, f"PRAGMA table_info({name})")}
        assert needed <= present and needed <= set(tables[name]["columns"]), name


@pytest.mark.slow
def test_articles_open_newest_first_with_titles_as_labels(archive: Path) -> None:
    page = get_json(archive, "/archive/articles.json?_shape=objects&_size=20")
    expected = [r[0] for r in rows(archive, "SELECT published_at FROM articles ORDER BY published_at DESC LIMIT 20")]
    assert [r["published_at"] for r in page["rows"]] == expected
    assert page["human_description_en"] == "sorted by published_at descending"
    tags = get_json(archive, "/archive/article_tags.json?_shape=objects&_labels=on&_size=1")["rows"][0]
    title = rows(archive, "SELECT title FROM articles WHERE url = ?", (tags["article_url"]["value"],))[0]["title"]
    assert tags["article_url"]["label"] == title


@pytest.mark.slow
def test_table_search_finds_a_known_article(archive: Path) -> None:
    known = rows(archive, "SELECT url, title FROM articles ORDER BY published_at LIMIT 1")[0]
    word = max(re.findall(r"\w+", known["title"]), key=len)
    found = get_json(archive, f"/archive/articles.json?_search={quote(word)}&_shape=objects&_size=max")
    assert known["url"] in {r["url"] for r in found["rows"]}
    matches = rows(archive, "SELECT count(*) AS n FROM articles_fts WHERE articles_fts MATCH ?", (f'"{word}"',))
    assert found["filtered_table_rows_count"] == matches[0]["n"]


@pytest.mark.slow
def test_facets_count_what_the_archive_holds(archive: Path) -> None:
    facets = get_json(archive, "/archive/articles.json?_size=0")["facet_results"]
    assert {"region", "category", "tags", "published_at"} <= set(facets)
    assert facets["tags"]["type"] == "tags" and facets["published_at"]["type"] == "local_date"

    regions = {r["value"]: r["count"] for r in facets["region"]["results"]}
    assert regions == {r[0]: r[1] for r in rows(archive, "SELECT region, count(*) FROM articles GROUP BY region")}
    categories = {r["value"]: r["count"] for r in facets["category"]["results"]}
    assert categories == {r[0]: r[1] for r in rows(archive, "SELECT category, count(*) FROM articles GROUP BY 1")}
    tag_counts: Counter[str] = Counter()
    for row in rows(archive, "SELECT tags FROM articles"):
        tag_counts.update(set(json.loads(row["tags"])))
    for result in facets["tags"]["results"]:
        assert result["count"] == tag_counts[result["value"]]
    # filtered: counted from the matching rows' arrays (unfiltered: from article_tags), same numbers
    kalteng: Counter[str] = Counter()
    for row in rows(archive, "SELECT tags FROM articles WHERE region = 'kalteng'"):
        kalteng.update(set(json.loads(row["tags"])))
    filtered = get_json(archive, "/archive/articles.json?region=kalteng&_size=0")["facet_results"]["tags"]
    assert filtered["results"] and {r["value"]: r["count"] for r in filtered["results"]} == dict(
        sorted(kalteng.items(), key=lambda kv: (-kv[1], kv[0]))[: len(filtered["results"])]
    )
    tag = filtered["results"][0]["value"]
    assert f"tags__arraycontains={quote_plus(tag)}" in filtered["results"][0]["toggle_url"]
    chosen = get_json(archive, f"/archive/articles.json?tags__arraycontains={quote_plus(tag)}&_size=0")
    assert chosen["filtered_table_rows_count"] == tag_counts[tag]
    # Local publication day, not SQLite's UTC date(): 06:00 WIB on the 25th counts on the 25th.
    days = Counter(r["published_at"][:10] for r in rows(archive, "SELECT published_at FROM articles"))
    assert {r["value"]: r["count"] for r in facets["published_at"]["results"]} == dict(days)
    day, count = days.most_common(1)[0]
    selected = get_json(archive, f"/archive/articles.json?published_at__startswith={day}&_size=0")
    assert selected["filtered_table_rows_count"] == count


# -- canned queries -----------------------------------------------------------------------------


@pytest.mark.slow
def test_latest_in_region(archive: Path) -> None:
    got = canned(archive, "latest_in_region", region="kalteng")
    everything = rows(archive, "SELECT * FROM articles")
    expected = sorted((r for r in everything if r["region"] == "kalteng"), key=lambda r: r["published_at"])[::-1]
    assert [r["url"] for r in got] == [r["url"] for r in expected[:100]]
    assert set(got[0]) == {"published_at", "title", "category", "reporter", "summary", "url"}


@pytest.mark.slow
def test_articles_per_region_per_day(archive: Path) -> None:
    everything = rows(archive, "SELECT region, published_at FROM articles")
    counts = Counter((r["published_at"][:10], r["region"]) for r in everything)
    got = canned(archive, "articles_per_region_per_day", region="", since="")
    assert {(r["day"], r["region"]): r["articles"] for r in got} == dict(counts)
    assert [r["day"] for r in got] == sorted((r["day"] for r in got), reverse=True)
    since = sorted({day for day, _ in counts})[-2]
    got = canned(archive, "articles_per_region_per_day", region="kalsel", since=since)
    assert {(r["day"], r["region"]): r["articles"] for r in got} == {
        key: n for key, n in counts.items() if key[1] == "kalsel" and key[0] >= since
    }


@pytest.mark.slow
def test_search_articles_highlights_the_match(archive: Path) -> None:
    known = rows(archive, "SELECT url, title FROM articles ORDER BY published_at DESC LIMIT 1 OFFSET 5")[0]
    word = rarest_body_word(archive, known["url"])
    got = canned(archive, "search_articles", q=word)
    expected = rows(
        archive,
        "SELECT a.url FROM articles a JOIN articles_fts f ON f.rowid = a.rowid WHERE articles_fts MATCH ?",
        (f'"{word}"',),
    )
    assert {r["url"] for r in got} == {r["url"] for r in expected}
    assert set(got[0]) == {"title", "published_at", "region", "snippet", "url"}
    mine = next(r for r in got if r["url"] == known["url"])
    assert mine["title"] == known["title"]
    assert re.search(rf"<mark>{word}</mark>", mine["snippet"], re.IGNORECASE)
    (page,) = get(archive, f"/archive/search_articles?q={quote(word)}")
    assert re.search(rf"<mark>{word}</mark>", page.text, re.IGNORECASE), "the highlight is rendered, not escaped"
    # Words are matched literally, so punctuation cannot break the query.
    assert canned(archive, "search_articles", q='covid-19 "') == []


@pytest.mark.slow
def test_search_articles_returns_the_best_matches_first(archive: Path) -> None:
    """The canned search ranks inside the full-text index and joins only the 100 best (so it stays
    fast on a big archive): what it returns are the best-scored matches, best first."""
    in_articles = Counter(
        w for r in rows(archive, "SELECT body FROM articles") for w in set(re.findall(r"[a-z]{5,}", r["body"]))
    )
    word, articles = in_articles.most_common(1)[0]
    assert articles > 100, "a word in more articles than the query returns"
    scored = rows(
        archive,
        "SELECT a.url, f.rank FROM articles_fts f JOIN articles a ON a.rowid = f.rowid WHERE articles_fts MATCH ?",
        (f'"{word}"',),
    )
    rank = {r["url"]: r["rank"] for r in scored}
    got = [r["url"] for r in canned(archive, "search_articles", q=word)]
    assert len(got) == 100
    ranks = [rank[url] for url in got]
    assert ranks == sorted(ranks), "best match first"
    left_out = [score for url, score in rank.items() if url not in set(got)]
    assert min(left_out) >= max(ranks), "no match left out scores better than one returned"


@pytest.mark.slow
def test_baca_juga_graph(archive: Path) -> None:
    article = rows(
        archive,
        "SELECT a.url, a.site, a.article_id FROM articles a"
        " WHERE EXISTS (SELECT 1 FROM links l WHERE l.source_url = a.url)"
        " AND EXISTS (SELECT 1 FROM links l WHERE l.target_site = a.site AND l.target_article_id = a.article_id)"
        " ORDER BY a.url LIMIT 1",
    )[0]
    got = canned(archive, "baca_juga_graph", url=article["url"])
    by_id = {
        (r["site"], r["article_id"]): r["url"] for r in rows(archive, "SELECT url, site, article_id FROM articles")
    }
    links = rows(archive, "SELECT * FROM links")
    outgoing = [
        (link["position"], by_id.get((link["target_site"], link["target_article_id"]), link["target_url"]))
        for link in sorted(links, key=lambda link: link["position"])
        if link["source_url"] == article["url"]
    ]
    incoming = {
        link["source_url"]
        for link in links
        if (link["target_site"], link["target_article_id"]) == (article["site"], article["article_id"])
    }
    assert [(r["position"], r["url"]) for r in got if r["direction"] == "links to"] == outgoing
    assert {r["url"] for r in got if r["direction"] == "linked from"} == incoming
    assert [r["direction"] for r in got] == sorted((r["direction"] for r in got), reverse=True)
    archived = {r["url"] for r in got if r["direction"] == "links to" and r["archived"]}
    assert archived == {url for _, url in outgoing if url in by_id.values()}


@pytest.mark.slow
def test_crawl_runs_recent_and_errors_by_reason(archive: Path) -> None:
    runs = rows(archive, "SELECT * FROM crawl_runs ORDER BY id DESC")
    errors = rows(archive, "SELECT run_id, reason FROM crawl_errors")
    got = canned(archive, "crawl_runs_recent")
    assert [r["run"] for r in got] == [r["id"] for r in runs]
    for row, run in zip(got, runs, strict=True):
        for column in ("started_at", "finished_at", "outcome", "pages_fetched", "articles_new", "errors"):
            assert row[column] == run[column]
        reasons = Counter(e["reason"] for e in errors if e["run_id"] == run["id"])
        parsed = dict(part.split(": ") for part in row["errors_by_reason"].split(", "))
        assert {k: int(v) for k, v in parsed.items()} == dict(reasons)
    by_reason = canned(archive, "crawl_errors_by_reason", run=str(runs[0]["id"]))
    assert {r["reason"]: r["pages"] for r in by_reason} == dict(
        Counter(e["reason"] for e in errors if e["run_id"] == runs[0]["id"])
    )
    assert all(r["example_url"] and r["example_detail"] for r in by_reason)


@pytest.mark.slow
def test_a_pages_captures_are_listed(archive: Path) -> None:
    article = rows(
        archive,
        "SELECT a.url, a.warc_record_id FROM articles a"
        " JOIN captures c ON c.warc_record_id = a.warc_record_id AND c.url = a.url ORDER BY a.url LIMIT 1",
    )[0]
    listed = canned(archive, "captures_of_page", url=article["url"])
    assert [r["warc_record_id"] for r in listed] == [article["warc_record_id"]]
    assert listed[0]["record_type"] == "response" and listed[0]["status"] == 200 and listed[0]["warc_file"]
    (table,) = get(archive, "/archive/captures?record_type=warcinfo")
    assert table.status_code == 200 and "warcinfo" in table.text


# -- pages --------------------------------------------------------------------------------------


@pytest.mark.slow
def test_row_page_shows_the_article_readably(archive: Path) -> None:
    article = rows(archive, "SELECT * FROM articles ORDER BY published_at DESC LIMIT 1")[0]
    path = "/archive/articles/" + _tilde(article["url"])
    (page,) = get(archive, path)
    assert page.status_code == 200
    html = page.text
    assert f"<h1>{_esc(article['title'])}</h1>" in html
    paragraphs = [p for p in article["body"].split("\n\n") if p.strip()]
    assert len(paragraphs) > 1
    for paragraph in paragraphs:
        assert f"<p>{_esc(paragraph.strip())}</p>" in html
    assert f'href="{_esc(article["url"])}"' in html and "Read the original on" in html
    assert "baca_juga_graph?url=" in html


def _tilde(value: str) -> str:
    from datasette.utils import tilde_encode

    return str(tilde_encode(value))


def _esc(text: str) -> str:
    import markupsafe

    return str(markupsafe.escape(text))


# -- read-only ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_no_arbitrary_sql_and_no_writes(archive: Path) -> None:
    before = hashlib.sha256(archive.read_bytes()).hexdigest()
    sql = quote("select count(*) from articles")
    refused = get(archive, f"/archive.json?sql={sql}", f"/archive?sql={sql}", "/archive/articles.json?_size=1")
    assert [r.status_code for r in refused] == [403, 403, 200]
    # --allow-sql lets SELECT through, still never a write.
    delete = quote("delete from articles")
    allowed, write = get(
        archive, f"/archive.json?sql={sql}&_shape=array", f"/archive.json?sql={delete}", allow_sql=True
    )
    assert allowed.status_code == 200 and list(allowed.json()[0].values())[0] > 0
    assert write.status_code == 400

    async def try_writes() -> list[str]:
        ds = build_datasette(archive, immutable=False)
        await ds.invoke_startup()
        db = ds.get_database("archive")
        failures = []
        try:
            await db.execute_write("DELETE FROM articles")
        except sqlite3.OperationalError as exc:
            failures.append(str(exc))
        try:
            await db.execute_fn(lambda conn: conn.execute("DELETE FROM crawl_runs"))
        except sqlite3.OperationalError as exc:
            failures.append(str(exc))
        return failures

    failures = asyncio.run(try_writes())
    assert len(failures) == 2 and "readonly" in failures[1]
    assert hashlib.sha256(archive.read_bytes()).hexdigest() == before
    assert rows(archive, "SELECT count(*) AS n FROM articles")[0]["n"] > 0


# -- choosing the mode, and user errors -----------------------------------------------------------


@pytest.mark.slow
def test_mode_is_live_unless_immutable_is_asked_for(archive: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    conn = sqlite3.connect(archive)  # a published copy (VACUUM INTO writes it in rollback-journal mode)
    conn.execute(f"VACUUM INTO '{copy}'")
    conn.close()
    count = rows(archive, "SELECT count(*) AS n FROM articles")[0]["n"]
    for requested in ("auto", "live"):
        mode = choose_mode(copy, requested)
        assert not mode.immutable and mode.reason == "new rows show on the next page load"
    immutable = choose_mode(copy, "immutable")
    assert immutable.immutable and immutable.reason.startswith("--mode immutable")
    assert get_json(copy, "/archive/articles.json?_size=0")["filtered_table_rows_count"] == count
    assert get_json(copy, "/archive/articles.json?_size=0", immutable=True)["filtered_table_rows_count"] == count
    # the whole file is never offered for download unless asked (tests/test_serve_safety.py:
    # --allow-download, and only when it cannot change under the copy)
    assert [get(copy, "/archive.db", immutable=i)[0].status_code for i in (False, True)] == [403, 403]

    handle = hold_lock(copy)
    try:
        mode = choose_mode(copy)
        assert not mode.immutable and f"a crawl is writing it now (pid {os.getpid()}" in mode.reason
        with pytest.raises(ArchiveUnusable, match="--mode immutable is for a file nothing writes"):
            choose_mode(copy, "immutable")
    finally:
        handle.close()
    assert choose_mode(copy, "immutable").immutable

    writer = sqlite3.connect(copy)  # an open writer keeps its changes in the write-ahead log
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        with writer:
            writer.execute("INSERT INTO archive_meta (key, value) VALUES ('probe', 'written')")
        mode = choose_mode(copy, "immutable")
        assert mode.immutable and "write-ahead log holds" in mode.reason
    finally:
        writer.close()
    assert "write-ahead log" not in choose_mode(copy, "immutable").reason

    started = datetime.now(timezone.utc).replace(microsecond=0)
    with sqlite3.connect(copy) as conn:
        conn.execute("INSERT INTO crawl_runs (started_at, outcome) VALUES (?, 'running')", (started.isoformat(),))
    conn.close()
    assert "is still marked running" in choose_mode(copy).reason, "a recent run still marked running"
    assert choose_mode(copy, now=started + timedelta(days=2)).reason == "new rows show on the next page load"


@pytest.mark.slow
def test_the_startup_check_reads_a_file_being_written(archive: Path, tmp_path: Path) -> None:
    """A crawl in the middle of a big transaction (pages spilled into the log, not committed)."""
    copy = tmp_path / "busy.db"
    conn = sqlite3.connect(archive)
    conn.execute(f"VACUUM INTO '{copy}'")
    conn.close()
    count = rows(copy, "SELECT count(*) AS n FROM articles")[0]["n"]
    tags = rows(copy, "SELECT count(*) AS n FROM tags")[0]["n"]
    writer = sqlite3.connect(copy, isolation_level=None)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA cache_size=10")  # spill uncommitted pages into the log
        writer.execute("BEGIN IMMEDIATE")
        writer.executemany("INSERT INTO tags (name) VALUES (?)", ((f"filler-{i}-{'x' * 2000}",) for i in range(2000)))
        assert copy.with_name(copy.name + "-wal").stat().st_size > 1_000_000
        mode = choose_mode(copy)
        assert not mode.immutable
        assert get_json(copy, "/archive/articles.json?_size=0")["filtered_table_rows_count"] == count
        assert get_json(copy, "/archive/tags.json?_size=0")["filtered_table_rows_count"] == tags
        writer.execute("COMMIT")
        assert get_json(copy, "/archive/tags.json?_size=0")["filtered_table_rows_count"] == tags + 2000
    finally:
        writer.close()


def test_user_errors_are_one_line(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("not a database")
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).execute("CREATE TABLE t (x)").connection.close()
    for db, message in (
        (tmp_path / "missing.db", "no archive at"),
        (text, "is not a SQLite database"),
        (empty, "not an antara archive"),
    ):
        result = run_cli("serve", "--db", str(db), "--port", "0", timeout=60)
        assert result.returncode == 2
        assert result.stderr.startswith("antara: error: ") and message in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    # --mode immutable on a file a crawl is writing would answer "malformed" errors: refused
    copy = tmp_path / "copy.db"
    conn = sqlite3.connect(copy)
    conn.execute("CREATE TABLE articles (url)")
    conn.execute("CREATE VIRTUAL TABLE articles_fts USING fts5 (title)")
    conn.close()
    handle = hold_lock(copy)
    try:
        result = run_cli("serve", "--db", str(copy), "--port", "0", "--mode", "immutable", timeout=60)
    finally:
        handle.close()
    assert result.returncode == 2 and result.stderr.startswith(f"antara: error: a crawl is writing {copy} (pid ")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


# -- a real browser on a running `antara serve` ---------------------------------------------------


@pytest.fixture(scope="module")
def served(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``antara serve`` in a subprocess on a free loopback port (``--port 0``); stopped by its pid at the end."""
    with serve_archive(archive, tmp_path_factory.mktemp("serve-log")) as server:
        assert re.match(r"Serving .* read-only, live mode: ", server.mode_line), server.mode_line
        yield server.url


def keep_screenshot(page: Any, tmp_path: Path, name: str) -> None:
    shot = tmp_path / f"{name}.png"
    page.screenshot(path=str(shot), full_page=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, ARTIFACTS / shot.name)


@pytest.mark.slow
@pytest.mark.browser
def test_browser_search_and_open_an_article(archive: Path, served: str, browser: Any, tmp_path: Path) -> None:
    known = rows(archive, "SELECT url, title, body FROM articles ORDER BY published_at DESC LIMIT 1 OFFSET 3")[0]
    word = rarest_body_word(archive, known["url"])
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    page.goto(served + "archive/articles")
    page.fill("input#_search", word)
    page.press("input#_search", "Enter")
    page.wait_for_url(re.compile(r"_search="))
    results = page.locator("ol.antara-cards")
    assert known["title"] in results.inner_text()
    keep_screenshot(page, tmp_path, "serve-search-results")

    page.locator("li.antara-card", has_text=known["title"]).locator("h2 a").first.click()
    page.wait_for_selector("article.antara-article")
    assert page.locator("article.antara-article h1").inner_text() == known["title"]
    shown = page.locator("article.antara-article .antara-body p")
    paragraphs = [p.strip() for p in known["body"].split("\n\n") if p.strip()]
    assert shown.count() == len(paragraphs)
    assert shown.nth(0).inner_text() == paragraphs[0]
    assert word in page.locator("article.antara-article .antara-body").inner_text()
    assert page.locator("a.antara-original").first.get_attribute("href") == known["url"]
    keep_screenshot(page, tmp_path, "serve-article")
    page.close()


@pytest.mark.slow
@pytest.mark.browser
def test_browser_charts_articles_per_day(served: str, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(served + "archive/articles_per_region_per_day" + CHART_FRAGMENT)
    chart = page.locator(".vega-embed canvas, .vega-embed svg").first
    chart.wait_for(state="visible")
    box = chart.bounding_box()
    assert box is not None and box["width"] > 100 and box["height"] > 100
    chart.scroll_into_view_if_needed()
    keep_screenshot(page, tmp_path, "serve-chart")
    assert errors == []
    page.close()
