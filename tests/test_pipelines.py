"""The crawl's group commits (crawler/scrapy/pipelines.py): what a record the archive refuses costs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from archive import Archive
from tests.conftest import RunningSite, crawl_sample
from tests.test_archive_failures import assert_whole, query
from tests.test_crawl_e2e import expected_reach


def test_a_record_that_breaks_a_constraint_is_left_out_alone(sample_site: RunningSite, tmp_path: Path) -> None:
    """A group is written without a savepoint per item; when one item breaks a constraint the
    group is written again item by item, and that item alone is left out (logged), the rest of
    its group stored whole and counted."""
    good, _ = expected_reach(sample_site.site, ("kalteng",), 1, 0)
    assert len(good) > 5
    refused = sorted(good)[len(good) // 2]
    db = tmp_path / "a.db"
    Archive(db).close()
    conn = sqlite3.connect(db)
    site, article_id = refused
    conn.execute(  # raise(abort) is a constraint failure (sqlite3.IntegrityError)
        f"CREATE TRIGGER refuse BEFORE INSERT ON articles WHEN new.site = '{site}' AND new.article_id = {article_id}"
        " BEGIN SELECT raise(abort, 'refused'); END"
    )
    conn.commit()
    conn.close()
    result = crawl_sample(sample_site, db, "--region", "kalteng", "--max-pages", "1", "--follow-depth", "0", "-q")
    assert result.returncode == 0, result.stderr[-2000:]
    assert f"cannot store {good[refused].url}" in result.stderr
    assert result.stderr.count("cannot store") == 1
    stored = {(r["site"], r["article_id"]) for r in query(db, "SELECT site, article_id FROM articles")}
    assert stored == set(good) - {refused}
    run = dict(query(db, "SELECT * FROM crawl_runs")[0])
    assert (run["outcome"], run["articles_new"]) == ("finished", len(good) - 1)
    # the WARC records of the refused article's page are indexed with the rest of its group
    sql = "SELECT count(*) AS n FROM captures WHERE url LIKE ? AND record_type = 'response'"
    assert query(db, sql.replace("?", f"'https://{site}/berita/{article_id}/%'"))[0]["n"] == 1
    assert_whole(db, sample_site.site)
