"""Which articles are one story: near-duplicate detection over article bodies.

Regional ANTARA sites republish national stories and each other's under a new article id, often
with a new dateline, a trimmed last paragraph, an added closing line or a new headline. Articles
are assigned in publication order (the instant, then the URL). An article joins the story of the
most similar earlier article published within :data:`WINDOW_DAYS` before it, when the estimated
Jaccard similarity of their bodies' word shingles is at least :data:`THRESHOLD`; otherwise it starts
a story, whose ``story_id`` is the next integer after the largest already given (1 for the first).
Ids never depend on rowids (which VACUUM may change): everything is keyed by the article's URL.

Similarity is estimated with MinHash and candidates found with LSH bands; the choice against
SimHash, with figures, is in ``bench/stories.py`` and docs/schema.md. Signatures are the values
``datasketch.MinHash(num_perm=NUM_PERM, seed=SEED, scheme="affine32")`` gives for the same
shingles, computed here with numpy (importing datasketch costs half a second: its package loads
its LSH indexes, scipy and redis's client); ``tests/test_stories.py`` holds the two equal.
Assignment is deterministic and incremental: assigning articles in chunks of publication time
gives the same ids as assigning them all at once.

:func:`update_stories` writes the schema's ``article_stories``, ``story_signatures`` and
``stories`` tables and ``articles.story_id``, inside the caller's write transaction.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from sqlite_utils import Database

if TYPE_CHECKING:
    from archive.store import Archive

SHINGLE = 5  #: words per shingle
NUM_PERM = 128  #: MinHash permutations (the signature is NUM_PERM 32-bit values)
THRESHOLD = 0.5  #: least estimated Jaccard similarity of two bodies of one story
LSH_THRESHOLD = 0.35  #: LSH band layout tuned to catch pairs from this similarity up (then verified)
BANDS, ROWS = 32, 4  #: that layout (``datasketch.MinHashLSH(threshold=0.35, num_perm=128)`` chooses it)
WINDOW_DAYS = 7  #: a republication is matched only to articles published this many days before it
#: (the index holds 512 bytes of signature per article of the window)
SEED = 1  #: MinHash seed: signatures stored in the database depend on it, and on the scheme
SCHEME = "affine32"

_DATELINE_RE = re.compile(r"^[^\n]{0,80}?\(ANTARA\)\s*[-\u2013\u2014]\s*")
_WORD_RE = re.compile(r"\w+")


@dataclass(frozen=True)
class StoryArticle:
    """The fields story assignment reads from an archived article."""

    url: str  #: canonical URL, the ``articles`` primary key
    title: str
    body: str  #: plain-text body, paragraphs separated by blank lines
    published_at: str  #: ISO 8601 with the local offset
    site: str  #: lowercase host


@dataclass(frozen=True)
class Assignment:
    """The story of one article."""

    url: str
    story_id: int
    matched: str | None  #: URL of the article it was found similar to (None: it starts the story)
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


#: a batch's shingles are permuted this many at a time: the (shingles, NUM_PERM) uint32 matrix, 512 KiB,
#: stays in the CPU's cache (16,384 at a time took twice as long)
_SLAB = 1024
_EMPTY = np.uint32(0xFFFFFFFF)  #: every value of an empty body's signature


@cache
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The ``a`` (odd) and ``b`` of the NUM_PERM affine permutations ``h -> a * h + b mod 2**32`` that
    datasketch's MinHash draws for SEED and the "affine32" scheme (``MinHash._init_permutations``)."""
    gen = np.random.RandomState(SEED)
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def _hashes(items: Iterable[bytes]) -> np.ndarray:
    """datasketch's ``sha1_hash32`` of each item (the first 4 bytes of its SHA-1, little-endian),
    then the MurmurHash3 finalizer its "affine32" scheme mixes every hash with (``_fmix``)."""
    sha1 = hashlib.sha1
    h = np.frombuffer(b"".join([sha1(item).digest()[:4] for item in items]), dtype="<u4").astype(np.uint32)
    h ^= h >> np.uint32(16)
    h *= np.uint32(0x85EBCA6B)
    h ^= h >> np.uint32(13)
    h *= np.uint32(0xC2B2AE35)
    h ^= h >> np.uint32(16)
    return h


def signatures(bodies: Sequence[str]) -> np.ndarray:
    """The MinHash signatures of ``bodies``, one row of NUM_PERM uint32 values each (all max for an
    empty body): the hash values of ``datasketch.MinHash(num_perm=NUM_PERM, seed=SEED,
    scheme=SCHEME)`` updated with the body's :func:`shingles`, for a batch at once."""
    a, b = _permutations()
    out = np.full((len(bodies), NUM_PERM), _EMPTY, dtype=np.uint32)
    rows: list[int] = []  # the bodies of the slab being gathered
    items: list[bytes] = []
    starts: list[int] = []  # where each of their shingles begin in ``items``

    def permute() -> None:
        if rows:
            permuted = _hashes(items)[:, None] * a + b  # uint32: wraps around, mod 2**32
            out[rows] = np.minimum.reduceat(permuted, starts, axis=0)
            rows.clear()
            items.clear()
            starts.clear()

    for row, body in enumerate(bodies):
        found = shingles(body)
        if not found:
            continue
        if items and len(items) + len(found) > _SLAB:
            permute()
        rows.append(row)
        starts.append(len(items))
        items.extend(found)
    permute()
    return out


def signature(body: str) -> np.ndarray:
    """The MinHash signature of a body: NUM_PERM uint32 values (all max for an empty body)."""
    return signatures([body])[0]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of the bodies behind two signatures."""
    return float(np.mean(a == b))


def instant(published_at: str) -> datetime:
    """``published_at`` as an aware UTC datetime (a naive one is taken as UTC)."""
    when = datetime.fromisoformat(published_at)
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def order_key(published_at: str, url: str) -> tuple[datetime, str]:
    """Articles are assigned by publication instant, then URL."""
    return instant(published_at), url


def assignment_order(article: StoryArticle) -> tuple[datetime, str]:
    """:func:`order_key` of an article."""
    return order_key(article.published_at, article.url)


class StoryIndex:
    """Assigns stories article by article; holds the signatures of the last WINDOW_DAYS only.

    Candidates are the held articles sharing at least one LSH band with the new one (BANDS bands
    of ROWS values: the layout ``datasketch.MinHashLSH`` chooses for :data:`LSH_THRESHOLD`), then
    verified: estimated Jaccard >= ``threshold``. Held signatures are one numpy array, so building
    the index is a copy and a query one vectorised comparison (no per-band Python dictionaries).
    A new story takes ``next_id`` (then one more for the next), so ids follow assignment order.
    """

    def __init__(self, threshold: float = THRESHOLD, window_days: float = WINDOW_DAYS, next_id: int = 1) -> None:
        self.threshold = threshold
        self.window = timedelta(days=window_days)
        self.next_id = next_id
        self._sigs = np.zeros((0, NUM_PERM), dtype=np.uint32)
        self._when = np.zeros(0, dtype=np.float64)  # POSIX seconds
        self._story = np.zeros(0, dtype=np.int64)
        self._urls: list[str] = []
        self._size = 0
        self._row: dict[str, int] = {}  # url -> row of the arrays

    def hold(self, url: str, sig: np.ndarray, when: datetime, story_id: int) -> None:
        """Make an already assigned article a candidate for later ones."""
        row = self._row.get(url)
        if row is None:
            if self._size == len(self._when):
                self._grow()
            row = self._row[url] = self._size
            self._urls.append(url)
            self._size += 1
        self._sigs[row] = sig
        self._when[row] = when.timestamp()
        self._story[row] = story_id
        self.next_id = max(self.next_id, story_id + 1)

    def _grow(self) -> None:
        """Double the arrays' room."""
        capacity = max(64, 2 * self._size)
        self._sigs = np.resize(self._sigs, (capacity, NUM_PERM))
        self._when = np.resize(self._when, capacity)
        self._story = np.resize(self._story, capacity)

    def forget_before(self, cutoff: datetime) -> None:
        """Let go of the articles published before ``cutoff`` (when they are many)."""
        live = self._when[: self._size] >= cutoff.timestamp()
        if live.all() or live.sum() * 2 > self._size:
            return
        keep = np.nonzero(live)[0]
        self._sigs[: len(keep)] = self._sigs[keep]
        self._when[: len(keep)] = self._when[keep]
        self._story[: len(keep)] = self._story[keep]
        self._urls = [self._urls[k] for k in keep]
        self._row = {url: k for k, url in enumerate(self._urls)}
        self._size = len(keep)

    def assign(self, article: StoryArticle, sig: np.ndarray | None = None) -> tuple[Assignment, np.ndarray]:
        """The story of ``article``; the article is then held as a candidate."""
        sig = signature(article.body) if sig is None else sig
        when = instant(article.published_at)
        self.forget_before(when - self.window)
        best: tuple[float, int, str] | None = None  # (-similarity, story id, url): the least wins
        if article.body.strip() and self._size:
            held = self._sigs[: self._size]
            banded = _band_match(held, sig)
            banded &= self._when[: self._size] >= (when - self.window).timestamp()
            for k in np.nonzero(banded)[0]:
                similarity = float(np.count_nonzero(held[k] == sig)) / NUM_PERM
                if similarity >= self.threshold:
                    key = (-similarity, int(self._story[k]), self._urls[k])
                    if best is None or key < best:
                        best = key
        if best is None:
            result = Assignment(article.url, self.next_id, None, None)
            self.next_id += 1
        else:
            result = Assignment(article.url, best[1], best[2], round(-best[0], 4))
        if article.body.strip():
            self.hold(article.url, sig, when, result.story_id)
        return result, sig


def _band_match(held: np.ndarray, sig: np.ndarray) -> np.ndarray:
    """Which rows of ``held`` (n x NUM_PERM uint32) have a band of ROWS values equal to ``sig``'s:
    two 64-bit words per band, compared elementwise (a reduction over the 4 values is far slower)."""
    assert ROWS == 4
    equal = held.view(np.uint64) == np.ascontiguousarray(sig, dtype=np.uint32).view(np.uint64)
    return np.logical_or.reduce(equal[:, 0::2] & equal[:, 1::2], axis=1)  # type: ignore[no-any-return]


def assign_stories(
    articles: Iterable[StoryArticle], threshold: float = THRESHOLD, window_days: float = WINDOW_DAYS
) -> dict[str, int]:
    """Batch assignment: ``{url: story_id}`` for ``articles``, taken in :func:`assignment_order`."""
    index = StoryIndex(threshold, window_days)
    return {a.url: index.assign(a)[0].story_id for a in sorted(articles, key=assignment_order)}


# ---------------------------------------------------------------------- the archive's tables

STORIES = "stories"
ARTICLE_STORIES = "article_stories"
SIGNATURES = "story_signatures"
#: articles read (bodies) and written per step: what bounds memory however large the archive
CHUNK = 500

Progress = Callable[[int], None]
_T = TypeVar("_T")


@dataclass(frozen=True)
class StoryUpdate:
    """What :func:`update_stories` did."""

    assigned: int = 0  #: articles given a story
    started: int = 0  #: of them, how many started a new story
    joined: int = 0  #: of them, how many joined a story (new or older)
    touched: int = 0  #: stories whose ``stories`` row was written

    def summary(self) -> str:
        if not self.assigned:
            return "every article already has a story"
        return (
            f"assigned {self.assigned:,} articles to stories: {self.started:,} new stories,"
            f" {self.joined:,} joined a story published before"
        )


def _chunks(items: Sequence[_T], size: int = CHUNK) -> Iterable[Sequence[_T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _marks(items: Sequence[object]) -> str:
    return ", ".join("?" for _ in items)


def pending(db: Database) -> list[tuple[str, str]]:
    """``(url, published_at)`` of the articles without a story, in assignment order."""
    rows = db.execute(
        f"select a.url, a.published_at from articles a left join {ARTICLE_STORIES} s on s.article_url = a.url"
        " where s.article_url is null"
    ).fetchall()
    return sorted(((url, published_at) for url, published_at in rows), key=lambda r: order_key(r[1], r[0]))


def update_stories(
    db: Database,
    threshold: float = THRESHOLD,
    window_days: float = WINDOW_DAYS,
    progress: Progress | None = None,
    now: str | None = None,
) -> StoryUpdate:
    """Assign a story to every article of ``db`` that has none yet; keep ``articles.story_id`` in
    step and refresh the ``stories`` rows they touch.

    Run it inside a write transaction (``Archive.transaction``): everything it writes is one
    savepoint of it, and the new story ids (the largest so far plus one) are taken under its lock.
    Articles already assigned keep their story. New articles are assigned in publication order
    against the signatures of the articles published within the window before the oldest of them.
    ``progress`` is called with the number of articles assigned by each step; ``now`` is the
    ``assigned_at`` time (UTC now by default).
    """
    todo = pending(db)
    if not todo:
        return StoryUpdate()
    assigned_at = now or datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    with db.atomic():
        (top,) = db.execute(f"select coalesce(max(story_id), 0) from {STORIES}").fetchone()
        index = StoryIndex(threshold, window_days, next_id=int(top) + 1)
        since = instant(todo[0][1]) - index.window
        _hold_recent(db, index, since)
        started = joined = 0
        touched: set[int] = set()
        for chunk in _chunks(todo):
            urls = [url for url, _ in chunk]
            found = {
                row[0]: StoryArticle(row[0], row[1] or "", row[2] or "", row[3], row[4])
                for row in db.execute(
                    f"select url, title, body, published_at, site from articles where url in ({_marks(urls)})", urls
                ).fetchall()
            }
            links: list[dict[str, Any]] = []
            stored: list[dict[str, Any]] = []
            new_ids: list[dict[str, Any]] = []
            sigs = signatures([found[url].body for url in urls])
            for url, computed in zip(urls, sigs, strict=True):
                article = found[url]
                result, sig = index.assign(article, computed)
                if result.matched is None:
                    started += 1
                    new_ids.append(
                        {"story_id": result.story_id, "first_published_at": article.published_at, "first_url": url}
                    )
                else:
                    joined += 1
                touched.add(result.story_id)
                links.append(
                    {
                        "article_url": url,
                        "story_id": result.story_id,
                        "matched_url": result.matched,
                        "similarity": result.similarity,
                        "assigned_at": assigned_at,
                    }
                )
                if article.body.strip():
                    stored.append(
                        {"article_url": url, "published_at": article.published_at, "signature": sig.tobytes()}
                    )
            # the story rows first: article_stories refers to them (their columns are refreshed below)
            db.table(STORIES).insert_all(new_ids, pk="story_id", ignore=True)
            db.table(ARTICLE_STORIES).insert_all(links, pk="article_url", replace=True)
            db.table(SIGNATURES).insert_all(stored, pk="article_url", replace=True)
            db.conn.executemany(
                "update articles set story_id = ? where url = ? and story_id is not ?",
                [(row["story_id"], row["article_url"], row["story_id"]) for row in links],
            )
            if progress is not None:
                progress(len(urls))
        refresh_stories(db, touched)
    return StoryUpdate(len(todo), started, joined, len(touched))


def update_archive(archive: Archive, progress: Progress | None = None) -> StoryUpdate:
    """:func:`update_stories` in one write transaction of ``archive`` (what a crawl, a backfill,
    an ingester and ``antara reextract`` call at their end, and ``antara stories`` runs)."""
    with archive.transaction("story assignment"):
        return update_stories(archive.db, progress=progress)


def _hold_recent(db: Database, index: StoryIndex, since: datetime) -> None:
    """Hold the stored signatures of the articles published from ``since`` on."""
    # published_at carries local offsets (up to 14 hours): a day's margin in SQL, the exact cut below
    held = db.execute(
        f"select s.article_url, s.published_at, s.signature, a.story_id from {SIGNATURES} s"
        f" join {ARTICLE_STORIES} a on a.article_url = s.article_url where s.published_at >= ?",
        [(since - timedelta(days=1)).date().isoformat()],
    ).fetchall()
    for url, published_at, blob, story_id in sorted(held, key=lambda row: order_key(row[1], row[0])):
        when = instant(published_at)
        if when >= since:
            index.hold(url, np.frombuffer(blob, dtype=np.uint32), when, story_id)


def refresh_stories(db: Database, story_ids: Iterable[int]) -> None:
    """Rewrite the ``stories`` rows of ``story_ids`` from their members (a story left without
    members is deleted): first member by publication order, its sites, the member count."""
    for chunk in _chunks(sorted(set(story_ids))):
        members: dict[int, list[tuple[str, str, str]]] = {}
        sql = (
            f"select s.story_id, a.url, a.published_at, a.site from {ARTICLE_STORIES} s"
            f" join articles a on a.url = s.article_url where s.story_id in ({_marks(chunk)})"
        )
        for story_id, url, published_at, site in db.execute(sql, list(chunk)).fetchall():
            members.setdefault(story_id, []).append((url, published_at, site))
        rows: list[dict[str, Any]] = []
        gone: list[int] = []
        for story_id in chunk:
            found = sorted(members.get(story_id, []), key=lambda m: order_key(m[1], m[0]))
            if not found:
                gone.append(story_id)
                continue
            rows.append(
                {
                    "story_id": story_id,
                    "first_published_at": found[0][1],
                    "first_url": found[0][0],
                    "sites": json.dumps(sorted({site for _, _, site in found})),
                    "member_count": len(found),
                }
            )
        db.table(STORIES).upsert_all(rows, pk="story_id")
        if gone:
            db.execute(f"delete from {STORIES} where story_id in ({_marks(gone)})", gone)


def clear_stories(db: Database) -> int:
    """Forget every assignment (for a rebuild): empties the story tables and ``articles.story_id``.
    Returns how many articles had a story. Run it inside a write transaction."""
    with db.atomic():
        (count,) = db.execute(f"select count(*) from {ARTICLE_STORIES}").fetchone()
        db.execute("update articles set story_id = null where story_id is not null")
        db.execute(f"delete from {ARTICLE_STORIES}")
        db.execute(f"delete from {SIGNATURES}")
        db.execute(f"delete from {STORIES}")
    return int(count)
