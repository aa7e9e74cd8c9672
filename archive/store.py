"""Archive: open the SQLite file, record runs and errors, upsert articles with their tags and links."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import sqlite_utils
from sqlite_utils.db import jsonify_if_needed

from archive import schema

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


class ArchiveError(Exception):
    """The archive file cannot be opened or written (bad path, not SQLite, locked, disk full).

    ``kind`` says which: ``full`` (the disk, or the ``max_pages`` limit), ``locked`` (another
    program holds a write lock past the busy timeout), or ``other``.
    """

    def __init__(self, message: str, kind: str = "other") -> None:
        super().__init__(message)
        self.kind = kind


def _error_kind(exc: sqlite3.Error) -> str:
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc).lower()
    if name.startswith("SQLITE_FULL") or "is full" in text:
        return "full"
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "locked" in text:
        return "locked"
    return "other"


@dataclass(frozen=True)
class UpsertResult:
    url: str
    outcome: Outcome


def _parse_utc(value: str) -> datetime:
    """An ISO 8601 time in UTC (a time without an offset is taken as UTC)."""
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def utc_now() -> str:
    """Current time as ISO 8601 UTC with seconds, e.g. ``2026-11-28T06:42:47+00:00``."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


class Archive:
    """A SQLite archive file. Every write method is one transaction (``Database.atomic()``):
    all of it is stored or none of it, whatever kills the process in between.

    ``timeout``: seconds a write waits for another program's write lock before failing with
    :class:`ArchiveError` (``locked``). ``max_pages``: the most database pages this connection
    lets the file grow to (``PRAGMA max_page_count``); past it a write fails as if the disk
    were full (``full``). Either failure rolls the whole write back.

    A second writer connection beside a live one (the WARC capture beside the pipeline)
    passes ``create=False``: a schema change on one connection makes the next statement
    of the other fail with "no such table" (seen with SQLite 3.40).
    """

    def __init__(
        self,
        path: str | Path,
        readonly: bool = False,
        timeout: float = 30.0,
        max_pages: int | None = None,
        create: bool = True,
    ) -> None:
        self.path = Path(path)
        self.readonly = readonly
        #: tag name -> id, filled as tags are written
        self._tag_ids: dict[str, int] = {}
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
            conn = sqlite3.connect(str(self.path), timeout=timeout)
            self.db = sqlite_utils.Database(conn)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA synchronous=NORMAL")
            if max_pages:
                self.db.execute(f"PRAGMA max_page_count = {int(max_pages)}")
        except sqlite3.DatabaseError as exc:
            raise ArchiveError(f"cannot use {self.path} as an archive: {exc}", _error_kind(exc)) from exc
        if create:
            with self._writing("the schema"):
                schema.create(self.db)

    @contextmanager
    def _writing(self, what: str) -> Iterator[None]:
        """One write transaction, taken with ``BEGIN IMMEDIATE`` so it waits for the write lock up
        front (never failing half-way on a stale read); any SQLite error rolls all of it back and
        becomes an :class:`ArchiveError` naming ``what`` was being written (a constraint
        violation stays an ``sqlite3.IntegrityError``, also rolled back)."""
        conn = self.db.conn
        try:
            if conn.in_transaction:  # nested in another write: a savepoint of it
                with self.db.atomic():
                    yield
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                with self.db.atomic():  # a savepoint inside: rolled back on any error
                    yield
                conn.execute("COMMIT")
            finally:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
        except sqlite3.IntegrityError:
            self._tag_ids.clear()  # tag ids learnt inside the rolled-back transaction are void
            raise  # a record that breaks a constraint: that record's problem, not the archive's
        except sqlite3.Error as exc:
            self._tag_ids.clear()
            raise self._failure(exc, what) from exc

    def _failure(self, exc: sqlite3.Error, what: str) -> ArchiveError:
        kind = _error_kind(exc)
        if kind == "full":
            message = (
                f"cannot write {what} to {self.path}: the disk is full or the archive reached its size limit"
                f" ({exc}); nothing of it was stored"
            )
        elif kind == "locked":
            message = (
                f"cannot write {what} to {self.path}: another program holds a write lock on it ({exc});"
                " nothing of it was stored"
            )
        else:
            message = f"cannot write {what} to {self.path}: {exc}; nothing of it was stored"
        return ArchiveError(message, kind)

    def close(self) -> None:
        """Close; a writer first folds the write-ahead log into the file and empties it, so a copy
        of the file alone holds everything (readers of the live file see it either way)."""
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
    def transaction(self, what: str = "several items") -> Iterator[Archive]:
        """One transaction around several write methods (each of them nests as a savepoint);
        ``what`` names the writes in the error raised when the transaction fails."""
        with self._writing(what):
            yield self

    # -- regions ---------------------------------------------------------------------------
    def sync_regions(self, rows: Iterable[Mapping[str, Any]]) -> None:
        """Insert or refresh the region registry rows (slug, host, name, time_zone, utc_offset)."""
        with self._writing("the region registry"):
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
        with self._writing("the start of a run"):
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
        with self._writing(f"the end of run {run_id}"):
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
        with self._writing("the ingest ledger"):
            self.db.execute("DELETE FROM ingested_items WHERE run_id = ?", [run_id])

    def add_run_counts(
        self,
        run_id: int,
        totals: Mapping[str, int],
        errors_by_kind: Mapping[str, int],
        by_region: Mapping[str, Mapping[str, int]],
    ) -> None:
        """Add to a running run's counts (crawl_runs columns, errors by kind, crawl_run_regions).

        The counts ``articles_stored`` (article pages extracted) and ``missing/<field>`` (of them,
        those without the field) are added to the ``field_coverage`` of the run and of each region.

        The crawl calls it with each stored item, in the item's transaction, so the row of a run
        killed midway still counts what it stored; the distributed ingester with each batch, so
        an ingester started again after a kill finds the whole run's counts in the archive."""
        allowed = set(schema.RUN_COLUMNS)
        with self._writing(f"the counts of run {run_id}"):
            sets = [f"[{name}] = coalesce([{name}], 0) + ?" for name in totals if name in allowed]
            values: list[Any] = [count for name, count in totals.items() if name in allowed]
            covered = _has_coverage(totals)
            if errors_by_kind or covered:
                row = self.db.execute(
                    "SELECT errors_by_kind, field_coverage FROM crawl_runs WHERE id = ?", [run_id]
                ).fetchone()
                if errors_by_kind:
                    kinds: dict[str, int] = json.loads(row[0]) if row and row[0] else {}
                    for reason, count in errors_by_kind.items():
                        kinds[reason] = kinds.get(reason, 0) + count
                    sets.append("errors_by_kind = ?")
                    values.append(json.dumps(kinds, sort_keys=True))
                if covered:
                    sets.append("field_coverage = ?")
                    values.append(_add_coverage(row[1] if row else None, totals))
            if sets:
                self.db.execute(f"UPDATE crawl_runs SET {', '.join(sets)} WHERE id = ?", [*values, run_id])
            for region, counted in by_region.items():
                names = [n for n in counted if n in schema.RUN_REGION_COUNTS]
                if names:
                    self.db.execute(
                        f"INSERT INTO crawl_run_regions (run_id, region, {', '.join(names)})"
                        f" VALUES (?, ?, {', '.join('?' for _ in names)})"
                        " ON CONFLICT (run_id, region) DO UPDATE SET "
                        + ", ".join(f"{n} = coalesce({n}, 0) + excluded.{n}" for n in names),
                        [run_id, region, *(counted[n] for n in names)],
                    )
                if _has_coverage(counted):
                    self.db.execute(
                        "INSERT OR IGNORE INTO crawl_run_regions (run_id, region) VALUES (?, ?)", [run_id, region]
                    )
                    row = self.db.execute(
                        "SELECT field_coverage FROM crawl_run_regions WHERE run_id = ? AND region = ?", [run_id, region]
                    ).fetchone()
                    self.db.execute(
                        "UPDATE crawl_run_regions SET field_coverage = ? WHERE run_id = ? AND region = ?",
                        [_add_coverage(row[0], counted), run_id, region],
                    )

    def run_counts(self, run_id: int) -> tuple[dict[str, Any], dict[str, int], dict[str, dict[str, int]]]:
        """A run's stored counts: (crawl_runs row, errors by kind, crawl_run_regions counts by region,
        with the ``articles_stored`` and ``missing/<field>`` counts of each region's field coverage)."""
        run = self.run(run_id)
        kinds = json.loads(run.get("errors_by_kind") or "{}")
        regions = {
            r["region"]: {
                **{n: r.get(n) or 0 for n in schema.RUN_REGION_COUNTS},
                **coverage_counts(r.get("field_coverage")),
            }
            for r in self.db.table("crawl_run_regions").rows_where("run_id = ?", [run_id])
        }
        return run, kinds, regions

    def run_errors(self, run_id: int) -> list[tuple[str, str]]:
        """(url, reason) of the run's crawl_errors rows, in the order they were recorded."""
        rows = self.db.execute("SELECT url, reason FROM crawl_errors WHERE run_id = ? ORDER BY id", [run_id])
        return [(str(url), str(reason)) for url, reason in rows.fetchall()]

    def close_interrupted_runs(self) -> list[dict[str, Any]]:
        """Runs that ended before their work was done and were not resumed yet: killed ones (still
        marked ``running``), interrupted ones, and failed ones stopped by an archive that could not
        be written (``archive_error``: disk full, locked). They are marked resumed; killed ones
        become ``interrupted``. Distributed runs (with a ``run_key``) are not among them: their
        frontier is in Redis.

        A killed run's article and error counts were added as it stored each item; what it
        fetched (``pages_fetched``, ``warc_records``, ``warc_bytes``) is counted here from the
        WARC records it indexed in ``captures``.

        Call this only while holding the archive's crawl lock, so no live run is among them.
        """
        rows = list(
            self.db.table("crawl_runs").rows_where(
                "run_key IS NULL AND (outcome = 'running' OR (outcome = 'interrupted' AND coalesce(resumed, 0) = 0)"
                " OR (outcome = 'failed' AND finish_reason = 'archive_error' AND coalesce(resumed, 0) = 0))",
                order_by="id",
            )
        )
        with self._writing("interrupted runs"):
            for row in rows:
                values: dict[str, Any] = {"resumed": 1}
                if row["outcome"] == "running":
                    values["outcome"] = "interrupted"
                    values["finish_reason"] = "process ended without closing the run"
                    values.update(self._captured_counts(row["id"]))
                self.db.table("crawl_runs").update(row["id"], values)
        return rows

    def _captured_counts(self, run_id: int) -> dict[str, int]:
        """What a run fetched, as the WARC records it indexed show (crawl_runs columns)."""
        records, responses, revisits, size = self.db.execute(
            "SELECT count(*), coalesce(sum(record_type IN ('response', 'revisit')), 0),"
            " coalesce(sum(record_type = 'revisit'), 0), coalesce(sum(warc_length), 0)"
            " FROM captures WHERE run_id = ?",
            [run_id],
        ).fetchone()
        if not records:
            return {}
        return {"pages_fetched": responses, "warc_records": records, "warc_revisits": revisits, "warc_bytes": size}

    def interrupted_chain(self, run_ids: Iterable[int]) -> list[int]:
        """``run_ids`` (interrupted runs about to be resumed) and the interrupted runs they continued
        in turn, oldest first: the local runs right before the oldest of them that ended early and
        were resumed, back to the last run that ended normally.

        Runs take the archive's crawl lock one at a time, and each resumes every interrupted run
        before it, so an interrupted, resumed run directly before a run of the chain was resumed
        by that run. Distributed runs (with a ``run_key``) in between are passed over.
        """
        chain = sorted(set(run_ids))
        if not chain:
            return []
        earlier = self.db.execute(
            "SELECT id, outcome, finish_reason, resumed FROM crawl_runs"
            " WHERE id < ? AND run_key IS NULL ORDER BY id DESC",
            [chain[0]],
        )
        for run_id, outcome, finish_reason, resumed in earlier:
            ended_early = outcome == "interrupted" or (outcome == "failed" and finish_reason == "archive_error")
            if not (ended_early and resumed):
                break
            chain.insert(0, run_id)
        return chain

    def fetched_since(self, site: str, article_id: int, url: str, first_run_id: int) -> bool:
        """True when run ``first_run_id`` or a later one fetched the article: archived or touched it
        last, or recorded its failure. Run ids grow with time, so this is "fetched since that run
        began"; a resumed run asks it with the first run of the chain it completes."""
        found = self.db.execute(
            "SELECT 1 FROM articles WHERE site = ? AND article_id = ? AND last_run_id >= ?"
            " UNION ALL SELECT 1 FROM crawl_errors WHERE url = ? AND run_id >= ? LIMIT 1",
            [site, article_id, first_run_id, url, first_run_id],
        ).fetchone()
        return found is not None

    def run(self, run_id: int) -> dict[str, Any]:
        return dict(self.db.table("crawl_runs").get(run_id))

    def recent_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        """The last ``limit`` runs, newest first."""
        return [dict(r) for r in self.db.table("crawl_runs").rows_where(order_by="id DESC", limit=limit)]

    def site_verdicts(self, run_ids: Sequence[int]) -> dict[int, dict[str, dict[str, Any]]]:
        """run id -> region -> ``{"health", "health_reasons"}`` of the sites those runs judged
        (none in an archive made before sites were judged, opened read-only so not brought up to date)."""
        if not run_ids or "health" not in self.db.table("crawl_run_regions").columns_dict:
            return {}
        marks = ", ".join("?" for _ in run_ids)
        rows = self.db.execute(
            "SELECT run_id, region, health, health_reasons FROM crawl_run_regions"
            f" WHERE run_id IN ({marks}) AND health IS NOT NULL ORDER BY run_id, region",
            list(run_ids),
        ).fetchall()
        found: dict[int, dict[str, dict[str, Any]]] = {}
        for run_id, region, health, reasons in rows:
            found.setdefault(run_id, {})[region] = {"health": health, "health_reasons": reasons}
        return found

    def site_history(
        self, region: str, before_run: int | None, runs: int = 5, mode: str | None = None
    ) -> list[dict[str, Any]]:
        """The ``crawl_run_regions`` rows of ``region`` in the last ``runs`` runs before ``before_run``
        that crawled it (it was among their ``regions``, not only reached by links) and finished
        by themselves (of ``mode`` when given), newest first; each with the run's ``mode``."""
        rows = self.db.execute(
            "SELECT g.*, r.mode AS mode FROM crawl_run_regions g JOIN crawl_runs r ON r.id = g.run_id"
            " WHERE g.region = ? AND r.id < ? AND r.outcome = 'finished' AND r.finish_reason = 'finished'"
            " AND (? IS NULL OR r.mode = ?)"
            " AND EXISTS (SELECT 1 FROM json_each(CASE WHEN json_valid(r.regions) THEN r.regions ELSE '[]' END)"
            " WHERE value = g.region)"
            " ORDER BY r.id DESC LIMIT ?",
            [region, before_run if before_run is not None else 2**62, mode, mode, runs],
        )
        names = [d[0] for d in rows.description]
        return [dict(zip(names, row, strict=True)) for row in rows.fetchall()]

    # -- errors ----------------------------------------------------------------------------
    def record_error(
        self,
        run_id: int | None,
        url: str,
        reason: str,
        status: int | None = None,
        detail: str = "",
        referer: str | None = None,
        extractor_version: str | None = None,
        keep_for: tuple[int, timedelta] | None = None,
        now: str | None = None,
    ) -> None:
        """Store one page that could not be archived, with a specific reason (and the version of
        the extraction rules of the crawler that recorded it).

        Its link leaves the frontier, unless ``keep_for`` = (times, span) is given (a reason that
        may pass, such as a 503): then it stays for later runs to try again, until it has failed
        that many times and the first failure is that long ago. Without that, a Baca juga target
        that met an outage would be reached again only through its referer, which a later run
        may never list. ``now`` overrides the clock (ISO 8601)."""
        site, article_id = _site_and_id(url)
        now = _parse_utc(now).isoformat() if now else utc_now()
        with self._writing(f"the error of {url}"):
            if site is not None and article_id is not None:
                self._frontier_failed(site, article_id, keep_for, now)
            self.db.table("crawl_errors").insert(
                {
                    "run_id": run_id,
                    "url": url,
                    "status": status,
                    "reason": reason,
                    "detail": detail,
                    "referer": referer,
                    "occurred_at": now,
                    "extractor_version": extractor_version,
                }
            )

    # -- articles --------------------------------------------------------------------------
    def upsert_article(
        self,
        record: Mapping[str, Any],
        run_id: int | None = None,
        follow: Sequence[tuple[str, int]] = (),
        now: str | None = None,
        refresh: bool = False,
    ) -> UpsertResult:
        """Insert or update one article (keyed by site + article_id) with its tags and links.

        ``record`` has the fields of ``crawler.domain.items.Article`` (``tags`` a list of names,
        ``links`` a list of mappings with url, anchor_text, kind), plus optional ``etag`` and
        ``last_modified``. ``first_seen_at`` is kept, ``last_seen_at`` moves. A changed title
        or body keeps the previous text in ``article_versions`` and bumps ``version``.
        ``follow`` lists (url, hops) of links still to fetch: they enter the persisted
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
        follow: Sequence[tuple[str, int]],
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
            execute(_insert_sql("articles", tuple(row)), list(row.values()))
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
                execute(_insert_sql("article_versions", tuple(version), "OR REPLACE"), list(version.values()))
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
            self.db.conn.executemany(_FRONTIER_UPSERT, [tuple(r.values()) for r in rows])

    def _failed_in_run(self, url: str, run_id: int) -> bool:
        found = self.db.execute("SELECT 1 FROM crawl_errors WHERE url = ? AND run_id = ? LIMIT 1", [url, run_id])
        return found.fetchone() is not None

    def _frontier_done(self, site: str, article_id: int) -> None:
        self.db.execute("DELETE FROM frontier WHERE site = ? AND article_id = ?", [site, article_id])

    def _frontier_failed(self, site: str, article_id: int, keep_for: tuple[int, timedelta] | None, now: str) -> None:
        key = [site, article_id]
        if keep_for is None:
            self._frontier_done(site, article_id)
            return
        times, span = keep_for
        self.db.execute(
            "UPDATE frontier SET failures = coalesce(failures, 0) + 1, failed_at = coalesce(failed_at, ?)"
            " WHERE site = ? AND article_id = ?",
            [now, *key],
        )
        given_up = (_parse_utc(now) - span).isoformat()
        self.db.execute(
            "DELETE FROM frontier WHERE site = ? AND article_id = ? AND failures >= ? AND failed_at <= ?",
            [*key, times, given_up],
        )

    def remember(self, follow: Sequence[tuple[str, int]], referer: str | None, run_id: int | None) -> None:
        """Put (url, hops) of requested articles in the frontier until they are archived or fail."""
        with self._writing("the frontier"):
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
        execute = self.db.conn.execute
        execute("DELETE FROM article_tags WHERE article_url = ?", [url])
        if tags:
            rows = [(url, self._tag_id(name)) for name in tags]
            self.db.conn.executemany("INSERT OR IGNORE INTO article_tags (article_url, tag_id) VALUES (?, ?)", rows)

    def _tag_id(self, name: str) -> int:
        """Id of the tag called ``name``, created if new (ids are kept in memory: tags are never deleted)."""
        tag_id = self._tag_ids.get(name)
        if tag_id is None:
            execute = self.db.conn.execute
            found = execute("SELECT id FROM tags WHERE name = ?", [name]).fetchone()
            tag_id = found[0] if found else execute("INSERT INTO tags (name) VALUES (?)", [name]).lastrowid
            assert tag_id is not None
            self._tag_ids[name] = tag_id
        return tag_id

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
            sql = _insert_sql("links", tuple(rows[0]), "OR IGNORE")
            self.db.conn.executemany(sql, [tuple(r.values()) for r in rows])

    def _retarget_links(self, site: str, article_id: int, url: str) -> None:
        """Point links written before this article was archived (maybe with another slug) at its URL."""
        self.db.execute(
            "UPDATE OR IGNORE links SET target_url = ?"
            " WHERE target_site = ? AND target_article_id = ? AND target_url != ?",
            [url, site, article_id, url],
        )

    # -- captures: the WARC records of every response (see archive.warc) -------------------------
    def record_captures(self, rows: Iterable[Mapping[str, Any]], run_id: int | None = None) -> None:
        """Index WARC records (``archive.warc.Record.as_row()``); a record already indexed is left alone."""
        with self.db.atomic():
            self.db.table("captures").insert_all([{**r, "run_id": run_id} for r in rows], ignore=True)

    def earlier_response(self, url: str, payload_digest: str) -> dict[str, Any] | None:
        """The first ``response`` record of ``url`` with this payload digest (what a revisit refers to)."""
        found = self.db.execute(
            "SELECT warc_record_id, url, fetched_at FROM captures"
            " WHERE url = ? AND payload_digest = ? AND record_type = 'response' ORDER BY id LIMIT 1",
            [url, payload_digest],
        ).fetchone()
        return {"record_id": found[0], "url": found[1], "date": found[2]} if found else None

    def capture(self, record_id: str) -> dict[str, Any] | None:
        """The captures row of one WARC record."""
        found = list(self.db.table("captures").rows_where("warc_record_id = ?", [record_id], limit=1))
        return found[0] if found else None

    def captures_of(self, url: str) -> list[dict[str, Any]]:
        """Responses and revisits of ``url``, oldest first."""
        return list(
            self.db.table("captures").rows_where(
                "url = ? AND record_type IN ('response', 'revisit')", [url], order_by="fetched_at, id"
            )
        )

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

    def meta(self, key: str) -> str | None:
        found = self.db.execute("SELECT value FROM archive_meta WHERE key = ?", [key]).fetchone()
        return found[0] if found else None

    def set_meta(self, key: str, value: str) -> None:
        with self.db.atomic():  # plain SQL: sqlite-utils' upsert probes with a scratch table (a schema change)
            self.db.execute(
                "INSERT INTO archive_meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [key, value],
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
        with self._writing(f"the backfill state of {region}"):
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
        with self._writing(f"the backfill state of {region}"):
            self.db.execute("DELETE FROM backfill_state WHERE region = ?", [region])

    # -- reading ---------------------------------------------------------------------------
    def count(self, table: str) -> int:
        return self.db[table].count

    def failed_for_good(
        self,
        url: str,
        permanent: Collection[str],
        extractor_version: str | None = None,
        by_extractor: Collection[str] = (),
    ) -> bool:
        """True when ``url`` failed in an earlier run for one of the ``permanent`` reasons: ones
        retrying will not fix (404, no article...; the crawler says which). A reason among
        ``by_extractor`` (a verdict of the extraction rules) counts only when the error was
        recorded by ``extractor_version``: a crawler with newer rules tries the page again."""
        if not permanent:
            return False
        marks = ", ".join("?" for _ in permanent)
        judged = ", ".join("?" for _ in by_extractor)
        found = self.db.execute(
            f"SELECT 1 FROM crawl_errors WHERE url = ? AND reason IN ({marks})"
            f" AND (reason NOT IN ({judged}) OR extractor_version IS ?) LIMIT 1",
            [url, *permanent, *by_extractor, extractor_version],
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


#: a link already in the frontier keeps the fewest hops it was found at (a resumed run
#: follows its targets only as far as the uninterrupted run would have)
_FRONTIER_UPSERT = (
    "INSERT OR IGNORE INTO frontier (url, site, article_id, hops, referer, run_id, added_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, article_id) DO UPDATE"
    " SET hops = excluded.hops, referer = excluded.referer WHERE excluded.hops < frontier.hops"
)


def parse_coverage(text: Any) -> tuple[int, dict[str, int]] | None:
    """(articles parsed, missing per field) of a ``field_coverage`` JSON; None when unreadable."""
    try:
        coverage = json.loads(text)
        return int(coverage.get("articles", 0)), {str(k): int(v) for k, v in dict(coverage["missing"]).items()}
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def coverage_counts(text: Any) -> dict[str, int]:
    """A ``field_coverage`` JSON as the counts that make it: ``articles_stored``, ``missing/<field>``."""
    coverage = parse_coverage(text)
    if coverage is None:
        return {}
    return {"articles_stored": coverage[0], **{f"missing/{name}": n for name, n in coverage[1].items()}}


def _has_coverage(counts: Mapping[str, int]) -> bool:
    return any(name == "articles_stored" or name.startswith("missing/") for name in counts)


def _add_coverage(text: Any, counts: Mapping[str, int]) -> str:
    """The ``field_coverage`` JSON ``text`` with ``counts`` (``articles_stored``, ``missing/<field>``) added."""
    parsed, missing = parse_coverage(text) or (0, {})
    parsed += counts.get("articles_stored", 0)
    for name, count in counts.items():
        if name.startswith("missing/"):
            field = name.removeprefix("missing/")
            missing[field] = missing.get(field, 0) + count
    return json.dumps({"articles": parsed, "missing": missing}, sort_keys=True)


@lru_cache(maxsize=64)
def _insert_sql(table: str, columns: tuple[str, ...], verb: str = "") -> str:
    names = ", ".join(f"[{c}]" for c in columns)
    marks = ", ".join("?" for _ in columns)
    return f"INSERT {verb} INTO [{table}] ({names}) VALUES ({marks})"


@lru_cache(maxsize=64)
def _update_sql(columns: tuple[str, ...]) -> str:
    sets = ", ".join(f"[{c}] = ?" for c in columns)
    return f"UPDATE articles SET {sets} WHERE url = ?"


def checkpoint(path: str | Path) -> bool:
    """Fold the write-ahead log into the archive file and empty it, so a copy of the file alone
    holds everything; best effort (False when another connection is busy or the file is unusable)."""
    try:
        conn = sqlite3.connect(str(path), timeout=1)
    except sqlite3.Error:
        return False
    try:
        busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        return bool(busy) and busy[0] == 0
    except sqlite3.Error:
        return False
    finally:
        conn.close()


def _unique(values: Iterable[str]) -> list[str]:
    """Stripped, non-empty values in first-seen order, without case-insensitive repeats."""
    seen: dict[str, str] = {}
    for v in values:
        v = v.strip()
        if v and v.lower() not in seen:
            seen[v.lower()] = v
    return list(seen.values())


def _site_and_id(url: str) -> tuple[str | None, int | None]:
    """Host and numeric id of a canonical ``https://host/berita/{id}/...`` URL."""
    rest = url.split("://", 1)[-1]
    host, _, path = rest.partition("/")
    parts = path.split("/")
    if len(parts) >= 2 and parts[0] == "berita" and parts[1].isdigit():
        return host, int(parts[1])
    return host or None, None
