"""Health of a finished run, judged by Spidermon monitors: enough articles, few errors, no field gone, a clean finish.

The archive pipeline calls :func:`check_run` when a run closes and stores the verdict in
``crawl_runs`` (``health``, ``health_reasons``) in the same transaction as the run's counts.
The monitors are Spidermon ``Monitor`` test cases in a ``MonitorSuite``, run with Spidermon's
plain ``MonitorRunner`` rather than its Scrapy extension: the extension logs through
``Spider.log()`` (deprecated in Scrapy 2.19), logs every failed monitor as an ERROR traceback
into the crawl's output, and runs on a ``spider_closed`` signal that may come after the
pipeline has already closed the run.

Thresholds are settings (``ANTARA_HEALTH_*``, see ``crawler/settings.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from spidermon import Monitor, MonitorSuite, monitors
from spidermon.runners import MonitorRunner


@dataclass(frozen=True)
class Thresholds:
    """When a run counts as degraded; read from the ``ANTARA_HEALTH_*`` settings."""

    min_articles: int = 1  #: full and backfill runs store at least this many articles
    min_articles_incremental: int = 0  #: incremental runs (a quiet hour finds nothing, legitimately)
    max_error_rate: float = 0.2  #: share of the run's pages that ended in crawl_errors
    field_drop: float = 0.5  #: a field missing on this much larger a share of articles than in earlier runs
    field_min_articles: int = 20  #: fields are judged only when this run and the earlier ones parsed this many

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
        )


@dataclass(frozen=True)
class RunFacts:
    """What the monitors look at: one run's counts, and the field coverage of earlier runs."""

    mode: str
    finish_reason: str
    articles: int  #: articles stored (new, updated, unchanged, 304s)
    parsed: int  #: article pages extracted in this run (the denominator of ``missing``)
    errors: int  #: crawl_errors rows of the run
    pages: int  #: articles, list pages, feeds and errors: every page outcome of the run
    missing: dict[str, int] = field(default_factory=dict)  #: articles of this run without each field
    earlier_parsed: int = 0  #: article pages extracted by earlier runs (the baseline)
    earlier_missing: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Health:
    status: str  #: ``ok`` or ``degraded``
    reasons: list[str]  #: one sentence per failed check


class _RunMonitor(Monitor):
    longMessage = False

    @property
    def facts(self) -> RunFacts:
        facts: RunFacts = self.data.facts
        return facts

    @property
    def limits(self) -> Thresholds:
        limits: Thresholds = self.data.thresholds
        return limits


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
        self.assertLessEqual(
            rate,
            self.limits.max_error_rate,
            f"error rate {rate:.0%} ({facts.errors} of {facts.pages} pages) is above {self.limits.max_error_rate:.0%}",
        )


@monitors.name("fields")
class FieldCoverageMonitor(_RunMonitor):
    """No field suddenly goes missing on many articles: the sign of a markup change on the site."""

    @monitors.name("no field went missing")
    def test_fields(self) -> None:
        facts, limits = self.facts, self.limits
        if facts.parsed < limits.field_min_articles or facts.earlier_parsed < limits.field_min_articles:
            self.skipTest("too few articles to judge field coverage")
        gone = []
        for name, count in sorted(facts.missing.items()):
            now = count / facts.parsed
            before = facts.earlier_missing.get(name, 0) / facts.earlier_parsed
            if now - before > limits.field_drop:
                gone.append(
                    f"{name} missing on {now:.0%} of {facts.parsed} articles (was {before:.0%} in earlier runs)"
                )
        self.assertFalse(gone, "; ".join(gone))


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


class HealthSuite(MonitorSuite):
    """Every check of a run's health."""

    monitors = [ArticlesMonitor, ErrorRateMonitor, FieldCoverageMonitor, FinishMonitor]


def check_run(facts: RunFacts, thresholds: Thresholds) -> Health:
    """Run :class:`HealthSuite` on ``facts``: ``ok``, or ``degraded`` with the reasons."""
    result = MonitorRunner().run(HealthSuite(), facts=facts, thresholds=thresholds)
    reasons = [str(item.reason or item.error).strip() for item in result.monitors_failed_results]
    return Health("degraded" if reasons else "ok", reasons)
