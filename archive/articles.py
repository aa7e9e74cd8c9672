"""Articles: upserts that keep earlier versions (``articles``, ``article_versions``), and reads of them."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from sqlite_utils.db import jsonify_if_needed

from archive import schema
from archive.connection import insert_sql
from archive.frontier import Follow, Frontier
from archive.links import Links
from archive.times import utc_now

Outcome = Literal["new", "updated", "unchanged", "refreshed"]

#: columns of an existing article row that an upsert reads (the text it may keep as a version)
_PREVIOUS = (
    "url",
    "content_hash",
    "version",
    "content_changed_at",
    "first_seen_at",
    "title",
    "body",
    "warc_file",
    "warc_offset",
    "warc_length",
    "warc_record_id",
    "extractor_version",
)


#: article columns stored as given (``tags`` is normalised and written as JSON separately)
_PLAIN_COLUMNS = tuple(k for k in schema.ARTICLE_COLUMNS if k != "tags")


@dataclass(frozen=True)
class UpsertResult:
    url: str
    outcome: Outcome


class Articles(Links, Frontier):
    """Article rows and their earlier versions."""

    def upsert_article(
        self,
        record: Mapping[str, Any],
        run_id: int | None = None,
        follow: Sequence[Follow] = (),
        now: str | None = None,
        refresh: bool = False,
    ) -> UpsertResult:
        """Insert or update one article (keyed by site + article_id) with its tags and links.

        ``record`` has the fields of ``crawler.domain.items.Article`` (``tags`` a list of names,
        ``links`` a list of mappings with url, anchor_text, kind, and the ``site`` and
        ``article_id`` of the target when it is an article), plus optional ``etag`` and
        ``last_modified``. ``first_seen_at`` is kept, ``last_seen_at`` moves. A changed title
        or body keeps the previous text in ``article_versions`` and bumps ``version``.
        ``follow`` lists links still to fetch (:data:`archive.frontier.Follow`): they enter the persisted
        frontier in the same transaction, so a crash never loses them. ``now`` overrides the
        clock (ISO 8601), for replays and tests.

        ``refresh`` re-derives an existing row from the same capture (``antara reextract``
        with a newer extractor): every field is replaced, but it is no new observation, so
        ``version``, ``article_versions``, ``content_changed_at`` and ``last_seen_at`` stay.
        """
        now = now or utc_now()
        with self._writing(str(record.get("url"))):
            return self._upsert(record, run_id, follow, now, refresh)

    def upsert_many(
        self,
        records: Iterable[Mapping[str, Any]],
        run_id: int | None = None,
        now: str | None = None,
        batch: int = 2000,
    ) -> list[UpsertResult]:
        """``upsert_article`` for many records (no frontier links), ``batch`` records per transaction.

        The same rows as calling ``upsert_article`` on each record in turn, in a fraction of the
        time: for building big archives (bench, imports). A failing batch is rolled back whole;
        the batches before it stay stored.
        """
        now = now or utc_now()
        results: list[UpsertResult] = []
        chunk: list[Mapping[str, Any]] = []
        for record in records:
            chunk.append(record)
            if len(chunk) >= batch:
                results.extend(self._upsert_chunk(chunk, run_id, now))
                chunk = []
        if chunk:
            results.extend(self._upsert_chunk(chunk, run_id, now))
        return results

    def _upsert_chunk(self, records: list[Mapping[str, Any]], run_id: int | None, now: str) -> list[UpsertResult]:
        with self._writing(f"{len(records)} articles from {records[0].get('url')}"):
            return [self._upsert(record, run_id, (), now) for record in records]

    def _upsert(
        self,
        record: Mapping[str, Any],
        run_id: int | None,
        follow: Sequence[Follow],
        now: str,
        refresh: bool = False,
    ) -> UpsertResult:
        """The body of ``upsert_article``, inside the caller's transaction."""
        row: dict[str, Any] = {k: jsonify_if_needed(record[k]) for k in _PLAIN_COLUMNS if k in record}
        tags = _unique(str(t) for t in record.get("tags") or [])
        row["tags"] = json.dumps(tags, ensure_ascii=False)
        row["last_seen_at"] = now
        row["last_run_id"] = run_id
        links = list(record.get("links") or [])
        execute = self.db.conn.execute
        found = execute(
            f"SELECT {', '.join(_PREVIOUS)} FROM articles WHERE site = ? AND article_id = ?",
            [row["site"], row["article_id"]],
        ).fetchone()
        if found is None:
            row.update(first_seen_at=now, version=1, content_changed_at=now)
            execute(insert_sql("articles", tuple(row)), list(row.values()))
            outcome: Outcome = "new"
        else:
            old = dict(zip(_PREVIOUS, found, strict=True))
            if old["url"] != row["url"]:
                self._move(old["url"], row["url"])
            row.pop("first_seen_at", None)
            outcome = "unchanged" if old["content_hash"] == row.get("content_hash") else "updated"
            if refresh:
                for kept in ("last_seen_at", "last_run_id", "version", "content_changed_at"):
                    row.pop(kept, None)
                outcome = "unchanged" if outcome == "unchanged" else "refreshed"
            elif outcome == "updated":
                version = {
                    "article_url": row["url"],
                    "version": old["version"] or 1,
                    "fetched_at": old["content_changed_at"] or old["first_seen_at"],
                    "superseded_at": now,
                    **{k: old[k] for k in _PREVIOUS if k in schema.VERSION_COLUMNS},
                }
                execute(insert_sql("article_versions", tuple(version), "OR REPLACE"), list(version.values()))
                row.update(version=(old["version"] or 1) + 1, content_changed_at=now)
            execute(_update_sql(tuple(row)), [*row.values(), row["url"]])
        self._write_tags(row["url"], tags)
        self._write_links(row["url"], links)
        self._retarget_links(row["site"], row["article_id"], row["url"])
        self._frontier_done(row["site"], row["article_id"])
        self._frontier_add(row["url"], follow, run_id, now)
        return UpsertResult(row["url"], outcome)

    def touch(self, site: str, article_id: int, run_id: int | None = None, now: str | None = None) -> bool:
        """Record that an article was seen again unchanged (e.g. HTTP 304): only ``last_seen_at`` moves."""
        with self._writing(f"article {article_id} of {site}"):
            cursor = self.db.execute(
                "UPDATE articles SET last_seen_at = ?, last_run_id = ? WHERE site = ? AND article_id = ?",
                [now or utc_now(), run_id, site, article_id],
            )
        return cursor.rowcount > 0

    def _move(self, old_url: str, new_url: str) -> None:
        """Rename an article (its page now declares another slug), children included."""
        self._forget_children(old_url)
        versions = list(self.db.table("article_versions").rows_where("article_url = ?", [old_url]))
        self.db.execute("DELETE FROM article_versions WHERE article_url = ?", [old_url])
        self.db.execute("UPDATE articles SET url = ? WHERE url = ?", [new_url, old_url])
        if versions:
            self.db.table("article_versions").insert_all([{**v, "article_url": new_url} for v in versions])

    def article_state(self, site: str, article_id: int) -> dict[str, Any] | None:
        """What re-extraction needs to know of an archived article: its URL, the record its row
        came from, when it was last seen, and the records its earlier versions came from."""
        found = self.db.execute(
            "SELECT url, warc_record_id, last_seen_at FROM articles WHERE site = ? AND article_id = ?",
            [site, article_id],
        ).fetchone()
        if found is None:
            return None
        versions = self.db.execute(
            "SELECT version, warc_record_id FROM article_versions WHERE article_url = ?", [found[0]]
        ).fetchall()
        return {
            "url": found[0],
            "warc_record_id": found[1],
            "last_seen_at": found[2],
            "versions": {record: version for version, record in versions if record},
        }

    def refresh_version(self, url: str, version: int, record: Mapping[str, Any]) -> None:
        """Replace the text of an earlier version, re-extracted from the capture it came from."""
        with self.db.atomic():
            self.db.execute(
                "UPDATE article_versions SET title = ?, body = ?, content_hash = ?, extractor_version = ?"
                " WHERE article_url = ? AND version = ?",
                [
                    record.get("title"),
                    record.get("body"),
                    record.get("content_hash"),
                    record.get("extractor_version"),
                    url,
                    version,
                ],
            )

    def newest_published_before(self, site: str, day: str | None = None, instant: str | None = None) -> int | None:
        """The highest article id of ``site`` archived with a publication before ``day`` (its own
        local date, ``YYYY-MM-DD``) or before ``instant`` (ISO 8601 with offset); None if none is."""
        if day is not None:
            sql = "SELECT max(article_id) FROM articles WHERE site = ? AND substr(published_at, 1, 10) < ?"
            found = self.db.execute(sql, [site, day]).fetchone()
        elif instant is not None:
            sql = "SELECT max(article_id) FROM articles WHERE site = ? AND julianday(published_at) < julianday(?)"
            found = self.db.execute(sql, [site, instant]).fetchone()
        else:
            return None
        return int(found[0]) if found and found[0] is not None else None

    def has_article(self, site: str, article_id: int) -> bool:
        return self._find(site, article_id) is not None


@lru_cache(maxsize=64)
def _update_sql(columns: tuple[str, ...]) -> str:
    sets = ", ".join(f"[{c}] = ?" for c in columns)
    return f"UPDATE articles SET {sets} WHERE url = ?"


def _unique(values: Iterable[str]) -> list[str]:
    """Stripped, non-empty values in first-seen order, without case-insensitive repeats."""
    seen: dict[str, str] = {}
    for v in values:
        v = v.strip()
        if v and v.lower() not in seen:
            seen[v.lower()] = v
    return list(seen.values())
