"""Build a big archive fast from sample-site records (no HTTP), for the serving and export benches.

Run from the project root: .venv/bin/python bench/build_archive.py --articles 1000000 --db /tmp/big.db

A second process makes the records (``crawler.samplesite.records.article_record`` of the first ARTICLES
articles of ``SampleSite(seed=1)``) while this one writes them with ``Archive.upsert_many`` (2,000
articles a transaction; tags, links, FTS and indexes as a crawl writes them). Prints progress, the
articles per second and the archive's bytes per article.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from archive import Archive
from crawler import __version__
from crawler.domain.regions import REGIONS
from crawler.samplesite import SampleSite
from crawler.samplesite.records import article_record

CHUNK = 2000
_site: SampleSite | None = None


def _records(span: tuple[int, int, int]) -> list[dict[str, Any]]:
    global _site
    total, start, stop = span
    if _site is None:
        _site = SampleSite(articles=total, seed=1)
    return [article_record(_site.article_at(k)) for k in range(start, stop)]


def chunks(count: int) -> Iterator[list[dict[str, Any]]]:
    """Records of the first ``count`` articles, CHUNK at a time, made in a helper process."""
    spans = [(count, k, min(k + CHUNK, count)) for k in range(0, count, CHUNK)]
    with multiprocessing.get_context("fork").Pool(1) as pool:
        ahead: deque[Any] = deque()
        for span in spans:  # at most 4 chunks in flight: the helper outruns the writer
            ahead.append(pool.apply_async(_records, (span,)))
            if len(ahead) >= 4:
                yield ahead.popleft().get()
        while ahead:
            yield ahead.popleft().get()


def build(path: Path, count: int) -> float:
    """Write the first ``count`` sample-site articles into a new archive at ``path``; seconds taken."""
    path.unlink(missing_ok=True)
    started = time.monotonic()
    with Archive(path) as archive:
        archive.sync_regions(r.as_row() for r in REGIONS)
        run = archive.start_run({"bench": "build_archive", "articles": count}, [r.slug for r in REGIONS], __version__)
        done = 0
        for chunk in chunks(count):
            archive.upsert_many(chunk, run, batch=CHUNK)
            done += len(chunk)
            if done % 50_000 < CHUNK:
                rate = done / (time.monotonic() - started)
                print(f"  {done:,} articles ({time.monotonic() - started:.0f}s, {rate:.0f}/s)", file=sys.stderr)
        archive.finish_run(run, "finished", "finished", {"articles_new": count})
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    seconds = build(args.db, args.articles)
    size = args.db.stat().st_size
    print(
        f"{args.articles:,} articles in {seconds:.0f}s ({args.articles / seconds:.0f}/s); "
        f"{size / 2**20:.0f} MiB, {size / args.articles:.0f} bytes/article"
    )


if __name__ == "__main__":
    main()
