"""Datasette plugin of antara-archive: the articles list as cards (templates/_table-archive-articles.html).

- ``antara_local_time``: a Jinja filter printing a stored ``published_at`` (ISO 8601 with the
  site's offset) in the site's local time, e.g. ``Kamis, 27 Nov 2026 14:05 WIB``.
- ``antara_search_marks(rows)``: a template function that, on ``/archive/articles?_search=``,
  returns the highlighted headline and passage of each displayed article, from one FTS5 query
  bounded to the displayed rows (their urls, at most one page): never a scan of the matches.
- ``month`` facet: articles per local month (``published_at__startswith=YYYY-MM``), counted like
  the local-day facet of antara_archive.py.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import markupsafe
from datasette import hookimpl
from datasette.utils import tilde_encode

from crawler.serve.plugins.antara_archive import PLUGIN, _LocalPrefixFacet, snippet_html

DAYS = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")
ZONES = {"+07:00": "WIB", "+08:00": "WITA", "+09:00": "WIT"}
MAX_MARKED = 100  # at most one page of cards (the table's page size is 50)


def local_time(value: Any) -> str:
    """``2026-11-27T14:05:00+07:00`` -> ``Kamis, 27 Nov 2026 14:05 WIB``: the wall-clock time the
    site printed, with its zone (the offset itself when it is not one of Indonesia's three)."""
    if not isinstance(value, str):
        return "" if value is None else str(value)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    text = f"{DAYS[moment.weekday()]}, {moment.day} {MONTHS[moment.month - 1]} {moment.year} {moment:%H:%M}"
    offset = value[19:].lstrip(".0123456789")
    if moment.tzinfo is None or not offset:
        return text
    return f"{text} {ZONES.get(offset, 'UTC' if offset in ('Z', '+00:00') else 'UTC' + offset)}"


def month_label(value: Any) -> str:
    """``2026-11`` -> ``Nov 2026``."""
    text = str(value)
    if len(text) == 7 and text[4] == "-" and text[:4].isdigit() and text[5:].isdigit() and 1 <= int(text[5:]) <= 12:
        return f"{MONTHS[int(text[5:]) - 1]} {text[:4]}"
    return text


@hookimpl
def prepare_jinja2_environment(env: Any) -> None:
    env.filters["antara_local_time"] = local_time
    env.filters["antara_month"] = month_label


def _ours(datasette: Any, database: str | None) -> bool:
    config = datasette.plugin_config(PLUGIN)
    return bool(config) and database == config.get("database")


def _value(cell: Any) -> Any:
    """A row value, whether Datasette expanded it to ``{"value", "label"}`` or not."""
    return cell["value"] if isinstance(cell, dict) and "value" in cell else cell


MARKS_SQL = """
select a.url as url,
  highlight(articles_fts, 0, '<mark>', '</mark>') as title,
  snippet(articles_fts, 1, '<mark>', '</mark>', '…', 32) as snippet
from articles a cross join articles_fts
where a.url in (select value from json_each(:urls))
  and articles_fts.rowid = a.rowid
  and articles_fts match {match}
"""


@hookimpl
def extra_template_vars(database: str, table: str | None, view_name: str, request: Any, datasette: Any) -> Any:
    if view_name != "table" or table != "articles" or not _ours(datasette, database) or request is None:
        return None
    search = (request.args.get("_search") or "").strip()
    raw = request.args.get("_searchmode") == "raw"  # FTS5 syntax as typed, as Datasette's own filter takes it

    async def antara_search_marks(rows: Any) -> dict[str, dict[str, markupsafe.Markup]]:
        """url -> {"title", "snippet"} with <mark>ed words, for the displayed rows that match the search."""
        urls = [_value(row["url"]) for row in list(rows)[:MAX_MARKED]]
        if not search or not urls:
            return {}
        result = await datasette.get_database(database).execute(
            MARKS_SQL.format(match=":search" if raw else "escape_fts(:search)"),
            {"urls": json.dumps(urls), "search": search},
        )
        return {
            row["url"]: {"title": snippet_html(row["title"]), "snippet": snippet_html(row["snippet"])}
            for row in result.rows
        }

    def antara_article_url(row: Any) -> str:
        """The row page of an article of the displayed rows."""
        return str(datasette.urls.row(database, "articles", tilde_encode(str(_value(row["url"])))))

    marks: Callable[[Any], Awaitable[dict[str, dict[str, markupsafe.Markup]]]] = antara_search_marks
    return {"antara_search_marks": marks, "antara_search": search, "antara_article_url": antara_article_url}


class MonthFacet(_LocalPrefixFacet):
    """Counts per local month as printed in the value (its first 7 characters), selected with
    ``__startswith=YYYY-MM``: the month of the site's own calendar, as the local-day facet."""

    type = "month"
    width, prefix = 7, "[0-9][0-9][0-9][0-9]-[0-9][0-9]"


@hookimpl
def register_facet_classes() -> list[type]:
    return [MonthFacet]
