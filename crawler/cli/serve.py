"""``antara serve``: the archive in Datasette, read-only (the server and its checks are in ``crawler/serve``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click

from crawler.serve.app import DATABASE_NAME, PUBLIC_MAX_AGE, bind, build_datasette, run
from crawler.serve.mode import ArchiveUnusable, choose_mode


@click.command()
@click.option(
    "--db", default="archive.db", show_default=True, type=click.Path(dir_okay=False), help="Archive SQLite file."
)
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True, help="0 picks a free port.")
@click.option(
    "--host", default="127.0.0.1", show_default=True, help="Address to bind; 0.0.0.0 shows it to your network."
)
@click.option(
    "--mode",
    type=click.Choice(["auto", "live", "immutable"]),
    default="auto",
    show_default=True,
    help="auto (= live): follow crawls as they write, never stale; immutable: for a copy nothing writes.",
)
@click.option("--allow-sql", is_flag=True, help="Let visitors run their own read-only SQL (off by default).")
@click.option(
    "--allow-download",
    is_flag=True,
    help="Let visitors download the whole file at /archive.db (off by default; needs --mode immutable).",
)
@click.option(
    "--public",
    is_flag=True,
    help=f"For a public deployment: tell robots not to index any page, let caches keep pages {PUBLIC_MAX_AGE} s.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the archive in a web browser once it is up.")
def serve(
    db: str, port: int, host: str, mode: str, allow_sql: bool, allow_download: bool, public: bool, open_browser: bool
) -> None:
    """Browse and search the archive in Datasette, read-only.

    The articles open newest first with search, facets and a chart tool; canned queries
    are under /archive. Leave it running beside scheduled crawls: every page shows what
    the archive holds at that moment, before, during and after a crawl.

    \b
    Examples:
      antara serve
      antara serve --db archive.db --port 8001 --open
      antara serve --db published-copy.db --mode immutable   # a file nothing writes
      antara serve --db published-copy.db --mode immutable --public --host 0.0.0.0
    """
    path = Path(db)
    if allow_download and mode != "immutable":
        raise click.UsageError(
            "--allow-download needs --mode immutable: a live archive's file lacks what is still in its"
            " write-ahead log, and Datasette serves no download of a database that may change"
        )
    try:
        chosen = choose_mode(path, mode)
    except ArchiveUnusable as exc:
        raise click.UsageError(str(exc)) from None
    try:
        sock = bind(host, port)
    except OSError as exc:
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    ds = build_datasette(
        path, immutable=chosen.immutable, allow_sql=allow_sql, allow_download=allow_download, public=public
    )
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{sock.getsockname()[1]}/"
    click.echo(f"Serving {path} read-only, {chosen.name} mode: {chosen.reason}")
    if allow_sql:
        click.echo("Custom SQL is allowed (--allow-sql); it is still read-only.")
    click.echo(f"Datasette at {url} (articles: {url}{DATABASE_NAME}/articles); Ctrl-C stops it")
    if allow_download:
        click.echo(f"The whole file can be downloaded at {url}{DATABASE_NAME}.db (--allow-download).")
    if public:
        click.echo(f"Public deployment (--public): robots told not to index, pages cacheable for {PUBLIC_MAX_AGE} s.")
    try:
        asyncio.run(run(ds, sock, (lambda: click.launch(url)) if open_browser else None))
    except KeyboardInterrupt:
        pass  # Ctrl-C is the normal way to stop a server
    finally:
        sock.close()
    click.echo("Stopped.")
