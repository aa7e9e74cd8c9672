"""Runs: the ``crawl_runs`` and ``crawl_run_regions`` rows of each crawl, their counts, and the
ledger of what a distributed run's ingester stored."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from archive import schema
from archive.connection import Connection
from archive.coverage import add_coverage, coverage_counts, has_coverage
from archive.times import utc_now


class Runs(Connection):
    """Crawl runs and their counts."""

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
            covered = has_coverage(totals)
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
                    values.append(add_coverage(row[1] if row else None, totals))
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
                if has_coverage(counted):
                    self.db.execute(
                        "INSERT OR IGNORE INTO crawl_run_regions (run_id, region) VALUES (?, ?)", [run_id, region]
                    )
                    row = self.db.execute(
                        "SELECT field_coverage FROM crawl_run_regions WHERE run_id = ? AND region = ?", [run_id, region]
                    ).fetchone()
                    self.db.execute(
                        "UPDATE crawl_run_regions SET field_coverage = ? WHERE run_id = ? AND region = ?",
                        [add_coverage(row[0], counted), run_id, region],
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
