"""Datasette plugin of antara-archive: readable article cells, highlighted snippets, local-day and tags facets.

Loaded by ``antara serve`` from this folder (``plugins_dir``). It acts only on the database
named in the ``antara-archive`` plugin configuration of the metadata, so it does nothing
in another Datasette that happens to share the process.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any

import markupsafe
from datasette import hookimpl
from datasette.database import QueryInterrupted
from datasette.facets import Facet
from datasette.utils import escape_fts, escape_sqlite, path_with_added_args, path_with_removed_args, tilde_encode

PLUGIN = "antara-archive"


def ours(datasette: Any, database: str | None) -> bool:
    """Whether ``database`` is the archive these plugins are configured for."""
    config = datasette.plugin_config(PLUGIN)
    return bool(config) and database == config.get("database")


def paragraphs_html(body: str) -> markupsafe.Markup:
    """The body's blank-line separated paragraphs as escaped ``<p>`` elements."""
    paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
    inner = markupsafe.Markup("").join(markupsafe.Markup("<p>{}</p>").format(p) for p in paragraphs)
    return markupsafe.Markup('<div class="antara-body">{}</div>').format(inner)


def snippet_html(snippet: str) -> markupsafe.Markup:
    """An FTS5 snippet with its ``<mark>`` delimiters kept as tags and everything else escaped."""
    escaped = str(markupsafe.escape(snippet))
    return markupsafe.Markup(escaped.replace("&lt;mark&gt;", "<mark>").replace("&lt;/mark&gt;", "</mark>"))


def fts_query(text: str | None) -> str:
    """User words as an FTS5 query matching every word literally (as Datasette's ``?_search=`` does)."""
    return escape_fts(text or "") or '""'


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    conn.create_function("antara_fts_query", 1, fts_query, deterministic=True)


@hookimpl
def render_cell(row: Any, value: Any, column: str, table: str | None, database: str, datasette: Any) -> Any:
    if not isinstance(value, str) or not ours(datasette, database):
        return None
    if table == "articles" and column == "body":
        return paragraphs_html(value)
    if table == "articles" and column == "url":
        return markupsafe.Markup('<a class="antara-original" href="{0}" rel="noreferrer">{0} ↗</a>').format(value)
    if table is None and column == "snippet":
        return snippet_html(value)
    if table is None and column == "title" and value and _has_archived_url(row):
        path = datasette.urls.row(database, "articles", tilde_encode(row["url"]))
        return markupsafe.Markup('<a href="{}">{}</a>').format(path, value)
    return None


def _has_archived_url(row: Any) -> bool:
    keys = row.keys() if hasattr(row, "keys") else ()
    return "url" in keys and isinstance(row["url"], str) and row["url"].startswith("https://")


class _CountingFacet(Facet):  # type: ignore[misc]
    """A facet whose counts come from one ``value, count`` query per column (``count_sql``) and
    whose values select rows with one Datasette filter (``lookup``)."""

    lookup = ""

    async def suggest(self) -> list[dict[str, Any]]:
        return []

    def count_sql(self, column: str, limit: int) -> str:
        raise NotImplementedError

    async def facet_results(self) -> tuple[list[dict[str, Any]], list[str]]:
        results: list[dict[str, Any]] = []
        timed_out: list[str] = []
        pairs = self.get_querystring_pairs()
        size = self.get_facet_size()
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            try:
                rows = await self.ds.execute(
                    self.database,
                    self.count_sql(column, size + 1),
                    self.params,
                    truncate=False,
                    custom_time_limit=self.ds.setting("facet_time_limit_ms"),
                )
            except QueryInterrupted:
                timed_out.append(column)
                continue
            key = f"{column}__{self.lookup}"
            values = []
            for row in rows.rows[:size]:
                value = str(row["value"])
                selected = (key, value) in pairs
                change = path_with_removed_args if selected else path_with_added_args
                values.append(
                    {
                        "value": value,
                        "label": value,
                        "count": row["count"],
                        "toggle_url": self.ds.absolute_url(self.request, change(self.request, {key: value})),
                        "selected": selected,
                    }
                )
            results.append(
                {
                    "name": column,
                    "type": self.type,
                    "results": values,
                    "hideable": source_and_config["source"] != "metadata",
                    "toggle_url": path_with_removed_args(self.request, {f"_facet_{self.type}": column}),
                    "truncated": len(rows) > size,
                }
            )
        return results, timed_out


class _LocalPrefixFacet(_CountingFacet):
    """Counts per leading part of an ISO local time as printed (its first ``width`` characters,
    matching the glob ``prefix``: a day, a month), selected with the built-in ``__startswith``."""

    lookup = "startswith"
    width = 0
    prefix = ""

    def count_sql(self, column: str, limit: int) -> str:
        col = escape_sqlite(column)
        return (
            f"select substr({col}, 1, {self.width}) as value, count(*) as count from ({self.sql})"
            f" where {col} glob '{self.prefix}*'"
            f" group by value order by value desc limit {limit}"
        )


class LocalDateFacet(_LocalPrefixFacet):
    """Counts per calendar day as printed in the value (its first 10 characters).

    Datasette's ``date`` facet uses SQLite's ``date()``, which converts ``+07:00`` times to
    UTC and so files an article published at 06:00 WIB under the day before. This facet
    keeps the site's local day and selects with the built-in ``__startswith`` filter.
    """

    type = "local_date"
    width, prefix = 10, "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"


class TagsFacet(_CountingFacet):
    """Counts per tag of a JSON array column of names, each name once per row (``articles.tags``).

    Datasette's ``array`` facet dedupes array items with ``select distinct j.value, inner.*``,
    which sorts every matching row whole, bodies included: over a second at 20,000 articles, so
    it always timed out. Our arrays hold each name once (the archive writes them so), so a plain
    ``json_each`` count gives the same numbers; on the unfiltered table the counts come from the
    ``article_tags`` index instead of reading every row. Selects with ``__arraycontains``, as the
    array facet does.
    """

    type = "tags"
    lookup = "arraycontains"

    def _unfiltered(self) -> bool:
        source = self.sql.rsplit(" from ", 1)[-1].strip()
        return self.table == "articles" and not self.params and source in ("articles", "[articles]")

    def count_sql(self, column: str, limit: int) -> str:
        if column == "tags" and self._unfiltered():
            return f"{UNFILTERED_TAGS_SQL} group by a.tag_id order by count desc, value limit {limit}"
        return (
            f"select j.value as value, count(*) as count from ({self.sql}) as inner_rows,"
            f" json_each(inner_rows.{escape_sqlite(column)}) j"
            f" group by j.value order by count desc, value limit {limit}"
        )


UNFILTERED_ARTICLES = re.compile(r" from articles\s*\)\s")  # the end of "(select <columns> from articles )"
UNFILTERED_TAGS_SQL = "select t.name as value, count(*) as count from article_tags a join tags t on t.id = a.tag_id"


def unfiltered_facet(sql: str, params: Any) -> bool:
    """Whether ``sql`` counts facet values over every article: a facet of the unfiltered list,
    whose SQL wraps Datasette's ``select <columns> from articles `` (no where), or the tags facet's
    count over article_tags. Each reads a whole index (0.3-1.4 s at 1,000,000 articles), and its
    result changes only when the archive file does."""
    return not params and (UNFILTERED_ARTICLES.search(sql) is not None or sql.startswith(UNFILTERED_TAGS_SQL))


# The counts of the unfiltered list's facets are kept by the archive itself (``facet_counts``,
# schema version 8, kept by triggers on every write): a facet query of the shapes below, over every
# article, is answered from it with the same values, counts, order and limit, in a few ms instead
# of reading a whole index (0.3-1.4 s each at 1,000,000 articles).
_WHOLE_LIST = r"\(\s*select .* from articles\s*\)\s*"
_COLUMN_FACET = re.compile(  # Datasette's column facet
    rf"\s*select (?P<column>\w+) as value, count\(\*\) as count from {_WHOLE_LIST}"
    r"where (?P=column) is not null\s+group by (?P=column) order by count desc, value limit (?P<limit>\d+)\s*",
    re.DOTALL,
)
_PREFIX_FACET = re.compile(  # _LocalPrefixFacet (local_date, month)
    rf"select substr\(published_at, 1, (?P<width>\d+)\) as value, count\(\*\) as count from {_WHOLE_LIST}"
    r"where published_at glob '(?P<prefix>[^']*)\*' group by value order by value desc limit (?P<limit>\d+)",
    re.DOTALL,
)
_TAGS_FACET = re.compile(
    re.escape(UNFILTERED_TAGS_SQL) + r" group by a\.tag_id order by count desc, value limit (?P<limit>\d+)"
)
COUNTED_COLUMNS = ("region", "language", "category")  # schema.ARTICLE_FACETS of a column as it is
COUNTED_PREFIXES = {(c.width, c.prefix): c.type for c in (LocalDateFacet,)}  # the month facet adds itself
COUNTS_SQL = (
    "select value, count from facet_counts where facet = '{facet}' and count > 0 order by {order} limit {limit}"
)


def counted_facet_sql(sql: str) -> str | None:
    """The query of ``facet_counts`` that answers ``sql``, a facet of the unfiltered article list
    (see :func:`unfiltered_facet`) whose counts the archive keeps; None for any other."""
    found = _COLUMN_FACET.fullmatch(sql)
    if found and found["column"] in COUNTED_COLUMNS:
        return COUNTS_SQL.format(facet=found["column"], order="count desc, value", limit=int(found["limit"]))
    found = _PREFIX_FACET.fullmatch(sql)
    if found and (int(found["width"]), found["prefix"]) in COUNTED_PREFIXES:
        facet = COUNTED_PREFIXES[int(found["width"]), found["prefix"]]
        return COUNTS_SQL.format(facet=facet, order="value desc", limit=int(found["limit"]))
    found = _TAGS_FACET.fullmatch(sql)
    if found:
        return COUNTS_SQL.format(facet="tags", order="count desc, value", limit=int(found["limit"]))
    return None


@hookimpl
def register_facet_classes() -> list[type]:
    return [LocalDateFacet, TagsFacet]
