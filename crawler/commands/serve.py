"""``antara serve``: the archive in Datasette, read-only, configured by the files in ``crawler/datasette``."""

from __future__ import annotations

import asyncio
import fcntl
import socket
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import click
import yaml

from crawler.lock import lock_path

CONFIG_DIR = Path(__file__).resolve().parent.parent / "datasette"
DATABASE_NAME = "archive"  # the URL name of the archive, whatever its file is called
RECENT_RUN = timedelta(hours=24)  # a run still 'running' after this is taken for a crawl that died
SETTINGS = {
    "sql_time_limit_ms": 3000,  # full-text search over a large archive
    "facet_time_limit_ms": 1000,  # the tags array facet reads every row's JSON
    "default_page_size": 50,
    "suggest_facets": False,  # suggestions rerun on every table page; the useful facets are configured
}


class ArchiveUnusable(Exception):
    """The file cannot be served as an archive (missing, not SQLite, no articles table)."""


@dataclass(frozen=True)
class ServeMode:
    immutable: bool
    reason: str

    @property
    def name(self) -> str:
        return "immutable" if self.immutable else "live"


def choose_mode(path: Path, now: datetime | None = None) -> ServeMode:
    """Immutable unless a crawl may be writing the file.

    A crawl may be writing when ``antara crawl`` holds the archive's lock, when the
    write-ahead log holds pages not yet in the file, or when a run started less than a day
    ago is still marked running (a crawl through plain ``scrapy crawl`` takes no lock).
    """
    _check_sqlite_file(path)
    wal = path.with_name(path.name + "-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    holder = crawl_lock_holder(path)
    # Reading with immutable=1 takes no lock and creates no -wal/-shm beside a file nothing writes.
    uri = f"file:{path.resolve()}?{'mode=ro' if wal_bytes or holder else 'immutable=1'}"
    try:
        conn = sqlite3.connect(uri, uri=True)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            if "articles" not in tables or "articles_fts" not in tables:
                raise ArchiveUnusable(f"{path} is a SQLite file but not an antara archive (no articles table)")
            running = (
                conn.execute(
                    "SELECT id, started_at FROM crawl_runs WHERE outcome = 'running' ORDER BY id DESC LIMIT 1"
                ).fetchone()
                if "crawl_runs" in tables
                else None
            )
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise ArchiveUnusable(f"cannot read {path}: {exc}") from None
    if holder is not None:
        return ServeMode(False, f"a crawl is writing it ({holder})")
    if wal_bytes:
        return ServeMode(False, f"its write-ahead log holds {wal_bytes:,} bytes not yet in the file")
    if running is not None:
        started = _parse_time(running[1])
        now = now or datetime.now(timezone.utc)
        if started is not None and now - started < RECENT_RUN:
            return ServeMode(False, f"crawl run {running[0]}, started {running[1]}, is still marked running")
        return ServeMode(True, f"run {running[0]} is marked running since {running[1]} but nothing writes the file")
    return ServeMode(True, "no crawl is writing it; restart antara serve after the next crawl")


def crawl_lock_holder(path: Path) -> str | None:
    """Who holds ``antara crawl``'s lock on the archive (``pid N, started T``), or None."""
    lock = lock_path(path)
    if not lock.exists():
        return None
    with lock.open(encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return handle.read().strip() or "unknown process"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def _check_sqlite_file(path: Path) -> None:
    if not path.exists():
        raise ArchiveUnusable(f"no archive at {path}; create one with: antara crawl --db {path}")
    if not path.is_file():
        raise ArchiveUnusable(f"{path} is not a file")
    with path.open("rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise ArchiveUnusable(f"{path} is not a SQLite database")


def _parse_time(value: str | None) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def load_metadata(allow_sql: bool = False) -> dict[str, Any]:
    """The metadata of ``crawler/datasette/metadata.yml``; ``allow_sql`` drops its SQL ban."""
    metadata: dict[str, Any] = yaml.safe_load((CONFIG_DIR / "metadata.yml").read_text(encoding="utf-8"))
    if allow_sql:
        metadata.pop("allow_sql", None)
    return metadata


def build_datasette(path: str | Path, immutable: bool, allow_sql: bool = False) -> Any:
    """A Datasette serving ``path`` as ``/archive`` read-only, configured as ``antara serve`` serves it.

    The caller awaits ``invoke_startup()`` (``antara serve`` does, and so do the tests).
    """
    from datasette.app import Datasette

    ds = Datasette(
        metadata=load_metadata(allow_sql),
        template_dir=str(CONFIG_DIR / "templates"),
        plugins_dir=str(CONFIG_DIR / "plugins"),
        static_mounts=[("antara-static", str(CONFIG_DIR / "static"))],
        settings=SETTINGS,
    )
    ds.remove_database("_memory")  # Datasette adds a scratch database when given no file
    ds.add_database(_read_only_database(ds, str(Path(path).resolve()), immutable), name=DATABASE_NAME)
    return ds


def _read_only_database(ds: Any, path: str, immutable: bool) -> Any:
    """Datasette's Database (opened ``immutable=1`` or ``mode=ro``) that refuses write connections."""
    from datasette.database import Database

    class ReadOnlyDatabase(Database):  # type: ignore[misc]
        def connect(self, write: bool = False) -> sqlite3.Connection:
            if write:
                raise sqlite3.OperationalError("antara serve opens the archive read-only")
            return super().connect(write=False)  # type: ignore[no-any-return]

    return ReadOnlyDatabase(ds, path, is_mutable=not immutable)


def _bind(host: str, port: int) -> socket.socket:
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise click.ClickException(f"cannot serve on {host}:{port}: {exc.strerror or exc}") from None
    sock.set_inheritable(True)
    return sock


async def _run(ds: Any, sock: socket.socket, url: str, open_browser: bool) -> None:
    import uvicorn

    await ds.invoke_startup()
    server = uvicorn.Server(uvicorn.Config(ds.app(), log_level="warning", lifespan="on", access_log=False))

    async def launch_when_up() -> None:
        while not server.started and not server.should_exit:
            await asyncio.sleep(0.05)
        if server.started:
            click.launch(url)

    opener = asyncio.create_task(launch_when_up()) if open_browser else None
    await server.serve(sockets=[sock])
    if opener is not None:
        opener.cancel()


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
    type=click.Choice(["auto", "immutable", "live"]),
    default="auto",
    show_default=True,
    help="immutable: fastest, for a file nothing writes; live: read-only but sees a running crawl's new rows.",
)
@click.option("--allow-sql", is_flag=True, help="Let visitors run their own read-only SQL (off by default).")
@click.option("--open", "open_browser", is_flag=True, help="Open the archive in a web browser once it is up.")
def serve(db: str, port: int, host: str, mode: str, allow_sql: bool, open_browser: bool) -> None:
    """Browse and search the archive in Datasette, read-only.

    The articles open newest first with search, facets and a chart tool; canned queries
    are under /archive. Immutable mode is chosen unless a crawl is writing the file.

    \b
    Examples:
      antara serve
      antara serve --db archive.db --port 8001 --open
      antara serve --mode live      # while a crawl is running into archive.db
    """
    path = Path(db)
    try:
        chosen = choose_mode(path)
    except ArchiveUnusable as exc:
        raise click.UsageError(str(exc)) from None
    if mode != "auto" and (mode == "immutable") != chosen.immutable:
        chosen = ServeMode(mode == "immutable", f"--mode {mode}, although {chosen.reason}")
    sock = _bind(host, port)
    ds = build_datasette(path, immutable=chosen.immutable, allow_sql=allow_sql)
    shown_host = f"[{host}]" if ":" in host else host
    url = f"http://{shown_host}:{sock.getsockname()[1]}/"
    click.echo(f"Serving {path} read-only, {chosen.name} mode: {chosen.reason}")
    if allow_sql:
        click.echo("Custom SQL is allowed (--allow-sql); it is still read-only.")
    click.echo(f"Datasette at {url} (articles: {url}{DATABASE_NAME}/articles); Ctrl-C stops it")
    try:
        asyncio.run(_run(ds, sock, url, open_browser))
    except KeyboardInterrupt:
        pass  # Ctrl-C is the normal way to stop a server
    finally:
        sock.close()
    click.echo("Stopped.")
