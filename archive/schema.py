"""Table definitions of the archive, as data; names are fixed because users query them in Datasette.

:data:`TABLES` lists every table with its columns, keys, indexes and full-text index, in the
order they are created; :func:`apply` creates what is missing. Changes of an existing archive
go through :mod:`archive.migrations`.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

#: the version of the tables below; an archive records its own in ``archive_meta`` and
#: :mod:`archive.migrations` brings an older one up to it when it is opened for writing
SCHEMA_VERSION = 9

ARTICLE_COLUMNS: dict[str, type] = {
    "url": str,
    "site": str,
    "region": str,
    "article_id": int,
    "title": str,
    "summary": str,
    "body": str,
    "published_at": str,
    "published_at_raw": str,
    "dateline": str,
    "reporter": str,
    "editor": str,
    "category": str,
    "tags": str,
    "image_url": str,
    "image_caption": str,
    "word_count": int,
    "content_hash": str,
    "template": str,
    "first_seen_at": str,
    "last_seen_at": str,
    "last_run_id": int,
    "version": int,
    "content_changed_at": str,
    "etag": str,
    "last_modified": str,
    # provenance: the WARC record of the response the row was extracted from (see docs/warc.md)
    "warc_file": str,
    "warc_offset": int,
    "warc_length": int,
    "warc_record_id": str,
    "extractor_version": str,
    # version 6
    #: ``id`` (Indonesian) or ``en`` (the English service), from the site the article is on
    "language": str,
    #: the translator an English article credits, as printed; NULL when none is credited
    "translator": str,
    #: the story the article belongs to: near-duplicate bodies across sites are one story
    #: (``stories``); NULL until story assignment has run over the article
    "story_id": int,
    #: when a revisit found the article gone (404/410, a soft 404, a redirect to a section page);
    #: NULL while it is online (again). Every archived copy is kept; ``article_removals`` has the history
    "removed_at": str,
    #: what that revisit saw: ``404``, ``410``, ``soft_404`` or ``redirect`` (to a section page)
    "removed_status": str,
}

VERSION_COLUMNS: dict[str, type] = {
    "article_url": str,
    "version": int,
    "fetched_at": str,
    "superseded_at": str,
    "content_hash": str,
    "title": str,
    "body": str,
    "warc_file": str,
    "warc_offset": int,
    "warc_length": int,
    "warc_record_id": str,
    "extractor_version": str,
}

CAPTURE_COLUMNS: dict[str, type] = {
    "id": int,
    "url": str,
    "record_type": str,
    "fetched_at": str,
    "status": int,
    "payload_digest": str,
    "mime": str,
    "warc_file": str,
    "warc_offset": int,
    "warc_length": int,
    "warc_record_id": str,
    "refers_to": str,
    "run_id": int,
}

RUN_COLUMNS: dict[str, type] = {
    "id": int,
    "started_at": str,
    "finished_at": str,
    "mode": str,
    "outcome": str,
    "finish_reason": str,
    "arguments": str,
    "regions": str,
    "requests": int,
    "pages_fetched": int,
    "list_pages": int,
    "feed_requests": int,
    "revisits": int,
    "not_modified": int,
    "articles_new": int,
    "articles_updated": int,
    "articles_unchanged": int,
    "errors": int,
    "errors_by_kind": str,
    "requests_per_new_article": float,
    "elapsed_seconds": float,
    "crawler_version": str,
    "resumed": int,
    "warc_records": int,
    "warc_revisits": int,
    "warc_bytes": int,
    "health": str,
    "health_reasons": str,
    "field_coverage": str,
    "run_key": str,
    "workers": int,
    "images": int,
}


ERROR_COLUMNS: dict[str, type] = {
    "id": int,
    "run_id": int,
    "url": str,
    "status": int,
    "reason": str,
    "detail": str,
    "referer": str,
    "occurred_at": str,
    #: the extraction rules of the crawler that recorded the error (its verdicts on a page are
    #: final only for that version); NULL in rows of archives made before it was kept
    "extractor_version": str,
}

#: per-region counts of a run (crawl_run_regions columns besides run_id and region)
RUN_REGION_COUNTS = ("list_pages", "feed_requests", "articles_new", "articles_updated", "articles_unchanged", "errors")

#: links found but not fetched yet; ``failures``: how often fetching the link failed for a reason
#: that may pass (a 503, a timeout), the first time at ``failed_at``: it stays for later runs
#: until it failed often enough over a long enough time
FRONTIER_COLUMNS: dict[str, type] = {
    "url": str,
    "site": str,
    "article_id": int,
    "hops": int,
    "referer": str,
    "run_id": int,
    "added_at": str,
    "failures": int,
    "failed_at": str,
}

RUN_REGION_COLUMNS: dict[str, type] = {
    "run_id": int,
    "region": str,
    **{name: int for name in RUN_REGION_COUNTS},
    #: ``ok`` or ``degraded``, for the sites the run crawled (NULL for sites only reached by links)
    "health": str,
    #: JSON list of sentences: why the site is degraded
    "health_reasons": str,
    #: JSON ``{"articles": parsed, "missing": {field: count}}`` of the site's articles in the run
    "field_coverage": str,
}


@dataclass(frozen=True)
class Index:
    columns: tuple[str, ...]
    unique: bool = False


@dataclass(frozen=True)
class FullText:
    """An FTS5 index over ``columns``, kept current by triggers."""

    columns: tuple[str, ...]
    tokenize: str


@dataclass(frozen=True)
class Trigger:
    """A trigger: its name and the whole ``CREATE TRIGGER`` statement."""

    name: str
    sql: str


@dataclass(frozen=True)
class Table:
    """One table: ``foreign_keys`` are (column, other table, other column); ``triggers`` are created
    with it (or added to an existing archive by :func:`apply`)."""

    name: str
    columns: dict[str, type]
    pk: str | tuple[str, ...]
    not_null: frozenset[str] = frozenset()
    foreign_keys: tuple[tuple[str, str, str], ...] = ()
    indexes: tuple[Index, ...] = ()
    fts: FullText | None = None
    triggers: tuple[Trigger, ...] = ()


# Facet counts (version 8). The article list of ``antara serve`` shows, for the whole archive, how
# many articles each region, language, category, day, month and tag has; counting them takes
# seconds at a million articles. The archive keeps the counts itself: triggers on ``articles`` and
# ``article_tags`` update ``facet_counts`` in the transaction of every write, whoever writes.

#: facet name -> the SQL of its value in a row of ``articles`` (``{row}``: ``new``, ``old`` or the
#: table), NULL when the row is not counted; a day or month is the leading part of ``published_at``
#: as printed (the site's local calendar), as the serve plugin's local_date and month facets count
ARTICLE_FACETS: dict[str, str] = {
    "region": "{row}.region",
    "language": "{row}.language",
    "category": "{row}.category",
    "local_date": "CASE WHEN {row}.published_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"
    " THEN substr({row}.published_at, 1, 10) END",
    "month": "CASE WHEN {row}.published_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]*'"
    " THEN substr({row}.published_at, 1, 7) END",
}
#: the facet counted from ``article_tags``: articles per tag name
TAGS_FACET = "tags"
#: the columns of ``articles`` the facets read
FACETED_COLUMNS = ("region", "language", "category", "published_at")

_TAG_NAME = "(SELECT name FROM tags WHERE id = {row}.tag_id)"


def _values(row: str, was: str | None = None) -> str:
    """``SELECT facet, value`` of every article facet of ``row`` that has one (and, given ``was``,
    differs from the value in that row)."""
    parts = []
    for name, sql in ARTICLE_FACETS.items():
        before = f", {sql.format(row=was)} AS was" if was else ""
        parts.append(f"SELECT '{name}' AS facet, {sql.format(row=row)} AS value{before}")
    changed = " AND value IS NOT was" if was else ""
    return f"SELECT facet, value FROM ({' UNION ALL '.join(parts)}) WHERE value IS NOT NULL{changed}"


def _count_up(values: str) -> str:
    """Add one to the count of each (facet, value) ``values`` selects (WHERE 1: an upsert's SELECT
    needs a WHERE clause)."""
    return (
        f"INSERT INTO facet_counts (facet, value, count) SELECT facet, value, 1 FROM ({values}) WHERE 1"
        " ON CONFLICT (facet, value) DO UPDATE SET count = count + 1;"
    )


def _count_down(facet: str, value: str, condition: str = "") -> str:
    return f"UPDATE facet_counts SET count = count - 1 WHERE facet = '{facet}' AND value = {value}{condition};"


def _article_count_down(row: str, only_changed: bool = False) -> list[str]:
    statements = []
    for name, sql in ARTICLE_FACETS.items():
        changed = f" AND ({sql.format(row=row)}) IS NOT ({sql.format(row='new')})" if only_changed else ""
        statements.append(_count_down(name, sql.format(row=row), changed))
    return statements


def _trigger(name: str, event: str, statements: list[str]) -> Trigger:
    body = "".join(f"  {statement}\n" for statement in statements)
    return Trigger(name, f"CREATE TRIGGER {name} {event} BEGIN\n{body}END")


_TAG = f"SELECT '{TAGS_FACET}' AS facet, {{name}} AS value WHERE value IS NOT NULL"
_CHANGED = " OR ".join(f"old.{column} IS NOT new.{column}" for column in FACETED_COLUMNS)

#: the triggers that keep ``facet_counts``; every write of ``articles`` and ``article_tags``
#: changes the counts in its own transaction
FACET_TRIGGERS: tuple[Trigger, ...] = (
    _trigger("facet_counts_article_insert", "AFTER INSERT ON articles", [_count_up(_values("new"))]),
    _trigger(
        "facet_counts_article_update",
        f"AFTER UPDATE OF {', '.join(FACETED_COLUMNS)} ON articles WHEN {_CHANGED}",
        [*_article_count_down("old", only_changed=True), _count_up(_values("new", was="old"))],
    ),
    _trigger("facet_counts_article_delete", "AFTER DELETE ON articles", _article_count_down("old")),
    _trigger(
        "facet_counts_tag_insert",
        "AFTER INSERT ON article_tags",
        [_count_up(_TAG.format(name=_TAG_NAME.format(row="new")))],
    ),
    _trigger(
        "facet_counts_tag_update",
        "AFTER UPDATE OF tag_id ON article_tags WHEN old.tag_id IS NOT new.tag_id",
        [
            _count_down(TAGS_FACET, _TAG_NAME.format(row="old")),
            _count_up(_TAG.format(name=_TAG_NAME.format(row="new"))),
        ],
    ),
    _trigger(
        "facet_counts_tag_delete",
        "AFTER DELETE ON article_tags",
        [_count_down(TAGS_FACET, _TAG_NAME.format(row="old"))],
    ),
)


def fill_facet_counts(db: sqlite_utils.Database) -> None:
    """Count the facets of every archived article afresh (the triggers keep them from then on)."""
    counts = " UNION ALL ".join(
        f"SELECT '{name}', value, count(*) FROM (SELECT {sql.format(row='articles')} AS value FROM articles)"
        " WHERE value IS NOT NULL GROUP BY value"
        for name, sql in ARTICLE_FACETS.items()
    )
    db.execute("DELETE FROM facet_counts")
    db.execute(f"INSERT INTO facet_counts (facet, value, count) {counts}")
    db.execute(
        f"INSERT INTO facet_counts (facet, value, count) SELECT '{TAGS_FACET}', t.name, count(*)"
        " FROM article_tags a JOIN tags t ON t.id = a.tag_id GROUP BY a.tag_id"
    )


TABLES: tuple[Table, ...] = (
    Table(
        "regions",
        {"slug": str, "host": str, "name": str, "time_zone": str, "utc_offset": str},
        pk="slug",
        indexes=(Index(("host",), unique=True),),
    ),
    Table("crawl_runs", RUN_COLUMNS, pk="id"),
    Table(
        "articles",
        ARTICLE_COLUMNS,
        pk="url",
        not_null=frozenset({"site", "region", "article_id", "title", "body", "published_at"}),
        foreign_keys=(("region", "regions", "slug"), ("last_run_id", "crawl_runs", "id")),
        indexes=(
            Index(("site", "article_id"), unique=True),
            Index(("published_at",)),
            Index(("region", "published_at")),
            Index(("category",)),
            Index(("story_id",)),
            Index(("removed_at",)),
        ),
        fts=FullText(("title", "body"), tokenize="unicode61 remove_diacritics 2"),
    ),
    Table(
        "tags",
        {"id": int, "name": str},
        pk="id",
        not_null=frozenset({"name"}),
        indexes=(Index(("name",), unique=True),),
    ),
    Table(
        "article_tags",
        {"article_url": str, "tag_id": int},
        pk=("article_url", "tag_id"),
        foreign_keys=(("article_url", "articles", "url"), ("tag_id", "tags", "id")),
        indexes=(Index(("tag_id",)),),
    ),
    Table(
        "links",
        {
            "source_url": str,
            "target_url": str,
            "anchor_text": str,
            "kind": str,
            "target_site": str,
            "target_article_id": int,
            "position": int,
        },
        pk=("source_url", "target_url", "kind"),
        foreign_keys=(("source_url", "articles", "url"),),
        indexes=(Index(("target_url",)), Index(("target_site", "target_article_id"))),
    ),
    Table(
        "crawl_errors",
        ERROR_COLUMNS,
        pk="id",
        not_null=frozenset({"url", "reason"}),
        foreign_keys=(("run_id", "crawl_runs", "id"),),
        indexes=(Index(("run_id",)), Index(("reason",)), Index(("url",))),
    ),
    Table(
        "article_versions",
        VERSION_COLUMNS,
        pk=("article_url", "version"),
        foreign_keys=(("article_url", "articles", "url"),),
    ),
    Table(
        "crawl_run_regions",
        RUN_REGION_COLUMNS,
        pk=("run_id", "region"),
        foreign_keys=(("run_id", "crawl_runs", "id"), ("region", "regions", "slug")),
    ),
    Table("frontier", FRONTIER_COLUMNS, pk="url", indexes=(Index(("site", "article_id"), unique=True),)),
    Table(
        "backfill_state",
        {"region": str, "next_page": int, "until": str, "last_page": int, "done": int, "updated_at": str},
        pk="region",
        foreign_keys=(("region", "regions", "slug"),),
    ),
    Table(
        "captures",
        CAPTURE_COLUMNS,
        pk="id",
        not_null=frozenset({"record_type", "fetched_at", "warc_file", "warc_offset", "warc_length", "warc_record_id"}),
        foreign_keys=(("run_id", "crawl_runs", "id"),),
        indexes=(
            Index(("url", "fetched_at")),
            Index(("url", "payload_digest")),
            Index(("warc_record_id",), unique=True),
            Index(("run_id",)),
        ),
    ),
    Table(
        "ingested_items",
        {"run_id": int, "key": str, "ingested_at": str},
        pk=("run_id", "key"),
        foreign_keys=(("run_id", "crawl_runs", "id"),),
    ),
    Table("archive_meta", {"key": str, "value": str}, pk="key"),
    # version 6
    Table(
        "stories",
        {"story_id": int, "first_published_at": str, "first_url": str, "sites": str, "member_count": int},
        pk="story_id",
    ),
    Table(
        "article_stories",
        {"article_url": str, "story_id": int, "matched_url": str, "similarity": float, "assigned_at": str},
        pk="article_url",
        foreign_keys=(("article_url", "articles", "url"), ("story_id", "stories", "story_id")),
        indexes=(Index(("story_id",)),),
    ),
    Table(
        "story_signatures",
        {"article_url": str, "published_at": str, "signature": bytes},
        pk="article_url",
        foreign_keys=(("article_url", "articles", "url"),),
        indexes=(Index(("published_at",)),),
    ),
    Table(
        "article_removals",
        {
            "id": int,
            "article_url": str,
            "run_id": int,
            "seen_at": str,
            "event": str,
            "status": int,
            "kind": str,
            "location": str,
        },
        pk="id",
        not_null=frozenset({"article_url", "seen_at", "event"}),
        foreign_keys=(("article_url", "articles", "url"), ("run_id", "crawl_runs", "id")),
        indexes=(Index(("article_url", "seen_at")),),
    ),
    # version 8: per facet value of the article list, the number of articles (NULL values are not
    # counted; a value whose articles all changed keeps a row with count 0)
    Table(
        "facet_counts",
        {"facet": str, "value": str, "count": int},
        pk=("facet", "value"),
        not_null=frozenset({"facet", "value", "count"}),
        triggers=FACET_TRIGGERS,
    ),
)


def apply(db: sqlite_utils.Database) -> None:
    """Create every table of :data:`TABLES` that does not exist yet, with its indexes and
    full-text index, and add the columns an existing table lacks (empty in its rows)."""
    existing = set(db.table_names())
    for spec in TABLES:
        if spec.name in existing:
            _add_missing_columns(db, spec)
        else:
            _create(db, spec)
        _add_missing_triggers(db, spec)


def _create(db: sqlite_utils.Database, spec: Table) -> None:
    table = db.table(spec.name)
    table.create(
        spec.columns,
        pk=spec.pk,
        not_null=set(spec.not_null) or None,
        foreign_keys=list(spec.foreign_keys) or None,
    )
    for index in spec.indexes:
        table.create_index(list(index.columns), unique=index.unique)
    if spec.fts is not None:
        table.enable_fts(list(spec.fts.columns), create_triggers=True, tokenize=spec.fts.tokenize)
        narrow_fts_update_trigger(db, spec)


def narrow_fts_update_trigger(db: sqlite_utils.Database, spec: Table) -> None:
    """Re-index a row in the full-text index only when an indexed column changes.

    sqlite-utils' update trigger fires on an update of any column, so every revisit that only
    moves ``last_seen_at``, every story id and every removal re-wrote the row's title and body
    in the index (version 9 narrows it to ``AFTER UPDATE OF`` the indexed columns)."""
    assert spec.fts is not None
    name, fts = f"{spec.name}_au", f"{spec.name}_fts"
    columns = ", ".join(f'"{c}"' for c in spec.fts.columns)
    old = ", ".join(f'old."{c}"' for c in spec.fts.columns)
    new = ", ".join(f'new."{c}"' for c in spec.fts.columns)
    db.execute(f'DROP TRIGGER IF EXISTS "{name}"')
    db.execute(
        f'CREATE TRIGGER "{name}" AFTER UPDATE OF {columns} ON "{spec.name}" BEGIN\n'
        f'  INSERT INTO "{fts}" ("{fts}", rowid, {columns}) VALUES(\'delete\', old.rowid, {old});\n'
        f'  INSERT INTO "{fts}" (rowid, {columns}) VALUES (new.rowid, {new});\n'
        "END"
    )


def narrow_fts_update_triggers(db: sqlite_utils.Database) -> None:
    """:func:`narrow_fts_update_trigger` for every table with a full-text index."""
    for spec in TABLES:
        if spec.fts is not None and spec.name in db.table_names():
            narrow_fts_update_trigger(db, spec)


def _add_missing_columns(db: sqlite_utils.Database, spec: Table) -> None:
    """Bring a table made by an older version up to date (new columns are added empty)."""
    existing = set(db.table(spec.name).columns_dict)
    for name, kind in spec.columns.items():
        if name not in existing:
            db.table(spec.name).add_column(name, kind)


def _add_missing_triggers(db: sqlite_utils.Database, spec: Table) -> None:
    if not spec.triggers:
        return
    have = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")}
    for trigger in spec.triggers:
        if trigger.name not in have:
            db.execute(trigger.sql)


def add_missing_indexes(db: sqlite_utils.Database) -> None:
    """Create the indexes of :data:`TABLES` that an existing archive lacks."""
    for spec in TABLES:
        have = {tuple(index.columns) for index in db.table(spec.name).indexes}
        for index in spec.indexes:
            if index.columns not in have:
                db.table(spec.name).create_index(list(index.columns), unique=index.unique)
