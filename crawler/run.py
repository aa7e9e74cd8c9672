"""Run one crawl, or one worker of a distributed run, in-process with the project's Scrapy settings.

Nothing here prints: each run returns what became of it (``CrawlResult``, ``WorkerResult``) and
reports its start through a callback; the command line turns both into lines and an exit status.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from archive import Archive, ArchiveError
from archive.store import checkpoint
from crawler.domain.lock import LockHeld, hold_lock
from crawler.domain.options import CrawlOptions, setting_overrides

#: What became of a run: ``finished`` (or closed by a CLOSESPIDER_* limit), ``failed``,
#: ``interrupted`` (Ctrl-C or SIGTERM), ``locked`` (another crawl writes the archive; nothing
#: fetched), ``unusable`` (the archive path cannot hold an archive; nothing fetched), and for a
#: worker ``no-run`` (no run is in progress in Redis; nothing fetched).
Outcome = Literal["finished", "failed", "interrupted", "locked", "unusable", "no-run"]


@dataclass(frozen=True)
class Tuning:
    """How a crawl runs, as chosen on the command line (None keeps the settings' value)."""

    delay: float | None = None
    concurrency: int | None = None
    log_level: str = "WARNING"
    progress: bool = True


def robots_cache_dir(db: str, mirror: str | None) -> str:
    """Where robots.txt answers are kept: beside the archive, apart for each mirror."""
    folder = Path(f"{db}.robots-cache").resolve()
    if mirror:
        folder = folder / f"mirror-{hashlib.sha1(mirror.encode()).hexdigest()[:12]}"
    return str(folder)


def build_settings(db: str, overrides: dict[str, Any], tuning: Tuning = Tuning()) -> Any:
    """The project's settings with the command line's choices applied on top."""
    delay, concurrency = tuning.delay, tuning.concurrency
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.scrapy.settings")
    settings = get_project_settings()
    chosen: dict[str, Any] = {
        "ARCHIVE_DB": db,
        "HTTPCACHE_DIR": robots_cache_dir(db, overrides.get("ANTARA_MIRROR")),
        "LOG_LEVEL": tuning.log_level,
        "ANTARA_PROGRESS": tuning.progress,
        "ANTARA_LOCK_HELD": True,  # run_crawl holds the archive lock itself
    }
    if delay is not None:
        chosen["DOWNLOAD_DELAY"] = delay
        chosen["AUTOTHROTTLE_START_DELAY"] = delay
        if delay == 0:
            chosen["AUTOTHROTTLE_ENABLED"] = False
            chosen["DOWNLOAD_DELAY_JITTER"] = 0.0
            chosen["ANTARA_RETRY_BACKOFF"] = 0.0  # retries at once; a Retry-After is still honoured
    if concurrency is not None:
        chosen["CONCURRENT_REQUESTS_PER_DOMAIN"] = concurrency
        chosen["AUTOTHROTTLE_TARGET_CONCURRENCY"] = float(concurrency)
    chosen.update(overrides)
    settings.setdict(chosen, priority="cmdline")
    return settings


class _NoTraceback(logging.Filter):
    """Keep a log record's message but drop its traceback: network failures are not bugs."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info = None
        record.exc_text = None
        return True


#: Loggers that attach tracebacks to ordinary network failures (e.g. an unreachable robots.txt).
_QUIET_TRACEBACKS = ("scrapy.downloadermiddlewares.robotstxt", "scrapy.core.scraper")


def _quiet_tracebacks(tuning: Tuning) -> None:
    """Below DEBUG, network failures log their message without a traceback."""
    if tuning.log_level != "DEBUG":
        for name in _QUIET_TRACEBACKS:
            logging.getLogger(name).addFilter(_NoTraceback())


def _drop_unlogged(settings: Any) -> None:
    """Make Scrapy's loggers skip what ``LOG_LEVEL`` leaves out before building it. Scrapy sets
    them to DEBUG and filters in its handler, so the two DEBUG lines of every page (crawled,
    scraped) were built, formatted and dropped: about 1 % of a crawl's CPU in a profile."""
    logging.getLogger("scrapy").setLevel(settings.get("LOG_LEVEL"))


# -- what a run reports before it starts, and what it returns ------------------------------------


@dataclass(frozen=True)
class Starting:
    """A crawl holds the archive's lock and is about to read it."""

    options: CrawlOptions
    db: str
    mirror: str | None


@dataclass(frozen=True)
class Resuming:
    """A crawl continues interrupted runs: ``runs`` (ids), which had themselves continued ``earlier``."""

    runs: list[int]
    earlier: list[int]


@dataclass(frozen=True)
class WorkerStarting:
    """A worker found its run in Redis and is about to take requests."""

    run_id: str
    arguments: dict[str, Any]
    redis_url: str
    mirror: str | None


def _ignore(event: Any) -> None:
    """The default reporter: say nothing."""


@dataclass(frozen=True)
class CrawlResult:
    """What became of one crawl; the counts are Scrapy's stats of it (zero when it never ran)."""

    outcome: Outcome
    #: whether the crawl ran (and so has counts to report); False when it stopped before its first request
    ran: bool = False
    #: why the crawl failed or did not start, in one line; None when there is nothing to say
    error: str | None = None
    #: the crawl_runs row of the crawl (None when it never started)
    run_id: int | None = None
    #: Scrapy's finish reason (``finished``, ``shutdown``, ``closespider_pagecount``, ...)
    finish_reason: str | None = None
    seconds: float = 0.0
    pages_fetched: int = 0
    #: requests sent over the network (robots.txt answers from the cache not counted)
    requests: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    errors: int = 0
    #: list entries left out for being older than ``--since``
    older_than_since: int = 0
    #: ``ok`` or ``degraded`` by the monitors (None when not judged), and why
    health: str | None = None
    health_reasons: list[str] = field(default_factory=list)

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any]) -> CrawlResult:
        """The result of a crawl that ran, judged from its Scrapy stats."""
        get = stats.get
        reason = get("finish_reason")
        outcome: Outcome
        error = None
        if get("archive/fatal"):
            outcome, error = "failed", str(get("archive/fatal"))
        elif not get("downloader/response_count") and get("archive/errors"):
            outcome, error = "failed", "no page could be fetched; the reasons are in the crawl_errors table"
        elif reason == "shutdown":
            outcome = "interrupted"
        elif reason == "finished" or str(reason or "").startswith("closespider"):
            outcome = "finished"
        else:
            outcome = "failed"
        return cls(
            outcome,
            ran=True,
            error=error,
            run_id=get("archive/run_id"),
            finish_reason=reason,
            seconds=get("elapsed_time_seconds", 0.0) or 0.0,
            pages_fetched=get("downloader/response_count", 0),
            requests=get("downloader/request_count", 0) - get("httpcache/hit", 0),
            articles_new=get("archive/articles_new", 0),
            articles_updated=get("archive/articles_updated", 0),
            articles_unchanged=get("archive/articles_unchanged", 0),
            errors=get("archive/errors", 0),
            older_than_since=get("archive/older_than_since", 0),
            health=get("archive/health"),
            health_reasons=list(get("archive/health_reasons") or []),
        )


@dataclass(frozen=True)
class WorkerResult:
    """What became of one worker of a distributed run."""

    outcome: Outcome
    #: why the worker failed or did not start, in one line
    error: str | None = None
    #: the distributed run worked on, or the last one found over (``no-run``); None if none was seeded
    run_id: str | None = None
    finish_reason: str | None = None
    seconds: float = 0.0
    pages_fetched: int = 0
    items_pushed: int = 0


# -- running ------------------------------------------------------------------------------------


def _resume_interrupted(db: str, timeout: float) -> tuple[list[dict[str, Any]], list[int]]:
    """Runs a killed crawl left marked running, and the whole chain of interrupted runs they
    continue; the caller holds the lock, so none is alive."""
    with Archive(db, timeout=timeout) as archive:
        rows = archive.close_interrupted_runs()
        return rows, archive.interrupted_chain(r["id"] for r in rows)


def _max_pages(run: dict[str, Any]) -> int:
    try:
        return int(json.loads(run.get("arguments") or "{}").get("max_pages") or 0)
    except (ValueError, TypeError, AttributeError):
        return 0


def run_crawl(
    options: CrawlOptions,
    db: str,
    overrides: dict[str, Any],
    tuning: Tuning = Tuning(),
    report: Callable[[Starting | Resuming], None] = _ignore,
) -> CrawlResult:
    """Crawl into ``db`` and say what became of it; ``report`` hears when it starts and what it resumes."""
    settings = build_settings(db, overrides, tuning)
    try:  # fail fast, before any request, on a bad archive path, a locked or a full archive
        Archive(
            db, timeout=settings.getfloat("ARCHIVE_BUSY_TIMEOUT"), max_pages=settings.getint("ARCHIVE_MAX_PAGES")
        ).close()
    except ArchiveError as exc:
        return CrawlResult("unusable" if exc.kind == "other" else "failed", error=str(exc))
    from spiders.antara import AntaraSpider

    try:
        lock = hold_lock(db)
    except LockHeld as exc:
        return CrawlResult("locked", error=str(exc))
    report(Starting(options, db, settings.get("ANTARA_MIRROR")))
    _quiet_tracebacks(tuning)
    try:
        resume, chain = _resume_interrupted(db, settings.getfloat("ARCHIVE_BUSY_TIMEOUT"))
    except ArchiveError as exc:
        lock.close()
        return CrawlResult("failed", error=str(exc))
    spider_args = options.spider_arguments()
    if resume:
        resumed = [int(r["id"]) for r in resume]
        spider_args["resume_runs"] = ",".join(str(r) for r in resumed)
        spider_args["max_pages"] = max([options.max_pages, *(_max_pages(r) for r in resume)])
        report(Resuming(resumed, [r for r in chain if r not in set(resumed)]))
    process = CrawlerProcess(settings)
    _drop_unlogged(settings)  # after the process: it sets Scrapy's loggers to DEBUG
    crawler = process.create_crawler(AntaraSpider)
    process.crawl(crawler, **spider_args)
    try:
        process.start()
        checkpoint(db)  # every connection is closed now: fold the write-ahead log into the file
    finally:
        lock.close()
    return CrawlResult.from_stats(crawler.stats.get_stats() if crawler.stats else {})


def run_worker(
    redis_url: str,
    overrides: dict[str, Any],
    tuning: Tuning = Tuning(),
    report: Callable[[WorkerStarting], None] = _ignore,
) -> WorkerResult:
    """Be one worker of the distributed run seeded in ``redis_url`` until its queue runs dry and
    the worker idles out; ``report`` hears when it starts."""
    from crawler.distributed.state import RedisUnavailable, RunState, connect

    try:
        server = connect(redis_url)
    except RedisUnavailable as exc:
        return WorkerResult("failed", str(exc))
    run = RunState.load(server)
    if run is None or run.state != "running":
        return WorkerResult("no-run", run_id=run.id if run else None)
    settings = build_settings("", {**setting_overrides(redis_url=redis_url), **overrides}, tuning)
    if "HTTPCACHE_DIR" not in overrides:  # robots.txt kept a day beside where the worker runs
        folder = robots_cache_dir("antara-worker", settings.get("ANTARA_MIRROR"))
        settings.set("HTTPCACHE_DIR", folder, priority="cmdline")
    from spiders.antara import AntaraSpider

    report(WorkerStarting(run.id, run.arguments, redis_url, settings.get("ANTARA_MIRROR")))
    _quiet_tracebacks(tuning)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(AntaraSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    reason = stats.get("finish_reason")
    outcome: Outcome = "interrupted" if reason == "shutdown" else "finished" if reason == "finished" else "failed"
    return WorkerResult(
        outcome,
        run_id=run.id,
        finish_reason=reason,
        seconds=stats.get("elapsed_time_seconds", 0.0) or 0.0,
        pages_fetched=stats.get("downloader/response_count", 0),
        items_pushed=stats.get("distributed/items_pushed", 0),
    )
