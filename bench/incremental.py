"""Requests per new article in scheduled incremental runs of the sample site, against the ideal.

Run: .venv/bin/python bench/incremental.py [--regions kalteng,kalsel,jatim] [--rounds 6] [--per-hour 2]

Serves a sample site on loopback, fills an archive with a full crawl, then repeats: publish
about --per-hour new articles per region (ANTARA's regional sites publish roughly 20 to 60 a
day), run `antara crawl --incremental` through the real CLI, and read the run ledger
(crawl_runs). The ideal run fetches each new article once plus one list look per region:
(new + regions) / new requests per new article. Prints the median over the rounds and the
ratio to the ideal, with revisits off and on (revisits are counted apart: they are the
price of noticing corrections, not of finding news).
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
from datetime import datetime, timedelta
from pathlib import Path

from crawler.domain.regions import parse_regions
from crawler.samplesite import SampleSite, make_server

ROOT = Path(__file__).resolve().parent.parent


def crawl(url: str, db: Path, regions: str, *extra: str) -> None:
    command = [
        sys.executable,
        "-m",
        "crawler",
        "crawl",
        "--region",
        regions,
        "--db",
        str(db),
        "--mirror",
        url,
        "--delay",
        "0",
        "--concurrency",
        "4",
        "-q",
        *extra,
    ]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=600)


def clock(site: SampleSite, slugs: list[str]) -> str:
    newest = max(datetime.fromisoformat(next(site.articles_of(slug)).published_at) for slug in slugs)
    return (newest + timedelta(minutes=10)).isoformat()


def last_run(db: Path) -> dict[str, float]:
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return dict(conn.execute("SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone())
    finally:
        conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--regions", default="kalteng,kalsel,jatim")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--per-hour", type=int, default=2, help="new articles per region per run")
    args = parser.parse_args()
    slugs = [r.slug for r in parse_regions(args.regions)]
    site = SampleSite(articles=35 * 120, seed=3)
    server = make_server(site, port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.port}"
    results: dict[str, list[tuple[float, float, int, int, int]]] = {"revisits off": [], "revisits 1h,1d,7d": []}
    with tempfile.TemporaryDirectory() as folder:
        for label, extra in (("revisits off", ["--revisit", "off"]), ("revisits 1h,1d,7d", [])):
            db = Path(folder) / f"{label.split()[1]}.db"
            crawl(url, db, args.regions, "--follow-depth", "1", "-s", f"ANTARA_NOW={clock(site, slugs)}")
            for _ in range(args.rounds):
                site.publish(35 * args.per_hour)
                now = clock(site, slugs)  # the run starts 10 minutes after the newest article
                crawl(url, db, args.regions, "--incremental", "--follow-depth", "1", "-s", f"ANTARA_NOW={now}", *extra)
                run = last_run(db)
                new = int(run["articles_new"] or 0)
                if not new:
                    continue
                revisits = int(run["revisits"] or 0)
                finding = int(run["requests"]) - revisits
                ideal = (new + len(slugs)) / new
                results[label].append((finding / new, ideal, new, int(run["requests"]), revisits))
    server.shutdown()
    print(
        f"{len(slugs)} regions ({args.regions}), {args.rounds} runs, ~{args.per_hour} new articles per region per run"
    )
    for label, rows in results.items():
        per_new = statistics.median(r[0] for r in rows)
        ideal = statistics.median(r[1] for r in rows)
        new, requests, revisits = (statistics.median(r[i] for r in rows) for i in (2, 3, 4))
        print(
            f"{label:18s} requests per new article (revisits apart): median {per_new:.2f}, ideal {ideal:.2f},"
            f" ratio {per_new / ideal:.2f}; median new {new:.0f}, requests {requests:.0f}, revisits {revisits:.0f}"
        )


if __name__ == "__main__":
    main()
