"""Datasette plugin of antara-archive: what makes ``antara serve`` safe to publish.

Loaded by ``antara serve`` from this folder (``plugins_dir``); ``build_datasette`` writes its
configuration (the ``antara-safety`` plugin block: ``database``, ``public`` and ``max_age``). Each part is
narrow and documented in docs/serve.md, "Safe to publish":

- CSV downloads (``.csv`` of the database, of every table and canned query, of a row) put a
  ``'`` before text a spreadsheet would run as a formula, with the one rule of
  ``antara export`` (:func:`archive.export.neutralise`). Datasette 0.65.5 writes CSV from the
  rows its views' ``data()`` returns, and ``render_cell`` does not apply to CSV; so the
  archive's ``.csv`` URLs are routed (``register_routes``, which Datasette matches before its
  own routes) to its own view classes whose ``data()`` neutralises the text cells. Numbers
  stay numbers, as in ``antara export``.
- No filesystem path is shown: ``/-/databases`` lists the databases without their ``path``,
  ``/-/threads`` (Python task descriptions, with source file paths) is not served, and the
  tables of :data:`PRIVATE_TABLES` (``archive_meta`` keeps the WARC folder's absolute path)
  answer 403 (``permission_allowed``); the server's own code still reads them.
- Malformed requests that Datasette 0.65.5 answers with a 500 get a 4xx with a readable
  message: the errors listed in :data:`BAD_REQUEST_ERRORS` and malformed JSON in the
  parameters of :func:`_malformed_json_parameter` become 400 (``handle_exception``); a
  request with a method other than GET, HEAD or OPTIONS to the archive's URLs, or with a
  method Datasette does not know anywhere, gets 405 before Datasette sees it (``asgi_wrapper``).
- ``public``: every response says ``X-Robots-Tag: noindex, nofollow``, and a successful
  GET or HEAD not personalised by Datasette gets ``Cache-Control: public, max-age=N`` (``max_age``).
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import BadRequest, Base400, Request, Response
from datasette.views.base import DatasetteError
from datasette.views.database import DatabaseView
from datasette.views.row import RowView
from datasette.views.special import JsonDataView
from datasette.views.table import TableView

from archive.export import neutralise

logger = logging.getLogger(__name__)

PLUGIN = "antara-safety"
#: Methods that read; any other method on the archive's URLs is answered 405.
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Methods Datasette's views answer (405 for those a view lacks); any other crashes them (500).
DATASETTE_METHODS = READ_METHODS | {"POST", "PUT", "PATCH", "DELETE"}
#: Tables of the archive no visitor may view: they hold filesystem paths.
PRIVATE_TABLES = frozenset({"archive_meta"})
#: Beginnings of the messages of the errors Datasette 0.65.5 raises with status 500 for a
#: malformed query string (``?_sort=nosuchcol``, ``?_sort=a&_sort_desc=b``, ``?_through={...}``
#: naming no foreign key): they become 400 with the same message.
BAD_REQUEST_ERRORS = (
    "Cannot sort table by ",
    "Cannot use _sort and _sort_desc at the same time",
    "Invalid _through",
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def _config(datasette: Any) -> dict[str, Any]:
    return datasette.plugin_config(PLUGIN) or {}


# -- CSV: formula cells neutralised ---------------------------------------------------------------


class _CsvRow(tuple):  # type: ignore[type-arg]
    """A row of neutralised cells that, like ``sqlite3.Row``, is also read by column name."""

    _keys: list[str]

    def __new__(cls, values: list[Any], keys: list[str]) -> _CsvRow:
        row = super().__new__(cls, values)
        row._keys = keys
        return row

    def keys(self) -> list[str]:
        return self._keys

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self._keys.index(key))
        return super().__getitem__(key)


def csv_cell(value: Any) -> Any:
    """A cell as Datasette's CSV writes it, text neutralised (``antara export``'s rule); expanded
    foreign-key labels (``{"value": ..., "label": ...}``) cell by cell."""
    if isinstance(value, str):
        return neutralise(value)
    if isinstance(value, dict):
        return {key: csv_cell(item) for key, item in value.items()}
    return value


def csv_row(row: Any) -> Any:
    cells = [csv_cell(value) for value in row]
    if isinstance(row, sqlite3.Row):
        return _CsvRow(cells, row.keys())
    return cells


class _NeutralisingCsv:
    """Mixed into a Datasette view: the rows its CSV is written from have neutralised text."""

    async def data(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        result = await super().data(request, *args, **kwargs)  # type: ignore[misc]
        if isinstance(result, Response):
            return result
        if "rows" not in result[0]:  # /archive.csv without ?sql=: the database page has no rows
            raise BadRequest(
                "The database's CSV is the CSV of a query given as ?sql= (with --allow-sql);"
                " every table and canned query has its own .csv"
            )
        result[0]["rows"] = [csv_row(row) for row in result[0]["rows"]]
        return result


class CsvDatabaseView(_NeutralisingCsv, DatabaseView):  # type: ignore[misc]
    pass


class CsvTableView(_NeutralisingCsv, TableView):  # type: ignore[misc]
    pass


class CsvRowView(_NeutralisingCsv, RowView):  # type: ignore[misc]
    pass


# -- no filesystem path ---------------------------------------------------------------------------


def databases_without_paths(datasette: Any) -> list[dict[str, Any]]:
    """What ``/-/databases`` lists, less each file's path."""
    return [
        {
            "name": name,
            "route": db.route,
            "size": db.size,
            "is_mutable": db.is_mutable,
            "is_memory": db.is_memory,
            "hash": db.hash,
        }
        for name, db in datasette.databases.items()
        if name != "_internal"
    ]


@hookimpl
def permission_allowed(datasette: Any, actor: Any, action: str, resource: Any) -> bool | None:
    if action == "view-table" and isinstance(resource, tuple) and len(resource) == 2:
        database, table = resource
        if database == _config(datasette).get("database") and table in PRIVATE_TABLES:
            return False
    return None


async def not_served(datasette: Any, request: Any) -> Response:
    return await _error_page(datasette, request, _Status(404, "This page is not served by antara serve"))


@hookimpl
def register_routes(datasette: Any) -> list[tuple[str, Any]]:
    database = _config(datasette).get("database")
    if not database:
        return []
    db = re.escape(database)
    return [
        # Datasette's own patterns for these views, restricted to the archive and to .csv
        (rf"^/(?P<database>{db})\.(?P<format>csv)$", CsvDatabaseView.as_view(datasette)),
        (rf"^/(?P<database>{db})/(?P<table>[^\/\.]+)\.(?P<format>csv)$", CsvTableView.as_view(datasette)),
        (
            rf"^/(?P<database>{db})/(?P<table>[^/]+?)/(?P<pks>[^/]+?)\.(?P<format>csv)$",
            CsvRowView.as_view(datasette),
        ),
        (
            r"^/-/databases(\.(?P<format>json))?$",
            JsonDataView.as_view(datasette, "databases.json", lambda: databases_without_paths(datasette)),
        ),
        (r"^/-/threads(\.(?P<format>json))?$", not_served),
    ]


# -- malformed requests: 4xx, not 500 -------------------------------------------------------------


class _Status(Base400):  # type: ignore[misc]
    """An error Datasette's own error page shows with this status and message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _error_page(datasette: Any, request: Any, error: Exception) -> Response:
    """The error page Datasette would show (HTML from ``error.html``, or JSON for a ``.json`` URL)
    for ``error``, a 4xx: rendered here through the public ``render_template`` rather than by
    calling Datasette's own exception handler, which prints the exception with ``rich`` when that
    is installed and then fails outside an ``except`` block."""
    status = int(getattr(error, "status", 400))
    info = {"ok": False, "error": str(error.args[0]) if error.args else str(error), "status": status, "title": None}
    headers: dict[str, str] = {}
    if datasette.cors:
        headers["Access-Control-Allow-Origin"] = "*"
    if request.path.split("?")[0].endswith(".json"):
        return Response.json(info, status=status, headers=headers)
    # a request refused before Datasette's CSRF layer saw it (405) has no token to render
    seen = request if "csrftoken" in request.scope else None
    html = await datasette.render_template([f"{status}.html", "error.html"], info, request=seen)
    return Response.html(html, status=status, headers=headers)


def _malformed_json_parameter(request: Any) -> str | None:
    """The first ``?col__in=``, ``?col__notin=`` or ``?_through=`` whose JSON does not parse, as ``name=value``."""
    for name in request.args.keys():
        for value in request.args.getlist(name):
            if name == "_through" or (name.endswith(("__in", "__notin")) and value.startswith("[")):
                try:
                    json.loads(value)
                except ValueError:
                    return f"{name}={value}"
    return None


def bad_request_message(request: Any, exception: Exception) -> str | None:
    """The 400 message for an error Datasette 0.65.5 would answer 500 for a malformed request, else None."""
    if isinstance(exception, DatasetteError) and exception.status == 500:
        if str(exception.message).startswith(BAD_REQUEST_ERRORS):
            return str(exception.message)
        return None
    if isinstance(exception, json.JSONDecodeError):
        parameter = _malformed_json_parameter(request)
        if parameter is not None:
            name = parameter.partition("=")[0]
            wanted = (
                'a JSON object {"table": ..., "column": ..., "value": ...}'
                if name == "_through"
                else "a JSON list such as [1, 2], or values separated by commas"
            )
            return f"?{parameter} is not valid JSON ({exception.msg}): ?{name}= takes {wanted}"
        return None
    if isinstance(exception, ValueError) and "_timelimit" in request.args:
        if not request.args["_timelimit"].isdigit():
            return "?_timelimit= must be a whole number of milliseconds"
    return None


@hookimpl
def handle_exception(datasette: Any, request: Any, exception: Exception) -> Any:
    """Every error page: a malformed request is a 400; a 4xx keeps its status and message; any
    other error is a 500 whose traceback goes to the log, never to the page. (Datasette's own
    handler would do the same, but fails when ``rich`` is installed.)"""
    message = bad_request_message(request, exception)
    if message is not None:
        return _error_page(datasette, request, BadRequest(message))
    if isinstance(exception, Base400):
        return _error_page(datasette, request, exception)
    if isinstance(exception, DatasetteError) and not exception.message_is_html:
        return _error_page(datasette, request, _Status(exception.status, str(exception.message)))
    if isinstance(exception, DatasetteError):
        return None  # a message Datasette wrote as HTML: its own page shows it as such
    logger.error("error answering %s", request.path, exc_info=exception)
    return _error_page(datasette, request, _Status(500, "Internal error: the server log has the details"))


def _archive_url(path: str, database: str | None) -> bool:
    if not database:
        return False
    base = "/" + database
    return path == base or path.startswith((base + "/", base + "."))


async def method_not_allowed(datasette: Any, scope: Scope, receive: Receive, send: Send) -> None:
    request = Request(scope, receive)
    message = f"{scope['method']} is not allowed here: the archive is read-only, use GET"
    response = await _error_page(datasette, request, _Status(405, message))
    response.headers["Allow"] = ", ".join(sorted(READ_METHODS))
    await response.asgi_send(send)


# -- public deployments: robots and caches ---------------------------------------------------------


def public_headers(send: Send, method: str, max_age: int) -> Send:
    """``send`` adding ``X-Robots-Tag`` to every response and ``Cache-Control: public`` to the cacheable ones.

    Datasette already sets ``Cache-Control: private, no-store`` on a response personalised by
    a cookie or an actor, and ``max-age=N`` on its data views (``default_cache_ttl``, ``?_ttl=``):
    those are kept, a ``max-age`` gains ``public``.
    """

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-robots-tag"]
            headers.append((b"x-robots-tag", b"noindex, nofollow"))
            if message["status"] == 200 and method in ("GET", "HEAD"):
                current = [v for k, v in headers if k.lower() == b"cache-control"]
                if not current:
                    headers.append((b"cache-control", f"public, max-age={max_age}".encode()))
                elif len(current) == 1 and current[0].startswith(b"max-age="):
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"public, " + current[0]))
            message = {**message, "headers": headers}
        await send(message)

    return sending


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[App], App]:
    def wrap(app: App) -> App:
        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            config = _config(datasette)
            method = scope["method"]
            if config.get("public"):
                send = public_headers(send, method, int(config.get("max_age", 60)))
            if method not in DATASETTE_METHODS or (
                method not in READ_METHODS and _archive_url(scope["path"], config.get("database"))
            ):
                await method_not_allowed(datasette, scope, receive, send)
                return
            await app(scope, receive, send)

        return guarded

    return wrap
