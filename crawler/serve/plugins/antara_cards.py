"""Datasette plugin of antara-archive: the articles list as cards (templates/_table-archive-articles.html).

- ``antara_local_time``: a Jinja filter printing a stored ``published_at`` (ISO 8601 with the
  site's offset) in the site's local time, e.g. ``Kamis, 27 Nov 2026 14:05 WIB``.
- ``antara_search_marks(rows)``: a template function that, on ``/archive/articles?_search=``,
  returns the highlighted headline and passage of each displayed article, from one FTS5 query
  bounded to the displayed rows (their urls, at most one page): never a scan of the matches.
- newest-first ``?_search=`` over many matches walks the published_at index (a
  ``filters_from_request`` wrapper), and a plain search's count comes from FTS5
  (``search_count_sql``, used by ``app.py``'s database).
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
from datasette.utils import await_me_maybe, tilde_encode

from crawler.serve.plugins.antara_archive import COUNTED_PREFIXES, _LocalPrefixFacet, ours, snippet_html

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
    if view_name != "table" or table != "articles" or not ours(datasette, database) or request is None:
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


COUNTED_PREFIXES[MonthFacet.width, MonthFacet.prefix] = MonthFacet.type  # archive.schema.ARTICLE_FACETS["month"]


@hookimpl
def register_facet_classes() -> list[type]:
    return [MonthFacet]


# Newest-first search at scale. Datasette's ``?_search=`` filter is ``rowid in (select rowid from
# articles_fts where articles_fts match ...)``: SQLite then reads every matching row, bodies
# included, to sort them by published_at for one page (2-5 s for 90,000 matches of 1,000,000).
# When the search matches many articles, walking the published_at index newest first and keeping
# the rowids in the match set finds a page after about 50 x articles / matches index entries
# (50 ms there); for a rare word that walk would read most of the index, so the plain lookup
# stays. ``+rowid`` tells SQLite not to drive the query from the match set.
SEARCH_CLAUSE = "rowid in (select rowid from articles_fts where articles_fts match "
ORDERED_COLUMN = "published_at"
WALK_FACTOR = 4  # walk the index when matches**2 > WALK_FACTOR * articles (2,000 matches at 1M)


def _sorted_by_published_at(request: Any, datasette: Any, database: str) -> bool:
    sort, sort_desc = request.args.get("_sort"), request.args.get("_sort_desc")
    if not sort and not sort_desc:
        metadata = datasette.table_metadata(database, "articles")
        sort, sort_desc = metadata.get("sort"), metadata.get("sort_desc")
    return ORDERED_COLUMN in (sort, sort_desc)


def walk_index(matches: int, articles: int) -> bool:
    """Whether a page of ``matches`` of ``articles``, newest first, is found faster by walking the
    published_at index than by sorting the matches."""
    return matches * matches > WALK_FACTOR * articles


async def _index_order(filters: Any, request: Any, datasette: Any, database: str) -> Any:
    clauses = getattr(filters, "where_clauses", None) or []
    search = next((c for c in clauses if c.startswith(SEARCH_CLAUSE)), None)
    if search is None:
        return filters
    match = ":search" if search.endswith("match :search)") else "escape_fts(:search)"
    db = datasette.get_database(database)
    found = await db.execute(
        f"select (select count(*) from articles_fts where articles_fts match {match}),"
        " (select max(rowid) from articles)",
        {"search": filters.params.get("search", "")},
    )
    matches, articles = found.first()
    if walk_index(matches or 0, articles or 0):
        filters.where_clauses = ["+" + c if c == search else c for c in clauses]
    return filters


@hookimpl(wrapper=True)
def filters_from_request(request: Any, database: str, table: str, datasette: Any) -> Any:
    results = yield
    if table != "articles" or not ours(datasette, database) or not request.args.get("_search"):
        return results
    if not _sorted_by_published_at(request, datasette, database):
        return results

    def reordered(result: Any) -> Callable[[], Awaitable[Any]]:
        async def inner() -> Any:
            return await _index_order(await await_me_maybe(result), request, datasette, database)

        return inner

    return [reordered(result) for result in results]


def search_count_sql(sql: str) -> str | None:
    """The count of a search with no other filter as FTS5 counts its matches (a few ms), for
    Datasette's ``select count(*) from articles where rowid in (<matches>)``, which looks up every
    matching row (1.4 s for 90,000 of 1,000,000); None for any other query. The two agree because
    the archive writes articles_fts with every article it writes or deletes."""
    for plus in ("", "+"):
        for match in (":search", "escape_fts(:search)"):
            if sql == f"select count(*) from articles where {plus}{SEARCH_CLAUSE}{match}) ":
                return f"select count(*) from articles_fts where articles_fts match {match}"
    return None


def broad_search_facet(sql: str) -> bool:
    """Whether ``sql`` is a facet count over the matches of a search that walks the published_at
    index (one with many matches) and no column filter (Datasette writes those first): it reads
    every match, 0.2-2 s each at 90,000 matches, so ``app.py`` does not run it (the facet is
    left out, as one that timed out). With a site picked, the site's index bounds it."""
    return f" from articles where +{SEARCH_CLAUSE}" in sql and "count(*) as count from (" in sql
