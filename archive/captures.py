"""Captures: the index of the WARC records of every response (see :mod:`archive.warc`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlite_utils.db import jsonify_if_needed

from archive.connection import Connection, insert_sql


class Captures(Connection):
    """The WARC record index."""

    def record_captures(self, rows: Iterable[Mapping[str, Any]], run_id: int | None = None) -> None:
        """Index WARC records (``archive.warc.Record.as_row()``); a record already indexed is left alone.

        What sqlite-utils' ``insert_all(ignore=True)`` writes, in one ``executemany`` for each set
        of columns: a crawl indexes two records a page, and insert_all's per-row Python work was
        0.055 s of the 0.18 s of CPU it took to index a 2,975-article crawl's 6,445 records."""
        by_columns: dict[tuple[str, ...], list[list[Any]]] = {}
        for row in rows:
            full = {**row, "run_id": run_id}
            by_columns.setdefault(tuple(full), []).append([jsonify_if_needed(v) for v in full.values()])
        with self.db.atomic():
            for columns, values in by_columns.items():
                self.db.conn.executemany(insert_sql("captures", columns, "OR IGNORE"), values)

    def earlier_response(self, url: str, payload_digest: str) -> dict[str, Any] | None:
        """The first ``response`` record of ``url`` with this payload digest (what a revisit refers to)."""
        found = self.db.execute(
            "SELECT warc_record_id, url, fetched_at FROM captures"
            " WHERE url = ? AND payload_digest = ? AND record_type = 'response' ORDER BY id LIMIT 1",
            [url, payload_digest],
        ).fetchone()
        return {"record_id": found[0], "url": found[1], "date": found[2]} if found else None

    def earlier_payload(self, payload_digest: str, prefixes: Iterable[str]) -> dict[str, Any] | None:
        """The first ``response`` record, of any URL that starts with one of ``prefixes`` (each ending
        in ``/``), with this payload digest: what a revisit of the same bytes under another URL
        refers to (a lead image shared by several articles: the image hosts' roots; an article
        fetched under another slug: its ``/berita/{id}/``). Reads a range of the (url,
        payload_digest) index per prefix."""
        for prefix in sorted(prefixes):
            found = self.db.execute(
                "SELECT warc_record_id, url, fetched_at FROM captures WHERE url >= ? AND url < ?"
                " AND payload_digest = ? AND record_type = 'response' ORDER BY id LIMIT 1",
                [prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1), payload_digest],
            ).fetchone()
            if found:
                return {"record_id": found[0], "url": found[1], "date": found[2]}
        return None

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
