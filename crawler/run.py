"""Run one crawl in-process with the project's Scrapy settings and print its summary."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

from archive import Archive, ArchiveError
from archive.store import checkpoint
from crawler.domain.lock import LockHeld, hold_lock
from crawler.domain.options import CrawlOptions


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


def summary(stats: dict[str, Any], db: str) -> str:
    get = stats.get
    elapsed = get("elapsed_time_seconds", 0.0) or 0.0
    requests, new = get("downloader/request_count", 0) - get("httpcache/hit", 0), get("archive/articles_new", 0)
    per_new = f", {requests / new:.2f} requests per new article" if new else ""
    older = get("archive/older_than_since", 0)
    left_out = f", {older} older than --since left out" if older else ""
    return (
        f"Crawl {get('finish_reason', 'ended')} in {elapsed:.1f}s: "
        f"{get('downloader/response_count', 0)} pages fetched, "
        f"{get('archive/articles_new', 0)} articles new, {get('archive/articles_updated', 0)} updated, "
        f"{get('archive/articles_unchanged', 0)} unchanged, {get('archive/errors', 0)} errors{left_out} "
        f"-> {db} (run {get('archive/run_id', '?')}; {requests} requests{per_new})"
    )


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


def run_crawl(options: CrawlOptions, db: str, overrides: dict[str, Any], tuning: Tuning = Tuning()) -> int:
    """Crawl, print a summary line, and return the exit code (0 finished, 1 failed, 130 interrupted)."""
    settings = build_settings(db, overrides, tuning)
    try:  # fail fast, before any request, on a bad archive path, a locked or a full archive
        Archive(
            db, timeout=settings.getfloat("ARCHIVE_BUSY_TIMEOUT"), max_pages=settings.getint("ARCHIVE_MAX_PAGES")
        ).close()
    except ArchiveError as exc:
        print(f"antara: error: {exc}", file=sys.stderr)
        return 2 if exc.kind == "other" else 1
    from spiders.antara import AntaraSpider

    regions = ", ".join(r.slug for r in options.regions)
    mirror = settings.get("ANTARA_MIRROR")
    try:
        lock = hold_lock(db)
    except LockHeld as exc:
        print(f"antara: error: {exc}", file=sys.stderr)
        return 75
    print(
        f"{options.mode.capitalize()} crawl of {regions}"
        f" (max {options.max_pages} pages, follow depth {options.follow_depth}"
        f"{', since ' + options.since.text if options.since else ''}) into {db}"
        f"{' via mirror ' + mirror if mirror else ''}",
        file=sys.stderr,
    )
    _quiet_tracebacks(tuning)
    try:
        resume, chain = _resume_interrupted(db, settings.getfloat("ARCHIVE_BUSY_TIMEOUT"))
    except ArchiveError as exc:
        lock.close()
        print(f"antara: error: {exc}", file=sys.stderr)
        return 1
    spider_args = options.spider_arguments()
    if resume:
        spider_args["resume_runs"] = ",".join(str(r["id"]) for r in resume)
        spider_args["max_pages"] = max([options.max_pages, *(_max_pages(r) for r in resume)])
        earlier = [str(r) for r in chain if r not in {int(x["id"]) for x in resume}]
        print(
            f"Resuming interrupted run(s) {spider_args['resume_runs']}"
            f"{' (which continued ' + ', '.join(earlier) + ')' if earlier else ''}: their list pages are walked"
            " again, what they archived is not fetched again, and the links they found are followed",
            file=sys.stderr,
        )
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(AntaraSpider)
    process.crawl(crawler, **spider_args)
    try:
        process.start()
        checkpoint(db)  # every connection is closed now: fold the write-ahead log into the file
    finally:
        lock.close()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    print(summary(stats, db))
    if stats.get("archive/health") == "degraded":
        reasons = "; ".join(stats.get("archive/health_reasons") or [])
        print(f"Run {stats.get('archive/run_id', '?')} is degraded: {reasons} (see antara status)")
    fatal = stats.get("archive/fatal")
    if fatal:
        print(f"antara: error: {fatal}", file=sys.stderr)
        return 1
    if not stats.get("downloader/response_count") and stats.get("archive/errors"):
        print("antara: error: no page could be fetched; the reasons are in the crawl_errors table", file=sys.stderr)
        return 1
    reason = stats.get("finish_reason", "")
    if reason == "shutdown":
        return 130
    return 0 if reason == "finished" or str(reason).startswith("closespider") else 1


def run_worker(redis_url: str, overrides: dict[str, Any], tuning: Tuning = Tuning()) -> int:
    """Be one worker of the distributed run seeded in ``redis_url``; return the exit code
    (0 when the run's queue ran dry and the worker idled out, 1 failed, 130 interrupted)."""
    from crawler.distributed.state import RedisUnavailable, RunState, connect

    try:
        server = connect(redis_url)
    except RedisUnavailable as exc:
        print(f"antara: error: {exc}", file=sys.stderr)
        return 1
    run = RunState.load(server)
    if run is None or run.state != "running":
        what = f"run {run.id} is over" if run else "no run has been seeded there"
        print(f"antara: error: {what}; start one with `antara seed --redis {redis_url} --region ...`", file=sys.stderr)
        return 1
    distributed = {"ANTARA_DISTRIBUTED": True, "REDIS_URL": redis_url}
    settings = build_settings("", {**distributed, **overrides}, tuning)
    if "HTTPCACHE_DIR" not in overrides:  # robots.txt kept a day beside where the worker runs
        folder = robots_cache_dir("antara-worker", settings.get("ANTARA_MIRROR"))
        settings.set("HTTPCACHE_DIR", folder, priority="cmdline")
    from spiders.antara import AntaraSpider

    mirror = settings.get("ANTARA_MIRROR")
    print(
        f"Worker of run {run.id} ({run.arguments.get('mode')} crawl of {run.arguments.get('regions')})"
        f" from {redis_url}{' via mirror ' + mirror if mirror else ''}",
        file=sys.stderr,
    )
    _quiet_tracebacks(tuning)
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(AntaraSpider)
    process.crawl(crawler)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    elapsed = stats.get("elapsed_time_seconds", 0.0) or 0.0
    print(
        f"Worker {stats.get('finish_reason', 'ended')} in {elapsed:.1f}s: {stats.get('downloader/response_count', 0)}"
        f" pages fetched, {stats.get('distributed/items_pushed', 0)} items pushed (run {run.id})"
    )
    reason = stats.get("finish_reason", "")
    if reason == "shutdown":
        return 130
    return 0 if reason == "finished" else 1
