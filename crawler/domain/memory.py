"""What a crawl remembers about the articles it reached: fewest hops and Baca juga targets,
and what earlier runs left in the archive (fetched, failed, pending, resumable)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from crawler.domain.options import Since

#: An article's identity: (host, numeric id).
Key = tuple[str, int]

#: A link an earlier run found and did not fetch: (url, hops, referer).
Pending = tuple[str, int, str | None]


class CrawlMemory(Protocol):
    """Everything the spider asks about articles beyond the page in hand.

    This run's part (hops and targets) is shared by every process of the run. The archive's
    part answers for earlier runs; a memory without an archive (none yet, or a distributed
    worker, which never reads it) answers that nothing was fetched, failed or left pending.
    """

    #: True when a request for an article someone already claimed (``lower_hops`` returned a
    #: count) is sent anyway: where several workers share the memory, the claimant may have
    #: died before queueing it, and the shared seen-set drops the copy if it is queued or done.
    resend_claimed: bool

    # -- this run ------------------------------------------------------------------------------
    def lower_hops(self, key: Key, hops: int) -> int | None:
        """Record ``hops`` unless fewer are known; return what was known before (None: first sight)."""
        ...

    def hops(self, key: Key) -> int:
        """Fewest hops known from a list page to the article (0 when unknown)."""
        ...

    def targets(self, key: Key) -> tuple[str, ...] | None:
        """Baca juga targets noted for the article, None when none were noted."""
        ...

    def note_targets(self, key: Key, targets: tuple[str, ...]) -> int:
        """Note the article's targets, in case a shorter path to it turns up; return its hops now."""
        ...

    # -- earlier runs (the archive) ------------------------------------------------------------
    def archived(self, key: Key) -> bool:
        """Whether the archive holds the article."""
        ...

    def failed_for_good(self, url: str) -> bool:
        """Whether an earlier run found a condition of the page that fetching it again would meet
        again (a permanent reason; a verdict of older extraction rules does not count)."""
        ...

    def captured(self, url: str) -> bool:
        """Whether the archive's WARC files hold a response or revisit record of ``url`` (a lead
        image fetched before)."""
        ...

    def first_of_chain(self, run_ids: Sequence[int]) -> int | None:
        """The first run of the chain of interrupted runs that ``run_ids`` completes (None: no archive)."""
        ...

    def fetched_since(self, key: Key, url: str, first_run_id: int) -> bool:
        """Whether run ``first_run_id`` or a later one archived, touched or failed the article."""
        ...

    def newest_before(self, host: str, since: Since) -> int | None:
        """The highest article id of ``host`` archived with a publication before ``since`` (None: none)."""
        ...

    def archived_targets(self, key: Key) -> tuple[str, ...] | None:
        """The Baca juga targets the archive stored for the article, in page order, also noted as
        its targets (None: no archive to ask)."""
        ...

    def pending(self) -> list[Pending]:
        """The frontier: links earlier runs found and did not fetch, fewest hops first."""
        ...

    def due_for_revisit(self, regions: Sequence[str], now: datetime, ages: Sequence[timedelta]) -> list[dict[str, Any]]:
        """Archived articles of ``regions`` that passed one of the ``ages`` since last fetched:
        url, site, article_id, etag, last_modified."""
        ...

    def backfill_state(self, region: str) -> dict[str, Any] | None:
        """Where the last backfill of ``region`` stands (None: none recorded)."""
        ...

    def close(self) -> None:
        """Let go of what the memory holds open."""
        ...


class NoArchive:
    """The archive's answers where there is none to read: nothing fetched, failed or pending."""

    def archived(self, key: Key) -> bool:
        return False

    def failed_for_good(self, url: str) -> bool:
        return False

    def captured(self, url: str) -> bool:
        return False

    def first_of_chain(self, run_ids: Sequence[int]) -> int | None:
        return None

    def fetched_since(self, key: Key, url: str, first_run_id: int) -> bool:
        return False

    def newest_before(self, host: str, since: Since) -> int | None:
        return None

    def archived_targets(self, key: Key) -> tuple[str, ...] | None:
        return None

    def pending(self) -> list[Pending]:
        return []

    def due_for_revisit(self, regions: Sequence[str], now: datetime, ages: Sequence[timedelta]) -> list[dict[str, Any]]:
        return []

    def backfill_state(self, region: str) -> dict[str, Any] | None:
        return None

    def close(self) -> None:
        pass


class LocalMemory(NoArchive):
    """The memory of a crawl that runs in one process, with no archive: two dictionaries."""

    resend_claimed = False

    def __init__(self) -> None:
        self._hops: dict[Key, int] = {}
        self._targets: dict[Key, tuple[str, ...]] = {}

    def lower_hops(self, key: Key, hops: int) -> int | None:
        known = self._hops.get(key)
        if known is None or hops < known:
            self._hops[key] = hops
        return known

    def hops(self, key: Key) -> int:
        return self._hops.get(key, 0)

    def targets(self, key: Key) -> tuple[str, ...] | None:
        return self._targets.get(key)

    def note_targets(self, key: Key, targets: tuple[str, ...]) -> int:
        self._targets[key] = targets
        return self.hops(key)
