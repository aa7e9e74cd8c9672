"""The ``antara`` command line: one group, a subcommand per capability."""

from __future__ import annotations

import os
import sys
from typing import Any
from urllib.parse import urlsplit

import click

from crawler import __version__
from crawler.cli.common import check_redis_url, region_options, settings_pairs
from crawler.domain.options import SINCE_HELP, CrawlOptions, OptionError


class AntaraGroup(click.Group):
    """A click group whose user errors are one line on stderr and exit code 2, never a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as exc:
            click.echo(f"antara: error: {exc.format_message()}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"antara: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("antara: interrupted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


@click.group(cls=AntaraGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="antara")
def cli() -> None:
    """Crawl ANTARA news sites into a searchable SQLite archive."""


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
    ]
    for option in reversed(options):
        func = option(func)
    return func


@cli.command()
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
        _execute_worker(distributed, redis_url, given, **run)
        return
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
        )
    except OptionError as exc:
        raise click.UsageError(str(exc)) from None
    _execute(options, **run)


@cli.command()
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
            list(regions), max_pages, run["follow_depth"], None, all_regions, "backfill", until=until, pages=pages
        )
    except OptionError as exc:
        raise click.UsageError(str(exc)) from None
    _execute(options, **run)


def _execute(
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
) -> None:
    settings_override: dict[str, Any] = dict(settings_pairs(extra))
    if no_warc and warc_dir:
        raise click.UsageError("--no-warc and --warc-dir contradict each other")
    if no_warc:
        settings_override["ANTARA_WARC"] = False
    if warc_dir:
        settings_override["ANTARA_WARC_DIR"] = os.path.abspath(warc_dir)
    if mirror and demo:
        raise click.UsageError("--demo serves its own mirror; drop --mirror")
    if mirror:
        settings_override["ANTARA_MIRROR"] = _check_mirror(mirror)
    from crawler.run import Tuning, run_crawl

    server = None
    if demo:
        server = _start_demo_site()
        settings_override["ANTARA_MIRROR"] = f"http://127.0.0.1:{server.port}"
        delay = 0.0 if delay is None else delay
        concurrency = 4 if concurrency is None else concurrency
    try:
        tuning = Tuning(delay, concurrency, log_level.upper(), progress=not quiet)
        code = run_crawl(options, db, settings_override, tuning)
    finally:
        if server is not None:
            server.shutdown()
    sys.exit(code)


def _given(name: str) -> bool:
    """Whether the option ``name`` was given on the command line (not left at its default)."""
    source = click.get_current_context().get_parameter_source(name)
    return source is not None and source != click.core.ParameterSource.DEFAULT


def _execute_worker(
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
) -> None:
    if not distributed:
        raise click.UsageError("--redis only applies with --distributed")
    url = check_redis_url(redis_url)
    if given:
        raise click.UsageError(
            f"{', '.join(given)}: a worker takes what to crawl from the seeded run (antara seed)"
            " and writes no archive (antara ingest does)"
        )
    overrides: dict[str, Any] = dict(settings_pairs(extra))
    if no_warc and warc_dir:
        raise click.UsageError("--no-warc and --warc-dir contradict each other")
    if no_warc:
        overrides["ANTARA_WARC"] = False
    if warc_dir:  # a worker captures only into a folder it is given (docs/distributed.md)
        overrides["ANTARA_WARC_DIR"] = os.path.abspath(warc_dir)
    if mirror:
        overrides["ANTARA_MIRROR"] = _check_mirror(mirror)
    from crawler.run import Tuning, run_worker

    sys.exit(run_worker(url, overrides, Tuning(delay, concurrency, log_level.upper(), progress=not quiet)))


def _start_demo_site() -> Any:
    """Serve the sample site (2,000 articles, seed 1) on a free loopback port in a thread."""
    import threading

    from crawler.samplesite import SampleSite, make_server

    server = make_server(SampleSite(articles=2000, seed=1), host="127.0.0.1", port=0)
    threading.Thread(target=server.serve_forever, name="sample-site", daemon=True).start()
    click.echo(f"Demo: serving the sample site on http://127.0.0.1:{server.port}/ (not the live sites)", err=True)
    return server


@cli.command("sample-site")
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (keep it on loopback).")
@click.option(
    "--articles", type=click.IntRange(min=1), default=2000, show_default=True, help="Articles across all sites."
)
@click.option("--seed", type=int, default=1, show_default=True)
@click.option(
    "--log", "log_path", type=click.Path(dir_okay=False), default=None, help="Append one line per request here."
)
@click.option(
    "--faults",
    "fault_share",
    type=click.FloatRange(0, 1),
    default=0.0,
    show_default=True,
    help="Fault mode: share of article, list and feed requests answered with a fault.",
)
@click.option("--fault-seed", type=int, default=0, show_default=True, help="Seed of the fault draws.")
@click.option("--fault-kinds", default=None, metavar="KIND[,KIND]", help="Only these faults (see docs/reliability.md).")
@click.option(
    "--slow-seconds",
    type=click.FloatRange(min=0),
    default=35.0,
    show_default=True,
    help="How long a 'slow' answer waits before it starts.",
)
@click.option(
    "--retry-after", type=click.IntRange(min=0), default=2, show_default=True, help="Retry-After of the 429 answers."
)
@click.option(
    "--clock",
    "clock_start",
    default=None,
    metavar="ISO-TIME",
    help="Simulated clock from this time: only what is published by then is served; 5% of later articles get a "
    "correction. Move it with POST /_control/clock?now=ISO-TIME; GET /_control/truth tells what is published.",
)
@click.option(
    "--republish",
    is_flag=True,
    help="Sites republish each other's stories with edits (and publish same-topic stories); "
    "GET /_control/truth gives each article's story.",
)
def sample_site(
    port: int,
    host: str,
    articles: int,
    seed: int,
    log_path: str | None,
    fault_share: float,
    fault_seed: int,
    fault_kinds: str | None,
    slow_seconds: float,
    retry_after: int,
    clock_start: str | None,
    republish: bool,
) -> None:
    """Serve a deterministic synthetic ANTARA network for tests, demos and benchmarks.

    Every host is served under http://HOST:PORT/{host}/..., the layout --mirror expects.
    --faults 0.2 answers a fifth of the article, list and feed requests with a fault (slow,
    cut off, 429, 503, redirect loop, off-site redirect, empty, 20 MB, bad encoding, markup
    changed, unreadable date, hostile links), the same ones for the same --fault-seed.

    \b
    Example:
      antara sample-site --port 8080 --articles 5000 &
      antara crawl --region kalteng --mirror http://127.0.0.1:8080 --delay 0
      antara crawl --region kalteng --demo
      antara sample-site --port 8080 --faults 0.2 --fault-seed 3 --log requests.log
    """
    from crawler.samplesite import serve
    from crawler.samplesite.faults import KINDS, FaultPlan

    plan = None
    if fault_share > 0:
        kinds = tuple(k.strip() for k in (fault_kinds or ",".join(KINDS)).split(",") if k.strip())
        try:
            plan = FaultPlan(fault_share, fault_seed, kinds, slow_seconds=slow_seconds, retry_after=retry_after)
        except ValueError as exc:
            raise click.BadParameter(f"{exc} (known: {', '.join(KINDS)})", param_hint="'--fault-kinds'") from None
    clock = None
    if clock_start is not None:
        from crawler.samplesite.clock import Clock, parse_time

        try:
            clock = Clock(parse_time(clock_start), seed=seed, edit_share=0.05)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'--clock'") from None
    try:
        serve(
            port=port,
            articles=articles,
            seed=seed,
            host=host,
            log_path=log_path,
            faults=plan,
            clock=clock,
            republish=republish,
        )
    except OSError as exc:
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:
        pass


def main() -> None:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.scrapy.settings")
    cli(prog_name="antara")


# -- subcommands defined in their own modules ---------------------------------------------------
from crawler.cli.export import export  # noqa: E402

cli.add_command(export)
from crawler.cli.serve import serve  # noqa: E402

cli.add_command(serve)
from crawler.cli.schedule import schedule  # noqa: E402

cli.add_command(schedule)
from crawler.cli.warc import cdx, reextract, show_capture  # noqa: E402

cli.add_command(show_capture)
cli.add_command(reextract)
cli.add_command(cdx)
from crawler.cli.status import status  # noqa: E402

cli.add_command(status)
from crawler.cli.distributed import ingest, seed  # noqa: E402

cli.add_command(seed)
cli.add_command(ingest)
