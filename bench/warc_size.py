"""Bytes of gzip WARC stored per article, on a crawl of the sample site and on a second, unchanged one.

Run: .venv/bin/python bench/warc_size.py [--regions kalteng,kalsel,nasional] [--max-pages 3]

Serves a sample site on loopback, crawls it twice through the real CLI (capture on, the
default) and reads the captures table: every record (warcinfo, robots.txt, list pages,
errors, articles; responses and their request records) divided by the articles archived,
and the article exchanges alone. The sample site sends pages gzipped (as a CDN would) and
its pages are small (~10 KB of HTML); a live page is larger, and costs about its own
gzipped size plus the fixed overhead printed here.
"""

from __future__ import annotations

import argparse
import sqlite3
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

from archive.warc import iter_captures, warc_files
from crawler.extraction.urls import parse_article_url
from crawler.samplesite import SampleSite, make_server

ROOT = Path(__file__).resolve().parent.parent


def crawl(url: str, db: Path, regions: str, max_pages: int) -> None:
    command = [sys.executable, "-m", "crawler", "crawl", "--region", regions, "--db", str(db), "--mirror", url]
    command += ["--delay", "0", "--concurrency", "4", "--max-pages", str(max_pages), "-q"]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=1200)


def measure(db: Path, run_id: int) -> dict[str, float]:
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT url, record_type, warc_length FROM captures WHERE run_id = ?", [run_id]).fetchall()
    articles = conn.execute(
        "SELECT articles_new + articles_updated + articles_unchanged FROM crawl_runs WHERE id = ?", [run_id]
    ).fetchone()[0]
    conn.close()
    total = sum(length for _, _, length in rows)
    article_bytes = sum(length for url, _, length in rows if url and parse_article_url(url))
    responses = [
        length for url, kind, length in rows if url and parse_article_url(url) and kind in ("response", "revisit")
    ]
    requests = [length for url, kind, length in rows if url and parse_article_url(url) and kind == "request"]
    return {
        "articles": articles,
        "records": len(rows),
        "total": total,
        "per_article": total / articles,
        "article_exchange": article_bytes / articles,
        "response_record": sum(responses) / len(responses),
        "request_record": sum(requests) / len(requests),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regions", default="kalteng,kalsel,nasional")
    parser.add_argument("--max-pages", type=int, default=3)
    parser.add_argument("--articles", type=int, default=3000)
    args = parser.parse_args()
    server = make_server(SampleSite(articles=args.articles, seed=1), port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with tempfile.TemporaryDirectory() as folder:
            db = Path(folder) / "archive.db"
            url = f"http://127.0.0.1:{server.port}"
            for _ in range(2):
                crawl(url, db, args.regions, args.max_pages)
            pages = [
                (len(c.body()), len(c.payload))
                for path in warc_files(Path(f"{db}.warc"))
                for c in iter_captures(path)
                if c.record.record_type == "response" and c.status == 200 and parse_article_url(c.url)
            ]
            html = sum(p[0] for p in pages) / len(pages)
            sent = sum(p[1] for p in pages) / len(pages)
            print(f"article pages: {html:,.0f} bytes of HTML on average, {sent:,.0f} as sent (gzip)")
            for run_id, label in ((1, "first crawl"), (2, "second crawl, pages unchanged (revisits)")):
                m = measure(db, run_id)
                print(
                    f"{label}: {m['articles']:.0f} articles, {m['records']:.0f} records, {m['total'] / 1e6:.2f} MB;"
                    f" {m['per_article']:,.0f} bytes per article all told,"
                    f" {m['article_exchange']:,.0f} for the article exchange alone"
                    f" (response or revisit {m['response_record']:,.0f}, request {m['request_record']:,.0f})"
                )
    finally:
        server.shutdown()


if __name__ == "__main__":
    main()
