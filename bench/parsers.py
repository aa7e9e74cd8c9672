"""Extraction speed per sample-site article page, per template: our extraction against bare lxml (the
floor), BeautifulSoup (lxml builder) and trafilatura.

Run from the project root: .venv/bin/python bench/parsers.py [--pages 300] [--repeat 5]
(the ``bench`` extra installs BeautifulSoup and trafilatura; each is left out when missing)

Takes PAGES error-free article pages of the sample site, rendered by its own router (no HTTP), split by
template (old and new); times each candidate over the same pages REPEAT times and prints the median
microseconds per page, pages per second, and the ratio to bare ``lxml.html.fromstring`` measured in the
same run. Targets: ours at most 2x the floor; trafilatura at least 10x slower than ours.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable

import lxml.html

from crawler.extraction import extract_article, urls
from crawler.samplesite import SampleSite
from crawler.samplesite.routes import Router

#: memoised URL parsers: cleared before each timed run
MEMOS = [
    getattr(urls, name)
    for name in ("parse_article_url", "is_antara_host")
    if hasattr(getattr(urls, name), "cache_clear")
]
FLOOR = "lxml.html.fromstring (floor)"
OURS = "extract_article (ours)"


def pages(count: int) -> dict[str, list[tuple[str, str]]]:
    """``count`` error-free article pages per template: (html, url)."""
    site = SampleSite(articles=max(count * 80, 100), seed=1)  # new-template pages are mostly national ones
    router = Router(site)
    out: dict[str, list[tuple[str, str]]] = {"old": [], "new": []}
    for k in range(site.articles):
        spec = site.article_at(k)
        if spec.fault or len(out[spec.template]) >= count:
            continue
        page = router.get(f"/{spec.host}/berita/{spec.article_id}/{spec.slug}")
        out[spec.template].append((page.body.decode() if isinstance(page.body, bytes) else page.body, spec.url))
        if all(len(v) >= count for v in out.values()):
            break
    return out


def median_us(fn: Callable[[str, str], object], docs: list[tuple[str, str]], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        for memo in MEMOS:  # each run starts cold, as a crawl meets each page once
            memo.cache_clear()
        start = time.perf_counter()
        for html, url in docs:
            fn(html, url)
        runs.append((time.perf_counter() - start) / len(docs) * 1e6)
    return statistics.median(runs)


def candidates() -> dict[str, Callable[[str, str], object]]:
    found: dict[str, Callable[[str, str], object]] = {
        FLOOR: lambda html, url: lxml.html.fromstring(html),
        OURS: extract_article,
    }
    try:
        from bs4 import BeautifulSoup

        found["BeautifulSoup(html, 'lxml')"] = lambda html, url: BeautifulSoup(html, "lxml")
    except ImportError:
        print("beautifulsoup4 not installed: pip install -e '.[bench]' to compare it")
    try:
        import trafilatura

        def bare(html: str, url: str) -> object:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return trafilatura.bare_extraction(html, url=url, with_metadata=True)

        found["trafilatura.bare_extraction"] = bare
    except ImportError:
        print("trafilatura not installed: pip install -e '.[bench]' to compare it")
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="pages per template")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    by_template = pages(args.pages)
    tried = candidates()
    print(f"sample-site article pages per template: {args.pages}; median of {args.repeat} runs")
    for template, docs in by_template.items():
        results = {name: median_us(fn, docs, args.repeat) for name, fn in tried.items()}
        floor, ours = results[FLOOR], results[OURS]
        print(
            f"\ntemplate {template} ({len(docs)} pages, {sum(len(h) for h, _ in docs) / len(docs) / 1024:.0f} KiB avg)"
        )
        for name, us in results.items():
            print(
                f"  {name:30s} {us:8.0f} us/page {1e6 / us:7.0f} pages/s  {us / floor:6.2f}x floor"
                f"  {us / ours:6.2f}x ours"
            )


if __name__ == "__main__":
    main()
