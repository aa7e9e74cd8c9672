"""The article list at scale: newest-first search over many matches walks the published_at index (same
pages as the plain sort), a plain search is counted by FTS5, the unfiltered list's facets are kept until
the archive changes."""

from __future__ import annotations

import asyncio
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from archive import Archive
from crawler import __version__
from crawler.domain.regions import REGIONS
from crawler.samplesite import SampleSite
from crawler.samplesite.records import article_record
from crawler.serve.app import build_datasette
from crawler.serve.plugins.antara_cards import broad_search_facet, search_count_sql, walk_index
from tests.conftest import rows
from tests.test_serve import get_json

ARTICLES = 400


def write(db: Path, start: int, stop: int) -> None:
    """Store sample-site articles start..stop-1 (of a site of ARTICLES + 10) in the archive at ``db``."""
    site = SampleSite(articles=ARTICLES + 10, seed=1)
    with Archive(db) as archive:
        archive.sync_regions(r.as_row() for r in REGIONS)
        run = archive.start_run({}, [r.slug for r in REGIONS], __version__)
        archive.upsert_many([article_record(site.article_at(k)) for k in range(start, stop)], run)
        archive.finish_run(run, "finished", "finished", {})


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("search_order") / "archive.db"
    write(db, 0, ARTICLES)
    return db


def words_by_matches(db: Path) -> list[tuple[str, int]]:
    """Title words with the number of articles whose title or body holds them, commonest first."""
    counts: Counter[str] = Counter()
    for row in rows(db, "SELECT title FROM articles"):
        counts.update({w.lower() for w in row["title"].split() if w.isalpha() and len(w) > 3})
    found = [
        (w, rows(db, "SELECT count(*) n FROM articles_fts WHERE articles_fts MATCH ?", (f'"{w}"',))[0]["n"])
        for w, _ in counts.most_common()
    ]
    return sorted(found, key=lambda pair: -pair[1])


def expected(db: Path, word: str, where: str = "", desc: bool = True) -> list[str]:
    order = "DESC" if desc else "ASC"
    sql = (
        "SELECT published_at FROM articles WHERE rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)"
        f" {where} ORDER BY published_at {order}"
    )
    return [r["published_at"] for r in rows(db, sql, (f'"{word}"',))]


@pytest.mark.parametrize(
    ("matches", "articles", "walk"),
    [
        (90_000, 1_000_000, True),
        (2_001, 1_000_000, True),
        (1_999, 1_000_000, False),
        (12, 1_000_000, False),
        (0, 0, False),
    ],
)
def test_walk_index_only_for_many_matches(matches: int, articles: int, walk: bool) -> None:
    assert walk_index(matches, articles) is walk


@pytest.mark.slow
def test_common_word_walks_the_index_and_pages_like_the_plain_sort(archive: Path) -> None:
    word, matches = words_by_matches(archive)[0]
    assert walk_index(matches, ARTICLES)
    first = get_json(archive, f"/archive/articles.json?_search={word}&_size=20")
    assert "+rowid in (select rowid from articles_fts" in first["query"]["sql"]
    assert first["filtered_table_rows_count"] == matches
    assert first["facet_results"] == {}  # not computed over a broad search's matches
    everything = expected(archive, word)
    assert [r[7] for r in first["rows"]] == everything[:20]  # published_at is the 8th column
    second = get_json(archive, f"/archive/articles.json?_search={word}&_size=20&_next={first['next']}")
    assert [r[7] for r in second["rows"]] == everything[20:40]
    oldest = get_json(archive, f"/archive/articles.json?_search={word}&_size=20&_sort=published_at")
    assert "+rowid in" in oldest["query"]["sql"]
    assert [r[7] for r in oldest["rows"]] == expected(archive, word, desc=False)[:20]
    kalteng = get_json(archive, f"/archive/articles.json?_search={word}&region=kalteng")
    assert "+rowid in" in kalteng["query"]["sql"]
    in_kalteng = expected(archive, word, "AND region = 'kalteng'")
    assert [r[7] for r in kalteng["rows"]] == in_kalteng[:50]
    assert kalteng["facet_results"]["region"]["results"][0]["count"] == len(in_kalteng)  # a site picked: facets


@pytest.mark.slow
def test_rare_word_and_other_orders_keep_the_plain_search(archive: Path) -> None:
    word, matches = next((w, n) for w, n in reversed(words_by_matches(archive)) if n > 0)
    assert not walk_index(matches, ARTICLES)
    rare = get_json(archive, f"/archive/articles.json?_search={word}")
    assert "+rowid" not in rare["query"]["sql"] and rare["filtered_table_rows_count"] == matches
    per_region = rows(
        archive,
        "SELECT region, count(*) n FROM articles WHERE rowid IN"
        " (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?) GROUP BY region",
        (f'"{word}"',),
    )
    facet = {r["value"]: r["count"] for r in rare["facet_results"]["region"]["results"]}
    assert facet == {r["region"]: r["n"] for r in per_region}
    assert [r[7] for r in rare["rows"]] == expected(archive, word)
    common, _ = words_by_matches(archive)[0]
    by_title = get_json(archive, f"/archive/articles.json?_search={common}&_sort=title")
    assert "+rowid" not in by_title["query"]["sql"]


def test_facets_of_a_broad_search_are_recognised() -> None:
    inner = "select url from articles where +rowid in (select rowid from articles_fts where articles_fts match :search)"
    assert broad_search_facet(f"select region as value, count(*) as count from ({inner}) group by region")
    assert not broad_search_facet(inner + " order by published_at desc limit 51")  # the page itself
    in_site = inner.replace("where +rowid", "where region = :p0 and +rowid")
    assert not broad_search_facet(f"select region as value, count(*) as count from ({in_site}) group by region")
    plain = inner.replace("+rowid", "rowid")
    assert not broad_search_facet(f"select region as value, count(*) as count from ({plain}) group by region")


def test_count_of_a_plain_search_comes_from_the_fts_index() -> None:
    plain = (
        "select count(*) from articles where rowid in"
        " (select rowid from articles_fts where articles_fts match escape_fts(:search)) "
    )
    fts = "select count(*) from articles_fts where articles_fts match escape_fts(:search)"
    assert search_count_sql(plain) == fts
    assert search_count_sql(plain.replace("rowid in", "+rowid in", 1)) == fts
    assert search_count_sql(plain.replace("escape_fts(:search)", ":search")) == fts.replace(
        "escape_fts(:search)", ":search"
    )
    assert search_count_sql(plain + "and region = :p0 ") is None  # another filter: the table counts
    assert search_count_sql("select count(*) from articles ") is None


@pytest.mark.slow
def test_unfiltered_facets_are_kept_until_the_archive_changes(tmp_path: Path) -> None:
    """In an archive without facet counts (older than schema version 8; tests/test_facet_counts.py
    has the counted facets), the unfiltered list's facets are computed once per archive change."""
    db = tmp_path / "archive.db"
    write(db, 0, 40)
    conn = sqlite3.connect(db)
    with conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
            if name.startswith("facet_counts_"):
                conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DROP TABLE facet_counts")
    conn.close()

    def regions(data: dict[str, Any]) -> dict[str, int]:
        return {r["value"]: r["count"] for r in data["facet_results"]["region"]["results"]}

    async def run() -> None:
        ds = build_datasette(db)
        await ds.invoke_startup()
        cache = ds.get_database("archive").facet_cache
        first = (await ds.client.get("/archive/articles.json")).json()
        assert sum(regions(first).values()) == 40
        kept = dict(cache)
        assert len(kept) >= 5  # region, category, tags, local day, month
        again = (await ds.client.get("/archive/articles.json")).json()
        assert regions(again) == regions(first)
        assert all(cache[sql] is kept[sql] for sql in kept)  # reused, not recomputed
        filtered = (await ds.client.get("/archive/articles.json?region=kalteng")).json()
        assert sum(regions(filtered).values()) == regions(first).get("kalteng", 0)
        assert dict(cache) == kept  # a filtered list is never kept
        write(db, 40, 50)
        after = (await ds.client.get("/archive/articles.json")).json()
        expected = Counter(r["region"] for r in rows(db, "SELECT region FROM articles"))
        assert regions(after) == dict(expected) and sum(expected.values()) == 50

    asyncio.run(run())
