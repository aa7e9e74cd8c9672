"""The facet counts the archive keeps (``facet_counts``, schema version 8): after every kind of
write they equal the GROUP BY counts of the rows, and ``antara serve`` shows the unfiltered
article list's facets from them exactly as it would have counted them."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from archive import Archive
from archive.schema import ARTICLE_FACETS
from crawler.domain.regions import SITES
from crawler.samplesite import SampleSite
from crawler.samplesite.records import article_record
from crawler.serve.plugins.antara_archive import counted_facet_sql, unfiltered_facet
from tests.conftest import RunningSite, crawl_sample, crawl_with_a_correction, run_cli
from tests.test_serve import get_json

FIXTURES = Path(__file__).parent / "fixtures"
FACETS = ("region", "language", "category", "tags", "local_date", "month")  # metadata.yml's, in its order


def grouped(db: Path) -> dict[str, dict[str, int]]:
    """Every facet's counts as GROUP BY over the rows finds them."""
    conn = sqlite3.connect(db)
    try:
        counts: dict[str, dict[str, int]] = {}
        for name, sql in ARTICLE_FACETS.items():
            query = f"SELECT value, count(*) FROM (SELECT {sql.format(row='articles')} AS value FROM articles)"
            counts[name] = dict(conn.execute(f"{query} WHERE value IS NOT NULL GROUP BY value"))
        counts["tags"] = dict(
            conn.execute("SELECT t.name, count(*) FROM article_tags a JOIN tags t ON t.id = a.tag_id GROUP BY a.tag_id")
        )
        return counts
    finally:
        conn.close()


def kept(db: Path) -> dict[str, dict[str, int]]:
    """The counts of ``facet_counts`` (values no article has any more left out)."""
    conn = sqlite3.connect(db)
    try:
        counts: dict[str, dict[str, int]] = {name: {} for name in FACETS}
        for facet, value, count in conn.execute("SELECT facet, value, count FROM facet_counts WHERE count != 0"):
            counts[facet][value] = count
        return counts
    finally:
        conn.close()


def month_of(published_at: str) -> str:
    """The month the month facet of the list shows for a ``published_at`` (its local month)."""
    return published_at[:7]


def test_counts_follow_inserts_updates_renames_tags_and_deletes(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    site = SampleSite(seed=5)
    with Archive(db) as archive:
        archive.sync_regions(r.as_row() for r in SITES)
        records = [article_record(site.article_at(k)) for k in range(60)]
        archive.upsert_many(records, None)
        assert kept(db) == grouped(db) and sum(kept(db)["region"].values()) == 60
        # a correction: another section, another day, other tags, an English article
        changed = {
            **records[0],
            "category": "Koreksi",
            "published_at": "2019-01-31T23:30:00+07:00",
            "tags": ["baru", *records[0]["tags"][1:]],
            "language": "en",
            "body": records[0]["body"] + " Ralat.",
            "content_hash": "corrected",
        }
        assert archive.upsert_article(changed, None).outcome == "updated"
        # the same page under another slug (the article's row is renamed), and a repeat unchanged
        moved = {**records[1], "url": records[1]["url"] + "-baru"}
        archive.upsert_article(moved, None)
        archive.upsert_article(records[2], None)
        archive.touch(records[3]["site"], records[3]["article_id"])
        archive.db.execute("UPDATE articles SET category = NULL WHERE url = ?", [records[4]["url"]])
        archive.db.execute("DELETE FROM article_tags WHERE article_url = ?", [records[5]["url"]])
        for table, column in (("article_tags", "article_url"), ("links", "source_url"), ("articles", "url")):
            archive.db.execute(f"DELETE FROM {table} WHERE {column} = ?", [records[6]["url"]])
        archive.db.conn.commit()
    counts = kept(db)
    assert counts == grouped(db)
    assert counts["category"]["Koreksi"] == 1 and counts["language"]["en"] >= 1
    assert counts["month"]["2019-01"] == 1 and counts["local_date"]["2019-01-31"] == 1
    assert counts["tags"]["baru"] == 1 and sum(counts["region"].values()) == 59


def test_month_and_day_are_the_local_ones_the_facets_select(tmp_path: Path) -> None:
    """The month of an article published on the 1st at 02:00 WIB is its local month (UTC: the
    month before), as ``published_at__startswith`` selects it."""
    db = tmp_path / "a.db"
    record = {**article_record(SampleSite(seed=5).article_at(0)), "published_at": "2026-12-01T02:00:00+07:00"}
    with Archive(db) as archive:
        archive.sync_regions(r.as_row() for r in SITES)
        archive.upsert_article(record, None)
    assert kept(db)["month"] == {month_of(record["published_at"]): 1} == {"2026-12": 1}
    assert kept(db)["local_date"] == {"2026-12-01": 1}


def test_the_previous_releases_archive_is_counted_when_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "archive-v4.db"
    path.write_bytes(gzip.decompress((FIXTURES / "archives" / "archive-v4.db.gz").read_bytes()))
    with Archive(path) as archive:
        assert archive.meta("migrated_to_8")
    counts = kept(path)
    assert counts == grouped(path) and all(counts[name] for name in FACETS)
    conn = sqlite3.connect(path)
    zero = conn.execute("SELECT count(*) FROM facet_counts WHERE count <= 0").fetchone()[0]
    conn.close()
    assert zero == 0, "filled from the rows, not by replaying them through the triggers"


def served_facets(db: Path, query: str = "") -> dict[str, Any]:
    facets = get_json(db, f"/archive/articles.json?_size=0{query}")["facet_results"]
    served = {f["type"] if f["name"] == "published_at" else f["name"]: f for f in facets.values()}
    assert sorted(served) == sorted(FACETS)
    return {name: [(v["value"], v["count"]) for v in f["results"]] + [f["truncated"]] for name, f in served.items()}


def without_counts(db: Path, folder: Path) -> Path:
    """A copy of ``db`` as an archive before version 8 has it: no facet_counts (served by GROUP BY)."""
    copy = folder / "no-counts.db"
    source = sqlite3.connect(db)
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    with target:
        target.execute("DROP TABLE facet_counts")
    target.close()
    return copy


def assert_served_as_counted(db: Path, folder: Path) -> None:
    """The unfiltered list's facets are the same from the counts as from GROUP BY (values, counts,
    order, truncation), and they do come from the counts."""
    recount = without_counts(db, folder)
    for query in ("", "&_facet_size=3", "&_facet_size=1"):
        served = served_facets(db, query)
        assert served == served_facets(recount, query), query
        if query == "&_facet_size=1":
            assert {n: f[-1] for n, f in served.items()} == {n: len(v) > 1 for n, v in grouped(db).items()}

    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE facet_counts SET count = count + 1000")
    conn.close()
    for name, served in served_facets(db).items():
        assert served[:-1] and all(count >= 1000 for _, count in served[:-1]), f"{name} served from facet_counts"
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE facet_counts SET count = count - 1000")
    conn.close()


def test_the_served_facets_of_the_whole_list_are_the_counts(tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    site = SampleSite(seed=7)
    with Archive(db) as archive:
        archive.sync_regions(r.as_row() for r in SITES)
        records = [article_record(site.article_at(k)) for k in range(0, 2000, 7)]
        for k, record in enumerate(records[::3]):  # other days and months, some counts tied
            record["published_at"] = f"{2020 + k % 6}-{k % 12 + 1:02d}-{k % 28 + 1:02d}{record['published_at'][10:]}"
        archive.upsert_many(records, None)
    assert_served_as_counted(db, tmp_path)
    # a filtered list is counted from its rows, as before
    filtered = get_json(db, "/archive/articles.json?_size=0&region=jambi")["facet_results"]
    assert [v["value"] for v in filtered["region"]["results"]] == ["jambi"]


def test_only_the_whole_lists_facet_queries_are_answered_from_the_counts() -> None:
    whole = "select region, title, published_at from articles "
    column = (
        f"\n    select region as value, count(*) as count from (\n        {whole}\n    )\n"
        "    where region is not null\n    group by region order by count desc, value limit 36\n"
    )
    assert unfiltered_facet(column, {}) and counted_facet_sql(column) == (
        "select value, count from facet_counts where facet = 'region' and count > 0 order by count desc, value limit 36"
    )
    assert counted_facet_sql(column.replace("region", "reporter")) is None  # not counted
    month = (
        f"select substr(published_at, 1, 7) as value, count(*) as count from ({whole})"
        " where published_at glob '[0-9][0-9][0-9][0-9]-[0-9][0-9]*' group by value order by value desc limit 36"
    )
    assert "facet = 'month'" in str(counted_facet_sql(month))
    assert counted_facet_sql(month.replace("published_at", "first_seen_at")) is None
    assert counted_facet_sql(month.replace("from articles ", "from articles where region = 'x' ")) is None


@pytest.mark.slow
def test_counts_after_crawls_with_a_correction_and_a_reextract(sample_site: RunningSite, tmp_path: Path) -> None:
    db = tmp_path / "a.db"
    crawl_with_a_correction(sample_site, db)
    assert kept(db) == grouped(db) and sum(kept(db)["region"].values()) > 20
    more = crawl_sample(sample_site, db, "--region", "kalsel,en", "--follow-depth", "1", "-q")
    assert more.returncode == 0, more.stderr[-2000:]
    assert kept(db) == grouped(db) and "en" in kept(db)["language"]
    assert_served_as_counted(db, tmp_path)
    rebuilt = tmp_path / "rebuilt.db"
    result = run_cli("reextract", "--warc", f"{db}.warc", "--db", str(rebuilt), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    assert kept(rebuilt) == grouped(rebuilt) == grouped(db)
    refreshed = tmp_path / "refreshed.db"
    shutil.copy(db, refreshed)
    conn = sqlite3.connect(refreshed)
    with conn:  # what an older extractor might have stored: refreshed in place from the capture
        conn.execute("UPDATE articles SET category = 'Salah', extractor_version = '0' WHERE rowid % 3 = 0")
    conn.close()
    assert kept(refreshed) == grouped(refreshed) and "Salah" in kept(refreshed)["category"]
    result = run_cli("reextract", "--warc", f"{db}.warc", "--db", str(refreshed), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    assert kept(refreshed) == grouped(refreshed) == grouped(db)
