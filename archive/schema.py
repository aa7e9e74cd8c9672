"""Table definitions of the archive; names are fixed because users query them in Datasette."""

from __future__ import annotations

import sqlite_utils

SCHEMA_VERSION = 4

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


def create(db: sqlite_utils.Database) -> None:
    """Create every table, index, foreign key and the FTS index that do not exist yet."""
    if "regions" not in db.table_names():
        db.table("regions").create(
            {"slug": str, "host": str, "name": str, "time_zone": str, "utc_offset": str},
            pk="slug",
        )
        db.table("regions").create_index(["host"], unique=True)
    if "crawl_runs" not in db.table_names():
        db.table("crawl_runs").create(RUN_COLUMNS, pk="id")
    if "articles" not in db.table_names():
        db.table("articles").create(
            ARTICLE_COLUMNS,
            pk="url",
            not_null={"site", "region", "article_id", "title", "body", "published_at"},
            foreign_keys=[("region", "regions", "slug"), ("last_run_id", "crawl_runs", "id")],
        )
        articles = db.table("articles")
        articles.create_index(["site", "article_id"], unique=True)
        articles.create_index(["published_at"])
        articles.create_index(["region", "published_at"])
        articles.create_index(["category"])
        articles.enable_fts(["title", "body"], create_triggers=True, tokenize="unicode61 remove_diacritics 2")
    if "tags" not in db.table_names():
        db.table("tags").create({"id": int, "name": str}, pk="id", not_null={"name"})
        db.table("tags").create_index(["name"], unique=True)
    if "article_tags" not in db.table_names():
        db.table("article_tags").create(
            {"article_url": str, "tag_id": int},
            pk=("article_url", "tag_id"),
            foreign_keys=[("article_url", "articles", "url"), ("tag_id", "tags", "id")],
        )
        db.table("article_tags").create_index(["tag_id"])
    if "links" not in db.table_names():
        db.table("links").create(
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
            foreign_keys=[("source_url", "articles", "url")],
        )
        db.table("links").create_index(["target_url"])
        db.table("links").create_index(["target_site", "target_article_id"])
    if "crawl_errors" not in db.table_names():
        db.table("crawl_errors").create(
            ERROR_COLUMNS,
            pk="id",
            not_null={"url", "reason"},
            foreign_keys=[("run_id", "crawl_runs", "id")],
        )
        db.table("crawl_errors").create_index(["run_id"])
        db.table("crawl_errors").create_index(["reason"])
        db.table("crawl_errors").create_index(["url"])
    if "article_versions" not in db.table_names():
        db.table("article_versions").create(
            VERSION_COLUMNS,
            pk=("article_url", "version"),
            foreign_keys=[("article_url", "articles", "url")],
        )
    if "crawl_run_regions" not in db.table_names():
        db.table("crawl_run_regions").create(
            RUN_REGION_COLUMNS,
            pk=("run_id", "region"),
            foreign_keys=[("run_id", "crawl_runs", "id"), ("region", "regions", "slug")],
        )
    if "frontier" not in db.table_names():
        db.table("frontier").create(FRONTIER_COLUMNS, pk="url")
        db.table("frontier").create_index(["site", "article_id"], unique=True)
    if "backfill_state" not in db.table_names():
        db.table("backfill_state").create(
            {"region": str, "next_page": int, "until": str, "last_page": int, "done": int, "updated_at": str},
            pk="region",
            foreign_keys=[("region", "regions", "slug")],
        )
    if "captures" not in db.table_names():
        db.table("captures").create(
            CAPTURE_COLUMNS,
            pk="id",
            not_null={"record_type", "fetched_at", "warc_file", "warc_offset", "warc_length", "warc_record_id"},
            foreign_keys=[("run_id", "crawl_runs", "id")],
        )
        captures = db.table("captures")
        captures.create_index(["url", "fetched_at"])
        captures.create_index(["url", "payload_digest"])
        captures.create_index(["warc_record_id"], unique=True)
        captures.create_index(["run_id"])
    if "ingested_items" not in db.table_names():
        db.table("ingested_items").create(
            {"run_id": int, "key": str, "ingested_at": str},
            pk=("run_id", "key"),
            foreign_keys=[("run_id", "crawl_runs", "id")],
        )
    if "archive_meta" not in db.table_names():
        db.table("archive_meta").create({"key": str, "value": str}, pk="key")
    _add_missing_columns(db, "articles", ARTICLE_COLUMNS)
    _add_missing_columns(db, "crawl_runs", RUN_COLUMNS)
    _add_missing_columns(db, "article_versions", VERSION_COLUMNS)
    _add_missing_columns(db, "crawl_errors", ERROR_COLUMNS)
    _add_missing_columns(db, "crawl_run_regions", RUN_REGION_COLUMNS)
    _add_missing_columns(db, "frontier", FRONTIER_COLUMNS)
    db.table("archive_meta").upsert({"key": "schema_version", "value": str(SCHEMA_VERSION)}, pk="key")


def _add_missing_columns(db: sqlite_utils.Database, table: str, columns: dict[str, type]) -> None:
    """Bring a table made by an older version up to date (new columns are added empty)."""
    existing = set(db.table(table).columns_dict)
    for name, kind in columns.items():
        if name not in existing:
            db.table(table).add_column(name, kind)
