"""Crawl memory shared by every worker of a run: fewest hops and Baca juga targets, in Redis."""

from __future__ import annotations

import json
from typing import Any

from scrapy_redis.connection import get_redis_from_settings

from crawler.distributed import keys
from crawler.distributed.state import LOWER_HOPS, NOTE_TARGETS
from crawler.domain.memory import Key, NoArchive


def _field(key: Key) -> str:
    return f"{key[0]}/{key[1]}"


class RedisMemory(NoArchive):
    """:class:`crawler.domain.memory.CrawlMemory` over two Redis hashes, updated atomically (Lua).

    A worker never reads the archive (it may be on a machine without it; only the ingester
    touches it): the archive's answers are those of :class:`~crawler.domain.memory.NoArchive`.

    When one worker fetched an article through a long chain and another later finds a shorter
    one, the second still follows the article's targets with the hops it now has left, as a
    single-process crawl does. Targets are kept only for articles reached with hops > 0: one
    found on a list page can never be reached by a shorter path.
    """

    #: several workers share it: a claim in it does not prove the claimant queued the request
    resend_claimed = True

    def __init__(self, server: Any) -> None:
        self.server = server
        self._lower = server.register_script(LOWER_HOPS)
        self._note = server.register_script(NOTE_TARGETS)

    @classmethod
    def from_settings(cls, settings: Any) -> RedisMemory:
        return cls(get_redis_from_settings(settings))

    def lower_hops(self, key: Key, hops: int) -> int | None:
        old = self._lower(keys=[keys.HOPS], args=[_field(key), hops])
        return None if old is None else int(old)

    def hops(self, key: Key) -> int:
        value = self.server.hget(keys.HOPS, _field(key))
        return int(value) if value is not None else 0

    def targets(self, key: Key) -> tuple[str, ...] | None:
        value = self.server.hget(keys.TARGETS, _field(key))
        return tuple(json.loads(value)) if value is not None else None

    def note_targets(self, key: Key, targets: tuple[str, ...]) -> int:
        return int(self._note(keys=[keys.HOPS, keys.TARGETS], args=[_field(key), json.dumps(list(targets))]))
