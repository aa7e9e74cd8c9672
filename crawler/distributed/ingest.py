"""The one archive writer of a distributed run: drain the item list into SQLite, exactly once."""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from archive import Archive
from archive.stories import update_archive
from crawler import __version__
from crawler.distributed import keys
from crawler.distributed.messages import RUN_STARTED, Message, MessageError, decode
from crawler.distributed.state import Progress, Redis, RunState, live_workers, reclaim_dead
from crawler.domain.regions import SITES
from crawler.scrapy.health import judge_run
from crawler.scrapy.monitors import Health, Thresholds
from crawler.scrapy.storage import Tally, run_counts, store_item, stored_tally

logger = logging.getLogger(__name__)


@dataclass
class IngestStats:
    """What this ingester process did (for its status lines and summary)."""

    messages: int = 0  #: messages taken and committed
    duplicates: int = 0  #: messages about something the run had already stored
    failed: int = 0  #: unreadable messages moved to antara:items:failed
    stored: Counter[str] = field(default_factory=Counter)  #: articles_new, errors, ...
    finished_runs: list[int] = field(default_factory=list)
    health: dict[int, Health] = field(default_factory=dict)  #: the verdict of each finished run


def _iso(unix: float) -> str:
    return datetime.fromtimestamp(unix, timezone.utc).replace(microsecond=0).isoformat()


class Ingester:
    """Reliable queue: BLMOVE a message from ``antara:items`` to ``antara:items:processing``,
    commit it (and the ingest ledger row that makes it once-only) in one SQLite transaction,
    then LREM it from the processing list. Started again after a crash, it first commits what
    the processing list still holds; what was committed already is recognised by the ledger.

    Runs: ``antara seed`` pushes a RunStarted message first; it opens the ``crawl_runs`` row
    (``run_key`` = the seed's run id). Counts of stored items are added in the same
    transactions; when the run is over (no live worker, nothing queued or in flight, every
    item drained) the workers' fetch stats are summed in, the run is judged like a crawl's (see
    :mod:`crawler.scrapy.health`) and closed.
    """

    def __init__(
        self,
        server: Redis,
        archive: Archive,
        batch: int = 100,
        keep_running: bool = False,
        wait: float = 1.0,
        report: Callable[[str], None] | None = None,
        report_every: float = 5.0,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.server = server
        self.archive = archive
        self.batch = max(1, batch)
        self.keep_running = keep_running
        self.wait = wait
        self.report = report
        self.report_every = report_every
        #: when a run counts as degraded (the ``ANTARA_HEALTH_*`` settings of ``antara ingest``)
        self.thresholds = thresholds or Thresholds()
        self.last_report = time.monotonic()
        self.stats = IngestStats()
        self.runs: dict[str, int] = {}
        self.archive.sync_regions(r.as_row() for r in SITES)  # articles refer to their region

    # -- the loop ----------------------------------------------------------------------------
    def run(self, stop: Callable[[], bool] = lambda: False) -> IngestStats:
        """Ingest until the run in progress is over (or forever with ``keep_running``)."""
        leftover = self.server.lrange(keys.PROCESSING, 0, -1)
        if leftover:
            logger.warning("committing %d messages a previous ingester had taken", len(leftover))
            self.ingest(list(reversed(leftover)))  # LMOVE puts the newest at the head
        while not stop():
            self._maybe_report()
            taken = self.take()
            if taken:
                self.ingest(taken)
                continue
            if self.maybe_finish() and not self.keep_running:
                break
        return self.stats

    def take(self) -> list[bytes]:
        """Up to ``batch`` messages, oldest first, moved to the processing list."""
        first = self.server.blmove(keys.ITEMS, keys.PROCESSING, self.wait, "RIGHT", "LEFT")
        if first is None:
            return []
        taken = [first]
        with self.server.pipeline(transaction=False) as pipe:
            for _ in range(self.batch - 1):
                pipe.lmove(keys.ITEMS, keys.PROCESSING, "RIGHT", "LEFT")
            taken.extend(m for m in pipe.execute() if m is not None)
        return taken

    # -- storing -------------------------------------------------------------------------------
    def ingest(self, raws: list[bytes]) -> None:
        """Commit ``raws`` in one transaction, then remove them from the processing list."""
        messages: list[Message] = []
        for raw in raws:
            try:
                messages.append(decode(raw))
            except MessageError as exc:
                logger.error("%s; moved to %s", exc, keys.FAILED)
                with self.server.pipeline() as pipe:
                    pipe.lpush(keys.FAILED, raw).lrem(keys.PROCESSING, 1, raw).execute()
                self.stats.failed += 1
        tallies: dict[int, Tally] = {}
        with self.archive.transaction():
            for message in messages:
                run_id = self._run_id(message)
                if message.kind == RUN_STARTED:
                    continue
                if not self.archive.mark_ingested(run_id, message.key):
                    self.stats.duplicates += 1
                    continue
                stored = store_item(self.archive, message.item, run_id)
                tallies.setdefault(run_id, Tally()).add(stored)
                self.stats.stored.update(stored.counts)
            for run_id, tally in tallies.items():
                self.archive.add_run_counts(run_id, tally.totals, tally.errors_by_kind, tally.by_region)
        with self.server.pipeline(transaction=False) as pipe:
            for message in messages:
                pipe.lrem(keys.PROCESSING, 1, message.raw)
            pipe.execute()
        self.stats.messages += len(messages)

    def _run_id(self, message: Message) -> int:
        """The crawl_runs id of the message's run, opening the row on first sight."""
        run_id = self.runs.get(message.run) or self.archive.run_by_key(message.run)
        if run_id is None:
            if message.kind == RUN_STARTED:
                ledger, seeded_at = dict(message.item["ledger"]), float(message.item["seeded_at"])
            else:  # its RunStarted is gone (a Redis flushed by hand): record what is known
                state = RunState.load(self.server)
                known = state if state is not None and state.id == message.run else None
                ledger = known.ledger if known else {}
                seeded_at = known.seeded_at if known else time.time()
            run_id = self._open_run(message.run, ledger, seeded_at)
        self.runs[message.run] = run_id
        return run_id

    def _open_run(self, run_key: str, ledger: dict[str, Any], seeded_at: float) -> int:
        arguments = {**ledger, "distributed": True}
        regions = [str(r) for r in ledger.get("regions") or []]
        mode = str(ledger.get("mode") or "full")
        return self.archive.start_run(
            arguments, regions, __version__, mode, run_key=run_key, started_at=_iso(seeded_at)
        )

    # -- ending a run --------------------------------------------------------------------------
    def maybe_finish(self) -> bool:
        """Close the run in progress if it is over; True when there is no run left to ingest."""
        state = RunState.load(self.server)
        if state is None:
            return False  # nothing seeded yet: wait for it
        if state.state != "running":
            return True
        workers = sorted(m.decode() for m in self.server.smembers(keys.RUN_WORKERS))
        if not workers or live_workers(self.server, workers):
            return False  # no worker has started yet, or one is still at work
        progress = Progress.read(self.server)
        if progress.queued or progress.in_flight:
            if reclaim_dead(self.server):  # workers died with requests in hand: queue them again
                logger.warning("put requests of dead workers back in the queue")
            return False
        if self.server.llen(keys.ITEMS) or self.server.llen(keys.PROCESSING):
            return False  # checked after the workers: what they pushed before leaving is visible
        self.finish(state, workers)
        return True

    def finish(self, state: RunState, workers: list[str]) -> None:
        fetched: Counter[str] = Counter()
        for worker in workers:
            fetched.update({k.decode(): int(v) for k, v in self.server.hgetall(keys.stats(worker)).items()})
        run_id = self.archive.run_by_key(state.id)
        if run_id is None:  # a run that stored nothing at all
            run_id = self._open_run(state.id, state.ledger, state.seeded_at)
        tally = stored_tally(self.archive, run_id)  # all the run stored, whichever ingester stored it
        finished = time.time()
        counts = run_counts(fetched, tally, finished - state.seeded_at)
        counts["workers"] = len(workers)
        judged = judge_run(
            self.archive,
            run_id,
            mode=str(state.ledger.get("mode") or "full"),
            finish_reason="finished",
            counts=counts,
            stats=fetched,
            tally=tally,
            regions=[str(r) for r in state.ledger.get("regions") or []],
            thresholds=self.thresholds,
        )
        counts.update(judged.columns)
        update_archive(self.archive)  # the run's new articles get their story (archive/stories.py)
        self.archive.finish_run(run_id, "finished", "finished", counts, judged.regions)
        self.archive.forget_ingested(run_id)
        state.state, state.finished_at = "finished", finished
        state.save(self.server)
        stale = [keys.DUPEFILTER, keys.HOPS, keys.TARGETS, keys.RUN_WORKERS, keys.OWNERS]
        self.server.delete(*stale, *(keys.stats(w) for w in workers), *(keys.inflight(w) for w in workers))
        self.stats.finished_runs.append(run_id)
        self.stats.health[run_id] = judged.health
        if judged.health.status == "degraded" and self.keep_running:  # no summary line to say it
            logger.warning("run %s (%s) is degraded: %s", run_id, state.id, "; ".join(judged.health.reasons))
        logger.info("run %s (%s) finished, %s", run_id, state.id, judged.health.status)

    def _maybe_report(self) -> None:
        if self.report is None or self.report_every <= 0:
            return
        if time.monotonic() - self.last_report >= self.report_every:
            self.last_report = time.monotonic()
            self.report(self._line(Progress.read(self.server)))

    def _line(self, progress: Progress) -> str:
        stored = self.stats.stored
        return (
            f"ingested {self.stats.messages} | articles {stored['articles_new']} new,"
            f" {stored['articles_updated']} updated, {stored['articles_unchanged']} unchanged"
            f" | errors {stored['errors']} | {progress.line()}"
        )


def print_report(line: str) -> None:
    print(line, file=sys.stderr, flush=True)
