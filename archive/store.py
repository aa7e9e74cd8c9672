"""Archive: open the SQLite file, record runs and errors, upsert articles with their tags and links."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal

import sqlite_utils

from archive import schema

Outcome = Literal["new", "updated", "unchanged"]


#: crawl_errors reasons that a later fetch of the same URL would most likely meet again
PERMANENT_REASONS = (
    "http_404",
    "http_410",
    "no_article",
    "missing_title",
    "missing_body",
    "missing_date",
    "bad_date",
    "robots_disallowed",
    "offsite_blocked",
    "not_html",
)


class ArchiveError(Exception):
    """The archive file cannot be opened or written (bad path, not SQLite, locked, disk full)."""


@dataclass(frozen=True)
class UpsertResult:
    url: str
    outcome: Outcome


def utc_now() -> str:
    """Current time as ISO 8601 UTC with seconds, e.g. ``2026-11-28T06:42:47+00:00``."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class Archive:
    """A SQLite archive file. Every write method is one transaction (``Database.atomic()``):
    all of it is stored or none of it, whatever kills the process in between."""

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = Path(path)
        self.readonly = readonly
        if self.path.parent and not self.path.parent.exists():
            raise ArchiveError(f"folder {self.path.parent} does not exist")
        if readonly and not self.path.exists():
            raise ArchiveError(f"archive {self.path} does not exist")
        try:
            if readonly:
                conn = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
                self.db = sqlite_utils.Database(conn)
                self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()
                return
            conn = sqlite3.connect(str(self.path), timeout=30)
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            with self.db.atomic():
                schema.create(self.db)
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"cannot use {self.path} as an archive: {exc}") from exc

    def close(self) -> None:
        """Close; a writer first folds the write-ahead log into the file, so readers opening it
        immutable (``antara serve``) see everything."""
        if not self.readonly:
            try:
                self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            except sqlite3.OperationalError:
                pass  # a reader still has the file open; SQLite checkpoints later by itself
        self.db.close()

    def __enter__(self) -> Archive:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Archive]:
        """One transaction around several write methods (each of them nests as a savepoint)."""
        try:
            with self.db.atomic():
                yield self
        except sqlite3.OperationalError as exc:
            raise ArchiveError(f"cannot write to {self.path}: {exc}") from exc

    # -- regions ---------------------------------------------------------------------------
    def sync_regions(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Insert or refresh the region registry rows (slug, host, name, time_zone, utc_offset)."""
        with self.db.atomic():
            self.db.table("regions").upsert_all([dict(r) for r in rows], pk="slug")

    # -- runs ------------------------------------------------------------------------------
    def start_run(
        self,
        arguments: Mapping[str, Any],
        regions: Sequence[str],
        version: str,
        mode: str = "full",
        run_key: str | None = None,
        started_at: str | None = None,
    ) -> int:
        """Record the start of a crawl and return its run id. A distributed run has a
        ``run_key`` (the id ``antara seed`` gave it) and starts when it was seeded."""
        with self.db.atomic():
            table = self.db.table("crawl_runs")
            table.insert(
                {
                    "run_key": run_key,
                    "started_at": started_at or utc_now(),
                    "outcome": "running",
                    "mode": mode,
                    "arguments": json.dumps(dict(arguments), ensure_ascii=False, sort_keys=True),
                    "regions": json.dumps(list(regions)),
                    "pages_fetched": 0,
                    "articles_new": 0,
                    "articles_updated": 0,
                    "articles_unchanged": 0,
                    "errors": 0,
                    "crawler_version": version,
                }
            )
            return int(table.last_pk)  # type: ignore[arg-type]

    def finish_run(
        self,
        run_id: int,
        outcome: str,
        finish_reason: str,
        counts: Mapping[str, Any],
        regions: Iterable[Mapping[str, Any]] = (),
    ) -> None:
        """Store a run's end, its outcome (finished, interrupted, failed), its counts and per-region counts."""
        allowed = set(schema.RUN_COLUMNS) - {"id", "started_at", "arguments", "regions", "crawler_version"}
        values = {k: v for k, v in counts.items() if k in allowed}
        if isinstance(values.get("errors_by_kind"), dict):
            values["errors_by_kind"] = json.dumps(values["errors_by_kind"], sort_keys=True)
        values.update({"finished_at": utc_now(), "outcome": outcome, "finish_reason": finish_reason})
        with self.db.atomic():
            self.db.table("crawl_runs").update(run_id, values)
            rows = [{**r, "run_id": run_id} for r in regions]
            if rows:
                self.db.table("crawl_run_regions").upsert_all(rows, pk=("run_id", "region"))

    def run_by_key(self, run_key: str) -> int | None:
        """The id of the distributed run ``run_key``, if it was recorded."""
        found = self.db.execute("SELECT id FROM crawl_runs WHERE run_key = ?", [run_key]).fetchone()
        return int(found[0]) if found else None

    # -- ingesting a distributed run: each thing once, counts as they come ------------------
    def mark_ingested(self, run_id: int, key: str) -> bool:
        """Note that ``key`` (an article, a failed URL...) of ``run_id`` is stored; False if it was before.

        Call it in the same transaction as the write it guards, so a message delivered twice
        is stored once.
        """
        cursor = self.db.execute(
            "INSERT OR IGNORE INTO ingested_items (run_id, key, ingested_at) VALUES (?, ?, ?)",
            [run_id, key, utc_now()],
        )
        return cursor.rowcount > 0

    def forget_ingested(self, run_id: int) -> None:
        """Drop a finished run's ingest ledger (its counts stay in crawl_runs)."""
        with self.db.atomic():
            self.db.execute("DELETE FROM ingested_items WHERE run_id = ?", [run_id])

    def add_run_counts(
        self,
        run_id: int,
        totals: Mapping[str, int],
        errors_by_kind: Mapping[str, int],
        by_region: Mapping[str, Mapping[str, int]],
    ) -> None:
        """Add to a running run's counts (crawl_runs columns, errors by kind, crawl_run_regions)."""
        allowed = set(schema.RUN_COLUMNS)
        with self.db.atomic():
            row = self.db.execute("SELECT errors_by_kind FROM crawl_runs WHERE id = ?", [run_id]).fetchone()
            kinds: dict[str, int] = json.loads(row[0]) if row and row[0] else {}
            for reason, count in errors_by_kind.items():
                kinds[reason] = kinds.get(reason, 0) + count
            sets = [f"[{name}] = coalesce([{name}], 0) + ?" for name in totals if name in allowed]
            values = [count for name, count in totals.items() if name in allowed]
            self.db.execute(
                f"UPDATE crawl_runs SET {', '.join([*sets, 'errors_by_kind = ?'])} WHERE id = ?",
                [*values, json.dumps(kinds, sort_keys=True), run_id],
            )
            for region, counted in by_region.items():
                names = [n for n in counted if n in schema.RUN_REGION_COUNTS]
                self.db.execute(
                    f"INSERT INTO crawl_run_regions (run_id, region, {', '.join(names)})"
                    f" VALUES (?, ?, {', '.join('?' for _ in names)})"
                    " ON CONFLICT (run_id, region) DO UPDATE SET "
                    + ", ".join(f"{n} = coalesce({n}, 0) + excluded.{n}" for n in names),
                    [run_id, region, *(counted[n] for n in names)],
                )

    def run_counts(self, run_id: int) -> tuple[dict[str, Any], dict[str, int], dict[str, dict[str, int]]]:
        """A run's stored counts: (crawl_runs row, errors by kind, crawl_run_regions rows by region)."""
        run = self.run(run_id)
        kinds = json.loads(run.get("errors_by_kind") or "{}")
        regions = {
            r["region"]: {n: r.get(n) or 0 for n in schema.RUN_REGION_COUNTS}
            for r in self.db.table("crawl_run_regions").rows_where("run_id = ?", [run_id])
        }
        return run, kinds, regions

    def close_interrupted_runs(self) -> list[dict[str, Any]]:
        """Runs that ended before their work was done and were not resumed yet: killed ones (still
        marked ``running``) and interrupted ones. They are marked interrupted and resumed.
        Distributed runs (with a ``run_key``) are not among them: their frontier is in Redis.

        Call this only while holding the archive's crawl lock, so no live run is among them.
        """
        rows = list(
            self.db.table("crawl_runs").rows_where(
                "run_key IS NULL AND (outcome = 'running' OR (outcome = 'interrupted' AND coalesce(resumed, 0) = 0))",
                order_by="id",
            )
        )
        with self.db.atomic():
            for row in rows:
                values: dict[str, Any] = {"outcome": "interrupted", "resumed": 1}
                if row["outcome"] == "running":
                    values["finish_reason"] = "process ended without closing the run"
                self.db.table("crawl_runs").update(row["id"], values)
        return rows

    def fetched_by(self, site: str, article_id: int, url: str, run_ids: Iterable[int]) -> bool:
        """True when one of ``run_ids`` fetched the article: archived it last, or recorded its failure."""
        ids = list(run_ids)
        if not ids:
            return False
        marks = ", ".join("?" for _ in ids)
        found = self.db.execute(
            f"SELECT 1 FROM articles WHERE site = ? AND article_id = ? AND last_run_id IN ({marks})"
            f" UNION ALL SELECT 1 FROM crawl_errors WHERE url = ? AND run_id IN ({marks}) LIMIT 1",
            [site, article_id, *ids, url, *ids],
        ).fetchone()
        return found is not None

    def run(self, run_id: int) -> dict[str, Any]:
        return dict(self.db.table("crawl_runs").get(run_id))

    # -- errors ----------------------------------------------------------------------------
    def record_error(
        self,
        run_id: int | None,
        url: str,
        reason: str,
        status: int | None = None,
        detail: str = "",
        referer: str | None = None,
    ) -> None:
        """Store one page that could not be archived, with a specific reason."""
        site, article_id = _site_and_id(url)
        with self.db.atomic():
            if site is not None and article_id is not None:
                self._frontier_done(site, article_id)
            self.db.table("crawl_errors").insert(
                {
                    "run_id": run_id,
                    "url": url,
                    "status": status,
                    "reason": reason,
                    "detail": detail,
                    "referer": referer,
                    "occurred_at": utc_now(),
                }
            )

    # -- articles --------------------------------------------------------------------------
    def upsert_article(
        self,
        record: Mapping[str, Any],
        run_id: int | None = None,
        follow: Sequence[tuple[str, int]] = (),
        now: str | None = None,
    ) -> UpsertResult:
        """Insert or update one article (keyed by site + article_id) with its tags and links.

        ``record`` has the fields of ``crawler.items.Article`` (``tags`` a list of names,
        ``links`` a list of mappings with url, anchor_text, kind), plus optional ``etag`` and
        ``last_modified``. ``first_seen_at`` is kept, ``last_seen_at`` moves. A changed title
        or body keeps the previous text in ``article_versions`` and bumps ``version``.
        ``follow`` lists (url, hops) of links still to fetch: they enter the persisted
        frontier in the same transaction, so a crash never loses them. ``now`` overrides the
        clock (ISO 8601), for replays and tests.
        """
        now = now or utc_now()
        row: dict[str, Any] = {k: record.get(k) for k in schema.ARTICLE_COLUMNS if k in record}
        tags = _unique(str(t) for t in record.get("tags") or [])
        row["tags"] = json.dumps(tags, ensure_ascii=False)
        row["last_seen_at"] = now
        row["last_run_id"] = run_id
        links = list(record.get("links") or [])
        try:
            with self.db.atomic():
                existing = self.db.execute(
                    "SELECT url, content_hash, version, content_changed_at, first_seen_at, title, body"
                    " FROM articles WHERE site = ? AND article_id = ?",
                    [row["site"], row["article_id"]],
                ).fetchone()
                if existing is None:
                    row.update(first_seen_at=now, version=1, content_changed_at=now)
                    self.db.table("articles").insert(row)
                    outcome: Outcome = "new"
                else:
                    old_url, old_hash, version, changed_at, first_seen, old_title, old_body = existing
                    if old_url != row["url"]:
                        self._move(old_url, row["url"])
                    row.pop("first_seen_at", None)
                    outcome = "unchanged" if old_hash == row.get("content_hash") else "updated"
                    if outcome == "updated":
                        self.db.table("article_versions").insert(
                            {
                                "article_url": row["url"],
                                "version": version or 1,
                                "fetched_at": changed_at or first_seen,
                                "superseded_at": now,
                                "content_hash": old_hash,
                                "title": old_title,
                                "body": old_body,
                            },
                            replace=True,
                        )
                        row.update(version=(version or 1) + 1, content_changed_at=now)
                    self.db.table("articles").update(row["url"], row)
                self._write_tags(row["url"], tags)
                self._write_links(row["url"], links)
                self._retarget_links(row["site"], row["article_id"], row["url"])
                self._frontier_done(row["site"], row["article_id"])
                self._frontier_add(row["url"], follow, run_id, now)
        except sqlite3.OperationalError as exc:
            raise ArchiveError(f"cannot write {row.get('url')} to {self.path}: {exc}") from exc
        return UpsertResult(row["url"], outcome)

    def touch(self, site: str, article_id: int, run_id: int | None = None, now: str | None = None) -> bool:
        """Record that an article was seen again unchanged (e.g. HTTP 304): only ``last_seen_at`` moves."""
        with self.db.atomic():
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

    # -- frontier: links found but not fetched yet, kept across crashes ---------------------
    def _frontier_add(
        self, referer: str | None, follow: Sequence[tuple[str, int]], run_id: int | None, now: str
    ) -> None:
        rows = []
        for url, hops in follow:
            site, article_id = _site_and_id(url)
            if site is None or article_id is None or self._find(site, article_id) is not None:
                continue
            if run_id is not None and self._failed_in_run(url, run_id):
                continue  # its error came in first (another worker fetched it in a distributed run)
            rows.append(
                {
                    "url": url,
                    "site": site,
                    "article_id": article_id,
                    "hops": hops,
                    "referer": referer,
                    "run_id": run_id,
                    "added_at": now,
                }
            )
        if rows:
            self.db.table("frontier").insert_all(rows, ignore=True)

    def _failed_in_run(self, url: str, run_id: int) -> bool:
        found = self.db.execute("SELECT 1 FROM crawl_errors WHERE url = ? AND run_id = ? LIMIT 1", [url, run_id])
        return found.fetchone() is not None

    def _frontier_done(self, site: str, article_id: int) -> None:
        self.db.execute("DELETE FROM frontier WHERE site = ? AND article_id = ?", [site, article_id])

    def remember(self, follow: Sequence[tuple[str, int]], referer: str | None, run_id: int | None) -> None:
        """Put (url, hops) of requested articles in the frontier until they are archived or fail."""
        with self.db.atomic():
            self._frontier_add(referer, follow, run_id, utc_now())

    def pending(self) -> list[tuple[str, int, str | None]]:
        """Links found by earlier runs and not fetched yet: (url, hops, referer), fewest hops first."""
        rows = self.db.execute("SELECT url, hops, referer FROM frontier ORDER BY hops, added_at").fetchall()
        return [(u, h, r) for u, h, r in rows]

    def _find(self, site: str, article_id: int) -> tuple[str, str] | None:
        found = self.db.execute(
            "SELECT url, content_hash FROM articles WHERE site = ? AND article_id = ?", [site, article_id]
        ).fetchone()
        return (found[0], found[1]) if found else None

    def _forget_children(self, url: str) -> None:
        self.db.execute("DELETE FROM article_tags WHERE article_url = ?", [url])
        self.db.execute("DELETE FROM links WHERE source_url = ?", [url])

    def _write_tags(self, url: str, tags: list[str]) -> None:
        self.db.execute("DELETE FROM article_tags WHERE article_url = ?", [url])
        rows = []
        for name in tags:
            tag_id = self.db.table("tags").lookup({"name": name})
            rows.append({"article_url": url, "tag_id": tag_id})
        if rows:
            self.db.table("article_tags").insert_all(rows, ignore=True)

    def _write_links(self, url: str, links: list[Mapping[str, Any]]) -> None:
        """Replace the links of ``url``; one row per target article, pointing at its archived URL if known."""
        self.db.execute("DELETE FROM links WHERE source_url = ?", [url])
        rows = []
        targets: set[tuple[str | None, int | None, str]] = set()
        for position, link in enumerate(links):
            target = str(link["url"])
            site, article_id = _site_and_id(target)
            kind = link.get("kind") or "baca_juga"
            key = (site, article_id, kind) if article_id is not None else (target, None, kind)
            if key in targets:
                continue
            targets.add(key)
            if site is not None and article_id is not None:
                known = self._find(site, article_id)
                if known is not None:
                    target = known[0]  # the slug the target's own page declares
            rows.append(
                {
                    "source_url": url,
                    "target_url": target,
                    "anchor_text": link.get("anchor_text"),
                    "kind": kind,
                    "target_site": site,
                    "target_article_id": article_id,
                    "position": position,
                }
            )
        if rows:
            self.db.table("links").insert_all(rows, ignore=True)

    def _retarget_links(self, site: str, article_id: int, url: str) -> None:
        """Point links written before this article was archived (maybe with another slug) at its URL."""
        self.db.execute(
            "UPDATE OR IGNORE links SET target_url = ?"
            " WHERE target_site = ? AND target_article_id = ? AND target_url != ?",
            [url, site, article_id, url],
        )

    # -- revisits and backfill ---------------------------------------------------------------
    def due_for_revisit(
        self, regions: Sequence[str], now: datetime, checkpoints: Sequence[timedelta]
    ) -> list[dict[str, Any]]:
        """Articles of ``regions`` that passed an age checkpoint (e.g. 1 h, 1 d, 7 d after
        publication) since they were last fetched: url, site, article_id, etag, last_modified."""
        if not checkpoints or not regions:
            return []
        horizon_days = max(checkpoints).total_seconds() / 86400
        marks = ", ".join("?" for _ in regions)
        rows = self.db.execute(
            "SELECT url, site, article_id, published_at, last_seen_at, etag, last_modified FROM articles"
            f" WHERE region IN ({marks}) AND julianday(published_at) + ? > julianday(last_seen_at)",
            [*regions, horizon_days],
        ).fetchall()
        due = []
        for url, site, article_id, published_at, last_seen_at, etag, last_modified in rows:
            try:
                published = datetime.fromisoformat(published_at)
                seen = datetime.fromisoformat(last_seen_at)
            except (TypeError, ValueError):
                continue
            if any(seen < published + age <= now for age in checkpoints):
                due.append(
                    {"url": url, "site": site, "article_id": article_id, "etag": etag, "last_modified": last_modified}
                )
        return due

    def backfill_state(self, region: str) -> dict[str, Any] | None:
        found = list(self.db.table("backfill_state").rows_where("region = ?", [region]))
        return found[0] if found else None

    def save_backfill_state(
        self,
        region: str,
        next_page: int,
        until: str | None,
        last_page: int | None,
        done: bool,
        follow: Sequence[tuple[str, int]] = (),
        run_id: int | None = None,
    ) -> None:
        """Remember where a backfill of ``region`` stands, and the articles it requested (frontier)."""
        now = utc_now()
        with self.db.atomic():
            self.db.table("backfill_state").upsert(
                {
                    "region": region,
                    "next_page": next_page,
                    "until": until,
                    "last_page": last_page,
                    "done": int(done),
                    "updated_at": now,
                },
                pk="region",
            )
            self._frontier_add(None, follow, run_id, now)

    def clear_backfill_state(self, region: str) -> None:
        with self.db.atomic():
            self.db.execute("DELETE FROM backfill_state WHERE region = ?", [region])

    # -- reading ---------------------------------------------------------------------------
    def count(self, table: str) -> int:
        return self.db[table].count

    def failed_for_good(self, url: str) -> bool:
        """True when ``url`` failed in an earlier run for a reason retrying will not fix (404, no article...)."""
        marks = ", ".join("?" for _ in PERMANENT_REASONS)
        found = self.db.execute(
            f"SELECT 1 FROM crawl_errors WHERE url = ? AND reason IN ({marks}) LIMIT 1", [url, *PERMANENT_REASONS]
        ).fetchone()
        return found is not None

    def link_targets(self, site: str, article_id: int, kind: str = "baca_juga") -> list[str]:
        """Target URLs of the stored links of an article, in page order."""
        rows = self.db.execute(
            "SELECT l.target_url FROM links l JOIN articles a ON a.url = l.source_url"
            " WHERE a.site = ? AND a.article_id = ? AND l.kind = ? ORDER BY l.position",
            [site, article_id, kind],
        ).fetchall()
        return [r[0] for r in rows]

    def has_article(self, site: str, article_id: int) -> bool:
        return self._find(site, article_id) is not None


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        v = v.strip()
        if v and v.lower() not in {s.lower() for s in seen}:
            seen[v] = None
    return list(seen)


def _site_and_id(url: str) -> tuple[str | None, int | None]:
    """Host and numeric id of a canonical ``https://host/berita/{id}/...`` URL."""
    rest = url.split("://", 1)[-1]
    host, _, path = rest.partition("/")
    parts = path.split("/")
    if len(parts) >= 2 and parts[0] == "berita" and parts[1].isdigit():
        return host, int(parts[1])
    return host or None, None
