"""The Datasette of ``antara serve``: the archive read-only at ``/archive``, configured by this folder's files."""

from __future__ import annotations

import asyncio
import os
import socket
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

CONFIG_DIR = Path(__file__).resolve().parent  # metadata.yml, templates/, plugins/, static/
DATABASE_NAME = "archive"  # the URL name of the archive, whatever its file is called
SETTINGS = {
    "sql_time_limit_ms": 3000,  # full-text search over a large archive
    "facet_time_limit_ms": 1000,  # the tags array facet reads every row's JSON
    "default_page_size": 50,
    "suggest_facets": False,  # suggestions rerun on every table page; the useful facets are configured
    "allow_download": False,  # /archive.db: only with --allow-download (and --mode immutable)
}
SAFETY_PLUGIN = "antara-safety"  # crawler/serve/plugins/antara_safety.py; configured by build_datasette
PUBLIC_MAX_AGE = 60  # --public: seconds browsers and caches may keep a page of a live archive


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

    The caller awaits ``invoke_startup()`` (``run`` does, and so do the tests).
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
    from datasette.database import Database, QueryInterrupted

    from crawler.serve.plugins.antara_archive import counted_facet_sql, unfiltered_facet
    from crawler.serve.plugins.antara_cards import broad_search_facet, search_count_sql

    class ReadOnlyDatabase(Database):  # type: ignore[misc]
        facet_cache: dict[str, tuple[tuple[int, ...], Any]]  # facet sql -> (file_state of its result, result)

        def connect(self, write: bool = False) -> sqlite3.Connection:
            if write:
                raise sqlite3.OperationalError("antara serve opens the archive read-only")
            return super().connect(write=False)  # type: ignore[no-any-return]

        async def execute(self, sql: str, params: Any = None, *args: Any, **kwargs: Any) -> Any:
            """Database.execute, with the count of a plain search taken from the FTS index, no
            facets for a search with many matches (they would read every match), the facets of
            the unfiltered article list read from the counts the archive keeps (``facet_counts``),
            and any other facet of that list (or all of them, in an archive older than version 8)
            kept until the archive file changes (computed within the SQL time limit rather than
            the facet one, once)."""
            if broad_search_facet(sql):
                raise QueryInterrupted(sqlite3.OperationalError("a facet of a broad search"), sql, params)
            if not unfiltered_facet(sql, params):
                return await super().execute(search_count_sql(sql) or sql, params, *args, **kwargs)
            counted = counted_facet_sql(sql)
            if counted is not None and await self.table_exists("facet_counts"):  # version 8 or later
                return await super().execute(counted, None, *args, **kwargs)
            state = file_state(path)
            cached = self.facet_cache.get(sql)
            if cached is not None and cached[0] == state:
                return cached[1]
            kwargs["custom_time_limit"] = self.ds.setting("sql_time_limit_ms")
            result = await super().execute(sql, params, *args, **kwargs)
            self.facet_cache[sql] = (state, result)
            return result

    db = ReadOnlyDatabase(ds, path, is_mutable=not immutable)
    db.facet_cache = {}
    return db


def file_state(path: str) -> tuple[int, ...]:
    """Size and modification time of the archive and of its WAL file: any commit changes one of them."""
    state: list[int] = []
    for name in (path, path + "-wal"):
        try:
            stat = os.stat(name)
        except FileNotFoundError:
            state += [-1, -1]
        else:
            state += [stat.st_size, stat.st_mtime_ns]
    return tuple(state)


def bind(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` (0: a free port) for the server; raises OSError when it cannot be."""
    family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


async def run(ds: Any, sock: socket.socket, when_up: Callable[[], object] | None = None) -> None:
    """Serve ``ds`` on ``sock`` until stopped; call ``when_up`` once the server accepts requests."""
    import uvicorn

    await ds.invoke_startup()
    server = uvicorn.Server(uvicorn.Config(ds.app(), log_level="warning", lifespan="on", access_log=False))

    async def call_when_up(callback: Callable[[], object]) -> None:
        while not server.started and not server.should_exit:
            await asyncio.sleep(0.05)
        if server.started:
            callback()

    waiter = asyncio.create_task(call_when_up(when_up)) if when_up is not None else None
    await server.serve(sockets=[sock])
    if waiter is not None:
        waiter.cancel()
