"""Every Redis key the distributed crawl uses, in one place (one deployment per Redis database)."""

from __future__ import annotations

PREFIX = "antara"
#: scrapy-redis request queue: a sorted set scored by -priority (``SCHEDULER_QUEUE_KEY``)
REQUESTS = f"{PREFIX}:requests"
#: scrapy-redis seen-set: a set of request fingerprints (``SCHEDULER_DUPEFILTER_KEY``)
DUPEFILTER = f"{PREFIX}:dupefilter"
#: fewest hops from a list page per article ("host/id" -> hops)
HOPS = f"{PREFIX}:hops"
#: Baca juga targets per article reached with hops > 0 ("host/id" -> JSON list)
TARGETS = f"{PREFIX}:targets"
#: the current run: id, state, spider arguments, seeded_at, finished_at
RUN = f"{PREFIX}:run"
#: workers that took part in the current run (ids)
RUN_WORKERS = f"{PREFIX}:run:workers"
#: workers that may hold requests in flight (ids)
OWNERS = f"{PREFIX}:inflight-owners"
#: items from workers to the ingester (LPUSH by workers, taken from the right end)
ITEMS = f"{PREFIX}:items"
#: items the ingester took and has not yet committed to the archive
PROCESSING = f"{PREFIX}:items:processing"
#: messages the ingester could not read, kept for a human to look at
FAILED = f"{PREFIX}:items:failed"


def heartbeat(worker: str) -> str:
    """Exists while the worker lives (refreshed with a time to live)."""
    return f"{PREFIX}:worker:{worker}"


def inflight(worker: str) -> str:
    """Hash token -> "score|request" of the requests the worker took and has not finished."""
    return f"{PREFIX}:inflight:{worker}"


def stats(worker: str) -> str:
    """Hash of the worker's Scrapy stats that the run's ledger sums."""
    return f"{PREFIX}:stats:{worker}"


def next_turn(host: str) -> str:
    """When the next request to ``host`` may be sent, in Redis time (microseconds); expires once past."""
    return f"{PREFIX}:turn:{host}"


def turn_interval(host: str) -> str:
    """The interval (microseconds) the last turn of ``host`` was taken with; expires with the turn."""
    return f"{PREFIX}:turn-interval:{host}"
