"""Lead images: archive bytes per image, and crawl time per article with and without images.

Run: .venv/bin/python bench/images.py [--rounds 3] [--regions kalteng,kalsel] [--max-pages 2]

Serves a sample site on loopback and crawls it through the real CLI into fresh archives,
interleaved: without images, with images, without, with, ... (throttling off, 4 requests
per host). Prints, per arm, the median seconds per archived article and the median WARC
bytes per article; for the image runs, the WARC bytes of the image exchanges per image:
response records (a new payload), revisit records (bytes already captured under another
image URL) and their request records. Both arms are the project's own crawler: there is no
outside baseline, only the cost of the option.

The sample site's images are tiny synthetic PNGs (16x9 pixels, ~80 bytes); a live ANTARA
lead image (730x487 or 800x533 JPEG) is tens of kilobytes, and costs that plus the fixed
record overhead printed here.
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from crawler.samplesite import SampleSite, make_server

ROOT = Path(__file__).resolve().parent.parent
IMAGE_PREFIX = "https://img.antaranews.com/"


def crawl(url: str, db: Path, regions: str, max_pages: int, images: bool) -> float:
    command = [sys.executable, "-m", "crawler", "crawl", "--region", regions, "--db", str(db), "--mirror", url]
    command += ["--delay", "0", "--concurrency", "4", "--max-pages", str(max_pages), "--follow-depth", "1", "-q"]
    command.append("--with-images" if images else "--no-images")
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True, timeout=1200)
    return time.perf_counter() - started


def measure(db: Path) -> dict[str, float]:
    conn = sqlite3.connect(db)
    articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    total = conn.execute("SELECT coalesce(sum(warc_length), 0) FROM captures").fetchone()[0]
    kinds = dict(
        conn.execute(
            "SELECT record_type, sum(warc_length) FROM captures WHERE url >= ? AND url < ? GROUP BY record_type",
            [IMAGE_PREFIX, IMAGE_PREFIX[:-1] + "0"],
        ).fetchall()
    )
    counts = dict(
        conn.execute(
            "SELECT record_type, count(*) FROM captures WHERE url >= ? AND url < ? AND url != ? GROUP BY record_type",
            [IMAGE_PREFIX, IMAGE_PREFIX[:-1] + "0", IMAGE_PREFIX + "robots.txt"],
        ).fetchall()
    )
    conn.close()
    images = counts.get("response", 0) + counts.get("revisit", 0)
    return {
        "articles": articles,
        "bytes_per_article": total / articles if articles else 0.0,
        "images": images,
        "response": kinds.get("response", 0) / max(1, counts.get("response", 0)),
        "revisit": kinds.get("revisit", 0) / max(1, counts.get("revisit", 0)),
        "request": kinds.get("request", 0) / max(1, counts.get("request", 0)),
        "image_bytes_per_image": sum(kinds.values()) / images if images else 0.0,
        "revisits": counts.get("revisit", 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--regions", default="kalteng,kalsel")
    parser.add_argument("--max-pages", type=int, default=2)
    parser.add_argument("--articles", type=int, default=3000)
    args = parser.parse_args()
    server = make_server(SampleSite(articles=args.articles, seed=1), host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.port}"
    results: dict[bool, list[tuple[float, dict[str, float]]]] = {False: [], True: []}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for n in range(args.rounds):
                for images in (False, True):  # interleaved: A, B, A, B, ...
                    db = Path(tmp) / f"r{n}-{'with' if images else 'without'}.db"
                    seconds = crawl(url, db, args.regions, args.max_pages, images)
                    results[images].append((seconds, measure(db)))
    finally:
        server.shutdown()
    print(f"sample site {args.articles} articles, {args.regions}, {args.max_pages} list pages, follow depth 1;")
    print(f"{args.rounds} interleaved rounds; medians (the machine may be loaded: compare ratios, not seconds)")
    medians = {}
    for images, runs in results.items():
        per_article = statistics.median(s / m["articles"] for s, m in runs)
        size = statistics.median(m["bytes_per_article"] for _, m in runs)
        medians[images] = (per_article, size)
        label = "with images   " if images else "without images"
        print(f"  {label}: {per_article * 1000:7.1f} ms per article, {size:8.0f} WARC bytes per article")
    ratio_time = medians[True][0] / medians[False][0]
    ratio_size = medians[True][1] / medians[False][1]
    print(f"  ratio with/without: time {ratio_time:.2f}x, WARC bytes {ratio_size:.2f}x")
    _, last = results[True][-1]
    print(
        f"  image records: {last['images']:.0f} images ({last['revisits']:.0f} revisits of shared bytes);"
        f" response {last['response']:.0f} B, revisit {last['revisit']:.0f} B, request {last['request']:.0f} B;"
        f" all told {last['image_bytes_per_image']:.0f} B per image"
    )


if __name__ == "__main__":
    main()
