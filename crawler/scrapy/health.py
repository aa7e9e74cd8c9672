"""Judging a run that ended: the one piece of code that turns what a run did into its health
verdict, for the crawl's pipeline and the distributed ingester alike (no Scrapy).

It gathers the facts the monitors of :mod:`crawler.scrapy.monitors` look at: the run's counts, what
each site it crawled yielded (list pages and feeds read, from the crawl's stats; articles,
errors, field coverage and failed list pages, from the run's :class:`~crawler.scrapy.storage.Tally`)
and what the site's recent runs yielded (from the archive). It returns the verdict with the
``crawl_runs`` and ``crawl_run_regions`` values that record it.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from archive import Archive
from archive.store import parse_coverage
from crawler.scrapy.monitors import Health, RunFacts, SiteFacts, Thresholds, check_run
from crawler.scrapy.storage import OPTIONAL_FIELDS, Tally, region_counts

ARTICLE_COUNTS = ("articles_new", "articles_updated", "articles_unchanged")


@dataclass(frozen=True)
class Judged:
    """A run's verdict and the archive values that record it."""

    health: Health
    #: ``crawl_runs`` columns: ``health``, ``health_reasons``, ``field_coverage``
    columns: dict[str, Any]
    #: ``crawl_run_regions`` rows: the counts, field coverage and verdict of each site
    regions: list[dict[str, Any]]


def judge_run(
    archive: Archive,
    run_id: int,
    *,
    mode: str,
    finish_reason: str,
    counts: Mapping[str, Any],
    stats: Mapping[str, Any],
    tally: Tally,
    regions: Sequence[str],
    thresholds: Thresholds,
    resumed: bool = False,
) -> Judged:
    """Judge run ``run_id`` with :func:`~crawler.scrapy.monitors.check_run`.

    ``counts`` are the run's ``crawl_runs`` counts (:func:`~crawler.scrapy.storage.run_counts`),
    ``stats`` the crawl's Scrapy stats (summed over the workers of a distributed run: the
    ``antara/list_read/<region>``, ``antara/feed_read/<region>``, ``antara/list_pages/<region>``
    counters), ``tally`` what the run stored, ``regions`` the slugs of the sites it crawled (not
    those its Baca juga links reached), ``resumed`` whether it completes interrupted runs.
    """
    articles = sum(counts[name] for name in ARTICLE_COUNTS)
    facts = RunFacts(
        mode=mode,
        finish_reason=finish_reason,
        articles=articles,
        parsed=tally.totals["articles_stored"],
        errors=counts["errors"],
        pages=articles + counts["list_pages"] + counts["feed_requests"] + counts["errors"],
        sites=tuple(_site_facts(archive, run_id, slug, mode, stats, tally, thresholds, resumed) for slug in regions),
        errors_by_site={slug: c["errors"] for slug, c in tally.by_region.items()},
    )
    verdict = check_run(facts, thresholds)
    columns = {
        "health": verdict.status,
        "health_reasons": json.dumps(verdict.reasons, ensure_ascii=False),
        "field_coverage": _coverage_json(tally.totals),
    }
    rows = region_counts(stats, tally, regions)
    for row in rows:
        row["field_coverage"] = _coverage_json(tally.by_region.get(row["region"], Counter()))
        site = verdict.sites.get(row["region"])
        if site is not None:
            row["health"] = site.status
            row["health_reasons"] = json.dumps(site.reasons, ensure_ascii=False)
    return Judged(verdict, columns, rows)


def _site_facts(
    archive: Archive,
    run_id: int,
    slug: str,
    mode: str,
    stats: Mapping[str, Any],
    tally: Tally,
    limits: Thresholds,
    resumed: bool,
) -> SiteFacts:
    """What the run did on one site, and what its recent runs did (from the archive)."""
    counted = tally.by_region.get(slug, Counter())
    try:
        same_mode = archive.site_history(slug, run_id, limits.site_runs, mode)
        recent = archive.site_history(slug, run_id, limits.site_runs)
    except sqlite3.Error:
        same_mode, recent = [], []
    earlier_parsed, earlier_missing = 0, Counter[str]()
    for row in recent:
        coverage = parse_coverage(row.get("field_coverage"))
        if coverage is not None:
            earlier_parsed += coverage[0]
            earlier_missing.update(coverage[1])
    return SiteFacts(
        region=slug,
        mode=mode,
        resumed=resumed,
        list_read=int(stats.get(f"antara/list_read/{slug}", 0)),
        feed_read=int(stats.get(f"antara/feed_read/{slug}", 0)),
        listing_failures=tuple(tally.listing_failures.get(slug, ())),
        articles=sum(counted[name] for name in ARTICLE_COUNTS),
        errors=counted["errors"],
        parsed=counted["articles_stored"],
        missing={name: counted[f"missing/{name}"] for name in OPTIONAL_FIELDS},
        baseline=tuple(sum(row.get(name) or 0 for name in ARTICLE_COUNTS) for row in same_mode),
        earlier_parsed=earlier_parsed,
        earlier_missing=dict(earlier_missing),
    )


def _coverage_json(counted: Mapping[str, int]) -> str:
    """``field_coverage``: article pages extracted, and how many of them lack each optional field."""
    missing = {name: counted.get(f"missing/{name}", 0) for name in OPTIONAL_FIELDS}
    return json.dumps({"articles": counted.get("articles_stored", 0), "missing": missing}, sort_keys=True)
