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

from crawler.domain.lock import lock_path

CONFIG_DIR = Path(__file__).resolve().parent.parent / "serve"
DATABASE_NAME = "archive"  # the URL name of the archive, whatever its file is called
RECENT_RUN = timedelta(hours=24)  # a run still 'running' after this is taken for a crawl that died
SETTINGS = {
    "sql_time_limit_ms": 3000,  # full-text search over a large archive
    "facet_time_limit_ms": 1000,  # the tags array facet reads every row's JSON
    "default_page_size": 50,
    "suggest_facets": False,  # suggestions rerun on every table page; the useful facets are configured
    "allow_download": False,  # /archive.db: only with --allow-download (and --mode immutable)
}
SAFETY_PLUGIN = "antara-safety"  # crawler/serve/plugins/antara_safety.py; configured by build_datasette
PUBLIC_MAX_AGE = 60  # --public: seconds browsers and caches may keep a page of a live archive


class ArchiveUnusable(Exception):
    """The file cannot be served as an archive (missing, not SQLite, no articles table, unreadable)."""


@dataclass(frozen=True)
class ServeMode:
    immutable: bool
    reason: str

    @property
    def name(self) -> str:
        return "immutable" if self.immutable else "live"


def choose_mode(path: Path, requested: str = "auto", now: datetime | None = None) -> ServeMode:
    """Live unless ``requested`` is ``immutable``; check that the file is an archive either way.

    Live (``auto``, ``live``): Datasette's read-only ``mode=ro`` connections on the archive,
    which a crawl keeps in WAL mode, so every page load reads the last committed state and
    nothing a crawl does (writing, a checkpoint, a kill) can make a page fail or go stale.
    Immutable: ``immutable=1``, for a copy nothing writes; refused while a crawl holds the
    archive's lock, since reading a changing file that way answers "malformed" errors.
    The probe never opens a file a crawl may be writing with ``immutable=1``.
    """
    _check_sqlite_file(path)
    holder = crawl_lock_holder(path)
    if requested == "immutable" and holder is not None:
        raise ArchiveUnusable(
            f"a crawl is writing {path} ({holder}); --mode immutable is for a file nothing writes:"
            " leave out --mode to follow the crawl"
        )
    tables, running = _probe(path, immutable=requested == "immutable")
    if "articles" not in tables or "articles_fts" not in tables:
        raise ArchiveUnusable(f"{path} is a SQLite file but not an antara archive (no articles table)")
    notes = []
    if holder is not None:
        notes.append(f"a crawl is writing it now ({holder})")
    elif running is not None:
        started = _parse_time(running[1])
        if started is not None and (now or datetime.now(timezone.utc)) - started < RECENT_RUN:
            notes.append(f"crawl run {running[0]}, started {running[1]}, is still marked running")
    if requested != "immutable":
        return ServeMode(False, "; ".join(["new rows show on the next page load", *notes]))
    wal = path.with_name(path.name + "-wal")
    wal_bytes = wal.stat().st_size if wal.exists() else 0
    if wal_bytes:
        notes.append(f"its write-ahead log holds {wal_bytes:,} bytes that this mode does not read")
    return ServeMode(True, "; ".join(["--mode immutable: later changes are not shown until a restart", *notes]))


def _probe(path: Path, immutable: bool) -> tuple[set[str], tuple[int, str] | None]:
    """The file's table names and its latest run still marked running, read as the server will read them."""
    uri = f"{path.resolve().as_uri()}?{'immutable=1' if immutable else 'mode=ro'}"
    try:
        # the busy timeout covers a file still in rollback-journal mode while a crawl commits to it
        conn = sqlite3.connect(uri, uri=True, timeout=10)
        try:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
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
        if getattr(exc, "sqlite_errorname", "") in _CANNOT_SHARE:
            raise ArchiveUnusable(
                f"cannot follow {path} live: SQLite must create {path.name}-wal and {path.name}-shm in"
                f" {path.resolve().parent}, which this user cannot write ({exc}); give it write access to"
                " that folder (the archive stays read-only), or serve a copy nothing writes with --mode immutable"
            ) from None
        raise ArchiveUnusable(f"cannot read {path}: {exc}") from None
    return tables, running


#: errors of a ``mode=ro`` connection that cannot create the WAL's shared-memory file beside the archive
_CANNOT_SHARE = ("SQLITE_READONLY_DIRECTORY", "SQLITE_CANTOPEN", "SQLITE_READONLY_CANTINIT")


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
    """The metadata of ``crawler/serve/metadata.yml``; ``allow_sql`` drops its SQL ban."""
    metadata: dict[str, Any] = yaml.safe_load((CONFIG_DIR / "metadata.yml").read_text(encoding="utf-8"))
    if allow_sql:
        metadata.pop("allow_sql", None)
    return metadata


def build_datasette(
    path: str | Path,
    immutable: bool = False,
    allow_sql: bool = False,
    allow_download: bool = False,
    public: bool = False,
) -> Any:
    """A Datasette serving ``path`` as ``/archive`` read-only, configured as ``antara serve`` serves it.

    ``immutable=False`` (live) marks the database mutable for Datasette: it opens ``mode=ro``
    connections, counts rows on every request instead of once at startup, and rereads the
    schema when ``PRAGMA schema_version`` changes.

    ``allow_download`` lets ``/archive.db`` download the file (Datasette serves it only for an
    immutable database); ``public`` adds the robots and cache headers of ``--public``.

    The caller awaits ``invoke_startup()`` (``antara serve`` does, and so do the tests).
    """
    from datasette.app import Datasette

    metadata = load_metadata(allow_sql)
    safety: dict[str, Any] = {"database": DATABASE_NAME, "public": public}
    settings: dict[str, Any] = {**SETTINGS, "allow_download": allow_download}
    if public:
        safety["max_age"] = settings["default_cache_ttl"] = PUBLIC_MAX_AGE
    metadata.setdefault("plugins", {})[SAFETY_PLUGIN] = safety
    ds = Datasette(
        metadata=metadata,
        template_dir=str(CONFIG_DIR / "templates"),
        plugins_dir=str(CONFIG_DIR / "plugins"),
        static_mounts=[("antara-static", str(CONFIG_DIR / "static"))],
        settings=settings,
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
    sock = _bind(host, port)
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
        asyncio.run(_run(ds, sock, url, open_browser))
    except KeyboardInterrupt:
        pass  # Ctrl-C is the normal way to stop a server
    finally:
        sock.close()
    click.echo("Stopped.")
