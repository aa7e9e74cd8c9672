"""Removals: archived articles the site took down (``articles.removed_at``, ``article_removals``).

A removal never touches what was archived: the article's row keeps its title and body, its
``article_versions`` and its WARC captures stay. Only the state changes are events: the
first fetch that finds the article gone (``removed``), the first that finds it again
(``restored``); fetches in between change nothing here.
"""

from __future__ import annotations

from typing import Any

from archive.connection import Connection
from archive.times import parse_utc, utc_now


class Removals(Connection):
    """Articles gone from the site, and their return."""

    def record_removal(
        self,
        site: str,
        article_id: int,
        run_id: int | None,
        status: int | None,
        kind: str,
        location: str | None = None,
        now: str | None = None,
    ) -> bool:
        """A fetch found the archived article gone: ``kind`` is ``404``, ``410``, ``soft_404``
        or ``redirect`` (``location``: where it led), ``status`` the HTTP status answered.

        True when this is news (the article was online until now): ``removed_at`` and
        ``removed_status`` are set and a ``removed`` event is written. False when the article
        is not archived or is already removed. ``now`` overrides the clock (ISO 8601)."""
        now = parse_utc(now).isoformat() if now else utc_now()
        with self._writing(f"the removal of article {article_id} of {site}"):
            found = self._removal_state(site, article_id)
            if found is None or found[1] is not None:
                return False
            url = found[0]
            self.db.execute("UPDATE articles SET removed_at = ?, removed_status = ? WHERE url = ?", [now, kind, url])
            self._removal_event(url, run_id, now, "removed", status, kind, location)
        return True

    def record_online(
        self, site: str, article_id: int, run_id: int | None, status: int, now: str | None = None
    ) -> bool:
        """A fetch found the article again (a page of it, or a 304): a removed one is restored
        (``removed_at`` and ``removed_status`` emptied, a ``restored`` event, kind ``online``).
        True when it was removed until now; a read only when it was not."""
        found = self._removal_state(site, article_id)
        if found is None or found[1] is None:
            return False
        now = parse_utc(now).isoformat() if now else utc_now()
        with self._writing(f"the return of article {article_id} of {site}"):
            self.db.execute("UPDATE articles SET removed_at = NULL, removed_status = NULL WHERE url = ?", [found[0]])
            self._removal_event(found[0], run_id, now, "restored", status, "online", None)
        return True

    def removal_history(self, url: str) -> list[dict[str, Any]]:
        """The ``article_removals`` events of an article, oldest first."""
        return list(self.db.table("article_removals").rows_where("article_url = ?", [url], order_by="seen_at, id"))

    def _removal_state(self, site: str, article_id: int) -> tuple[str, str | None] | None:
        found = self.db.execute(
            "SELECT url, removed_at FROM articles WHERE site = ? AND article_id = ?", [site, article_id]
        ).fetchone()
        return (found[0], found[1]) if found is not None else None

    def _removal_event(
        self,
        url: str,
        run_id: int | None,
        now: str,
        event: str,
        status: int | None,
        kind: str,
        location: str | None,
    ) -> None:
        self.db.execute(
            "INSERT INTO article_removals (article_url, run_id, seen_at, event, status, kind, location)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [url, run_id, now, event, status, kind, location],
        )
