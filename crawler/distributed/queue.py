"""scrapy-redis's priority queue, made reliable: a taken request stays in Redis until it is done."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterable
from typing import Any

from scrapy import Request
from scrapy.utils.request import request_from_dict
from scrapy_redis.queue import PriorityQueue

from crawler.distributed import keys
from crawler.distributed.serializer import SerializationError
from crawler.distributed.state import ENQUEUE, POP_TO_INFLIGHT

logger = logging.getLogger(__name__)

#: ``Request.meta`` key holding the in-flight token of a request taken from the queue.
TOKEN = "antara_inflight"


class ReliablePriorityQueue(PriorityQueue):  # type: ignore[misc]
    """A sorted set scored by -priority, as scrapy-redis's PriorityQueue, plus an in-flight hash.

    scrapy-redis pops requests destructively: a worker killed with requests downloading
    loses them, and the seen-set keeps them from ever being queued again. Here ``pop`` moves
    the request into the worker's hash ``antara:inflight:{worker}`` in one atomic step (Lua),
    the scheduler acknowledges it once its response and everything the callback yielded are
    handled, and the requests of a worker whose heartbeat expired go back in the queue
    (:func:`crawler.distributed.state.reclaim_dead`).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.worker: str | None = None
        self._tokens = itertools.count(1)
        self._pop = self.server.register_script(POP_TO_INFLIGHT)
        self._enqueue = self.server.register_script(ENQUEUE)

    def encode(self, request: Request) -> Any:
        """``request`` as queued: what scrapy-redis's queue stores (its dict through the serializer)."""
        return self.serializer.dumps(request.to_dict(spider=self.spider))

    def decode(self, data: Any) -> Request:
        """The request queued as ``data`` (the serializer raises on anything but a plain request)."""
        request: Request = request_from_dict(self.serializer.loads(data), spider=self.spider)
        return request

    def bind(self, worker: str) -> None:
        """Take requests for ``worker`` from now on, recording them in its in-flight hash."""
        self.worker = worker
        self.server.sadd(keys.OWNERS, worker)

    def push(self, request: Request) -> None:
        request.meta.pop(TOKEN, None)  # a token is this worker's business, never queued
        super().push(request)

    def enqueue(self, request: Request, seen_key: str, fingerprint: bytes | None, token: str | None) -> bool:
        """Queue ``request`` unless the seen-set ``seen_key`` holds ``fingerprint`` (None: queue it
        anyway), and acknowledge ``token`` (the taken request it follows), in one atomic step.
        Returns whether it was queued."""
        request.meta.pop(TOKEN, None)
        data = self.encode(request)
        inflight = keys.inflight(self.worker or "")
        args = [fingerprint or b"", -request.priority, data, token if token and self.worker else ""]
        return bool(self._enqueue(keys=[seen_key, self.key, inflight], args=args))

    def pop(self, timeout: int = 0) -> Request | None:
        if self.worker is None:
            return super().pop(timeout)  # type: ignore[no-any-return]
        token = str(next(self._tokens))
        data = self._pop(keys=[self.key, keys.inflight(self.worker)], args=[token])
        if data is None:
            return None
        try:
            request = self.decode(data)
        except (SerializationError, ValueError, KeyError, AttributeError) as exc:
            logger.error("dropping a queued request that cannot be read (%s): %.200r", exc, data)
            self.server.lpush(f"{self.key}:failed", data)
            self.ack([token])
            return None
        request.meta[TOKEN] = token
        return request

    def ack(self, tokens: Iterable[str]) -> None:
        """The requests behind ``tokens`` are done: forget them."""
        tokens = list(tokens)
        if tokens and self.worker is not None:
            self.server.hdel(keys.inflight(self.worker), *tokens)
