"""Parse cost per sample-site article page: bare lxml, BeautifulSoup (lxml builder), and our extraction.

Run: .venv/bin/python bench/parsers.py [--pages 300] [--repeat 5]
Prints the median microseconds per page over REPEAT runs and the ratio to bare lxml.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import lxml.html

from crawler.extraction import extract_article
from crawler.samplesite import SampleSite
from crawler.samplesite.routes import Router


def pages(count: int) -> list[tuple[str, str]]:
    site = SampleSite(articles=max(count * 2, 100), seed=1)
    router = Router(site)
    out = []
    for k in range(site.articles):
        spec = site.article_at(k)
        if spec.fault:
            continue
        page = router.get(f"/{spec.host}/berita/{spec.article_id}/{spec.slug}")
        out.append((page.body.decode() if isinstance(page.body, bytes) else page.body, spec.url))
        if len(out) == count:
            break
    return out


def median_us(fn: Callable[[str, str], object], docs: list[tuple[str, str]], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for html, url in docs:
            fn(html, url)
        runs.append((time.perf_counter() - start) / len(docs) * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    docs = pages(args.pages)
    candidates: dict[str, Callable[[str, str], object]] = {
        "lxml.html.fromstring (floor)": lambda html, url: lxml.html.fromstring(html),
        "extract_article (ours)": extract_article,
    }
    try:
        from bs4 import BeautifulSoup

        candidates["BeautifulSoup(html, 'lxml')"] = lambda html, url: BeautifulSoup(html, "lxml")
    except ImportError:
        print("beautifulsoup4 not installed: pip install beautifulsoup4 to compare it")
    results = {name: median_us(fn, docs, args.repeat) for name, fn in candidates.items()}
    floor = results["lxml.html.fromstring (floor)"]
    print(f"{len(docs)} sample-site article pages, median of {args.repeat} runs")
    for name, us in results.items():
        print(f"{name:32s} {us:8.0f} us/page  {us / floor:5.2f}x floor")


if __name__ == "__main__":
    main()
