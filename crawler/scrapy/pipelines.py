"""Item pipeline: thin glue that writes articles, revisits, progress and crawl errors into the archive."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import IO, TYPE_CHECKING, Any
from weakref import WeakKeyDictionary

from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.defer import deferred_from_coro
from twisted.internet.task import LoopingCall

from archive import Archive, ArchiveError
from archive.stories import update_archive
from crawler import __version__
from crawler.domain.lock import LockHeld, hold_lock
from crawler.domain.regions import SITES
from crawler.scrapy.health import judge_run
from crawler.scrapy.monitors import Thresholds
from crawler.scrapy.storage import Group, Stored, Tally, run_counts, store_item

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

#: Scrapy finish reasons and the run outcome stored for them.
_OUTCOMES = {"finished": "finished", "shutdown": "interrupted", "archive_error": "failed"}

#: the open group of each crawl, where the WARC capture leaves its index rows (see :func:`group_of`)
_GROUPS: WeakKeyDictionary[Crawler, Group] = WeakKeyDictionary()


def group_of(crawler: Crawler) -> Group | None:
    """The write group of the crawl's archive pipeline; None when the archive is not open
    (another crawl holds it, or it could not be opened)."""
    return _GROUPS.get(crawler)


class ArchivePipeline:
    """Store what the spider yields in the ``ARCHIVE_DB`` file, in group commits.

    Items and the WARC index rows of every response wait in a :class:`Group` and are written
    in one transaction, with the run's counts, once half of ``ANTARA_COMMIT_ITEMS`` items or
    ``ANTARA_COMMIT_SECONDS`` seconds wait, and at close; the WARC bytes, and the archive's
    write-ahead log with the groups committed before, are fsynced in a thread first (SQLite's
    own checkpoints, which sync it in the crawl's thread, come ten times less often). At most
    ``ANTARA_COMMIT_ITEMS`` items are ever uncommitted: a killed crawl loses only those, whose
    articles are still in the frontier for the next run.

    One ``crawl_runs`` row per crawl: opened when the spider opens, closed with the finish
    reason, the counts and per-region counts (``crawl_run_regions``) when it closes.
    """

    def __init__(self, crawler: Crawler, path: str) -> None:
        self.crawler = crawler
        self.path = path
        self.archive: Archive | None = None
        self.run_id: int | None = None
        self.started = time.monotonic()
        self.tally = Tally()
        self.lock: IO[str] | None = None
        #: set once a write failed (disk full, locked archive): nothing more is written
        self.failed: ArchiveError | None = None
        self.timeout = crawler.settings.getfloat("ARCHIVE_BUSY_TIMEOUT", 30.0)
        self.max_pages = crawler.settings.getint("ARCHIVE_MAX_PAGES", 0) or None
        #: ``ANTARA_NOW``: the crawl's clock for first/last seen times (tests and replays); None is now
        self.clock: str | None = crawler.settings.get("ANTARA_NOW") or None
        self.group = Group(
            crawler.settings.getint("ANTARA_COMMIT_ITEMS", 50), crawler.settings.getfloat("ANTARA_COMMIT_SECONDS", 0.25)
        )
        self.timer = LoopingCall(self._advance)
        #: the group whose WARC bytes are being synced: committed once they are on the disk
        self.syncing: tuple[list[Any], list[dict[str, Any]], Future[None]] | None = None
        self.syncer = ThreadPoolExecutor(1, thread_name_prefix="warc-sync")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArchivePipeline:
        path = crawler.settings.get("ARCHIVE_DB")
        if not path:
            raise NotConfigured("ARCHIVE_DB is empty")
        pipeline = cls(crawler, path)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def open_spider(self) -> None:
        if not self.crawler.settings.getbool("ANTARA_LOCK_HELD"):  # antara crawl takes it before starting
            try:
                self.lock = hold_lock(self.path)
            except LockHeld as exc:
                logger.error("%s", exc)
                self.crawler.stats.set_value("archive/fatal", str(exc))
                # close once the spider is fully open (closing from here would upset CoreStats)
                self.crawler.signals.connect(self._refuse, signal=signals.spider_opened)
                return
        spider = self.crawler.spider
        arguments = dict(getattr(spider, "run_arguments", {}) or {})
        regions = [r.slug for r in getattr(spider, "regions", [])]
        try:
            self.archive = Archive(self.path, timeout=self.timeout, max_pages=self.max_pages)
            self.archive.sync_regions(r.as_row() for r in SITES)
            self.run_id = self.archive.start_run(arguments, regions, __version__, arguments.get("mode", "full"))
        except ArchiveError as exc:
            self._fail(exc)
            if self.archive is not None:
                self.archive.close()
                self.archive = None
            self.crawler.signals.connect(self._abandon, signal=signals.spider_opened)
            return
        self.crawler.stats.set_value("archive/run_id", self.run_id)
        self.crawler.stats.set_value("archive/path", self.path)
        self.started = time.monotonic()
        self.group.archive = self.archive
        # checkpoints every 40 MB of log, not 4; the log is synced before each group commits instead
        self.archive.defer_checkpoints()
        self.group.before_commit.append(self.archive.flush_log)
        _GROUPS[self.crawler] = self.group
        if self.group.seconds > 0:
            self.timer.start(self.group.seconds, now=False)

    def process_item(self, item: Any) -> Any:
        if self.archive is None or self.failed is not None:
            # locked by another crawl, or a write failed: this crawl is closing, and what it
            # fetched but could not store stays in the frontier for the next one
            return item
        self.group.add(item)
        self._advance()
        return item

    def _advance(self) -> None:
        """Commit the synced group once its fsync is done (or, when the items not committed
        reach ``ANTARA_COMMIT_ITEMS``, wait for it), and start syncing the next when it is due."""
        if self.archive is None or self.failed is not None:
            return
        try:
            if self.syncing is not None:
                items, _captures, future = self.syncing
                if future.done() or len(items) + len(self.group.items) >= self.group.limit:
                    self._write_synced()
            if self.syncing is None and self.group.due():
                self._start_sync()
        except ArchiveError as exc:
            self._fail(exc)
            self._stop("archive_error")

    def _start_sync(self) -> None:
        """Take the pending group, hand the WARC bytes its rows point at to the operating system,
        and fsync them in a thread; the group is committed once that is done."""
        hooks = list(self.group.before_commit)
        items, captures = self.group.take()
        syncs: list[Callable[[], None]] = []
        try:
            for hook in hooks:
                syncs.append(hook())
        except OSError as exc:
            with contextlib.suppress(OSError):
                _run_all(syncs)  # each sync closes the descriptor it holds
            raise ArchiveError(f"cannot write WARC records or sync the archive's log: {exc}") from exc
        future = self.syncer.submit(_run_all, syncs)
        self.syncing = (items, captures, future)
        future.add_done_callback(self._synced)

    def _synced(self, future: Future[None]) -> None:
        """In the syncing thread: let the reactor commit the group."""
        from twisted.internet import reactor

        reactor.callFromThread(self._advance)  # type: ignore[attr-defined]

    def _write_synced(self) -> None:
        assert self.syncing is not None
        items, captures, future = self.syncing
        self.syncing = None
        try:
            future.result()
        except OSError as exc:
            raise ArchiveError(f"cannot sync the WARC records or the archive's log to disk: {exc}") from exc
        if self.archive is not None and self.failed is None:
            self._store_group(items, captures)
        self.group.settled()

    def _commit_all(self) -> None:
        """At close: commit the group being synced and then what is left, waiting for both."""
        try:
            if self.syncing is not None:
                self._write_synced()
            if len(self.group) and self.failed is None:
                self._start_sync()
                self._write_synced()
        except ArchiveError as exc:
            self._fail(exc)
        finally:
            self.syncer.shutdown()

    def _fail(self, exc: ArchiveError) -> None:
        """Remember the first failed write and say clearly what happened and what it means."""
        if self.failed is not None:
            return
        self.failed = exc
        message = (
            f"{exc}. The crawl stopped; everything archived before is complete, and the next crawl resumes what is left"
        )
        # antara crawl prints the message as its last line; plain scrapy crawl only has the log
        logger.log(logging.INFO if self.crawler.settings.getbool("ANTARA_LOCK_HELD") else logging.ERROR, "%s", message)
        self.crawler.stats.set_value("archive/fatal", message)
        self.crawler.stats.set_value("archive/fatal_kind", exc.kind)

    def _store_group(self, items: list[Any], captures: list[dict[str, Any]]) -> None:
        """Write a synced group in one transaction, with the run's counts.

        The transaction opens no savepoint (see :meth:`archive.Archive.transaction`); when an item
        breaks a constraint it is rolled back and written again with a savepoint for each item,
        so that the bad record alone is left out."""
        try:
            done = self._write_group(items, captures, alone=False)
        except sqlite3.IntegrityError:
            done = self._write_group(items, captures, alone=True)
        for stored in done:
            self.tally.add(stored)
            for name, count in stored.counts.items():
                self.crawler.stats.inc_value(f"archive/{name}", count)

    def _write_group(self, items: list[Any], captures: list[dict[str, Any]], alone: bool) -> list[Stored]:
        """The group's transaction; ``alone``: each item in a savepoint, and one that breaks a
        constraint is logged and left out (otherwise its error rolls the whole back)."""
        assert self.archive is not None and self.run_id is not None
        done: list[Stored] = []
        first = _describe(items[0]) if items else f"{len(captures)} WARC records"
        with self.archive.transaction(f"{len(items)} items from {first}", savepoints=alone):
            if captures:
                self.archive.record_captures(captures, self.run_id)
            group = Tally()
            for item in items:
                if not alone:
                    stored = store_item(self.archive, item, self.run_id, now=self.clock)
                else:
                    try:
                        with self.archive.transaction(_describe(item)):  # a savepoint
                            stored = store_item(self.archive, item, self.run_id, now=self.clock)
                    except sqlite3.IntegrityError:
                        logger.exception("cannot store %s", _describe(item))
                        continue
                group.add(stored)
                done.append(stored)
            if group:  # the run's ledger row counts the group in its transaction, so a killed
                # run's row still says what it stored (the close replaces them with the totals)
                self.archive.add_run_counts(self.run_id, group.totals, group.errors_by_kind, group.by_region)
        return done

    def _refuse(self, spider: Spider) -> None:
        self._stop("archive_locked")

    def _abandon(self, spider: Spider) -> None:
        self._stop("archive_error")

    def _stop(self, reason: str) -> None:
        engine = self.crawler.engine
        if engine is not None:
            deferred_from_coro(engine.close_spider_async(reason=reason))

    def counts(self) -> dict[str, Any]:
        return run_counts(self.crawler.stats.get_stats(), self.tally, time.monotonic() - self.started)

    def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.archive is None or self.run_id is None:
            return
        if self.timer.running:
            self.timer.stop()
        self._commit_all()
        _GROUPS.pop(self.crawler, None)
        try:
            self._close_run(reason)
        finally:
            if self.lock is not None:
                self.lock.close()

    def crawled_regions(self) -> list[str]:
        """The regions the run crawled (not those its Baca juga links reached)."""
        return [r.slug for r in getattr(self.crawler.spider, "regions", [])]

    def _close_run(self, reason: str) -> None:
        assert self.archive is not None and self.run_id is not None
        outcome = _OUTCOMES.get(reason, "finished" if reason.startswith("closespider") else "failed")
        if self.failed is not None:
            outcome = "failed"
        counts = self.counts()
        spider = self.crawler.spider
        judged = judge_run(
            self.archive,
            self.run_id,
            mode=str(getattr(spider, "run_arguments", {}).get("mode", "full")),
            finish_reason=reason,
            counts=counts,
            stats=self.crawler.stats.get_stats(),
            tally=self.tally,
            regions=self.crawled_regions(),
            thresholds=Thresholds.from_settings(self.crawler.settings),
            resumed=bool(getattr(spider, "resume_runs", None)),
        )
        self.crawler.stats.set_value("archive/health", judged.health.status)
        self.crawler.stats.set_value("archive/health_reasons", judged.health.reasons)
        counts.update(judged.columns)
        self._assign_stories()
        try:
            self.archive.finish_run(self.run_id, outcome, reason, counts, judged.regions)
        except ArchiveError as exc:
            # e.g. the disk is still full: the run stays marked running, and the next crawl
            # marks it interrupted and resumes it
            logger.error("could not record the end of run %s: %s", self.run_id, exc)
        finally:
            self.archive.close()
            self.archive = None

    def _assign_stories(self) -> None:
        """Give the articles the run stored their story (archive/stories.py): one transaction."""
        assert self.archive is not None
        if not self.tally.totals["articles_new"]:
            return
        started = time.monotonic()
        try:
            update = update_archive(self.archive)
        except ArchiveError as exc:  # the articles stay without a story: the next run assigns them
            logger.error("could not assign stories: %s", exc)
            return
        logger.info("stories: %s in %.2fs", update.summary(), time.monotonic() - started)
        self.crawler.stats.set_value("archive/stories_assigned", update.assigned)
        self.crawler.stats.set_value("archive/stories_new", update.started)


def _run_all(calls: Iterable[Callable[[], None]]) -> None:
    """Run every sync (each closes its descriptor), then raise the first error any of them raised."""
    first: BaseException | None = None
    for call in calls:
        try:
            call()
        except Exception as exc:
            first = first or exc
    if first is not None:
        raise first


def _describe(item: Any) -> str:
    """What storing ``item`` writes, for the message of a failed write."""
    page = getattr(item, "article", None)
    url = getattr(page, "url", None) or getattr(item, "url", None) or getattr(item, "referer", None)
    return str(url) if url else type(item).__name__
