"""``antara crawl`` and ``antara backfill``: a crawl into the archive, or a worker of a distributed run."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NoReturn
from urllib.parse import urlsplit

import click

from crawler.cli.common import check_redis_url, region_options, settings_pairs
from crawler.domain.options import SINCE_HELP, CrawlOptions, OptionError

if TYPE_CHECKING:  # crawler.run imports Scrapy: loaded only when a crawl runs
    from crawler.run import CrawlResult, Outcome, Resuming, Starting, WorkerStarting

#: The exit status of each outcome of a crawl or a worker (75: "try again later", as sysexits.h).
EXIT_STATUS: dict[Outcome, int] = {
    "finished": 0,
    "failed": 1,
    "no-run": 1,
    "unusable": 2,
    "locked": 75,
    "interrupted": 130,
}


def _check_mirror(mirror: str) -> str:
    parts = urlsplit(mirror)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise click.BadParameter(
            f"{mirror!r} is not an http(s) URL such as http://127.0.0.1:8080", param_hint="'--mirror'"
        )
    return mirror.rstrip("/")


def _run_options(func: Any) -> Any:
    """Options every crawling command shares: where to write, where to fetch, how fast, how chatty."""
    options = [
        click.option(
            "--db",
            default="archive.db",
            show_default=True,
            type=click.Path(dir_okay=False),
            help="Archive SQLite file.",
        ),
        click.option("--follow-depth", default="2", show_default=True, help="Hops of 'Baca juga' links to follow."),
        click.option(
            "--mirror", default=None, metavar="URL", help="Fetch https://HOST/PATH from URL/HOST/PATH instead."
        ),
        click.option(
            "--delay",
            type=click.FloatRange(min=0),
            default=None,
            help="Seconds between requests to one host [1.0]; 0 turns throttling off.",
        ),
        click.option("--concurrency", type=click.IntRange(min=1), default=None, help="Parallel requests per host [1]."),
        click.option("-s", "--set", "extra", multiple=True, metavar="NAME=VALUE", help="Any Scrapy setting."),
        click.option(
            "--log-level",
            default="WARNING",
            show_default=True,
            type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"], case_sensitive=False),
        ),
        click.option("--no-warc", is_flag=True, help="Write no WARC files (no captures, no provenance columns)."),
        click.option(
            "--warc-dir", default=None, type=click.Path(file_okay=False), help="Folder of the WARC files [DB.warc]."
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress lines, only the summary."),
        click.option(
            "--demo", is_flag=True, help="Crawl the bundled sample site on loopback instead of the live sites."
        ),
        click.option(
            "--with-images/--no-images",
            "images",
            default=False,
            show_default=True,
            help="Fetch each stored article's lead image into the WARC files (antara schedule's units do).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


@click.command()
@region_options
@click.option("--max-pages", default=None, help="Latest-news pages per region [3; 20 with --incremental].")
@click.option("--since", default=None, metavar="DATE", help=SINCE_HELP)
@click.option(
    "--follow-older",
    is_flag=True,
    help="With --since: fetch and store Baca juga targets older than it too (list pages still stop).",
)
@click.option("--incremental", is_flag=True, help="Fetch only what is new, plus revisits; the mode for schedules.")
@click.option(
    "--revisit",
    default=None,
    metavar="AGES",
    help="With --incremental: refetch articles at these ages [1h,1d,7d]; 'off' for none.",
)
@click.option("--no-feeds", is_flag=True, help="With --incremental: skip the RSS feeds, walk list pages only.")
@click.option(
    "--distributed",
    is_flag=True,
    help="Be one worker of the run `antara seed` started in --redis (no SQLite written; see `antara ingest`).",
)
@click.option("--redis", "redis_url", default=None, metavar="URL", help="With --distributed: redis://HOST:PORT/DB.")
@_run_options
def crawl(
    regions: tuple[str, ...],
    all_regions: bool,
    max_pages: str | None,
    since: str | None,
    follow_older: bool,
    incremental: bool,
    revisit: str | None,
    no_feeds: bool,
    distributed: bool,
    redis_url: str | None,
    **run: Any,
) -> None:
    """Crawl the latest news of REGIONs into the archive, following "Baca juga" links.

    \b
    Examples:
      antara crawl --region kalteng,kalsel --db archive.db
      antara crawl --all-regions --since 2026-11-01
      antara crawl --all-regions --incremental          # what a schedule runs
      antara crawl --region kalteng --mirror http://127.0.0.1:8080 --delay 0
      antara crawl --region kalteng --demo
      antara crawl --distributed --redis redis://10.0.0.5:6379/0   # a worker; see docs/distributed.md
    """
    if distributed or redis_url:
        given = [
            name
            for name, value in (
                ("--region", regions),
                ("--all-regions", all_regions),
                ("--max-pages", max_pages),
                ("--since", since),
                ("--follow-older", follow_older),
                ("--incremental", incremental),
                ("--revisit", revisit),
                ("--no-feeds", no_feeds),
                ("--demo", run["demo"]),
            )
            if value
        ]
        given += [f"--{name.replace('_', '-')}" for name in ("db", "follow_depth") if _given(name)]
        _work(distributed, redis_url, given, **run)
    if not incremental and (revisit is not None or no_feeds):
        raise click.UsageError("--revisit and --no-feeds only apply with --incremental")
    if follow_older and not since:
        raise click.UsageError("--follow-older only applies with --since")
    mode = "incremental" if incremental else "full"
    try:
        options = CrawlOptions.parse(
            list(regions),
            max_pages,
            run["follow_depth"],
            since,
            all_regions,
            mode,
            revisit=revisit,
            feeds=not no_feeds,
            follow_older=follow_older,
            images=run.pop("images"),
        )
    except OptionError as exc:
        raise click.UsageError(str(exc)) from None
    _crawl(options, **run)


@click.command()
@region_options
@click.option("--until", default=None, metavar="DATE", help="Go back until articles are older than this.")
@click.option("--pages", default=None, metavar="FIRST-LAST", help="List pages to walk, e.g. 50-400.")
@click.option("--max-pages", default=None, help="At most this many list pages per region in this run.")
@_run_options
def backfill(
    regions: tuple[str, ...],
    all_regions: bool,
    until: str | None,
    pages: str | None,
    max_pages: str | None,
    **run: Any,
) -> None:
    """Fill the archive with older news: walk /terkini/N far back, newest first, resumably.

    An interrupted backfill started again with the same --until continues after the last
    list page it finished; articles already archived are not fetched again.

    \b
    Examples:
      antara backfill --region kalteng --until 2025-01-01
      antara backfill --region kalteng,kalsel --pages 1-200 --follow-depth 0
    """
    if run["follow_depth"] == "2":
        run["follow_depth"] = "0"  # backfill walks lists; Baca juga chains only on request
    try:
        options = CrawlOptions.parse(
            list(regions),
            max_pages,
            run["follow_depth"],
            None,
            all_regions,
            "backfill",
            until=until,
            pages=pages,
            images=run.pop("images"),
        )
    except OptionError as exc:
        raise click.UsageError(str(exc)) from None
    _crawl(options, **run)


def _overrides(
    extra: tuple[str, ...], no_warc: bool, warc_dir: str | None, mirror: str | None, demo: bool = False
) -> dict[str, Any]:
    """The Scrapy settings of the shared options (``-s``, ``--no-warc``, ``--warc-dir``, ``--mirror``), checked."""
    from crawler.domain.options import setting_overrides

    pairs = settings_pairs(extra)
    if no_warc and warc_dir:
        raise click.UsageError("--no-warc and --warc-dir contradict each other")
    if mirror and demo:
        raise click.UsageError("--demo serves its own mirror; drop --mirror")
    return setting_overrides(
        pairs, warc=not no_warc, warc_dir=warc_dir, mirror=_check_mirror(mirror) if mirror else None
    )


def _crawl(
    options: CrawlOptions,
    db: str,
    follow_depth: str,
    mirror: str | None,
    delay: float | None,
    concurrency: int | None,
    extra: tuple[str, ...],
    log_level: str,
    no_warc: bool,
    warc_dir: str | None,
    quiet: bool,
    demo: bool,
) -> NoReturn:
    from crawler.run import Tuning, run_crawl

    overrides = _overrides(extra, no_warc, warc_dir, mirror, demo)
    server = None
    if demo:
        server = _start_demo_site()
        overrides["ANTARA_MIRROR"] = f"http://127.0.0.1:{server.port}"
        delay = 0.0 if delay is None else delay
        concurrency = 4 if concurrency is None else concurrency
    try:
        tuning = Tuning(delay, concurrency, log_level.upper(), progress=not quiet)
        result = run_crawl(options, db, overrides, tuning, report=_announce)
    finally:
        if server is not None:
            server.shutdown()
    _report(result, db)


def _announce(event: Starting | Resuming) -> None:
    """The lines on stderr before a crawl: what it crawls, and which interrupted runs it resumes."""
    from crawler.run import Starting

    if isinstance(event, Starting):
        options = event.options
        regions = ", ".join(r.slug for r in options.regions)
        click.echo(
            f"{options.mode.capitalize()} crawl of {regions}"
            f" (max {options.max_pages} pages, follow depth {options.follow_depth}"
            f"{', since ' + options.since.text if options.since else ''}) into {event.db}"
            f"{' via mirror ' + event.mirror if event.mirror else ''}",
            err=True,
        )
    else:
        earlier = ", ".join(str(r) for r in event.earlier)
        click.echo(
            f"Resuming interrupted run(s) {','.join(str(r) for r in event.runs)}"
            f"{' (which continued ' + earlier + ')' if earlier else ''}: their list pages are walked"
            " again, what they archived is not fetched again, and the links they found are followed",
            err=True,
        )


def summary(result: CrawlResult, db: str) -> str:
    """The one-line summary of a crawl that ran."""
    per_new = f", {result.requests / result.articles_new:.2f} requests per new article" if result.articles_new else ""
    older = result.older_than_since
    left_out = f", {older} older than --since left out" if older else ""
    return (
        f"Crawl {result.finish_reason or 'ended'} in {result.seconds:.1f}s: "
        f"{result.pages_fetched} pages fetched, "
        f"{result.articles_new} articles new, {result.articles_updated} updated, "
        f"{result.articles_unchanged} unchanged, {result.errors} errors{left_out} "
        f"-> {db} (run {'?' if result.run_id is None else result.run_id}; {result.requests} requests{per_new})"
    )


def _report(result: CrawlResult, db: str) -> NoReturn:
    """Print what became of a crawl (summary on stdout, error on stderr) and exit with its status."""
    if result.ran:
        click.echo(summary(result, db))
        if result.health == "degraded":
            run_id = "?" if result.run_id is None else result.run_id
            click.echo(f"Run {run_id} is degraded: {'; '.join(result.health_reasons)} (see antara status)")
    if result.error:
        click.echo(f"antara: error: {result.error}", err=True)
    sys.exit(EXIT_STATUS[result.outcome])


def _given(name: str) -> bool:
    """Whether the option ``name`` was given on the command line (not left at its default)."""
    source = click.get_current_context().get_parameter_source(name)
    return source is not None and source != click.core.ParameterSource.DEFAULT


def _work(
    distributed: bool,
    redis_url: str | None,
    given: list[str],
    mirror: str | None,
    delay: float | None,
    concurrency: int | None,
    extra: tuple[str, ...],
    log_level: str,
    quiet: bool,
    no_warc: bool,
    warc_dir: str | None,
    **_: Any,
) -> NoReturn:
    """Be a worker of a distributed run: print what became of it and exit with its status."""
    if not distributed:
        raise click.UsageError("--redis only applies with --distributed")
    url = check_redis_url(redis_url)
    if given:
        raise click.UsageError(
            f"{', '.join(given)}: a worker takes what to crawl from the seeded run (antara seed)"
            " and writes no archive (antara ingest does)"
        )
    from crawler.run import Tuning, run_worker

    overrides = _overrides(extra, no_warc, warc_dir, mirror)
    tuning = Tuning(delay, concurrency, log_level.upper(), progress=not quiet)
    result = run_worker(url, overrides, tuning, report=_announce_worker)
    if result.outcome == "no-run":
        what = f"run {result.run_id} is over" if result.run_id else "no run has been seeded there"
        click.echo(f"antara: error: {what}; start one with `antara seed --redis {url} --region ...`", err=True)
    elif result.error:
        click.echo(f"antara: error: {result.error}", err=True)
    else:
        click.echo(
            f"Worker {result.finish_reason or 'ended'} in {result.seconds:.1f}s: {result.pages_fetched}"
            f" pages fetched, {result.items_pushed} items pushed (run {result.run_id})"
        )
    sys.exit(EXIT_STATUS[result.outcome])


def _announce_worker(event: WorkerStarting) -> None:
    click.echo(
        f"Worker of run {event.run_id} ({event.arguments.get('mode')} crawl of {event.arguments.get('regions')})"
        f" from {event.redis_url}{' via mirror ' + event.mirror if event.mirror else ''}",
        err=True,
    )


def _start_demo_site() -> Any:
    """Serve the sample site (2,000 articles, seed 1) on a free loopback port in a thread."""
    import threading

    from crawler.samplesite import SampleSite, make_server

    server = make_server(SampleSite(articles=2000, seed=1), host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, name="sample-site", daemon=True).start()
    click.echo(f"Demo: serving the sample site on http://127.0.0.1:{server.port}/ (not the live sites)", err=True)
    return server
