"""Cost per article into an archive with FTS: the pipeline's write path against sqlite-utils ``insert_all``.

Run from the project root:

    .venv/bin/python bench/storage.py [--articles 5000] [--repeat 5] [--before DIR]

Writes the first ARTICLES sample-site records (``crawler.samplesite.records``, no HTTP) into a fresh
database, each way in a child process of its own, the ways taking turns (A, B, C, A, B, C, ...) for
REPEAT rounds:

- baseline: sqlite-utils ``insert_all`` of the article rows (tags as JSON) and their link rows into
  a table of its own with the articles table's columns, indexes and FTS config (FTS5 on title and
  body, ``unicode61 remove_diacritics 2``, kept by triggers), 2,000 rows a batch. It imports nothing
  of this project (the child checks ``sys.modules``); its columns are checked against
  ``archive.schema.ARTICLE_COLUMNS`` before the bench starts;
- ``Archive.upsert_article``: what ``ArchivePipeline`` does per item: one transaction per article,
  with its tags, links, FTS (triggers) and frontier bookkeeping;
- group commit: what the crawl's pipeline does since group commits: 25 articles a transaction
  with the group's run counts, no savepoint per article, checkpoints deferred; the same with a
  savepoint per article and SQLite's checkpoints (how the pipeline wrote them until now); and the
  crawl's path in an archive whose
  ``facet_counts`` triggers are dropped (what keeping the facet counts costs a write);
- ``Archive.upsert_many``: the batched path (2,000 articles a transaction), same rows;
- with ``--before DIR``: ``Archive.upsert_article`` of another checkout's ``archive`` package (the
  child runs with ``PYTHONPATH=DIR`` and checks it imported ``DIR/archive``), e.g.
  ``git archive main archive | tar -x -C /tmp/before && ... bench/storage.py --before /tmp/before``.

Times the writes only (records already in memory). Prints per way the medians over the rounds of
µs per article and articles per second, the database's bytes per article (with its WAL, after the
writer closed), and the cost over the baseline's as the median (range) of the per-round ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "sqlite-utils insert_all + FTS triggers (baseline)"
#: The articles table as the baseline writes it: the columns of ``archive.schema.ARTICLE_COLUMNS``
#: (checked before the bench starts), its indexes and its full-text index.
BASELINE_COLUMNS: dict[str, type] = {
    **{name: str for name in ("url", "site", "region")},
    "article_id": int,
    **{name: str for name in ("title", "summary", "body", "published_at", "published_at_raw", "dateline")},
    **{name: str for name in ("reporter", "editor", "category", "tags", "image_url", "image_caption")},
    "word_count": int,
    **{name: str for name in ("content_hash", "template", "first_seen_at", "last_seen_at")},
    "last_run_id": int,
    "version": int,
    **{name: str for name in ("content_changed_at", "etag", "last_modified", "warc_file")},
    "warc_offset": int,
    "warc_length": int,
    **{name: str for name in ("warc_record_id", "extractor_version", "language", "translator")},
    "story_id": int,
    "removed_at": str,
    "removed_status": str,
}
BASELINE_INDEXES = (
    (("site", "article_id"), True),
    (("published_at",), False),
    (("region", "published_at"), False),
    (("category",), False),
    (("story_id",), False),
    (("removed_at",), False),
)
LINK_COLUMNS = {"source_url": str, "target_url": str, "anchor_text": str, "kind": str, "target_site": str,
                "target_article_id": int, "position": int}  # fmt: skip
BATCH = 2000
PROJECT = ("archive", "crawler", "spiders")


# -- the child: one way, timed ------------------------------------------------------------------


def baseline(path: Path, records: list[dict[str, Any]], regions: list[dict[str, Any]]) -> float:
    import sqlite_utils

    db = sqlite_utils.Database(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    articles = db.table("articles").create(BASELINE_COLUMNS, pk="url", not_null={"site", "region", "title", "body"})
    for columns, unique in BASELINE_INDEXES:
        articles.create_index(columns, unique=unique)
    articles.enable_fts(["title", "body"], create_triggers=True, tokenize="unicode61 remove_diacritics 2")
    links = db.table("links").create(LINK_COLUMNS, pk=("source_url", "target_url"))
    started = time.perf_counter()
    rows = [{k: json.dumps(v) if k == "tags" else v for k, v in r.items() if k in BASELINE_COLUMNS} for r in records]
    link_rows = [
        {"source_url": r["url"], "target_url": x["url"], "anchor_text": x["anchor_text"], "kind": x["kind"],
         "target_site": x.get("site"), "target_article_id": x.get("article_id"), "position": n}
        for r in records for n, x in enumerate(r["links"])
    ]  # fmt: skip
    articles.insert_all(rows, batch_size=BATCH)
    links.insert_all(link_rows, batch_size=BATCH, ignore=True)
    seconds = time.perf_counter() - started
    db.close()
    borrowed = sorted(name for name in sys.modules if name.split(".")[0] in PROJECT)
    if borrowed:
        raise SystemExit(f"the baseline imported this project: {borrowed}")
    return seconds


def _archive(path: Path, regions: list[dict[str, Any]]) -> tuple[Any, int]:
    from archive import Archive

    archive = Archive(path)
    archive.sync_regions(regions)
    return archive, archive.start_run({"bench": "storage"}, [], "bench")


def one_by_one(path: Path, records: list[dict[str, Any]], regions: list[dict[str, Any]]) -> float:
    archive, run = _archive(path, regions)
    started = time.perf_counter()
    for record in records:
        archive.upsert_article(record, run)
    seconds = time.perf_counter() - started
    archive.close()
    return seconds


def batched(path: Path, records: list[dict[str, Any]], regions: list[dict[str, Any]]) -> float:
    archive, run = _archive(path, regions)
    started = time.perf_counter()
    archive.upsert_many(records, run, batch=BATCH)
    seconds = time.perf_counter() - started
    archive.close()
    return seconds


def grouped(
    path: Path, records: list[dict[str, Any]], regions: list[dict[str, Any]], size: int = 25, savepoints: bool = False
) -> float:
    """The crawl's path: groups of ``size`` articles a transaction with the group's run counts, as
    the pipeline's group commit writes them (no savepoint per article, checkpoints deferred);
    ``savepoints``: each article in a savepoint of its own, as the pipeline wrote them before."""
    archive, run = _archive(path, regions)
    if not savepoints:
        archive.defer_checkpoints()
    started = time.perf_counter()
    for start in range(0, len(records), size):
        with archive.transaction(savepoints=savepoints):
            for record in records[start : start + size]:
                if savepoints:
                    with archive.transaction():
                        archive.upsert_article(record, run)
                else:
                    archive.upsert_article(record, run)
            archive.add_run_counts(run, {"articles_new": len(records[start : start + size])}, {}, {})
    seconds = time.perf_counter() - started
    archive.close()
    return seconds


def grouped_with_savepoints(path: Path, records: list[dict[str, Any]], regions: list[dict[str, Any]]) -> float:
    """:func:`grouped` with a savepoint per article and SQLite's checkpoints (the path until now)."""
    return grouped(path, records, regions, savepoints=True)


def grouped_without_facet_triggers(path: Path, records: list[dict[str, Any]], regions: list[dict[str, Any]]) -> float:
    """:func:`grouped` in an archive whose ``facet_counts`` triggers are dropped: what keeping the
    facet counts (schema version 8) costs a write."""
    archive, _run = _archive(path, regions)
    names = archive.db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'facet_counts_%'")
    for (name,) in names.fetchall():
        archive.db.execute(f"DROP TRIGGER [{name}]")
    archive.close()
    return grouped(path, records, regions)


CHILD_WAYS = {
    "baseline": baseline,
    "upsert_article": one_by_one,
    "group_commit": grouped,
    "group_commit_savepoints": grouped_with_savepoints,
    "group_commit_without_facet_triggers": grouped_without_facet_triggers,
    "upsert_many": batched,
}


def child(way: str, data: Path, db: Path) -> None:
    """Run one way; print JSON: seconds, bytes (database + WAL), the archive package it used."""
    payload = json.loads(data.read_text())
    seconds = CHILD_WAYS[way](db, payload["records"], payload["regions"])
    size = sum(p.stat().st_size for p in (db, db.with_name(db.name + "-wal")) if p.exists())
    module = sys.modules.get("archive")
    print(json.dumps({"seconds": seconds, "bytes": size, "archive": getattr(module, "__file__", None)}))


# -- the parent: rounds, figures ----------------------------------------------------------------


def check_baseline() -> None:
    from archive.schema import ARTICLE_COLUMNS, TABLES

    if BASELINE_COLUMNS != ARTICLE_COLUMNS:
        raise SystemExit("bench/storage.py: BASELINE_COLUMNS differ from archive.schema.ARTICLE_COLUMNS")
    table = next(t for t in TABLES if t.name == "articles")
    if tuple((i.columns, i.unique) for i in table.indexes) != BASELINE_INDEXES or table.fts is None:
        raise SystemExit("bench/storage.py: BASELINE_INDEXES differ from the articles table's")
    if table.fts.columns != ("title", "body") or table.fts.tokenize != "unicode61 remove_diacritics 2":
        raise SystemExit("bench/storage.py: the articles table's FTS config changed")


def run_child(way: str, data: Path, folder: Path, pythonpath: Path | None) -> dict[str, Any]:
    db = folder / "a.db"
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, (str(pythonpath), env.get("PYTHONPATH"))))
    cmd = [sys.executable, __file__, "--child", way, "--data", str(data), "--db", str(db)]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{way} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    got: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if pythonpath is not None and not str(got["archive"]).startswith(str(pythonpath.resolve())):
        raise SystemExit(f"--before: the child imported {got['archive']}, not {pythonpath}/archive")
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5, help="interleaved rounds [5]")
    parser.add_argument("--before", type=Path, default=None, help="a checkout whose archive package to compare")
    parser.add_argument("--child", choices=sorted(CHILD_WAYS), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--db", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.data, args.db)
        return
    from crawler.domain.regions import REGIONS
    from crawler.samplesite import SampleSite
    from crawler.samplesite.records import article_record

    check_baseline()
    if args.before is not None and not (args.before / "archive" / "__init__.py").is_file():
        parser.error(f"--before {args.before}: no archive package there")
    site = SampleSite(articles=args.articles, seed=1)
    records = [article_record(site.article_at(k)) for k in range(args.articles)]
    # (label, child way, PYTHONPATH)
    ways: list[tuple[str, str, Path | None]] = [
        (BASELINE, "baseline", None),
        ("Archive.upsert_article, one transaction each", "upsert_article", None),
        ("group commit, 25 a transaction (the crawl's path)", "group_commit", None),
        ("group commit, a savepoint per article (before)", "group_commit_savepoints", None),
        ("group commit without the facet_counts triggers", "group_commit_without_facet_triggers", None),
        ("Archive.upsert_many (batched)", "upsert_many", None),
    ]
    if args.before is not None:
        ways.append((f"upsert_article of {args.before}", "upsert_article", args.before.resolve()))
    runs: dict[str, list[dict[str, Any]]] = {label: [] for label, _, _ in ways}
    with tempfile.TemporaryDirectory(prefix="antara-storage-bench-") as name:
        data = Path(name) / "records.json"
        data.write_text(json.dumps({"records": records, "regions": [r.as_row() for r in REGIONS]}))
        for round_ in range(1, args.repeat + 1):
            for label, way, pythonpath in ways:
                with tempfile.TemporaryDirectory(prefix="antara-storage-run-") as folder:
                    done = run_child(way, data, Path(folder), pythonpath)
                runs[label].append(done)
                print(
                    f"  round {round_}, {label}: {done['seconds'] / args.articles * 1e6:.0f} µs/article",
                    file=sys.stderr,
                    flush=True,
                )
    med = statistics.median
    base = runs[BASELINE]
    print(
        f"{args.articles:,} sample-site articles into a fresh database, {args.repeat} interleaved rounds,"
        f" each run a child process; medians; cost x baseline = median (range) of per-round ratios;"
        f" load {os.getloadavg()[0]:.1f}"
    )
    print(f"{'way':48s} {'µs/article':>10s} {'articles/s':>10s} {'bytes/article':>13s}  cost x baseline")
    for label, got in runs.items():
        ratios = [g["seconds"] / b["seconds"] for g, b in zip(got, base, strict=True)]
        seconds = med(g["seconds"] for g in got)
        print(
            f"{label:48s} {seconds / args.articles * 1e6:10.0f} {args.articles / seconds:10.0f}"
            f" {med(g['bytes'] for g in got) / args.articles:13.0f}"
            f"  {med(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"
        )
    if args.before is not None:
        now, then = runs["Archive.upsert_article (pipeline path)"], runs[ways[-1][0]]
        ratios = [n["seconds"] / t["seconds"] for n, t in zip(now, then, strict=True)]
        print(f"upsert_article now / before: {med(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})")


if __name__ == "__main__":
    main()
