"""The crawl memory a spider gets from its settings; the one that reads the archive (``ARCHIVE_DB``)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from archive import Archive, ArchiveError
from crawler.domain.memory import CrawlMemory, Key, LocalMemory, Pending
from crawler.domain.reasons import EXTRACTOR_VERDICTS, PERMANENT_CODES
from crawler.extraction import EXTRACTOR_VERSION

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from crawler.domain.options import Since


def memory_from_settings(settings: BaseSettings) -> CrawlMemory:
    """Shared hops and targets in Redis for a distributed worker (``ANTARA_DISTRIBUTED``), which
    never reads the archive; else this process's memory, reading ``ARCHIVE_DB`` when one is set."""
    if settings.getbool("ANTARA_DISTRIBUTED"):
        from crawler.distributed.memory import RedisMemory

        return RedisMemory.from_settings(settings)
    path = settings.get("ARCHIVE_DB")
    return ArchiveMemory(path) if path else LocalMemory()


class ArchiveMemory(LocalMemory):
    """This process's memory of the run, and a read-only view of the archive at ``path``.

    The archive is opened on the first question and asked again while it cannot be opened
    (not created yet): until then it answers as if empty.
    """

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path
        self._archive: Archive | None = None

    @property
    def archive(self) -> Archive | None:
        if self._archive is None:
            try:
                self._archive = Archive(self.path, readonly=True)
            except ArchiveError:
                return None
        return self._archive

    def archived(self, key: Key) -> bool:
        archive = self.archive
        return archive is not None and archive.has_article(*key)

    def failed_for_good(self, url: str) -> bool:
        archive = self.archive
        return archive is not None and archive.failed_for_good(
            url, PERMANENT_CODES, EXTRACTOR_VERSION, EXTRACTOR_VERDICTS
        )

    def captured(self, url: str) -> bool:
        archive = self.archive
        try:
            return archive is not None and bool(archive.captures_of(url))
        except sqlite3.Error:  # an archive from before WARC capture: nothing captured
            return False

    def first_of_chain(self, run_ids: Sequence[int]) -> int | None:
        archive = self.archive
        chain = archive.interrupted_chain(run_ids) if archive is not None else []
        return chain[0] if chain else None

    def fetched_since(self, key: Key, url: str, first_run_id: int) -> bool:
        archive = self.archive
        return archive is not None and archive.fetched_since(key[0], key[1], url, first_run_id)

    def newest_before(self, host: str, since: Since) -> int | None:
        archive = self.archive
        if archive is None:
            return None
        day, instant = since.sql_bound()
        return archive.newest_published_before(host, day=day, instant=instant)

    def archived_targets(self, key: Key) -> tuple[str, ...] | None:
        archive = self.archive
        if archive is None:
            return None
        targets = tuple(archive.link_targets(*key))
        self.note_targets(key, targets)  # the archive is asked once per article
        return targets

    def pending(self) -> list[Pending]:
        archive = self.archive
        return archive.pending() if archive is not None else []

    def due_for_revisit(self, regions: Sequence[str], now: datetime, ages: Sequence[timedelta]) -> list[dict[str, Any]]:
        archive = self.archive
        return archive.due_for_revisit(regions, now, ages) if archive is not None else []

    def backfill_state(self, region: str) -> dict[str, Any] | None:
        archive = self.archive
        return archive.backfill_state(region) if archive is not None else None

    def close(self) -> None:
        if self._archive is not None:
            self._archive.close()
            self._archive = None
