"""Which articles are one story: near-duplicate detection over article bodies.

Regional ANTARA sites republish national stories and each other's under a new article id, often
with a new dateline, a trimmed last paragraph, an added closing line or a new headline. Every
article gets a ``story_id``: the rowid of the first article of its story, in the order articles are
assigned (by publication time, then rowid). A new article joins the story of the most similar
earlier article published within :data:`WINDOW_DAYS` before it, when the estimated Jaccard
similarity of their bodies' word shingles is at least :data:`THRESHOLD`; otherwise it starts a story.

Similarity is estimated with MinHash and candidates found with LSH (``datasketch``); the choice
against SimHash, with figures, is in ``bench/stories.py`` and docs. Assignment is deterministic
and incremental: assigning articles in chunks gives the same ids as assigning them all at once.
"""

from __future__ import annotations

import json
import re
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH
from sqlite_utils import Database

SHINGLE = 5  #: words per shingle
NUM_PERM = 128  #: MinHash permutations (the signature is NUM_PERM 32-bit values)
THRESHOLD = 0.5  #: least estimated Jaccard similarity of two bodies of one story
LSH_THRESHOLD = 0.35  #: LSH band layout tuned to catch pairs from this similarity up (then verified)
WINDOW_DAYS = 7  #: a republication is matched only to articles published this many days before it
#: (the index holds about 9 KB per article of the window: 32 LSH bands of 4 values each)
SEED = 1  #: MinHash seed: signatures stored in the database depend on it, and on the scheme
SCHEME = "affine32"

_DATELINE_RE = re.compile(r"^[^\n]{0,80}?\(ANTARA\)\s*[-\u2013\u2014]\s*")
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class StoryArticle:
    """The fields story assignment reads from an archived article."""

    rowid: int  #: rowid of the article in the ``articles`` table
    title: str
    body: str  #: plain-text body, paragraphs separated by blank lines
    published_at: str  #: ISO 8601 with the local offset
    site: str  #: lowercase host


@dataclass(frozen=True)
class Assignment:
    """The story of one article."""

    rowid: int
    story_id: int  #: rowid of the story's first article
    matched: int | None  #: rowid of the article it was found similar to (None: it starts the story)
    similarity: float | None  #: estimated Jaccard similarity with ``matched``


def words(body: str) -> list[str]:
    """Lowercase words of ``body`` without its "City (ANTARA) - " dateline (republishers change it)."""
    return _WORD_RE.findall(_DATELINE_RE.sub("", body.lstrip(), count=1).lower())


def shingles(body: str, size: int = SHINGLE) -> set[bytes]:
    """The distinct ``size``-word shingles of a body (a shorter body is one shingle)."""
    tokens = words(body)
    if len(tokens) <= size:
        return {" ".join(tokens).encode()} if tokens else set()
    return {" ".join(tokens[k : k + size]).encode() for k in range(len(tokens) - size + 1)}


def signature(body: str) -> np.ndarray:
    """The MinHash signature of a body: NUM_PERM uint32 values (all max for an empty body)."""
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME)
    m.update_batch(sorted(shingles(body)))
    return m.hashvalues.astype(np.uint32)


def _lean(sig: np.ndarray) -> LeanMinHash:
    return LeanMinHash(seed=SEED, hashvalues=sig, scheme=SCHEME)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the bodies behind two signatures."""
    return float(np.mean(a == b))


def instant(published_at: str) -> datetime:
    """``published_at`` as an aware UTC datetime (a naive one is taken as UTC)."""
    when = datetime.fromisoformat(published_at)
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def assignment_order(article: StoryArticle) -> tuple[datetime, int]:
    """Articles are assigned by publication instant, then rowid."""
    return instant(article.published_at), article.rowid


class StoryIndex:
    """Assigns stories article by article; holds the signatures of the last WINDOW_DAYS only."""

    def __init__(self, threshold: float = THRESHOLD, window_days: float = WINDOW_DAYS) -> None:
        self.threshold = threshold
        self.window = timedelta(days=window_days)
        self._lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
        self._held: dict[int, tuple[LeanMinHash, datetime, int]] = {}  # rowid -> (minhash, instant, story id)
        self._queue: deque[tuple[datetime, int]] = deque()  # held rowids, oldest first

    def hold(self, rowid: int, sig: np.ndarray, when: datetime, story_id: int) -> None:
        """Make an already assigned article a candidate for later ones."""
        m = _lean(sig)
        self._held[rowid] = (m, when, story_id)
        self._lsh.insert(rowid, m, check_duplication=False)
        self._queue.append((when, rowid))

    def assign(self, article: StoryArticle, sig: np.ndarray | None = None) -> tuple[Assignment, np.ndarray]:
        """The story of ``article``, which must not be older than the articles assigned before it
        by more than the window; the article is then held as a candidate."""
        sig = signature(article.body) if sig is None else sig
        when = instant(article.published_at)
        self._forget_before(when - self.window)
        best: tuple[float, int, int] | None = None  # (similarity, -story id, rowid): the max wins
        if article.body.strip():
            m = _lean(sig)
            for rowid in self._lsh.query(m):
                other, other_when, story_id = self._held[rowid]
                if other_when < when - self.window:
                    continue
                similarity = float(m.jaccard(other))
                if similarity >= self.threshold:
                    key = (similarity, -story_id, -rowid)
                    if best is None or key > best:
                        best = key
        if best is None:
            result = Assignment(article.rowid, article.rowid, None, None)
        else:
            result = Assignment(article.rowid, -best[1], -best[2], round(best[0], 4))
        if article.body.strip():
            self.hold(article.rowid, sig, when, result.story_id)
        return result, sig

    def _forget_before(self, cutoff: datetime) -> None:
        while self._queue and self._queue[0][0] < cutoff:
            _, rowid = self._queue.popleft()
            if rowid in self._held:
                del self._held[rowid]
                self._lsh.remove(rowid)


def assign_stories(
    articles: Iterable[StoryArticle], threshold: float = THRESHOLD, window_days: float = WINDOW_DAYS
) -> dict[int, int]:
    """Batch assignment: ``{rowid: story_id}`` for ``articles``, taken in :func:`assignment_order`."""
    index = StoryIndex(threshold, window_days)
    return {a.rowid: index.assign(a)[0].story_id for a in sorted(articles, key=assignment_order)}


# ---------------------------------------------------------------------- the archive's tables

STORIES = "stories"
ARTICLE_STORIES = "article_stories"
SIGNATURES = "story_signatures"


def ensure_tables(db: Database) -> None:
    """Create the story tables if they are missing."""
    if ARTICLE_STORIES not in db.table_names():
        db.table(ARTICLE_STORIES).create(
            {"article_rowid": int, "story_id": int, "matched_rowid": int, "similarity": float},
            pk="article_rowid",
        )
        db.table(ARTICLE_STORIES).create_index(["story_id"])
    if STORIES not in db.table_names():
        db.table(STORIES).create(
            {"story_id": int, "first_published_at": str, "sites": str, "member_count": int}, pk="story_id"
        )
    if SIGNATURES not in db.table_names():
        # MinHash signatures of assigned articles, so a later update compares new articles with
        # the recent ones without hashing their bodies again
        db.table(SIGNATURES).create({"article_rowid": int, "published_at": str, "signature": bytes}, pk="article_rowid")


def _unassigned(db: Database) -> Iterator[StoryArticle]:
    sql = (
        "select rowid, title, body, published_at, site from articles "
        f"where rowid not in (select article_rowid from {ARTICLE_STORIES})"
    )
    for rowid, title, body, published_at, site in db.execute(sql).fetchall():
        yield StoryArticle(rowid, title or "", body or "", published_at, site)


def update_stories(db: Database, threshold: float = THRESHOLD, window_days: float = WINDOW_DAYS) -> int:
    """Assign a story to every article of ``db`` that has none yet; refresh the ``stories`` rows
    they touch. Returns how many articles were assigned.

    Articles already assigned keep their story. New articles are assigned in publication order
    against the signatures of the articles published within the window before the oldest of them.
    """
    ensure_tables(db)
    new = sorted(_unassigned(db), key=assignment_order)
    if not new:
        return 0
    index = StoryIndex(threshold, window_days)
    since = instant(new[0].published_at) - index.window
    # published_at carries local offsets (up to 14 hours): a day's margin in SQL, the exact cut below
    held = db.execute(
        f"select s.article_rowid, s.published_at, s.signature, a.story_id from {SIGNATURES} s "
        f"join {ARTICLE_STORIES} a on a.article_rowid = s.article_rowid where s.published_at >= ?",
        [(since - timedelta(days=1)).date().isoformat()],
    ).fetchall()
    for rowid, published_at, blob, story_id in sorted(held, key=lambda row: (instant(row[1]), row[0])):
        when = instant(published_at)
        if when >= since:
            index.hold(rowid, np.frombuffer(blob, dtype=np.uint32), when, story_id)
    assignments: list[dict[str, Any]] = []
    signatures: list[dict[str, Any]] = []
    story_ids: set[int] = set()
    for article in new:
        result, sig = index.assign(article)
        story_ids.add(result.story_id)
        assignments.append(
            {
                "article_rowid": result.rowid,
                "story_id": result.story_id,
                "matched_rowid": result.matched,
                "similarity": result.similarity,
            }
        )
        if article.body.strip():
            signatures.append(
                {"article_rowid": article.rowid, "published_at": article.published_at, "signature": sig.tobytes()}
            )
    with db.atomic():
        db.table(ARTICLE_STORIES).insert_all(assignments, replace=True)
        db.table(SIGNATURES).insert_all(signatures, replace=True)
        _refresh_stories(db, story_ids)
    return len(assignments)


def _refresh_stories(db: Database, story_ids: set[int]) -> None:
    rows: list[dict[str, Any]] = []
    ids = sorted(story_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        members: dict[int, list[tuple[str, str]]] = {}
        sql = (
            f"select s.story_id, a.published_at, a.site from {ARTICLE_STORIES} s "
            f"join articles a on a.rowid = s.article_rowid where s.story_id in ({marks})"
        )
        for story_id, published_at, site in db.execute(sql, chunk).fetchall():
            members.setdefault(story_id, []).append((published_at, site))
        for story_id in chunk:
            found = sorted(members.get(story_id, []), key=lambda m: instant(m[0]))
            if not found:
                continue
            rows.append(
                {
                    "story_id": story_id,
                    "first_published_at": found[0][0],
                    "sites": json.dumps(sorted({site for _, site in found})),
                    "member_count": len(found),
                }
            )
    db.table(STORIES).insert_all(rows, replace=True)
