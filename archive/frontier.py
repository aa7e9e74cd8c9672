"""What is still to fetch: the frontier of links found but not fetched, failed pages (``crawl_errors``),
articles due for a revisit, and where each backfill stands."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from archive.connection import Connection
from archive.times import parse_utc, utc_now

#: a link to fetch: (url, hops from the pages a run started at, site, article id), site and id
#: as the crawler reads them from the URL (the archive does not parse URLs)
Follow = tuple[str, int, str, int]

#: a link already in the frontier keeps the fewest hops it was found at (a resumed run
#: follows its targets only as far as the uninterrupted run would have)
_FRONTIER_UPSERT = (
    "INSERT OR IGNORE INTO frontier (url, site, article_id, hops, referer, run_id, added_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site, article_id) DO UPDATE"
    " SET hops = excluded.hops, referer = excluded.referer WHERE excluded.hops < frontier.hops"
)


class Frontier(Connection):
    """The frontier, failed pages, revisits and backfills."""

    def _frontier_add(self, referer: str | None, follow: Sequence[Follow], run_id: int | None, now: str) -> None:
        rows = []
        for url, hops, site, article_id in follow:
            if self._find(site, article_id) is not None:
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
        given_up = (parse_utc(now) - span).isoformat()
        self.db.execute(
            "DELETE FROM frontier WHERE site = ? AND article_id = ? AND failures >= ? AND failed_at <= ?",
            [*key, times, given_up],
        )

    def remember(self, follow: Sequence[Follow], referer: str | None, run_id: int | None) -> None:
        """Put requested articles (:data:`Follow`) in the frontier until they are archived or fail."""
        with self._writing("the frontier"):
            self._frontier_add(referer, follow, run_id, utc_now())

    def pending(self) -> list[tuple[str, int, str | None]]:
        """Links found by earlier runs and not fetched yet: (url, hops, referer), fewest hops first."""
        rows = self.db.execute("SELECT url, hops, referer FROM frontier ORDER BY hops, added_at").fetchall()
        return [(u, h, r) for u, h, r in rows]

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
        article: tuple[str, int] | None = None,
    ) -> None:
        """Store one page that could not be archived, with a specific reason (and the version of
        the extraction rules of the crawler that recorded it).

        When the page is an article, ``article`` is its (site, article id) as the crawler reads
        them from ``url``: its link leaves the frontier, unless ``keep_for`` = (times, span) is given (a reason that
        may pass, such as a 503): then it stays for later runs to try again, until it has failed
        that many times and the first failure is that long ago. Without that, a Baca juga target
        that met an outage would be reached again only through its referer, which a later run
        may never list. ``now`` overrides the clock (ISO 8601)."""
        now = parse_utc(now).isoformat() if now else utc_now()
        with self._writing(f"the error of {url}"):
            if article is not None:
                self._frontier_failed(*article, keep_for, now)
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

    def due_for_revisit(
        self, regions: Sequence[str], now: datetime, checkpoints: Sequence[timedelta]
    ) -> list[dict[str, Any]]:
        """Articles of ``regions`` that passed an age checkpoint (e.g. 1 h, 1 d, 7 d after
        publication) since they were last fetched: url, site, article_id, etag, last_modified.

        An article the site removed is looked at on the same schedule (so its return is seen),
        counted from the last fetch that found it gone (its latest ``crawl_errors`` row)."""
        if not checkpoints or not regions:
            return []
        horizon_days = max(checkpoints).total_seconds() / 86400
        marks = ", ".join("?" for _ in regions)
        rows = self.db.execute(
            "SELECT url, site, article_id, published_at, checked, etag, last_modified FROM ("
            " SELECT url, site, article_id, published_at, etag, last_modified, CASE WHEN removed_at IS NULL"
            "  THEN last_seen_at ELSE coalesce((SELECT max(occurred_at) FROM crawl_errors WHERE crawl_errors.url"
            "  = articles.url AND julianday(occurred_at) > julianday(last_seen_at)), last_seen_at) END AS checked"
            f" FROM articles WHERE region IN ({marks}))"
            " WHERE julianday(published_at) + ? > julianday(checked)",
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
        follow: Sequence[Follow] = (),
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
