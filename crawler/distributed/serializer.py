"""JSON for requests in the shared queue (``SCHEDULER_SERIALIZER``), never pickle.

scrapy-redis pickles ``Request.to_dict()`` by default; unpickling runs code, so anyone able to
write to the Redis server could run code in every worker. JSON carries only data: bytes
(headers, body) and tuples (callback arguments such as ``key=(host, id)``) are tagged, and
only plain ``scrapy.Request`` objects are accepted back.
"""

from __future__ import annotations

import json
from typing import Any


class SerializationError(ValueError):
    """A request holds something that is not plain data, or queued data is not a request."""


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, bytes):
        return {"$b": value.decode("latin-1")}
    if isinstance(value, tuple):
        return {"$t": [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in value):
            return {k: _encode(v) for k, v in value.items()}
        return {"$d": [[_encode(k), _encode(v)] for k, v in value.items()]}
    raise SerializationError(f"cannot queue a {type(value).__name__} ({value!r:.80}): use plain data")


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return [_decode(v) for v in value]
    if isinstance(value, dict):
        if len(value) == 1:
            ((tag, inner),) = value.items()
            if tag == "$b":
                return inner.encode("latin-1")
            if tag == "$t":
                return tuple(_decode(v) for v in inner)
            if tag == "$d":
                return {_decode(k): _decode(v) for k, v in inner}
        return {k: _decode(v) for k, v in value.items()}
    return value


def dumps(obj: dict[str, Any]) -> bytes:
    """``Request.to_dict()`` -> bytes."""
    return json.dumps(_encode(obj), separators=(",", ":")).encode("utf-8")


def loads(data: bytes | str) -> dict[str, Any]:
    """Bytes -> a dict for ``request_from_dict``; refuses other Request classes."""
    obj = _decode(json.loads(data))
    if not isinstance(obj, dict) or "url" not in obj:
        raise SerializationError(f"queued data is not a request: {str(data)[:80]!r}")
    if "_class" in obj:
        raise SerializationError(f"queued request of class {obj['_class']!r}: only scrapy.Request is accepted")
    return obj
