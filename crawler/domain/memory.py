"""What a crawl remembers about the articles it reached: fewest hops and Baca juga targets."""

from __future__ import annotations

from typing import Protocol

#: An article's identity: (host, numeric id).
Key = tuple[str, int]


class CrawlMemory(Protocol):
    """Hops and targets per article for one run, shared by every process of the run."""

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


class LocalMemory:
    """The memory of a crawl that runs in one process: two dictionaries."""

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
