"""Rows per second into the archive with FTS on: the pipeline's write path against sqlite-utils ``insert_all``.

Run from the project root: .venv/bin/python bench/storage.py [--articles 5000] [--repeat 3] [--before DIR]

Writes the first ARTICLES sample-site records (``crawler.samplesite.records``, no HTTP) into a fresh
archive per run, in these ways, interleaved (each round runs every way once, in turn, so the load of a
shared machine weighs on all alike), and prints the median articles per second over REPEAT rounds and
the median of the per-round ratios to the baseline:

- ``upsert_article``: one transaction per article, with its tags, links, FTS (triggers) and frontier
  bookkeeping (what the crawl's pipeline did per item before group commits);
- group commit: what ``ArchivePipeline`` does now: ``ANTARA_COMMIT_ITEMS // 2`` (25) articles a
  transaction, each in a savepoint of its own, with the run's counts added once per group;
- group commit without the facet triggers: the same, in an archive whose ``facet_counts_*``
  triggers (schema version 8) are dropped: what keeping the facet counts costs a write;
- ``upsert_many``: the batched path (``Archive.upsert_many``, 2,000 articles a transaction), same rows;
- baseline: sqlite-utils ``insert_all`` of the same article rows (tags as JSON) and link rows into bare
  tables, then ``enable_fts`` + ``populate_fts`` afterwards: the floor a bulk load can reach.

Also prints the archive's bytes per article (after a checkpoint). ``--before DIR`` also times
``upsert_article`` of another checkout (its whole ``archive`` package, in a child process whose
``sys.path`` starts with DIR) in each round: ``git archive 28b4f90 | tar -x -C /tmp/before && ...
bench/storage.py --before /tmp/before``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlite_utils

from archive import Archive
from archive.schema import ARTICLE_COLUMNS
from crawler.domain.regions import REGIONS
from crawler.samplesite import SampleSite
from crawler.samplesite.records import article_record

WITHOUT_TRIGGERS = "group commit, without facet triggers"


def fresh(path: Path, kind: Any = Archive) -> tuple[Any, int]:
    archive = kind(path)
    archive.sync_regions(r.as_row() for r in REGIONS)
    return archive, archive.start_run({"bench": "storage"}, [], "bench")


def one_by_one(path: Path, records: list[dict[str, Any]]) -> float:
    archive, run = fresh(path)
    started = time.perf_counter()
    for record in records:
        archive.upsert_article(record, run)
    seconds = time.perf_counter() - started
    archive.close()
    return seconds


def older(checkout: Path, articles: int) -> Callable[[Path, list[dict[str, Any]]], float]:
    """``one_by_one`` with the ``archive`` package of another checkout, in a child process."""

    def run(path: Path, records: list[dict[str, Any]]) -> float:
        env = {**os.environ, "PYTHONPATH": str(checkout)}
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(path), "--articles", str(articles)]
        done = subprocess.run(cmd, cwd=checkout, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise SystemExit(f"the before checkout failed: {done.stderr[-2000:]}")
        return float(done.stdout.strip().splitlines()[-1])

    return run


def grouped(path: Path, records: list[dict[str, Any]], size: int = 25) -> float:
    archive, run = fresh(path)
    started = time.perf_counter()
    for start in range(0, len(records), size):
        with archive.transaction():
            for record in records[start : start + size]:
                with archive.transaction():
                    archive.upsert_article(record, run)
            archive.add_run_counts(run, {"articles_new": len(records[start : start + size])}, {}, {})
    seconds = time.perf_counter() - started
    archive.close()
    return seconds


def grouped_without_facet_triggers(path: Path, records: list[dict[str, Any]]) -> float:
    archive, run = fresh(path)
    triggers = archive.db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'facet_counts_%'"
    )
    for (name,) in triggers.fetchall():
        archive.db.execute(f"DROP TRIGGER [{name}]")
    archive.close()
    return grouped(path, records)


def batched(path: Path, records: list[dict[str, Any]]) -> float:
    archive, run = fresh(path)
    started = time.perf_counter()
    archive.upsert_many(records, run)
    seconds = time.perf_counter() - started
    archive.close()
    return seconds


def insert_all(path: Path, records: list[dict[str, Any]]) -> float:
    db = sqlite_utils.Database(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    started = time.perf_counter()
    rows = [{k: r.get(k) for k in ARTICLE_COLUMNS if k in r} for r in records]
    links = [{"source_url": r["url"], "target_url": x["url"], "anchor_text": x["anchor_text"]} for r in records
             for x in r["links"]]  # fmt: skip
    with db.atomic():
        db["articles"].insert_all(rows, pk="url", batch_size=500)
        db["links"].insert_all(links, pk=("source_url", "target_url"), batch_size=500, ignore=True)
        db["articles"].enable_fts(["title", "body"], tokenize="unicode61 remove_diacritics 2")
    seconds = time.perf_counter() - started
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return seconds


def timed(fn: Callable[[Path, list[dict[str, Any]]], float], records: list[dict[str, Any]]) -> tuple[float, int]:
    """(articles per second, archive bytes) of one fresh run."""
    with tempfile.TemporaryDirectory(prefix="antara-storage-bench-") as folder:
        path = Path(folder) / "a.db"
        rate = len(records) / fn(path, records)
        return rate, path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", type=Path, default=None, help="another checkout whose upsert_article to time")
    parser.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)  # the --before child
    args = parser.parse_args()
    site = SampleSite(articles=args.articles, seed=1)
    records = [article_record(site.article_at(k)) for k in range(args.articles)]
    if args.child:
        print(one_by_one(args.child, records))
        return
    baseline = "sqlite-utils insert_all, FTS after (baseline)"
    ways: dict[str, Callable[[Path, list[dict[str, Any]]], float]] = {
        baseline: insert_all,
        "Archive.upsert_article, one per transaction": one_by_one,
        "group commit, 25 per transaction (pipeline)": grouped,
        WITHOUT_TRIGGERS: grouped_without_facet_triggers,
        "Archive.upsert_many (batched)": batched,
    }
    if args.before:
        ways[f"upsert_article of {args.before}"] = older(args.before.resolve(), args.articles)
    rates: dict[str, list[float]] = {name: [] for name in ways}
    sizes: dict[str, int] = {}
    for _ in range(args.repeat):  # interleaved: every way once per round
        for name, fn in ways.items():
            rate, sizes[name] = timed(fn, records)
            rates[name].append(rate)
    print(f"{args.articles:,} sample-site articles into a fresh archive, median of {args.repeat} interleaved rounds")
    print("(a shared, loaded machine: compare the ratios, measured round by round)")
    for name, got in rates.items():
        ratios = [r / b for r, b in zip(got, rates[baseline], strict=True)]
        rate, ratio = statistics.median(got), statistics.median(ratios)
        per_article = sizes[name] / args.articles
        print(
            f"{name:46s} {rate:8.0f} articles/s  {ratio:5.2f}x baseline ({min(ratios):.2f}-{max(ratios):.2f})"
            f"  {per_article:7.0f} bytes/article"
        )
    with_triggers, without = rates["group commit, 25 per transaction (pipeline)"], rates[WITHOUT_TRIGGERS]
    costs = [b / a for a, b in zip(with_triggers, without, strict=True)]
    print(
        f"the facet triggers: a group-committed article takes {statistics.median(costs):.2f}x the time"
        f" without them (median of the rounds' ratios; {min(costs):.2f}-{max(costs):.2f})"
    )


if __name__ == "__main__":
    main()
