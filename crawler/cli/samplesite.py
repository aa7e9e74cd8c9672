"""``antara sample-site``: a synthetic ANTARA network on loopback, for tests, demos and benchmarks."""

from __future__ import annotations

import click


@click.command("sample-site")
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
@click.option(
    "--english-links",
    is_flag=True,
    help="Some Indonesian articles' Baca juga link to English articles of en.antaranews.com "
    "(served either way, at /news/{id}/{slug} and /latest-news).",
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
    english_links: bool,
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
            english_links=english_links,
        )
    except OSError as exc:
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    except KeyboardInterrupt:
        pass
