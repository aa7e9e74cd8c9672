"""End to end: articles archived per second by ``antara crawl`` against a bare Scrapy spider that follows
the same links and stores nothing, same settings, same run; and the sample site alone under a load generator.

Run from the project root: .venv/bin/python bench/crawl.py [--articles 20000] [--max-pages 4]
[--follow-depth 2] [--concurrency 8] [--repeat 3] [--load-seconds 10]

Starts the sample site (``antara sample-site``) in its own process, then, REPEAT times in turn:

- ``antara crawl --all-regions --mirror SITE --delay 0 --concurrency C``: list pages, articles, Baca juga
  links to FOLLOW_DEPTH, everything written to a fresh archive;
- the bare spider (``BareSpider`` below) in its own process with the same settings (``build_settings``,
  same mirror handler, middlewares, robots.txt, delay 0, concurrency C) minus the archive pipeline: it
  reads the same list pages, requests the same articles and the "Baca juga" links in them (found with one
  XPath), to the same depth, and keeps nothing.

Prints the median articles per second (article pages fetched and answered 200, over Scrapy's
``elapsed_time_seconds``) of each and the ratio ours/bare (target at least 0.8). Then measures the sample
site alone: ``wrk`` (``apt-get install wrk``) over distinct article pages for LOAD_SECONDS, or a small
threaded Python client when wrk is missing, so the site's ceiling is known next to the crawl rates.
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
# bench/incremental.py would shadow the ``incremental`` package Twisted imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
BACA_JUGA = "//*[starts-with(normalize-space(text()), 'Baca juga')]/a/@href"


def start_site(articles: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "sample-site", "--port", "0", "--articles", str(articles)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not found:
        proc.terminate()
        raise SystemExit(f"the sample site did not start: {line!r}")
    return proc, f"http://127.0.0.1:{found.group(1)}"


def ours(site: str, args: argparse.Namespace, folder: Path) -> dict[str, float]:
    db = folder / "ours.db"
    cmd = [sys.executable, "-m", "crawler", "crawl", "--all-regions", "--mirror", site, "--delay", "0"]
    cmd += ["--concurrency", str(args.concurrency), "--max-pages", str(args.max_pages)]
    cmd += ["--follow-depth", str(args.follow_depth), "--db", str(db), "-q"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"antara crawl failed: {done.stderr[-2000:]}")
    import sqlite3

    with sqlite3.connect(db) as conn:
        elapsed, new = conn.execute("SELECT elapsed_seconds, articles_new FROM crawl_runs ORDER BY id DESC").fetchone()
    return {"articles": new, "seconds": elapsed}


def bare(site: str, args: argparse.Namespace, folder: Path) -> dict[str, float]:
    cmd = [sys.executable, __file__, "--bare-child", json.dumps({"site": site, "folder": str(folder), **vars(args)})]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"bare spider failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def run_bare_child(spec: dict[str, Any]) -> None:
    """In the child process: crawl with ``BareSpider`` and print its figures as one JSON line."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    from crawler.domain.regions import REGIONS
    from crawler.extraction import extract_listing
    from crawler.extraction.urls import list_page_url, parse_article_url
    from crawler.run import Tuning, build_settings

    class BareSpider(scrapy.Spider):
        """List pages, their articles, Baca juga links to ``depth``: the same requests, nothing kept."""

        name = "bare"

        def __init__(self, max_pages: int, depth: int, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self.max_pages, self.depth, self.articles = max_pages, depth, 0

        async def start(self) -> Any:
            for region in REGIONS:
                for page in range(1, self.max_pages + 1):
                    yield scrapy.Request(list_page_url(region, page), callback=self.parse_list, priority=100 - page)

        def parse_list(self, response: Any) -> Iterator[scrapy.Request]:
            for entry in extract_listing(response.text, response.url):
                yield from self.article(entry.url, 0)

        def article(self, url: str, hops: int) -> Iterator[scrapy.Request]:
            ref = parse_article_url(url)
            if ref is not None:
                yield scrapy.Request(ref.url, callback=self.parse_article, cb_kwargs={"hops": hops}, priority=50 - hops)

        def parse_article(self, response: Any, hops: int) -> Iterator[scrapy.Request]:
            self.articles += 1
            if hops < self.depth:
                for href in response.xpath(BACA_JUGA).getall():
                    yield from self.article(response.urljoin(href), hops + 1)

    folder = Path(spec["folder"])
    overrides = {"ANTARA_MIRROR": spec["site"], "ITEM_PIPELINES": {}, "EXTENSIONS": {}}
    settings = build_settings(str(folder / "bare.db"), overrides, Tuning(delay=0, concurrency=spec["concurrency"]))
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, max_pages=spec["max_pages"], depth=spec["follow_depth"])
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    spider = crawler.spider
    print(json.dumps({"articles": spider.articles, "seconds": stats["elapsed_time_seconds"]}))


def load(site: str, articles: int, seconds: float, folder: Path) -> tuple[str, float]:
    """Requests per second the sample site answers alone, over distinct article pages."""
    from crawler.samplesite import SampleSite

    truth = SampleSite(articles=articles, seed=1)
    specs = [truth.article_at(k) for k in range(0, articles, max(1, articles // 5000))]
    paths = [f"/{spec.host}{spec.path}" for spec in specs]
    if shutil.which("wrk"):
        listing = folder / "paths.txt"
        listing.write_text("\n".join(paths) + "\n")
        script = folder / "paths.lua"
        script.write_text(
            f'local paths = {{}}\nfor line in io.lines("{listing}") do paths[#paths + 1] = line end\n'
            "local i = 0\n"
            "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
        )
        out = subprocess.run(
            ["wrk", "-t1", "-c8", f"-d{int(seconds)}s", "-s", str(script), site],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
        found = re.search(r"Requests/sec:\s*([\d.]+)", out)
        return "wrk -t1 -c8", float(found.group(1)) if found else 0.0
    host, port = site.removeprefix("http://").split(":")
    counts = [0] * 8
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while time.monotonic() < stop:
            conn.request("GET", paths[(n + counts[n] * 8) % len(paths)])
            conn.getresponse().read()
            counts[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return "python, 8 keep-alive threads", sum(counts) / seconds


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--bare-child":
        run_bare_child(json.loads(sys.argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=20_000, help="sample-site size")
    parser.add_argument("--max-pages", type=int, default=4)
    parser.add_argument("--follow-depth", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--load-seconds", type=float, default=10)
    args = parser.parse_args()
    proc, site = start_site(args.articles)
    try:
        rates: dict[str, list[float]] = {"antara crawl (ours)": [], "bare Scrapy spider": []}
        counts: dict[str, int] = {}
        for _ in range(args.repeat):
            for name, fn in (("antara crawl (ours)", ours), ("bare Scrapy spider", bare)):
                with tempfile.TemporaryDirectory(prefix="antara-crawl-bench-") as folder:
                    got = fn(site, args, Path(folder))
                rates[name].append(got["articles"] / got["seconds"])
                counts[name] = int(got["articles"])
                print(f"  {name}: {got['articles']} articles in {got['seconds']:.1f}s", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="antara-load-") as folder:
            tool, site_rate = load(site, args.articles, args.load_seconds, Path(folder))
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    base = statistics.median(rates["bare Scrapy spider"])
    print(
        f"all 35 regions, {args.max_pages} list pages each, follow depth {args.follow_depth}, concurrency "
        f"{args.concurrency}, delay 0; median of {args.repeat} runs"
    )
    for name, values in rates.items():
        rate = statistics.median(values)
        print(f"{name:22s} {counts[name]:6d} articles  {rate:7.1f} articles/s  {rate / base:5.2f}x bare")
    print(f"{'sample site alone':22s} {site_rate:7.1f} article pages/s ({tool}, {args.load_seconds:.0f}s)")


if __name__ == "__main__":
    main()
