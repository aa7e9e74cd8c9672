"""Story assignment (one story across sites): MinHash LSH against SimHash on a labelled set.

Run from the project root: .venv/bin/python bench/stories.py [--articles 6000] [--rounds 3]

The labelled set is the sample site with ``republish=True`` (``crawler.samplesite.model``): a quarter
of its articles republish a recent article of another site with edits (new dateline, trimmed last
paragraph, added closing line, new headline), about a tenth are new stories on the topic of a recent
article of their own site (same official, city and object: the hard negatives). The truth of an
article is ``SampleSite.story``; faulty articles (never archived) are left out.

For each candidate the threshold is chosen on one seed (the best F1 with precision >= 0.99) and
measured on another, pairwise: a pair of articles is "one story" in the truth or in the assignment.

- ``minhash``: ``archive.stories`` (datasketch's MinHash values, 128 permutations, LSH candidates, estimated
  Jaccard of 5-word shingles >= threshold);
- ``simhash``: a 64-bit SimHash of the same shingles (blake2b-64 per shingle), the nearest earlier
  article by Hamming distance <= threshold, compared with every held signature (numpy).

Both assign greedily in publication order and join the best earlier match; times per article
(hash + match) are the median of ROUNDS interleaved runs; memory is the tracemalloc peak of one run.

Then the cost at the end of a crawl: an archive holding the test seed's articles but the last
``--batch`` of them, all assigned; per round, a copy of it stores the batch (``upsert_many``, what
the crawl did) and then assigns their stories (``update_stories`` in one write transaction: reading
the window's signatures, hashing, matching, writing ``article_stories``, ``story_signatures``,
``stories`` and ``articles.story_id``, whose update re-indexes the row's full text through the FTS
trigger). Medians of ROUNDS, and the ratio of assigning to storing.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import tempfile
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import timedelta
from pathlib import Path

import numpy as np

from archive import Archive
from archive import stories as S
from crawler.domain.regions import SITES
from crawler.samplesite import SampleSite
from crawler.samplesite.records import article_record

Labelled = tuple[list[S.StoryArticle], dict[str, str]]


def labelled_set(articles: int, seed: int) -> Labelled:
    """Archivable articles of a republishing sample site and their truth (keyed by URL)."""
    site = SampleSite(articles, seed, republish=True)
    rows: list[S.StoryArticle] = []
    truth: dict[str, str] = {}
    for k in range(articles):
        spec = site.article_at(k)
        if spec.fault is not None:
            continue
        rows.append(S.StoryArticle(spec.url, spec.title, spec.body, spec.published_at, spec.host))
        truth[spec.url] = site.story(spec)
    return rows, truth


def pairwise(assigned: dict[str, int], truth: dict[str, str]) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 of ``assigned`` story ids against ``truth``."""

    def pairs(counts: Counter[object]) -> int:
        return sum(n * (n - 1) // 2 for n in counts.values())

    both = pairs(Counter((assigned[r], truth[r]) for r in assigned))
    predicted = pairs(Counter(assigned.values()))
    actual = pairs(Counter(truth[r] for r in assigned))
    precision = both / predicted if predicted else 1.0
    recall = both / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


# ---------------------------------------------------------------------- SimHash candidate

_BITS = np.arange(64, dtype=np.uint64)


def simhash(body: str) -> int:
    """64-bit SimHash of the body's shingles (each weighs 1)."""
    grams = S.shingles(body)
    if not grams:
        return 0
    hashes = np.fromiter(
        (int.from_bytes(hashlib.blake2b(g, digest_size=8).digest(), "big") for g in grams), np.uint64, len(grams)
    )
    ones = ((hashes[:, None] >> _BITS) & np.uint64(1)).sum(axis=0)
    return int(sum(1 << int(b) for b in np.nonzero(ones * 2 > len(grams))[0]))


class SimHashIndex:
    """Greedy assignment by Hamming distance between SimHashes, within the same window."""

    def __init__(self, distance: int, window_days: float = S.WINDOW_DAYS) -> None:
        self.distance = distance
        self.window = timedelta(days=window_days)
        self._hashes: list[int] = []
        self._when: list[float] = []
        self._story: list[int] = []
        self._url: list[str] = []
        self._next = 1
        self._array = np.zeros(0, dtype=np.uint64)

    def assign(self, article: S.StoryArticle, sig: int | None = None) -> int:
        sig = simhash(article.body) if sig is None else sig
        when = S.instant(article.published_at).timestamp()
        story = 0
        if self._hashes and article.body.strip():
            if len(self._array) != len(self._hashes):
                self._array = np.array(self._hashes, dtype=np.uint64)
            d = np.bitwise_count(self._array ^ np.uint64(sig)).astype(np.int64)
            ok = (d <= self.distance) & (np.array(self._when) >= when - self.window.total_seconds())
            if ok.any():
                # the nearest; ties: the lowest story id, then the lowest URL
                keys = [(int(d[j]), self._story[j], self._url[j]) for j in np.nonzero(ok)[0]]
                story = min(keys)[1]
        if not story:
            story, self._next = self._next, self._next + 1
        self._hashes.append(sig)
        self._when.append(when)
        self._story.append(story)
        self._url.append(article.url)
        return story


# ---------------------------------------------------------------------- runs


def run_minhash(rows: Sequence[S.StoryArticle], threshold: float, sigs: dict[str, np.ndarray] | None = None) -> dict:
    index = S.StoryIndex(threshold)
    return {a.url: index.assign(a, sigs[a.url] if sigs else None)[0].story_id for a in rows}


def run_simhash(rows: Sequence[S.StoryArticle], distance: int, sigs: dict[str, int] | None = None) -> dict:
    index = SimHashIndex(distance)
    return {a.url: index.assign(a, sigs[a.url] if sigs else None) for a in rows}


def choose(
    name: str, rows: Sequence[S.StoryArticle], truth: dict[int, str], run: Callable, sigs: dict, grid: Sequence
) -> object:
    """The threshold of the best F1 among those with precision >= 0.99 (a margin over the 0.98 goal)."""
    best: tuple[float, object] | None = None
    print(f"\n{name}: threshold sweep on the training seed")
    for t in grid:
        p, r, f = pairwise(run(rows, t, sigs), truth)
        print(f"  {t!s:>5}  precision {p:.4f}  recall {r:.4f}  F1 {f:.4f}")
        if p >= 0.99 and (best is None or f > best[0]):
            best = (f, t)
    assert best is not None, f"{name}: no threshold reaches precision 0.99"
    return best[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--articles", type=int, default=6000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000, help="articles of the crawl timed at its end")
    args = parser.parse_args()

    train, train_truth = labelled_set(args.articles, seed=1)
    test, test_truth = labelled_set(args.articles, seed=2)
    train.sort(key=S.assignment_order)
    test.sort(key=S.assignment_order)
    sizes = Counter(Counter(test_truth.values()).values())
    print(
        f"labelled set: {len(test)} articles (test seed 2), {len(set(test_truth.values()))} stories, "
        f"{sum(n * c for n, c in sizes.items() if n > 1)} in stories of 2+ articles; "
        f"training seed 1: {len(train)} articles"
    )
    minhash_sigs = {a.url: S.signature(a.body) for a in train}
    simhash_sigs = {a.url: simhash(a.body) for a in train}
    t_min = choose(
        "minhash", train, train_truth, run_minhash, minhash_sigs, [0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.8]
    )
    t_sim = choose("simhash", train, train_truth, run_simhash, simhash_sigs, [3, 6, 8, 9, 10, 11, 12, 13, 15, 18])

    candidates: dict[str, Callable[[], dict]] = {
        "minhash": lambda: run_minhash(test, t_min),
        "simhash": lambda: run_simhash(test, t_sim),
    }
    times: dict[str, list[float]] = {name: [] for name in candidates}
    results: dict[str, dict] = {}
    for _ in range(args.rounds):
        for name, run in candidates.items():
            start = time.perf_counter()
            results[name] = run()
            times[name].append((time.perf_counter() - start) / len(test))
    peaks = {}
    for name, run in candidates.items():
        tracemalloc.start()
        run()
        peaks[name] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    span = S.instant(test[-1].published_at) - S.instant(test[0].published_at)

    print(
        f"\nmeasured on the test seed ({len(test)} articles over {span.total_seconds() / 86400:.1f} days; window "
        f"{S.WINDOW_DAYS} days; median of {args.rounds} interleaved rounds; peak: tracemalloc of one run)"
    )
    print(
        f"{'candidate':<9} {'threshold':>16} {'precision':>9} {'recall':>7} {'F1':>7} {'ms/article':>10} "
        f"{'peak MB':>8} {'KB/article':>10}"
    )
    for name, threshold in (("minhash", f"Jaccard >= {t_min}"), ("simhash", f"Hamming <= {t_sim}")):
        p, r, f = pairwise(results[name], test_truth)
        ms = statistics.median(times[name]) * 1000
        print(
            f"{name:<9} {threshold:>16} {p:>9.4f} {r:>7.4f} {f:>7.4f} {ms:>10.3f} "
            f"{peaks[name] / 1e6:>8.1f} {peaks[name] / len(test) / 1e3:>10.1f}"
        )
    crawl_end(args.articles, 2, min(args.batch, args.articles // 2), args.rounds)


def crawl_end(articles: int, seed: int, batch: int, rounds: int) -> None:
    """ms per article of storing a crawl's batch, and of assigning its stories at the crawl's end."""
    site = SampleSite(articles, seed, republish=True)
    specs = [s for s in (site.article_at(k) for k in range(articles)) if s.fault is None]
    specs.sort(key=lambda s: S.order_key(s.published_at, s.url))
    before, crawled = specs[:-batch], specs[-batch:]
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder) / "base.db"
        archive = Archive(base)
        archive.sync_regions(r.as_row() for r in SITES)
        archive.upsert_many(article_record(s) for s in before)
        with archive.transaction():
            S.update_stories(archive.db)
        archive.close()
        store: list[float] = []
        assign: list[float] = []
        joined = 0
        for k in range(rounds):
            path = Path(folder) / f"round{k}.db"
            shutil.copy(base, path)
            archive = Archive(path)
            start = time.perf_counter()
            archive.upsert_many(article_record(s) for s in crawled)
            store.append((time.perf_counter() - start) / batch)
            start = time.perf_counter()
            with archive.transaction():
                update = S.update_stories(archive.db)
            assign.append((time.perf_counter() - start) / batch)
            assert update.assigned == batch
            joined = update.joined
            archive.close()
    ms_store, ms_assign = statistics.median(store) * 1000, statistics.median(assign) * 1000
    print(
        f"\ncrawl end: {batch} new articles on an archive of {len(before)} assigned ({joined} joined a story);"
        f" median of {rounds} rounds"
    )
    print(f"  storing (upsert_many)        {ms_store:7.3f} ms/article")
    print(f"  assigning (update_stories)   {ms_assign:7.3f} ms/article  ({ms_assign / ms_store:.2f}x storing)")


if __name__ == "__main__":
    main()
