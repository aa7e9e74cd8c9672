"""Health of a finished run, judged by Spidermon monitors: for the run, and for each site it crawled.

The run: enough articles, few errors, a clean finish. Each site: its list pages or feed read
(a site none of whose list pages and feed could be read went dark), none of them failed, not
far fewer articles than in its recent runs, no field suddenly missing on many of its
articles (markup drift). A degraded site makes the run degraded, whatever the run's global
figures, and the run's reasons name the site.

When a run closes, :func:`crawler.scrapy.health.judge_run` (called by the archive pipeline, and by
the ingester of a distributed run) calls :func:`check_run`; the verdict is stored in
``crawl_runs`` (``health``, ``health_reasons``) and each site's in ``crawl_run_regions``, in
the same transaction as the run's counts. The monitors are Spidermon ``Monitor`` test cases
in ``MonitorSuite``s, run with Spidermon's plain ``MonitorRunner`` rather than its Scrapy
extension: the extension logs through ``Spider.log()`` (deprecated in Scrapy 2.19), logs
every failed monitor as an ERROR traceback into the crawl's output, and runs on a
``spider_closed`` signal that may come after the pipeline has already closed the run.

Thresholds are settings (``ANTARA_HEALTH_*``, see ``crawler/scrapy/settings.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from statistics import median
from typing import Any

from spidermon import Monitor, MonitorSuite, monitors
from spidermon.runners import MonitorRunner


@dataclass(frozen=True)
class Thresholds:
    """When a run or a site counts as degraded; read from the ``ANTARA_HEALTH_*`` settings."""

    min_articles: int = 1  #: full and backfill runs store at least this many articles
    min_articles_incremental: int = 0  #: incremental runs (a quiet hour finds nothing, legitimately)
    max_error_rate: float = 0.2  #: share of the run's pages that ended in crawl_errors
    field_drop: float = 0.5  #: a field missing on this much larger a share of a site's articles than in earlier runs
    field_min_articles: int = 20  #: fields are judged only when this run and the earlier ones parsed this many
    site_drop: float = 0.25  #: a site stored fewer than this share of the median of its recent runs
    site_min_baseline: int = 10  #: ... judged only when that median is at least this many articles
    site_runs: int = 5  #: how many earlier finished runs of a site make its baseline

    @classmethod
    def from_settings(cls, settings: Any) -> Thresholds:
        return cls(
            min_articles=settings.getint("ANTARA_HEALTH_MIN_ARTICLES", cls.min_articles),
            min_articles_incremental=settings.getint(
                "ANTARA_HEALTH_MIN_ARTICLES_INCREMENTAL", cls.min_articles_incremental
            ),
            max_error_rate=settings.getfloat("ANTARA_HEALTH_MAX_ERROR_RATE", cls.max_error_rate),
            field_drop=settings.getfloat("ANTARA_HEALTH_FIELD_DROP", cls.field_drop),
            field_min_articles=settings.getint("ANTARA_HEALTH_FIELD_MIN_ARTICLES", cls.field_min_articles),
            site_drop=settings.getfloat("ANTARA_HEALTH_SITE_DROP", cls.site_drop),
            site_min_baseline=settings.getint("ANTARA_HEALTH_SITE_MIN_BASELINE", cls.site_min_baseline),
            site_runs=settings.getint("ANTARA_HEALTH_SITE_RUNS", cls.site_runs),
        )


@dataclass(frozen=True)
class SiteFacts:
    """What the site monitors look at: one site's part of a run, and its earlier runs."""

    region: str  #: region slug
    mode: str = "full"  #: the run's mode
    #: the run completes interrupted runs: it leaves alone what they stored, so counts only the rest
    resumed: bool = False
    list_read: int = 0  #: list pages read (answered with article links)
    feed_read: int = 0  #: RSS feeds read
    #: list pages and feeds that ended in crawl_errors, e.g. ``list page 1 (http_500)``, ``RSS feed (timeout)``
    listing_failures: tuple[str, ...] = ()
    articles: int = 0  #: articles stored (new, updated, unchanged, 304s)
    errors: int = 0  #: crawl_errors rows of the site
    parsed: int = 0  #: article pages extracted (the denominator of ``missing``)
    missing: dict[str, int] = field(default_factory=dict)  #: articles without each optional field
    #: articles stored in each of the site's recent finished runs of the same mode, newest first
    baseline: tuple[int, ...] = ()
    earlier_parsed: int = 0  #: article pages of the site extracted by its recent runs
    earlier_missing: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RunFacts:
    """What the monitors look at: one run's counts, and those of each site it crawled."""

    mode: str
    finish_reason: str
    articles: int  #: articles stored (new, updated, unchanged, 304s)
    parsed: int  #: article pages extracted in this run
    errors: int  #: crawl_errors rows of the run
    pages: int  #: articles, list pages, feeds and errors: every page outcome of the run
    sites: tuple[SiteFacts, ...] = ()  #: the sites the run crawled (not those only reached by links)
    errors_by_site: dict[str, int] = field(default_factory=dict)  #: crawl_errors rows per region


@dataclass(frozen=True)
class Health:
    status: str  #: ``ok`` or ``degraded``
    reasons: list[str]  #: one sentence per failed check; a site's start with its slug ("kalsel: ...")
    sites: dict[str, Health] = field(default_factory=dict)  #: the verdict of each site (reasons without the slug)


class _Monitor(Monitor):
    longMessage = False

    @property
    def limits(self) -> Thresholds:
        limits: Thresholds = self.data.thresholds
        return limits


class _RunMonitor(_Monitor):
    @property
    def facts(self) -> RunFacts:
        facts: RunFacts = self.data.facts
        return facts


class _SiteMonitor(_Monitor):
    @property
    def site(self) -> SiteFacts:
        site: SiteFacts = self.data.site
        return site

    @property
    def went_dark(self) -> bool:
        return not (self.site.list_read or self.site.feed_read)


@monitors.name("articles")
class ArticlesMonitor(_RunMonitor):
    """The run stored articles: a run that finds none on a site that publishes daily is broken."""

    @monitors.name("enough articles")
    def test_enough_articles(self) -> None:
        least = self.limits.min_articles_incremental if self.facts.mode == "incremental" else self.limits.min_articles
        self.assertGreaterEqual(
            self.facts.articles, least, f"too few articles: {self.facts.articles} stored, at least {least} expected"
        )


@monitors.name("errors")
class ErrorRateMonitor(_RunMonitor):
    """Few pages end in crawl_errors: many more mean the site is down, blocking us, or changed."""

    @monitors.name("error rate")
    def test_error_rate(self) -> None:
        facts = self.facts
        rate = facts.errors / facts.pages if facts.pages else 0.0
        where = sorted(((n, r) for r, n in facts.errors_by_site.items() if n), reverse=True)[:3]
        most = f"; most in {', '.join(f'{r} ({n})' for n, r in where)}" if where else ""
        limit = self.limits.max_error_rate
        self.assertLessEqual(
            rate, limit, f"error rate {rate:.0%} ({facts.errors} of {facts.pages} pages{most}) is above {limit:.0%}"
        )


@monitors.name("finish")
class FinishMonitor(_RunMonitor):
    """The run ended by itself, not cut short (Ctrl-C, a page limit, an archive that could not be written)."""

    @monitors.name("finished cleanly")
    def test_finish_reason(self) -> None:
        self.assertEqual(
            self.facts.finish_reason,
            "finished",
            f"the run ended with finish reason {self.facts.finish_reason!r}, not 'finished'",
        )


@monitors.name("listing")
class ListingMonitor(_SiteMonitor):
    """The site's way in works: its list pages and feed are read, none of them fails for good."""

    @monitors.name("site reachable")
    def test_not_dark(self) -> None:
        failures = ", ".join(self.site.listing_failures) or "nothing was answered"
        self.assertFalse(self.went_dark, f"went dark: no list page or feed could be read ({failures})")

    @monitors.name("no list page or feed failed")
    def test_no_listing_failed(self) -> None:
        if self.went_dark:
            self.skipTest("the site went dark: said once, by test_not_dark")
        failures = self.site.listing_failures
        self.assertFalse(failures, f"{', '.join(failures)} failed; the run went on with the other list pages")


@monitors.name("site articles")
class SiteArticlesMonitor(_SiteMonitor):
    """The site yields not far fewer articles than in its recent runs of the same mode.

    Incremental runs are not judged so: how much news an hour brings varies with the hour (a
    quiet night is no outage); their outages show as a site gone dark or failing list pages.
    """

    @monitors.name("not far fewer articles")
    def test_articles(self) -> None:
        site, limits = self.site, self.limits
        if site.mode == "incremental":
            self.skipTest("an hour's news varies with the hour")
        if site.resumed:
            self.skipTest("a resumed run stores only what the interrupted runs left")
        if self.went_dark:
            self.skipTest("the site went dark: said once, by test_not_dark")
        usual = median(site.baseline) if site.baseline else 0
        if usual < limits.site_min_baseline:
            self.skipTest("too few articles in the site's recent runs to judge")
        self.assertGreaterEqual(
            site.articles,
            limits.site_drop * usual,
            f"{site.articles} articles, far fewer than the {usual:g} of its recent runs"
            f" (median of {len(site.baseline)})",
        )


@monitors.name("site fields")
class SiteFieldsMonitor(_SiteMonitor):
    """No field suddenly goes missing on many of the site's articles: the sign of a markup change."""

    @monitors.name("no field went missing")
    def test_fields(self) -> None:
        site, limits = self.site, self.limits
        if site.parsed < limits.field_min_articles or site.earlier_parsed < limits.field_min_articles:
            self.skipTest("too few articles to judge field coverage")
        gone = []
        for name, count in sorted(site.missing.items()):
            now = count / site.parsed
            before = site.earlier_missing.get(name, 0) / site.earlier_parsed
            if now - before > limits.field_drop:
                gone.append(f"{name} missing on {now:.0%} of {site.parsed} articles (was {before:.0%} in earlier runs)")
        self.assertFalse(gone, "; ".join(gone))


class HealthSuite(MonitorSuite):
    """Every check of a run as a whole."""

    monitors = [ArticlesMonitor, ErrorRateMonitor, FinishMonitor]


class SiteSuite(MonitorSuite):
    """Every check of one site in a run."""

    monitors = [ListingMonitor, SiteArticlesMonitor, SiteFieldsMonitor]


def _failed(result: Any) -> list[str]:
    return [str(item.reason or item.error).strip() for item in result.monitors_failed_results]


def check_site(site: SiteFacts, thresholds: Thresholds) -> Health:
    """Run :class:`SiteSuite` on one site: ``ok``, or ``degraded`` with the reasons."""
    reasons = _failed(MonitorRunner().run(SiteSuite(), site=site, thresholds=thresholds))
    return Health("degraded" if reasons else "ok", reasons)


def check_run(facts: RunFacts, thresholds: Thresholds) -> Health:
    """Run :class:`HealthSuite` on ``facts`` and :class:`SiteSuite` on each of its sites: ``ok``,
    or ``degraded`` with the reasons. A run cut short is not judged site by site: what it left
    undone is no sign of the sites (the finish monitor says it was cut short)."""
    reasons = _failed(MonitorRunner().run(HealthSuite(), facts=facts, thresholds=thresholds))
    sites: dict[str, Health] = {}
    if facts.finish_reason == "finished":
        for site in facts.sites:
            sites[site.region] = verdict = check_site(site, thresholds)
            reasons.extend(f"{site.region}: {reason}" for reason in verdict.reasons)
    return Health("degraded" if reasons else "ok", reasons, sites)
