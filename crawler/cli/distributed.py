"""``antara seed`` and ``antara ingest``: the two ends of a distributed crawl (docs/distributed.md)."""

from __future__ import annotations

import logging
import os
import signal
import sys
from typing import Any

import click

from crawler.cli.common import check_redis_url, region_options, settings_pairs
from crawler.domain.options import SINCE_HELP, CrawlOptions, OptionError


@click.command()
@click.option("--redis", "redis_url", metavar="URL", help="Redis database of the run, e.g. redis://127.0.0.1:6379/0.")
@region_options
@click.option("--max-pages", default=None, help="Latest-news pages per region [3]; with --backfill, pages in all.")
@click.option("--since", default=None, metavar="DATE", help=SINCE_HELP)
@click.option("--follow-depth", default=None, help="Hops of 'Baca juga' links to follow [2; 0 with --backfill].")
@click.option("--backfill", is_flag=True, help="Walk /terkini/N far back (needs --until or --pages).")
@click.option("--until", default=None, metavar="DATE", help="With --backfill: go back until articles are older.")
@click.option("--pages", default=None, metavar="FIRST-LAST", help="With --backfill: list pages to walk, e.g. 1-400.")
@click.option("--incremental", is_flag=True, hidden=True)
def seed(
    redis_url: str | None,
    regions: tuple[str, ...],
    all_regions: bool,
    max_pages: str | None,
    since: str | None,
    follow_depth: str | None,
    backfill: bool,
    until: str | None,
    pages: str | None,
    incremental: bool,
) -> None:
    """Start a distributed run: queue its first requests in Redis for the workers.

    Then start workers (`antara crawl --distributed --redis URL`, on any machines) and one
    `antara ingest --redis URL --db archive.db`. The run ends when nothing is queued or in
    flight and the workers idle out; the ingester then closes its crawl_runs row.

    \b
    Examples:
      antara seed --redis redis://127.0.0.1:6379/0 --all-regions --max-pages 5
      antara seed --redis redis://127.0.0.1:6379/0 --backfill --region kalteng --until 2025-01-01
    """
    url = check_redis_url(redis_url)
    if incremental:
        raise click.UsageError(
            "--incremental runs are not distributed: they decide what is new from the archive, which"
            " workers do not read; run `antara crawl --incremental` where the archive is"
        )
    if not backfill and (until or pages):
        raise click.UsageError("--until and --pages only apply with --backfill")
    mode = "backfill" if backfill else "full"
    depth = follow_depth if follow_depth is not None else ("0" if backfill else "2")
    try:
        options = CrawlOptions.parse(list(regions), max_pages, depth, since, all_regions, mode, until, pages)
    except OptionError as exc:
        raise click.UsageError(str(exc)) from None
    from crawler.distributed.seed import RunInProgress
    from crawler.distributed.seed import seed as seed_run
    from crawler.distributed.state import RedisUnavailable, connect

    try:
        seeded = seed_run(connect(url), url, options)
    except (RedisUnavailable, RunInProgress) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(
        f"Seeded run {seeded.run.id}: {seeded.queued} start requests for {', '.join(r.slug for r in options.regions)}"
        f" ({mode}, max {options.max_pages} pages, follow depth {options.follow_depth}) in {url}"
    )


class ArchiveLocked(click.ClickException):
    """Another crawl or ingester writes the archive: exit 75 ("try again later"), as antara crawl."""

    exit_code = 75


@click.command()
@click.option("--redis", "redis_url", metavar="URL", help="Redis database of the run, e.g. redis://127.0.0.1:6379/0.")
@click.option("--db", default="archive.db", show_default=True, type=click.Path(dir_okay=False), help="Archive file.")
@click.option("--keep-running", is_flag=True, help="Wait for the next run instead of exiting when a run ends.")
@click.option("--batch", type=click.IntRange(1, 10_000), default=100, show_default=True, help="Items per transaction.")
@click.option("--progress-interval", type=float, default=5.0, show_default=True, help="Seconds between status lines.")
@click.option("-q", "--quiet", is_flag=True, help="No status lines, only the summary.")
@click.option(
    "-s",
    "--set",
    "extra",
    multiple=True,
    metavar="NAME=VALUE",
    help="A setting, e.g. ANTARA_HEALTH_MAX_ERROR_RATE=0.3.",
)
@click.option(
    "--log-level",
    default="WARNING",
    show_default=True,
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
)
def ingest(
    redis_url: str | None,
    db: str,
    keep_running: bool,
    batch: int,
    progress_interval: float,
    quiet: bool,
    extra: tuple[str, ...],
    log_level: str,
) -> None:
    """Write the items of a distributed run into the archive: the run's one archive writer.

    Takes items from Redis reliably (each is stored once, even across a kill of this process),
    holds the archive's lock like a crawl, and exits once the run is over (queue empty,
    workers gone, every item stored), or waits for the next run with --keep-running. Each
    run it closes is judged like a crawl's (ok or degraded, see antara status), with the
    ANTARA_HEALTH_* settings.

    \b
    Example:
      antara ingest --redis redis://127.0.0.1:6379/0 --db archive.db
    """
    url = check_redis_url(redis_url)
    overrides = settings_pairs(extra)
    logging.basicConfig(level=log_level.upper(), format="%(asctime)s [%(name)s] %(levelname)s: %(message)s")
    from archive import Archive, ArchiveError
    from crawler.distributed.ingest import Ingester, print_report
    from crawler.distributed.state import RedisUnavailable, connect
    from crawler.domain.lock import LockHeld, hold_lock
    from crawler.scrapy.monitors import Thresholds

    try:
        thresholds = Thresholds.from_settings(_settings(overrides))
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="'--set'") from None
    try:
        server = connect(url)
        archive = Archive(db)
    except (RedisUnavailable, ArchiveError) as exc:
        raise click.ClickException(str(exc)) from None
    try:
        lock = hold_lock(db)
    except LockHeld as exc:
        archive.close()
        raise ArchiveLocked(str(exc).replace("another crawl", "another crawl or ingester")) from None
    stopping: list[int] = []

    def stop(signum: int, frame: Any) -> None:
        stopping.append(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"Ingesting from {url} into {db}{' (until stopped)' if keep_running else ''}", err=True)
    ingester = Ingester(
        server,
        archive,
        batch=batch,
        keep_running=keep_running,
        report=None if quiet else print_report,
        report_every=progress_interval,
        thresholds=thresholds,
    )
    try:
        stats = ingester.run(stop=lambda: bool(stopping))
    except ArchiveError as exc:
        click.echo(f"antara: error: {exc}; untaken items stay in Redis for the next start", err=True)
        sys.exit(1)
    finally:
        archive.close()
        lock.close()
    stored = stats.stored
    runs = ", ".join(str(r) for r in stats.finished_runs) or "none finished"
    click.echo(
        f"Ingest {'stopped' if stopping else 'finished'}: {stats.messages} items, {stored['articles_new']} articles"
        f" new, {stored['articles_updated']} updated, {stored['articles_unchanged']} unchanged,"
        f" {stored['errors']} errors, {stats.duplicates} duplicates skipped -> {db} (run {runs})"
    )
    for run_id, health in stats.health.items():
        if health.status == "degraded":
            click.echo(f"Run {run_id} is degraded: {'; '.join(health.reasons)} (see antara status)")
    sys.exit(130 if stopping else 0)


def _settings(overrides: dict[str, str]) -> Any:
    """The project's settings with ``overrides`` (``-s``) on top."""
    from scrapy.utils.project import get_project_settings

    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.scrapy.settings")
    settings = get_project_settings()
    settings.setdict(overrides, priority="cmdline")
    return settings
