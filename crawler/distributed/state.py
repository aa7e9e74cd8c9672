"""The shared state of a distributed run in Redis: the run record, live workers, requests in flight."""

from __future__ import annotations

import json
import os
import secrets
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import redis
from scrapy_redis.connection import get_redis
from scrapy_redis.defaults import REDIS_PARAMS

from crawler.distributed import keys

#: A redis-py client made with decode_responses off (its annotations cannot say replies are bytes).
Redis = Any

#: Move one request from the queue to a worker's in-flight hash, atomically, so it is never in
#: neither place: KEYS queue, inflight hash; ARGV token. The entry keeps the score for a reclaim.
POP_TO_INFLIGHT = """
local found = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #found == 0 then return false end
redis.call('ZREM', KEYS[1], found[1])
redis.call('HSET', KEYS[2], ARGV[1], found[2] .. '|' .. found[1])
return found[1]
"""

#: Put the in-flight requests of a dead worker back in the queue, atomically, unless the worker
#: turned out to be alive: KEYS inflight hash, queue, heartbeat, owners set; ARGV worker.
#: Returns the count, -1 if alive.
RECLAIM = """
if redis.call('EXISTS', KEYS[3]) == 1 then return -1 end
local entries = redis.call('HVALS', KEYS[1])
for _, entry in ipairs(entries) do
  local cut = string.find(entry, '|', 1, true)
  redis.call('ZADD', KEYS[2], string.sub(entry, 1, cut - 1), string.sub(entry, cut + 1))
end
redis.call('DEL', KEYS[1])
redis.call('SREM', KEYS[4], ARGV[1])
return #entries
"""

#: Queue a request unless the seen-set has it, and acknowledge the taken request it replaces, in
#: one step: KEYS seen-set, queue, inflight hash; ARGV fingerprint ('' queues without asking the
#: seen-set), score, request, token ('' when none). Returns 1 when queued, 0 when seen before.
#: So a retry or redirect is in the queue before the request it follows leaves the in-flight
#: hash, and no request is ever in the seen-set without being queued (a kill between the two
#: used to lose it for good).
ENQUEUE = """
local queued = 1
if ARGV[1] ~= '' then queued = redis.call('SADD', KEYS[1], ARGV[1]) end
if queued == 1 then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3]) end
if ARGV[4] ~= '' then redis.call('HDEL', KEYS[3], ARGV[4]) end
return queued
"""

#: Record fewer hops for an article: KEYS hops hash; ARGV field, hops. Returns the previous value.
LOWER_HOPS = """
local old = redis.call('HGET', KEYS[1], ARGV[1])
if (not old) or tonumber(old) > tonumber(ARGV[2]) then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return old
"""

#: Note an article's targets if a shorter path to it can still turn up (hops > 0): KEYS hops,
#: targets; ARGV field, targets JSON. Returns the article's hops (0 when unknown).
NOTE_TARGETS = """
local hops = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if hops > 0 then redis.call('HSET', KEYS[2], ARGV[1], ARGV[2]) end
return hops
"""


class NotSeeded(RuntimeError):
    """No run has been seeded in this Redis database."""


class RedisUnavailable(RuntimeError):
    """The Redis server cannot be reached."""


def connect(url: str) -> Redis:
    """A client for ``url`` with scrapy-redis's connection defaults; fails fast when unreachable."""
    client: Redis = get_redis(url=url, **REDIS_PARAMS)
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        raise RedisUnavailable(f"cannot reach Redis at {url}: {exc}") from None
    return client


def new_worker_id() -> str:
    """Unique per process: host, pid and a random suffix (pids are reused)."""
    return f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"


@dataclass
class RunState:
    """The run ``antara seed`` started, as stored in ``antara:run``."""

    id: str
    state: str  #: running or finished
    arguments: dict[str, Any]  #: the antara spider's arguments, for every worker
    seeded_at: float  #: Unix time
    finished_at: float | None = None
    #: the options as crawl_runs.arguments stores them (mode, regions list, ...)
    ledger: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def load(cls, server: Redis) -> RunState | None:
        raw = server.hgetall(keys.RUN)
        if not raw:
            return None
        data = {k.decode(): v.decode() for k, v in raw.items()}
        return cls(
            id=data["id"],
            state=data.get("state", "running"),
            arguments=json.loads(data.get("arguments") or "{}"),
            seeded_at=float(data.get("seeded_at") or 0),
            finished_at=float(data["finished_at"]) if data.get("finished_at") else None,
            ledger=json.loads(data.get("ledger") or "{}"),
        )

    def save(self, server: Redis) -> None:
        values: dict[str, Any] = {
            "id": self.id,
            "state": self.state,
            "arguments": json.dumps(self.arguments, sort_keys=True),
            "ledger": json.dumps(self.ledger, sort_keys=True),
            "seeded_at": repr(self.seeded_at),
        }
        if self.finished_at is not None:
            values["finished_at"] = repr(self.finished_at)
        server.hset(keys.RUN, mapping=values)


def redis_now(server: Redis) -> float:
    """The Redis server's clock (Unix seconds): the one clock every worker of a run shares."""
    seconds, micros = server.time()
    return float(seconds) + micros / 1_000_000


def new_run_id() -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime()) + "-" + secrets.token_hex(2)


def register(server: Redis, worker: str, run: str, ttl: float) -> None:
    """Say ``worker`` is alive (heartbeat with a time to live of ``ttl`` seconds) and part of the run.

    Called before the worker takes its first request and at every heartbeat, so a worker
    never holds requests while it looks dead, and one wrongly taken for dead (a stalled
    process whose key expired) is counted again as soon as it beats.
    """
    with server.pipeline(transaction=True) as pipe:
        pipe.set(keys.heartbeat(worker), run, px=int(ttl * 1000))
        pipe.sadd(keys.RUN_WORKERS, worker)
        pipe.sadd(keys.OWNERS, worker)
        pipe.execute()


def _workers(server: Redis) -> list[str]:
    """Every worker that may hold requests: owners and the run's workers (a worker reclaimed while
    it was alive is no longer an owner, but its in-flight hash still counts)."""
    return sorted(m.decode() for m in server.sunion([keys.OWNERS, keys.RUN_WORKERS]))


def live_workers(server: Redis, candidates: list[str] | None = None) -> list[str]:
    """Workers whose heartbeat key still exists, among ``candidates`` (default: every owner and run worker)."""
    if candidates is None:
        candidates = _workers(server)
    if not candidates:
        return []
    with server.pipeline(transaction=False) as pipe:
        for worker in candidates:
            pipe.exists(keys.heartbeat(worker))
        alive = pipe.execute()
    return [w for w, a in zip(candidates, alive, strict=True) if a]


def in_flight(server: Redis) -> int:
    """Requests taken by some worker and not finished, over all workers, dead ones included."""
    workers = _workers(server)
    if not workers:
        return 0
    with server.pipeline(transaction=False) as pipe:
        for worker in workers:
            pipe.hlen(keys.inflight(worker))
        return int(sum(pipe.execute()))


def reclaim_dead(server: Redis, queue_key: str = keys.REQUESTS, exclude: str | None = None) -> int:
    """Put the in-flight requests of workers whose heartbeat expired back in the queue.

    They bypass the seen-set (they were seen). Atomic per worker, so two reclaimers never
    queue one request twice. Returns how many requests went back.
    """
    script = server.register_script(RECLAIM)
    total = 0
    for worker in _workers(server):
        if worker == exclude:
            continue
        keys_ = [keys.inflight(worker), queue_key, keys.heartbeat(worker), keys.OWNERS]
        moved = int(script(keys=keys_, args=[worker]))
        total += max(0, moved)
    return total


@dataclass(frozen=True)
class Progress:
    """A snapshot of a distributed run, for status lines and the end-of-run test."""

    queued: int
    in_flight: int
    workers: int
    items: int
    processing: int

    @classmethod
    def read(cls, server: Redis) -> Progress:
        return cls(
            queued=int(server.zcard(keys.REQUESTS)),
            in_flight=in_flight(server),
            workers=len(live_workers(server)),
            items=int(server.llen(keys.ITEMS)),
            processing=int(server.llen(keys.PROCESSING)),
        )

    @property
    def crawling(self) -> bool:
        """Requests are queued or in flight, or a worker is alive."""
        return bool(self.queued or self.in_flight or self.workers)

    def line(self) -> str:
        return f"queue {self.queued} | in flight {self.in_flight} | workers {self.workers} | items waiting {self.items}"


def seeded_arguments(settings: Any) -> dict[str, Any]:
    """The spider arguments of the run in progress, for a worker (raises NotSeeded)."""
    from scrapy_redis.connection import get_redis_from_settings

    run = RunState.load(get_redis_from_settings(settings))
    if run is None:
        raise NotSeeded("no run has been seeded in this Redis database: run `antara seed` first")
    if run.state != "running":
        raise NotSeeded(f"run {run.id} is over: run `antara seed` to start another")
    return dict(run.arguments)
