"""Story assignment (archive/stories.py) against the truth of a republishing sample site."""

from __future__ import annotations

import json
import random
from collections import Counter
from datetime import timedelta
from functools import lru_cache

import pytest
from sqlite_utils import Database

from archive import Archive
from archive import stories as S
from crawler.domain.regions import REGIONS
from crawler.samplesite import SampleSite
from crawler.samplesite.clock import truth
from crawler.samplesite.model import ArticleSpec
from crawler.samplesite.records import article_record

ARTICLES = 1500


@lru_cache(maxsize=1)
def _site() -> SampleSite:
    return SampleSite(ARTICLES, seed=3, republish=True)


def _specs() -> list[ArticleSpec]:
    site = _site()
    return [s for s in (site.article_at(k) for k in range(ARTICLES)) if s.fault is None]


def _row(rowid: int, spec: ArticleSpec) -> S.StoryArticle:
    return S.StoryArticle(rowid, spec.title, spec.body, spec.published_at, spec.host)


def _pairs(counts: Counter[object]) -> int:
    return sum(n * (n - 1) // 2 for n in counts.values())


def _kind(site: SampleSite, spec: ArticleSpec) -> str | None:
    relation = site.relation(spec)
    return None if relation is None else relation[0]


def test_precision_and_recall_on_the_labelled_set() -> None:
    specs = _specs()
    rows = [_row(k + 1, s) for k, s in enumerate(specs)]
    story = {k + 1: _site().story(s) for k, s in enumerate(specs)}
    assigned = S.assign_stories(rows)
    both = _pairs(Counter((assigned[r], story[r]) for r in assigned))
    predicted, actual = _pairs(Counter(assigned.values())), _pairs(Counter(story.values()))
    assert actual > 300  # the set has many stories of several articles
    assert both / predicted >= 0.98
    assert both / actual >= 0.95


def test_ids_are_deterministic_and_independent_of_input_order() -> None:
    rows = [_row(k + 1, s) for k, s in enumerate(_specs()[:600])]
    first = S.assign_stories(rows)
    shuffled = rows[:]
    random.Random(5).shuffle(shuffled)
    assert S.assign_stories(shuffled) == first
    # a story's id is the rowid of its earliest article
    earliest: dict[int, S.StoryArticle] = {}
    for row in sorted(rows, key=S.assignment_order):
        earliest.setdefault(first[row.rowid], row)
    assert all(story_id == row.rowid for story_id, row in earliest.items())


def test_a_republished_copy_with_edits_joins_its_source() -> None:
    site = _site()
    source = next(s for s in _specs() if _kind(_site(), s) is None and len(s.paragraphs) >= 5)
    lead = source.paragraphs[0].split(" (ANTARA) - ", 1)[1]
    edited = [f"Palangka Raya (ANTARA) - {lead}", *source.paragraphs[1:-1]]  # new dateline, last paragraph cut
    edited.insert(2, f"Baca juga: {site.article_at(0).title}")
    edited.append("Berita ini juga disiarkan ANTARA News Kalteng.")
    copy = S.StoryArticle(2, "Judul yang lain sama sekali", "\n\n".join(edited), source.published_at, "kalteng.x")
    assigned = S.assign_stories([_row(1, source), copy])
    assert assigned == {1: 1, 2: 1}


def test_a_same_topic_story_does_not_join() -> None:
    site = _site()
    siblings = [s for s in _specs() if _kind(site, s) == "sibling"][:40]
    assert len(siblings) == 40
    for sibling in siblings:
        relation = site.relation(sibling)
        assert relation is not None
        topic = relation[1]
        assert sibling.dateline == topic.dateline and sibling.paragraphs[0] != topic.paragraphs[0]
        assert S.assign_stories([_row(1, topic), _row(2, sibling)]) == {1: 1, 2: 2}


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


def _archive_in_chunks(tmp_path, chunks: int) -> tuple[Database, list[int]]:
    specs = sorted(_specs()[:600], key=lambda s: (S.instant(s.published_at), s.url))
    archive = Archive(tmp_path / f"a{chunks}.db")
    archive.sync_regions(r.as_row() for r in REGIONS)
    counts = []
    size = -(-len(specs) // chunks)
    for start in range(0, len(specs), size):
        archive.upsert_many(article_record(s) for s in specs[start : start + size])
        counts.append(S.update_stories(archive.db))
    return archive.db, counts


def test_incremental_updates_equal_one_batch(tmp_path) -> None:
    db, counts = _archive_in_chunks(tmp_path, 5)
    assert len(counts) == 5 and sum(counts) == 600
    assert S.update_stories(db) == 0
    incremental = {r["article_rowid"]: r["story_id"] for r in db.table("article_stories").rows}
    rows = [
        S.StoryArticle(rowid, title, body, published_at, site)
        for rowid, title, body, published_at, site in db.execute(
            "select rowid, title, body, published_at, site from articles"
        ).fetchall()
    ]
    assert incremental == S.assign_stories(rows)
    once, _ = _archive_in_chunks(tmp_path, 1)
    assert {r["article_rowid"]: r["story_id"] for r in once.table("article_stories").rows} == incremental
    assert list(once.table("stories").rows) == list(db.table("stories").rows)


def test_stories_table_summarises_members(tmp_path) -> None:
    db, _ = _archive_in_chunks(tmp_path, 3)
    members: dict[int, list[dict]] = {}
    for row in db.execute(
        "select s.story_id, a.published_at, a.site from article_stories s join articles a on a.rowid = s.article_rowid"
    ).fetchall():
        members.setdefault(row[0], []).append({"published_at": row[1], "site": row[2]})
    stories = {r["story_id"]: r for r in db.table("stories").rows}
    assert set(stories) == set(members)
    multi = [s for s in stories.values() if s["member_count"] > 1]
    assert len(multi) > 30
    for story_id, found in members.items():
        row = stories[story_id]
        assert row["member_count"] == len(found)
        assert json.loads(row["sites"]) == sorted({m["site"] for m in found})
        assert row["first_published_at"] == min(found, key=lambda m: S.instant(m["published_at"]))["published_at"]
    assert any(len(json.loads(s["sites"])) > 1 for s in multi)


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
    copy = S.StoryArticle(2, source.title, source.body, when.isoformat(), "kalteng.antaranews.com")
    assert S.assign_stories([_row(1, source), copy]) == {1: 1, 2: 1 if joins else 2}


def test_an_update_compares_with_held_signatures_not_bodies(tmp_path) -> None:
    """A later update matches new articles against the stored signatures of earlier ones."""
    specs = sorted(_specs()[:300], key=lambda s: S.instant(s.published_at))
    db = Database(tmp_path / "plain.db")
    db["articles"].insert_all(
        {"url": s.url, "title": s.title, "body": s.body, "published_at": s.published_at, "site": s.host} for s in specs
    )
    assert S.update_stories(db) == 300
    source = specs[-1]
    later = (S.instant(source.published_at) + timedelta(hours=3)).isoformat()
    db["articles"].insert({"url": "x", "title": "t", "body": source.body, "published_at": later, "site": "x.y"})
    db.execute("update articles set body = '' where url = ?", [source.url])  # only the signature is left
    assert S.update_stories(db) == 1
    rowid = db.execute("select rowid from articles where url = ?", [source.url]).fetchone()[0]
    story = db.execute("select story_id from article_stories where article_rowid = 301").fetchone()[0]
    assert story == db.execute("select story_id from article_stories where article_rowid = ?", [rowid]).fetchone()[0]
    assert db.table("stories").get(story)["member_count"] >= 2
