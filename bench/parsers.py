"""Extraction speed per article page: our extraction against bare lxml (the floor), BeautifulSoup
(lxml builder) and trafilatura, timed interleaved in one run.

Run from the project root: .venv/bin/python bench/parsers.py [--pages 300] [--repeat 5] [--floor-only]
(the ``bench`` extra installs BeautifulSoup and trafilatura; each is left out when missing)

Pages, as the bytes a crawl receives: PAGES error-free article pages of the sample site per template
(old and new), rendered by its own router (no HTTP), and the fixture pages of tests/fixtures/articles
that expect an article (markup written after real pages of both templates). Candidates are
interleaved page by page (A, B, C, A, B, C, ...; the order rotates each round), so a noisy neighbour
on the machine slows them alike; each call is timed in CPU time of this thread (``time.thread_time``),
so the time a neighbour holds the core is not counted. Each round clears our URL memo first (a crawl
meets each page once). Printed per group: the median over REPEAT rounds of microseconds per page,
pages per second, and the median over rounds of each round's ratio to the floor and to ours. The
floor, ``lxml.html.fromstring``, imports nothing from this project. Targets: ours at most 2x the
floor; trafilatura at least 10x slower than ours.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import lxml.html

from crawler.extraction import extract_article, urls
from crawler.samplesite import SampleSite
from crawler.samplesite.routes import Router

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "articles"
#: memoised URL parsers: cleared before each round
MEMOS = [
    getattr(urls, name)
    for name in ("parse_article_url", "is_antara_host")
    if hasattr(getattr(urls, name), "cache_clear")
]
FLOOR = "lxml.html.fromstring (floor)"
OURS = "extract_article (ours)"
Page = tuple[bytes, str]


def site_pages(count: int) -> dict[str, list[Page]]:
    """``count`` error-free article pages per template: (html bytes, url)."""
    site = SampleSite(articles=max(count * 80, 100), seed=1)  # new-template pages are mostly national ones
    router = Router(site)
    out: dict[str, list[Page]] = {"old": [], "new": []}
    for k in range(site.articles):
        spec = site.article_at(k)
        if spec.fault or len(out[spec.template]) >= count:
            continue
        page = router.get(f"/{spec.host}/berita/{spec.article_id}/{spec.slug}")
        out[spec.template].append((page.body if isinstance(page.body, bytes) else page.body.encode(), spec.url))
        if all(len(v) >= count for v in out.values()):
            break
    return out


def fixture_pages() -> list[Page]:
    """The fixture pages that expect an article (both templates)."""
    out = []
    for page in sorted(FIXTURES.glob("*.html")):
        spec = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        if "expected" in spec:
            out.append((page.read_bytes(), spec["url"]))
    return out


def candidates(others: bool = True) -> dict[str, Callable[[bytes, str], object]]:
    """The floor and ours, then (``others``) BeautifulSoup and trafilatura when installed."""
    found: dict[str, Callable[[bytes, str], object]] = {
        FLOOR: lambda html, url: lxml.html.fromstring(html),
        OURS: extract_article,
    }
    if not others:
        return found
    try:
        from bs4 import BeautifulSoup

        found["BeautifulSoup(html, 'lxml')"] = lambda html, url: BeautifulSoup(html, "lxml")
    except ImportError:
        print("beautifulsoup4 not installed: pip install -e '.[bench]' to compare it")
    try:
        import trafilatura

        def bare(html: bytes, url: str) -> object:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return trafilatura.bare_extraction(html, url=url, with_metadata=True)

        found["trafilatura.bare_extraction"] = bare
    except ImportError:
        print("trafilatura not installed: pip install -e '.[bench]' to compare it")
    return found


def interleaved(
    tried: dict[str, Callable[[bytes, str], object]], docs: list[Page], repeat: int
) -> list[dict[str, float]]:
    """Per round, each candidate's mean microseconds per page, the candidates taking turns page by page."""
    names = list(tried)
    rounds = []
    clock = time.thread_time  # CPU time of this thread: not the time neighbours hold the core
    for r in range(repeat):
        for memo in MEMOS:
            memo.cache_clear()
        order = names[r % len(names) :] + names[: r % len(names)]
        fns = [(name, tried[name]) for name in order]
        spent = dict.fromkeys(names, 0.0)
        for html, url in docs:
            for name, fn in fns:
                start = clock()
                fn(html, url)
                spent[name] += clock() - start
        rounds.append({name: seconds / len(docs) * 1e6 for name, seconds in spent.items()})
    return rounds


def report(group: str, docs: list[Page], rounds: list[dict[str, float]]) -> None:
    size = sum(len(h) for h, _ in docs) / len(docs) / 1024
    print(f"\n{group}: {len(docs)} pages, {size:.1f} KiB avg")
    print(f"  {'candidate':30s} {'us/page':>8s} {'pages/s':>8s} {'x floor':>8s} {'x ours':>8s}")
    for name in rounds[0]:
        us = statistics.median(r[name] for r in rounds)
        floor = statistics.median(r[name] / r[FLOOR] for r in rounds)
        ours = statistics.median(r[name] / r[OURS] for r in rounds)
        print(f"  {name:30s} {us:8.0f} {1e6 / us:8.0f} {floor:8.2f} {ours:8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="sample-site pages per template")
    parser.add_argument("--repeat", type=int, default=5, help="rounds (each times every page once)")
    parser.add_argument(
        "--floor-only",
        action="store_true",
        help="time ours against the floor alone (BeautifulSoup and trafilatura, run between our calls, "
        "evict the CPU caches our call would find warm)",
    )
    args = parser.parse_args()
    groups = {f"sample site, {t} template": docs for t, docs in site_pages(args.pages).items()}
    groups["fixture pages (real templates)"] = fixture_pages()
    tried = candidates(others=not args.floor_only)
    print(f"median of {args.repeat} interleaved rounds; ratios are the median of each round's ratio")
    for group, docs in groups.items():
        report(group, docs, interleaved(tried, docs, args.repeat))


if __name__ == "__main__":
    main()
