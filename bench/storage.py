"""Rows per second into the archive with FTS on: the pipeline's write path against sqlite-utils ``insert_all``.

Run from the project root: .venv/bin/python bench/storage.py [--articles 5000] [--repeat 3]

Writes the first ARTICLES sample-site records (``crawler.samplesite.records``, no HTTP) into a fresh
archive per run, three ways, and prints the median articles per second over REPEAT runs and the ratio to
the baseline measured in the same run:

- ``upsert_article``: what ``ArchivePipeline`` does per item: one transaction per article, with its
  tags, links, FTS (triggers) and frontier bookkeeping;
- ``upsert_many``: the batched path (``Archive.upsert_many``, 2,000 articles a transaction), same rows;
- baseline: sqlite-utils ``insert_all`` of the same article rows (tags as JSON) and link rows into bare
  tables, then ``enable_fts`` + ``populate_fts`` afterwards: the floor a bulk load can reach.

Also prints the archive's bytes per article (after a checkpoint). ``--before DIR`` also times
``upsert_article`` of another checkout's ``archive/store.py`` in the same run (before/after a change):
``git archive main archive | tar -x -C /tmp/before && ... bench/storage.py --before /tmp/before``.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
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


def older(store: Path) -> Callable[[Path, list[dict[str, Any]]], float]:
    """``one_by_one`` with the Archive class of another checkout's archive/store.py."""
    spec = importlib.util.spec_from_file_location("archive_store_before", store)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)

    def run(path: Path, records: list[dict[str, Any]]) -> float:
        archive, run_id = fresh(path, module.Archive)
        started = time.perf_counter()
        for record in records:
            archive.upsert_article(record, run_id)
        seconds = time.perf_counter() - started
        archive.close()
        return seconds

    return run


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


def median_rate(
    fn: Callable[[Path, list[dict[str, Any]]], float], records: list[dict[str, Any]], repeat: int
) -> tuple[float, int]:
    rates, size = [], 0
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="antara-storage-bench-") as folder:
            path = Path(folder) / "a.db"
            rates.append(len(records) / fn(path, records))
            size = path.stat().st_size
    return statistics.median(rates), size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--before", type=Path, default=None, help="a checkout whose archive/store.py to compare")
    args = parser.parse_args()
    site = SampleSite(articles=args.articles, seed=1)
    records = [article_record(site.article_at(k)) for k in range(args.articles)]
    ways: dict[str, Callable[[Path, list[dict[str, Any]]], float]] = {
        "sqlite-utils insert_all, FTS after (baseline)": insert_all,
        "Archive.upsert_article (pipeline path)": one_by_one,
    }
    if args.before:
        ways[f"upsert_article of {args.before}"] = older(args.before / "archive" / "store.py")
    if hasattr(Archive, "upsert_many"):  # absent before it was added: the bench also runs on old checkouts
        ways["Archive.upsert_many (batched)"] = batched
    results = {name: median_rate(fn, records, args.repeat) for name, fn in ways.items()}
    base = results["sqlite-utils insert_all, FTS after (baseline)"][0]
    print(f"{args.articles:,} sample-site articles into a fresh archive, median of {args.repeat} runs")
    for name, (rate, size) in results.items():
        per_article = size / args.articles
        print(f"{name:46s} {rate:8.0f} articles/s  {rate / base:5.2f}x baseline  {per_article:7.0f} bytes/article")


if __name__ == "__main__":
    main()
