"""Story assignment (archive/stories.py) against the truth of a republishing sample site."""

from __future__ import annotations

import csv
import json
import random
import re
import shutil
import sqlite3
import subprocess
import time
from collections import Counter
from datetime import timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from datasketch import LeanMinHash, MinHash, MinHashLSH
from sqlite_utils import Database

from archive import Archive
from archive import stories as S
from crawler.cli.main import cli
from crawler.domain.lock import hold_lock
from crawler.domain.regions import REGIONS
from crawler.samplesite import SampleSite
from crawler.samplesite.clock import truth
from crawler.samplesite.model import ArticleSpec
from crawler.samplesite.records import article_record
from tests.conftest import crawl_sample, run_cli, serve_site
from tests.test_serve import get
from tests.test_serve_article import esc, page_path, section

ARTICLES = 1500


@lru_cache(maxsize=1)
def _site() -> SampleSite:
    return SampleSite(ARTICLES, seed=3, republish=True)


def _specs() -> list[ArticleSpec]:
    site = _site()
    return [s for s in (site.article_at(k) for k in range(ARTICLES)) if s.fault is None]


def _row(spec: ArticleSpec, url: str | None = None) -> S.StoryArticle:
    return S.StoryArticle(url or spec.url, spec.title, spec.body, spec.published_at, spec.host)


def _pairs(counts: Counter[object]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def _kind(site: SampleSite, spec: ArticleSpec) -> str | None:
    relation = site.relation(spec)
    return None if relation is None else relation[0]


@pytest.mark.slow
def test_precision_and_recall_on_the_labelled_set() -> None:
    specs = _specs()
    rows = [_row(s) for s in specs]
    story = {s.url: _site().story(s) for s in specs}
    assigned = S.assign_stories(rows)
    both = _pairs(Counter((assigned[r], story[r]) for r in assigned))
    predicted, actual = _pairs(Counter(assigned.values())), _pairs(Counter(story.values()))
    assert actual > 300  # the set has many stories of several articles
    assert both / predicted >= 0.98
    assert both / actual >= 0.95


@pytest.mark.slow
def test_ids_are_deterministic_and_independent_of_input_order() -> None:
    rows = [_row(s) for s in _specs()[:600]]
    first = S.assign_stories(rows)
    shuffled = rows[:]
    random.Random(5).shuffle(shuffled)
    assert S.assign_stories(shuffled) == first
    # story ids are 1, 2, 3... in the publication order of each story's earliest article
    earliest: list[int] = []
    for row in sorted(rows, key=S.assignment_order):
        if first[row.url] not in earliest:
            earliest.append(first[row.url])
    assert earliest == list(range(1, len(earliest) + 1))
    assert len(earliest) < len(rows)


def test_a_republished_copy_with_edits_joins_its_source() -> None:
    site = _site()
    source = next(s for s in _specs() if _kind(_site(), s) is None and len(s.paragraphs) >= 5)
    lead = source.paragraphs[0].split(" (ANTARA) - ", 1)[1]
    edited = [f"Palangka Raya (ANTARA) - {lead}", *source.paragraphs[1:-1]]  # new dateline, last paragraph cut
    edited.insert(2, f"Baca juga: {site.article_at(0).title}")
    edited.append("Berita ini juga disiarkan ANTARA News Kalteng.")
    copy = S.StoryArticle("https://kalteng.x/2", "Judul lain", "\n\n".join(edited), source.published_at, "kalteng.x")
    assigned = S.assign_stories([_row(source), copy])
    assert assigned == {source.url: 1, copy.url: 1}


@pytest.mark.slow
def test_a_same_topic_story_does_not_join() -> None:
    site = _site()
    siblings = [s for s in _specs() if _kind(site, s) == "sibling"][:40]
    assert len(siblings) == 40
    for sibling in siblings:
        relation = site.relation(sibling)
        assert relation is not None
        topic = relation[1]
        assert sibling.dateline == topic.dateline and sibling.paragraphs[0] != topic.paragraphs[0]
        first, second = sorted([topic, sibling], key=lambda s: S.order_key(s.published_at, s.url))
        assert S.assign_stories([_row(topic), _row(sibling)]) == {first.url: 1, second.url: 2}


def test_every_republished_copy_of_the_site_joins_its_source() -> None:
    site = _site()
    copies = [s for s in _specs() if _kind(site, s) == "copy"]
    assert len(copies) > 200
    joined = 0
    for copy in copies:
        root = site.article_by_url(site.story(copy))
        assert root is not None and root.url != copy.url
        joined += S.similarity(S.signature(root.body), S.signature(copy.body)) >= S.THRESHOLD
    assert joined / len(copies) >= 0.95


def _datasketch_signature(body: str) -> np.ndarray:
    sketch = MinHash(num_perm=S.NUM_PERM, seed=S.SEED, scheme=S.SCHEME)
    sketch.update_batch(sorted(S.shingles(body)))
    return np.asarray(sketch.hashvalues, dtype=np.uint32)


def test_signatures_are_datasketch_minhash_values() -> None:
    """Signatures are the hash values datasketch's MinHash gives for the same seed, scheme and
    shingles, so the signatures stored by earlier versions (made with datasketch) stay comparable.
    The batch covers empty and tiny bodies between others, a body longer than a slab of shingles,
    and slabs that end mid-batch."""
    words = [w for s in _specs()[:50] for w in s.body.split()]
    bodies = [s.body for s in _specs()[:300]]
    bodies[10:10] = ["", "   \n\n ", "Satu", "satu dua tiga empat lima", "satu dua tiga empat lima enam"]
    bodies[100:100] = ["Jakarta (ANTARA) - " + " ".join(words[:3000]), "Bengkulu (ANTARA) - Hari ini ÄÖ ŞİĞ ünü 12,5"]
    bodies.append(" ".join(words[: 2 * 1024 + 7]))
    assert len(S.shingles(bodies[100])) > 1024
    got = S.signatures(bodies)
    assert got.dtype == np.uint32 and got.shape == (len(bodies), S.NUM_PERM)
    for k, body in enumerate(bodies):
        expected = _datasketch_signature(body)
        assert (got[k] == expected).all(), (k, body[:60])
        assert (S.signature(body) == expected).all()
    assert (got[10] == np.uint32(0xFFFFFFFF)).all() and (got[11] == got[10]).all()
    assert len({g.tobytes() for g in got}) > 250  # (republished copies share their source's)


NOW = "2026-12-01T00:00:00+00:00"


def test_band_candidates_are_those_of_datasketch_lsh() -> None:
    """StoryIndex's vectorised bands find the candidates datasketch's MinHashLSH finds."""
    specs = sorted(_specs()[:400], key=lambda s: S.order_key(s.published_at, s.url))
    sigs = [S.signature(s.body) for s in specs]
    lsh = MinHashLSH(threshold=S.LSH_THRESHOLD, num_perm=S.NUM_PERM)
    assert (lsh.b, lsh.r) == (S.BANDS, S.ROWS)
    for k, sig in enumerate(sigs):
        lsh.insert(k, LeanMinHash(seed=S.SEED, hashvalues=sig, scheme=S.SCHEME))
    held = np.array(sigs)
    found = 0
    for sig in sigs:
        banded = S._band_match(held, sig)
        assert (banded == (held == sig).reshape(len(sigs), S.BANDS, S.ROWS).all(axis=2).any(axis=1)).all()
        expected = set(lsh.query(LeanMinHash(seed=S.SEED, hashvalues=sig, scheme=S.SCHEME)))
        assert set(np.nonzero(banded)[0].tolist()) == expected
        found += len(expected) > 1
    assert found > 50


def _archive(path: Path, specs: list[ArticleSpec]) -> Archive:
    archive = Archive(path)
    archive.sync_regions(r.as_row() for r in REGIONS)
    archive.upsert_many(article_record(s) for s in specs)
    return archive


def _update(archive: Archive) -> S.StoryUpdate:
    with archive.transaction("story assignment"):
        return S.update_stories(archive.db, now=NOW)


def _archive_in_chunks(tmp_path: Path, chunks: int) -> tuple[Database, list[int]]:
    specs = sorted(_specs()[:600], key=lambda s: S.order_key(s.published_at, s.url))
    archive = _archive(tmp_path / f"a{chunks}.db", [])
    counts = []
    size = -(-len(specs) // chunks)
    for start in range(0, len(specs), size):
        archive.upsert_many(article_record(s) for s in specs[start : start + size])
        counts.append(_update(archive).assigned)
    return archive.db, counts


def _table(db: Database, name: str) -> list[dict[str, Any]]:
    return list(db.query(f"select * from [{name}] order by 1"))


@pytest.fixture(scope="module")
def in_chunks(tmp_path_factory: pytest.TempPathFactory) -> tuple[Database, list[int]]:
    """600 articles stored and assigned in 5 steps of publication time, as 5 crawls would."""
    return _archive_in_chunks(tmp_path_factory.mktemp("chunks"), 5)


@pytest.mark.slow
def test_incremental_updates_equal_one_batch(in_chunks: tuple[Database, list[int]], tmp_path: Path) -> None:
    db, counts = in_chunks
    assert len(counts) == 5 and sum(counts) == 600
    assert S.update_stories(db) == S.StoryUpdate()
    incremental = {r["article_url"]: r["story_id"] for r in db.table("article_stories").rows}
    rows = [
        S.StoryArticle(*row)
        for row in db.execute("select url, title, body, published_at, site from articles").fetchall()
    ]
    assert incremental == S.assign_stories(rows)
    once, _ = _archive_in_chunks(tmp_path, 1)
    for name in ("stories", "article_stories", "story_signatures"):
        assert _table(once, name) == _table(db, name), name
    assert list(once.query("select url, story_id from articles order by url")) == list(
        db.query("select url, story_id from articles order by url")
    )


@pytest.mark.slow
def test_articles_story_id_follows_article_stories(in_chunks: tuple[Database, list[int]]) -> None:
    db, _ = in_chunks
    assert db.execute("select count(*) from articles where story_id is null").fetchone()[0] == 0
    mismatched = db.execute(
        "select count(*) from articles a join article_stories s on s.article_url = a.url where a.story_id != s.story_id"
    ).fetchone()[0]
    assert mismatched == 0
    # a matched article is an earlier member of the same story
    for row in db.query(
        "select s.story_id, s.matched_url, s.similarity, m.story_id as matched_story from article_stories s"
        " join article_stories m on m.article_url = s.matched_url"
    ):
        assert row["story_id"] == row["matched_story"] and row["similarity"] >= S.THRESHOLD


@pytest.mark.slow
def test_stories_table_summarises_members(in_chunks: tuple[Database, list[int]]) -> None:
    db, _ = in_chunks
    members: dict[int, list[dict[str, Any]]] = {}
    for row in db.query(
        "select s.story_id, a.url, a.published_at, a.site"
        " from article_stories s join articles a on a.url = s.article_url"
    ):
        members.setdefault(row["story_id"], []).append(row)
    stories = {r["story_id"]: r for r in db.table("stories").rows}
    assert set(stories) == set(members) == set(range(1, len(stories) + 1))
    multi = [s for s in stories.values() if s["member_count"] > 1]
    assert len(multi) > 30
    for story_id, found in members.items():
        row = stories[story_id]
        first = min(found, key=lambda m: S.order_key(m["published_at"], m["url"]))
        assert row["member_count"] == len(found)
        assert json.loads(row["sites"]) == sorted({m["site"] for m in found})
        assert (row["first_url"], row["first_published_at"]) == (first["url"], first["published_at"])
    assert any(len(json.loads(s["sites"])) > 1 for s in multi)
    # ids follow the publication order of each story's first article
    firsts = sorted(stories.values(), key=lambda r: S.order_key(r["first_published_at"], r["first_url"]))
    assert [r["story_id"] for r in firsts] == sorted(stories)


@pytest.mark.slow
def test_a_rebuild_gives_the_same_stories(in_chunks: tuple[Database, list[int]], tmp_path: Path) -> None:
    db = Database(tmp_path / "copy.db")
    in_chunks[0].conn.backup(db.conn)  # the archive is open: its write-ahead log too
    before = {name: _table(db, name) for name in ("stories", "article_stories")}
    with db.conn:
        assert S.clear_stories(db) == 600
    assert db.execute("select count(*) from articles where story_id is not null").fetchone()[0] == 0
    assert _table(db, "stories") == [] and _table(db, "story_signatures") == []
    done: list[int] = []
    with db.conn:
        update = S.update_stories(db, progress=done.append, now=NOW)
    assert update.assigned == 600 == sum(done) and update.started + update.joined == 600
    assert max(done) <= S.CHUNK
    assert {name: _table(db, name) for name in before} == before


def test_a_failed_update_leaves_nothing_half_written(tmp_path: Path) -> None:
    archive = _archive(tmp_path / "a.db", _specs()[:50])
    archive.db.execute("create trigger refuse before insert on story_signatures begin select raise(abort, 'no'); end")
    with pytest.raises(sqlite3.IntegrityError):  # raise(abort) is a constraint failure: rolled back as is
        _update(archive)
    for name in ("stories", "article_stories", "story_signatures"):
        assert _table(archive.db, name) == []
    assert archive.db.execute("select count(*) from articles where story_id is not null").fetchone()[0] == 0


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Jakarta (ANTARA) - Presiden meresmikan jembatan.", ["presiden", "meresmikan", "jembatan"]),
        ("Palangka Raya (ANTARA) – Gubernur hadir.", ["gubernur", "hadir"]),
        ("Tanpa dateline (ANTARA) di tengah kalimat.", ["tanpa", "dateline", "antara", "di", "tengah", "kalimat"]),
        ("  Ambon (ANTARA) -   Warga  Ambon senang.", ["warga", "ambon", "senang"]),
    ],
)
def test_words_drop_the_dateline(body: str, expected: list[str]) -> None:
    assert S.words(body) == expected


def test_the_default_sample_site_has_no_republished_stories() -> None:
    plain, republishing = SampleSite(200, seed=3), SampleSite(200, seed=3, republish=True)
    rows = [row for region in truth(plain)["articles"].values() for row in region]
    assert rows and all("story" not in row for row in rows)
    stories = [row["story"] for region in truth(republishing)["articles"].values() for row in region]
    assert len(set(stories)) < len(stories)
    # articles that neither copy nor follow another are the same in both networks
    originals = [k for k in range(200) if republishing.relation(republishing.article_at(k)) is None]
    assert 0 < len(originals) < 200
    for k in originals:
        spec, before = republishing.article_at(k), plain.article_at(k)
        assert (spec.url, spec.title, spec.body, spec.published_at) == (
            before.url,
            before.title,
            before.body,
            before.published_at,
        )


@pytest.mark.parametrize(("days", "joins"), [(0, True), (3, True), (6.9, True), (7.1, False), (400, False)])
def test_a_copy_joins_only_within_the_window(days: float, joins: bool) -> None:
    source = _specs()[0]
    when = S.instant(source.published_at) + timedelta(days=days)
    copy = S.StoryArticle("https://kalteng.antaranews.com/c", source.title, source.body, when.isoformat(), "k")
    assert S.assign_stories([_row(source), copy]) == {source.url: 1, copy.url: 1 if joins else 2}


def test_an_update_compares_with_held_signatures_not_bodies(tmp_path: Path) -> None:
    """A later update matches new articles against the stored signatures of earlier ones."""
    specs = sorted(_specs()[:300], key=lambda s: S.order_key(s.published_at, s.url))
    archive = _archive(tmp_path / "a.db", specs)
    assert _update(archive).assigned == 300
    source = specs[-1]
    later = (S.instant(source.published_at) + timedelta(hours=3)).astimezone(timezone(timedelta(hours=7)))
    copy = dict(article_record(specs[0]), url="https://kalteng.antaranews.com/berita/999999/x", article_id=999999)
    copy.update(body=source.body, published_at=later.isoformat(timespec="seconds"), site="kalteng.antaranews.com")
    copy.update(region="kalteng")
    archive.upsert_many([copy])
    archive.db.execute("update articles set body = '' where url = ?", [source.url])  # only the signature is left
    update = _update(archive)
    assert (update.assigned, update.joined, update.started) == (1, 1, 0)
    story = archive.db.table("article_stories").get(copy["url"])
    assert story["story_id"] == archive.db.table("article_stories").get(source.url)["story_id"]
    assert story["matched_url"] == source.url and story["assigned_at"] == NOW
    assert archive.db.table("stories").get(story["story_id"])["member_count"] >= 2
    assert archive.db.table("articles").get(copy["url"])["story_id"] == story["story_id"]


# -- antara stories, exports, the article page ------------------------------------------------------


@pytest.fixture(scope="module")
def unassigned_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of 400 articles of the republishing site with no story assigned (as an upgraded
    schema-5 archive is)."""
    path = tmp_path_factory.mktemp("stories") / "archive.db"
    _archive(path, _specs()[:400]).close()
    return path


def _copy(db: Path, folder: Path) -> Path:
    target = folder / db.name
    shutil.copy(db, target)
    return target


def _assigned(db: Path) -> Path:
    archive = Archive(db)
    with archive:
        _update(archive)
    return db


@pytest.mark.slow
def test_stories_command_assigns_every_article_and_rebuilds_the_same(unassigned_db: Path, tmp_path: Path) -> None:
    db = _copy(unassigned_db, tmp_path)
    result = run_cli("stories", "--db", str(db))
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    assert "\n" not in line and result.stderr == ""  # no bar: stderr is not a terminal
    assert re.fullmatch(
        r"Assigned 400 articles to stories: \d+ new stories, \d+ joined a story published before; the archive"
        r" holds \d+ stories, \d+ of them published by more than one article, in \d+\.\ds",
        line,
    ), line
    conn = sqlite3.connect(db)
    assert conn.execute("select count(*) from articles where story_id is null").fetchone()[0] == 0
    before = conn.execute("select url, story_id from articles order by url").fetchall()
    stories_before = conn.execute("select * from stories order by story_id").fetchall()
    conn.close()
    again = run_cli("stories", "--db", str(db))
    assert again.returncode == 0 and again.stdout.startswith("Every article already has a story;"), again.stdout
    rebuilt = run_cli("stories", "--db", str(db), "--rebuild")
    assert rebuilt.returncode == 0 and "(rebuilt: 400 assignments forgotten)" in rebuilt.stdout, rebuilt.stdout
    conn = sqlite3.connect(db)
    assert conn.execute("select url, story_id from articles order by url").fetchall() == before
    assert conn.execute("select * from stories order by story_id").fetchall() == stories_before
    conn.close()


def _not_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "notes.db"
    path.write_bytes(b"these are not the droids " * 200)
    return path


def _other_sqlite(tmp_path: Path) -> Path:
    path = tmp_path / "other.db"
    Database(path)["things"].insert({"a": 1})
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.db", r"archive .*missing\.db does not exist"),
        (lambda p: p, r"Invalid value for '--db': File '.*' is a directory\."),
        (_not_sqlite, r"cannot read .*notes\.db as an archive: file is not a database"),
        (_other_sqlite, r".*other\.db is not an antara archive \(it has no articles table\)"),
    ],
)
def test_stories_command_errors_are_one_line(tmp_path: Path, make: Any, message: str) -> None:
    path = make(tmp_path)
    before = path.read_bytes() if path.is_file() else None
    result = CliRunner().invoke(cli, ["stories", "--db", str(path)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("antara: error: "), result.stderr
    assert re.fullmatch(message, result.stderr[len("antara: error: ") :].strip()), result.stderr
    if before is not None:
        assert path.read_bytes() == before  # never turned into an archive


def test_stories_command_waits_for_no_crawl(unassigned_db: Path, tmp_path: Path) -> None:
    db = _copy(unassigned_db, tmp_path)
    lock = hold_lock(db)
    try:
        result = CliRunner().invoke(cli, ["stories", "--db", str(db)])
    finally:
        lock.close()
    assert result.exit_code == 1 and result.stderr.startswith(f"antara: error: another crawl is already writing {db}")
    assert sqlite3.connect(db).execute("select count(*) from article_stories").fetchone()[0] == 0


def _export(db: Path, fmt: str, output: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("export", "--db", str(db), "--format", fmt, "--output", str(output), *args, timeout=120)


@pytest.mark.slow
def test_export_dedupe_keeps_the_first_article_of_each_story(unassigned_db: Path, tmp_path: Path) -> None:
    db = _assigned(_copy(unassigned_db, tmp_path))
    conn = sqlite3.connect(db)
    first = dict(conn.execute("select story_id, first_url from stories").fetchall())
    assigned = dict(conn.execute("select url, story_id from articles").fetchall())
    conn.close()
    assert len(first) < len(assigned)
    for fmt in ("jsonl", "csv", "parquet"):
        everything, one = tmp_path / f"all.{fmt}", tmp_path / f"one.{fmt}"
        assert _export(db, fmt, everything).returncode == 0
        result = _export(db, fmt, one, "--dedupe")
        assert result.returncode == 0, result.stderr
        assert f"Exported {len(first):,} articles" in result.stderr
        for path, expected in ((everything, assigned), (one, {url: assigned[url] for url in first.values()})):
            rows = _read(path, fmt)
            assert {r["url"]: int(r["story_id"]) for r in rows} == expected, (fmt, path)


@pytest.mark.slow
def test_export_dedupe_within_a_selection_keeps_its_earliest_member(unassigned_db: Path, tmp_path: Path) -> None:
    db = _assigned(_copy(unassigned_db, tmp_path))
    conn = sqlite3.connect(db)
    # a story whose first article is on another site than one of its later members
    story_id, first_url, region = conn.execute(
        "select s.story_id, s.first_url, a.region from stories s join articles a on a.story_id = s.story_id"
        " join articles f on f.url = s.first_url where a.region != f.region order by s.story_id limit 1"
    ).fetchone()
    members = conn.execute(
        "select url, published_at from articles where story_id = ? and region = ?", (story_id, region)
    ).fetchall()
    in_region = dict(conn.execute("select url, story_id from articles where region = ?", (region,)).fetchall())
    conn.close()
    earliest = min(members, key=lambda m: S.order_key(m[1], m[0]))[0]
    out = tmp_path / "region.jsonl"
    assert _export(db, "jsonl", out, "--region", region, "--dedupe").returncode == 0
    rows = _read(out, "jsonl")
    assert first_url not in {r["url"] for r in rows}
    kept = [r["url"] for r in rows if r["story_id"] == story_id]
    assert kept == [earliest]
    assert sorted(r["story_id"] for r in rows) == sorted(set(in_region.values()))


def test_export_dedupe_refuses_an_archive_without_stories(unassigned_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.jsonl"
    result = CliRunner().invoke(
        cli, ["export", "--db", str(unassigned_db), "--format", "jsonl", "-o", str(out), "--dedupe"]
    )
    assert result.exit_code == 2 and not out.exists()
    assert result.stderr == (
        f"antara: error: {unassigned_db} has articles without a story, so --dedupe cannot keep one per story;"
        f" run: antara stories --db {unassigned_db}\n"
    )
    wacz = CliRunner().invoke(
        cli, ["export", "--db", str(unassigned_db), "--format", "wacz", "-o", str(tmp_path / "x.wacz"), "--dedupe"]
    )
    assert wacz.exit_code == 2 and "--dedupe does not apply to --format wacz" in wacz.stderr


def _read(path: Path, fmt: str) -> list[dict[str, Any]]:
    if fmt == "jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    if fmt == "csv":
        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    return pq.read_table(path).to_pylist()  # type: ignore[no-any-return]


@pytest.mark.slow
def test_article_page_lists_the_other_members_of_its_story(unassigned_db: Path, tmp_path: Path) -> None:
    db = _assigned(_copy(unassigned_db, tmp_path))
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    story = conn.execute("select * from stories where member_count >= 3 order by story_id limit 1").fetchone()
    members = conn.execute("select * from articles where story_id = ?", (story["story_id"],)).fetchall()
    alone = conn.execute(
        "select a.url from articles a join stories s on s.story_id = a.story_id where s.member_count = 1 limit 1"
    ).fetchone()[0]
    conn.close()
    page, single = get(db, page_path(story["first_url"]), page_path(alone))
    assert page.status_code == 200 and single.status_code == 200
    html = section(page.text, 'id="also-published"', "</section>")
    others = sorted(
        (m for m in members if m["url"] != story["first_url"]), key=lambda m: S.order_key(m["published_at"], m["url"])
    )
    items = re.findall(r"<li[^>]*>(.*?)</li>", html, re.S)
    assert len(items) == len(others) == story["member_count"] - 1
    for item, other in zip(items, others, strict=True):
        assert f'href="{esc(page_path(other["url"]))}"' in item
        assert esc(other["title"]) in item and other["site"] in item and other["published_at"][:10] in item
    assert "first published" not in html  # the first article is the page itself
    later = get(db, page_path(others[-1]["url"]))[0].text
    also = section(later, 'id="also-published"', "</section>")
    assert f'href="{esc(page_path(story["first_url"]))}"' in also and "first published" in also
    assert 'id="also-published"' not in single.text or "No other archived article" in single.text


@pytest.mark.slow
def test_a_crawl_assigns_the_stories_of_what_it_stored(tmp_path: Path) -> None:
    site = SampleSite(500, seed=3, republish=True)
    db = tmp_path / "archive.db"
    with serve_site(site, tmp_path) as running:
        result = crawl_sample(running, db, "--all-regions")
    assert result.returncode == 0, result.stderr[-2000:]
    conn = sqlite3.connect(db)
    assigned = dict(conn.execute("select url, story_id from articles").fetchall())
    linked = dict(conn.execute("select article_url, story_id from article_stories").fetchall())
    conn.close()
    assert len(assigned) > 250 and None not in assigned.values() and linked == assigned
    story = {row["url"]: row["story"] for rows in truth(site)["articles"].values() for row in rows}
    both = _pairs(Counter((assigned[u], story[u]) for u in assigned))
    predicted, actual = _pairs(Counter(assigned.values())), _pairs(Counter(story[u] for u in assigned))
    assert actual > 20
    assert both / predicted >= 0.98 and both / actual >= 0.95
    # antara reextract rebuilds the archive from the crawl's WARC files: the same stories
    rebuilt = tmp_path / "rebuilt.db"
    replayed = run_cli("reextract", "--warc", f"{db}.warc", "--db", str(rebuilt), "--quiet")
    assert replayed.returncode == 0, replayed.stderr[-2000:]
    conn = sqlite3.connect(rebuilt)
    assert dict(conn.execute("select url, story_id from articles").fetchall()) == assigned
    conn.close()


@pytest.mark.slow
@pytest.mark.redis
def test_an_ingester_assigns_the_stories_of_a_finished_run(redis_url: str, tmp_path: Path) -> None:
    from crawler.distributed import keys, messages
    from crawler.distributed.ingest import Ingester
    from crawler.distributed.state import RunState, connect
    from crawler.domain.items import Article, ArticlePage

    source = next(s for s in _specs() if s.host == "kalteng.antaranews.com" and len(s.paragraphs) >= 4)
    lead = source.paragraphs[0].split(" (ANTARA) - ", 1)[1]
    copy_body = "\n\n".join([f"Banjarmasin (ANTARA) - {lead}", *source.paragraphs[1:-1]])
    original = Article(
        url=source.url, site=source.host, region="kalteng", article_id=source.article_id, title=source.title,
        body=source.body, published_at=source.published_at, published_at_raw="-",
    )  # fmt: skip
    copy = Article(
        url="https://kalsel.antaranews.com/berita/777/salinan", site="kalsel.antaranews.com", region="kalsel",
        article_id=777, title="Judul lain", body=copy_body, published_at=source.published_at, published_at_raw="-",
    )  # fmt: skip
    server = connect(redis_url)
    run = RunState("s1", "running", {}, time.time(), ledger={"mode": "full", "regions": ["kalteng", "kalsel"]})
    run.save(server)
    server.lpush(keys.ITEMS, messages.run_started("s1", run.ledger, run.seeded_at))
    for k, article in enumerate((original, copy)):
        server.lpush(keys.ITEMS, messages.encode(ArticlePage(article, None, None, []), "s1", f"w1/{k}"))
    server.sadd(keys.RUN_WORKERS, "w1")  # gone (no heartbeat): the run is over once its items are stored
    with Archive(tmp_path / "archive.db") as archive:
        assert Ingester(server, archive, batch=10, wait=0.1).run().finished_runs == [1]
        stories = [dict(r) for r in archive.db.query("select url, story_id from articles order by url")]
    assert [r["story_id"] for r in stories] == [1, 1]
