"""A crawl of the sample site in fault mode: requests, faults injected, articles archived, articles lost.

Run: .venv/bin/python bench/faults.py [--share 0.2] [--seed 1] [--regions kalteng,kalsel,nasional]
     [--pages 3] [--depth 2] [--timeout 2] [--slow 4] [--retry-after 1]

Serves the sample site (3,000 articles, seed 7) on loopback with a fault plan, runs
`antara crawl` through the real CLI against it, then audits the archive against every answer
the site gave (crawler.samplesite.audit): each fault must have been retried, recorded in
crawl_errors with its reason, or (harmless ones) archived through; each article whose last
answer was good must be archived with the site's true fields. Prints the table for the README.
The download timeout, the slow answers and Retry-After are shortened so the run takes
seconds; the crawler's real defaults are 30 s, 35 s past it, and whatever the server asks.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from crawler.samplesite import SampleSite, make_server
from crawler.samplesite.audit import audit
from crawler.samplesite.faults import EXPECTED_REASON, KINDS, FaultPlan

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--share", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--regions", default="kalteng,kalsel,nasional")
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--depth", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=2.0, help="DOWNLOAD_TIMEOUT of the crawl")
    parser.add_argument("--slow", type=float, default=4.0, help="seconds a slow answer waits")
    parser.add_argument("--retry-after", type=int, default=1)
    args = parser.parse_args()

    site = SampleSite(3000, 7)
    plan = FaultPlan(args.share, args.seed, slow_seconds=args.slow, retry_after=args.retry_after)
    server = make_server(site, faults=plan)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "faults.db"
        started = time.monotonic()
        result = subprocess.run(
            [
                *(sys.executable, "-m", "crawler", "crawl", "--db", str(db), "--mirror", server.base_url),
                *("--region", args.regions, "--max-pages", str(args.pages), "--follow-depth", str(args.depth)),
                *("--delay", "0", "--concurrency", "4", "-q"),
                *("-s", f"DOWNLOAD_TIMEOUT={args.timeout}", "-s", "ANTARA_RETRY_BACKOFF=0.2"),
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
        )
        elapsed = time.monotonic() - started
        server.shutdown()
        report = audit(site, list(server.answers), db)
        conn = sqlite3.connect(db)
        health = conn.execute("SELECT health, health_reasons FROM crawl_runs ORDER BY id DESC LIMIT 1").fetchone()
        conn.close()
    print(result.stdout.strip())
    print(f"exit status {result.returncode}, {elapsed:.1f}s; fault share {args.share}, seed {args.seed}")
    print(report.summary())
    print(f"run health: {health[0]} {health[1]}")
    print("\n| fault | injected | retried | recorded | archived through |")
    print("|---|---|---|---|---|")
    for kind in KINDS:
        print(
            f"| `{kind}` | {report.faults[kind]} | {report.retried[kind]} | {report.recorded[kind]}"
            f"{' (' + str(EXPECTED_REASON[kind]) + ')' if EXPECTED_REASON[kind] else ''} | {report.harmless[kind]} |"
        )
    for problem in report.lost + report.unaccounted + report.wrongly_archived:
        print("PROBLEM:", problem)
    sys.exit(0 if report.ok and result.returncode == 0 else 1)


if __name__ == "__main__":
    main()
