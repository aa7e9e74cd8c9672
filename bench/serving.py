"""Datasette latency on a big archive: the articles table page with its facets, full-text search, and
every canned query, as ``antara serve`` configures Datasette.

Run from the project root (build the archive first with bench/build_archive.py):
.venv/bin/python bench/serving.py --db /tmp/big.db [--repeat 15]

Datasette runs in this process (``build_datasette`` of ``antara serve``, live by default as the
command serves it, ``--mode immutable`` for the opt-in mode; then
``ds.client.get``: the whole request path of Datasette and our plugin, without the socket). Each page
is fetched once to warm up, then REPEAT times; prints p50 and p95 in milliseconds and the ratio of the
p50 to the baseline: the ``regions`` table page (35 rows), Datasette's own cost per page in the same run.
Targets at 1,000,000 articles: a two-word search under 100 ms, a word in ~10 % of the articles under
300 ms, the article list with all its facets under 500 ms. Also prints the archive's bytes per article.
``--compare-walk`` times only the article list and the searches, interleaved: the list with its facets
recomputed (A, the first load after a write) or kept (B) (in an archive of schema version 8 both
read ``facet_counts``: see ``--compare-facets``), and each search sorted by Datasette (A) or
by the published_at index walk (B); both with the search counted by FTS5. ``--compare-facets`` times
the article list's first load after a write (a row of ``articles`` touched before every request, so
nothing kept from the request before), interleaved: its facets recounted by GROUP BY (A, as
before schema version 8 or on an older archive) or read from ``facet_counts`` (B).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sqlite3
import statistics
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from crawler.serve.app import build_datasette

BASELINE = "regions table (baseline)"


def pages(db: Path) -> dict[str, str]:
    """Name -> path of every page measured, with parameters taken from the archive itself."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        url, title = conn.execute("SELECT url, title FROM articles ORDER BY rowid LIMIT 1 OFFSET 1000").fetchone()
        run = conn.execute("SELECT max(id) FROM crawl_runs").fetchone()[0]
    word = max(title.split(), key=len).lower()  # a word of a real headline
    phrase = " ".join(title.split()[:2]).lower()
    q = "/archive/{}?{}".format
    return {
        BASELINE: "/archive/regions",
        "home page": "/",  # its counts and chart are kept after the warm-up load
        "crawl health page": "/health",
        "articles table page, 4 facets": "/archive/articles",
        f"articles ?_search={word}": q("articles", urlencode({"_search": word})),
        f"articles ?_search={phrase} (2 words)": q("articles", urlencode({"_search": phrase})),
        f"articles ?_search={word} _nofacet": q("articles", urlencode({"_search": word, "_nofacet": 1})),
        f"articles ?_search={word} region=kalteng": q("articles", urlencode({"_search": word, "region": "kalteng"})),
        "article row page": f"/archive/articles/{quote(url.replace('/', '~2F').replace(':', '~3A'), safe='~')}",
        "latest_in_region (kalteng)": q("latest_in_region", urlencode({"region": "kalteng"})),
        "articles_per_region_per_day (all)": q("articles_per_region_per_day", urlencode({"region": "", "since": ""})),
        "articles_per_region_per_day (kalteng)": q(
            "articles_per_region_per_day", urlencode({"region": "kalteng", "since": ""})
        ),
        f"search_articles q={word}": q("search_articles", urlencode({"q": word})),
        "baca_juga_graph": q("baca_juga_graph", urlencode({"url": url})),
        "crawl_runs_recent": "/archive/crawl_runs_recent",
        f"crawl_errors_by_reason run={run}": q("crawl_errors_by_reason", urlencode({"run": run})),
    }


def _cards_plugin() -> Any:
    """The antara_cards module as Datasette loaded it from the plugins folder."""
    from datasette.plugins import pm

    return next(p for p in pm.get_plugins() if hasattr(p, "WALK_FACTOR"))


async def measure(db: Path, repeat: int, immutable: bool, compare: bool = False) -> dict[str, list[float]]:
    ds = build_datasette(db, immutable=immutable)
    started = time.perf_counter()
    await ds.invoke_startup()
    await ds.client.get("/archive/regions")
    print(f"Datasette ready in {time.perf_counter() - started:.1f}s (startup and first page)")
    timings: dict[str, list[float]] = {}
    named = pages(db)
    if compare:  # search pages with the index walk off (A) and on (B), requests interleaved A, B, A, B
        cards = _cards_plugin()
        on = cards.WALK_FACTOR
        facet_cache = ds.get_database("archive").facet_cache
        runs: dict[str, list[float]] = {"A recomputed": [], "B kept": []}
        for i in range(2 * repeat + 2):  # the unfiltered list: its facets recomputed (a write since) or kept
            label = "A recomputed" if i % 2 == 0 else "B kept"
            if label == "A recomputed":
                facet_cache.clear()
            t = time.perf_counter()
            response = await ds.client.get("/archive/articles")
            if i >= 2:
                runs[label].append((time.perf_counter() - t) * 1000)
        for label, values in runs.items():
            timings[f"articles table page, 5 facets [{label}]"] = values
        for name, path in named.items():
            if "_search" not in path:
                continue
            runs = {"A sort": [], "B walk": []}
            failed: Counter[str] = Counter()
            for i in range(2 * repeat + 2):
                label = "A sort" if i % 2 == 0 else "B walk"
                cards.WALK_FACTOR = float("inf") if label == "A sort" else on
                t = time.perf_counter()
                response = await ds.client.get(path)
                if i >= 2:
                    runs[label].append((time.perf_counter() - t) * 1000)
                    failed[label] += response.status_code != 200
            cards.WALK_FACTOR = on
            for label, count in failed.items():
                if count:
                    print(f"  note: {name} [{label}]: {count} of {repeat} requests failed (SQL time limit)")
            for label, values in runs.items():
                timings[f"{name} [{label}]"] = values
        return timings
    for name, path in named.items():
        first = await ds.client.get(path)
        if first.status_code != 200:
            print(f"  note: {name}: HTTP {first.status_code} ({_title(first.text)})")
        elif "timed out" in first.text.lower():
            print(f"  note: {name}: a facet timed out ({ds.setting('facet_time_limit_ms')} ms limit)")
        runs = []
        failed = 0
        for _ in range(repeat):
            t = time.perf_counter()
            failed += (await ds.client.get(path)).status_code != 200
            runs.append((time.perf_counter() - t) * 1000)
        if failed:
            print(f"  note: {name}: {failed} of {repeat} requests failed (SQL time limit)")
        timings[name] = runs
    return timings


def touch(db: Path) -> None:
    """A write to the archive, as a crawl's commit: the newest article's last_seen_at, set to itself."""
    conn = sqlite3.connect(db, timeout=30)
    with conn:
        conn.execute("UPDATE articles SET last_seen_at = last_seen_at WHERE rowid = (SELECT max(rowid) FROM articles)")
    conn.close()


async def compare_facets(db: Path, repeat: int, immutable: bool) -> dict[str, list[float]]:
    """The unfiltered list after a write: facets by GROUP BY (A) or from facet_counts (B), interleaved."""
    ds = build_datasette(db, immutable=immutable)
    await ds.invoke_startup()
    database = ds.get_database("archive")
    counted = database.table_exists

    async def no_counts(table: str) -> bool:  # what an archive without facet_counts answers
        return False if table == "facet_counts" else bool(await counted(table))

    if not await counted("facet_counts"):
        raise SystemExit(f"{db} has no facet_counts: open it with Archive (schema version 8) first")
    runs: dict[str, list[float]] = {"A GROUP BY": [], "B facet_counts": []}
    failed: Counter[str] = Counter()
    for i in range(2 * repeat + 2):
        label = "A GROUP BY" if i % 2 == 0 else "B facet_counts"
        database.table_exists = no_counts if label == "A GROUP BY" else counted
        touch(db)
        t = time.perf_counter()
        response = await ds.client.get("/archive/articles")
        if i >= 2:
            runs[label].append((time.perf_counter() - t) * 1000)
            failed[label] += response.status_code != 200 or "timed out" in response.text.lower()
    for label, count in failed.items():
        if count:
            print(f"  note: [{label}]: {count} of {repeat} pages failed or had a facet time out")
    return {f"articles list after a write, 6 facets [{label}]": values for label, values in runs.items()}


def _title(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    return found.group(1).strip() if found else html[:80]


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--mode", choices=["live", "immutable"], default="live", help="as antara serve --mode")
    parser.add_argument(
        "--compare-walk",
        action="store_true",
        help="only the article list and search pages: facets recomputed (A) or kept (B); Datasette's sort of the"
        " matches (A) or the published_at index walk (B)",
    )
    parser.add_argument(
        "--compare-facets",
        action="store_true",
        help="only the article list's first load after a write: facets by GROUP BY (A) or from facet_counts (B)",
    )
    args = parser.parse_args()
    with sqlite3.connect(f"file:{args.db}?mode=ro", uri=True) as conn:
        count = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    size = args.db.stat().st_size
    print(f"{args.db}: {count:,} articles, {size / 2**20:,.0f} MiB, {size / count:,.0f} bytes/article")
    print(f"mode: {args.mode}")
    if args.compare_facets:
        timings = asyncio.run(compare_facets(args.db, args.repeat, args.mode == "immutable"))
    else:
        timings = asyncio.run(measure(args.db, args.repeat, args.mode == "immutable", args.compare_walk))
    if args.compare_walk or args.compare_facets:
        print(f"{'page':60s} {'p50 ms':>8s} {'p95 ms':>8s}   ({args.repeat} requests each, interleaved)")
        names = list(timings)
        for a, b in zip(names[::2], names[1::2], strict=True):
            for name in (a, b):
                print(f"{name:60s} {statistics.median(timings[name]):8.0f} {p95(timings[name]):8.0f}")
            print(f"{'  A / B':60s} {statistics.median(timings[a]) / statistics.median(timings[b]):8.1f}x")
        return
    base = statistics.median(timings[BASELINE])
    print(f"{'page':46s} {'p50 ms':>8s} {'p95 ms':>8s} {'p50/base':>9s}   ({args.repeat} requests each)")
    for name, runs in timings.items():
        p50 = statistics.median(runs)
        print(f"{name:46s} {p50:8.0f} {p95(runs):8.0f} {p50 / base:9.1f}")


if __name__ == "__main__":
    main()
