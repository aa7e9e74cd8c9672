"""Items as JSON messages on the Redis list between workers and the ingester.

A message: ``{"id", "run", "kind", "key", "item"}``. ``kind`` names the item class (or
``RunStarted``); ``item`` is ``ItemAdapter(item).asdict()``; ``key`` says what the item is
about in its run ("article host id", "error url", ...), so the ingester stores each thing once
per run however often it is delivered or fetched (a worker killed before it acknowledged a
request, an ingester killed before it removed a message it had committed).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from itemadapter import ItemAdapter

from crawler.domain.items import (
    Article,
    ArticlePage,
    BackfillProgress,
    CaptureIndexed,
    CrawlError,
    Discovered,
    LeadImage,
    Link,
    NotModified,
    WarcRef,
)

RUN_STARTED = "RunStarted"
KINDS: dict[str, type] = {
    cls.__name__: cls
    for cls in (ArticlePage, Article, CrawlError, NotModified, Discovered, BackfillProgress, CaptureIndexed, LeadImage)
}


class MessageError(ValueError):
    """A message that is not one this version can read."""


@dataclass(frozen=True)
class Message:
    id: str
    run: str
    kind: str
    key: str
    item: Any  #: the item rebuilt (a crawler.domain.items dataclass), or the RunStarted mapping
    raw: bytes  #: the message as it sits in Redis (to remove it once stored)


def dedupe_key(item: Any) -> str:
    """What ``item`` is about: one article, one failed URL, one list page's discoveries..."""
    if isinstance(item, ArticlePage):
        return f"article {item.article.site} {item.article.article_id}"
    if isinstance(item, Article):
        return f"article {item.site} {item.article_id}"
    if isinstance(item, NotModified):
        return f"article {item.site} {item.article_id}"
    if isinstance(item, CrawlError):
        return f"error {item.url}"
    if isinstance(item, Discovered):
        return f"discovered {item.referer}"
    if isinstance(item, BackfillProgress):
        return f"backfill {item.region} {item.next_page}"
    if isinstance(item, CaptureIndexed):  # one exchange: its records' ids are unique
        return f"capture {item.rows[-1]['warc_record_id']}"
    if isinstance(item, LeadImage):
        return f"image {item.url}"
    raise MessageError(f"no message kind for {type(item).__name__}")


def encode(item: Any, run: str, message_id: str) -> bytes:
    """One crawler item -> message bytes."""
    kind = type(item).__name__
    if kind not in KINDS:
        raise MessageError(f"no message kind for {kind}")
    body = {"id": message_id, "run": run, "kind": kind, "key": dedupe_key(item), "item": ItemAdapter(item).asdict()}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def run_started(run: str, ledger: dict[str, Any], seeded_at: float) -> bytes:
    """The first message of a run: its options as crawl_runs.arguments stores them, and its start."""
    body = {
        "id": f"{run}/start",
        "run": run,
        "kind": RUN_STARTED,
        "key": "run",
        "item": {"ledger": ledger, "seeded_at": seeded_at},
    }
    return json.dumps(body, separators=(",", ":")).encode("utf-8")


def _article(data: dict[str, Any]) -> Article:
    fields = dict(data)
    fields["links"] = [Link(**link) for link in fields.get("links") or []]
    return Article(**fields)


def _capture(data: dict[str, Any] | None) -> WarcRef | None:
    return WarcRef(**data) if data is not None else None


def _build(kind: str, data: dict[str, Any]) -> Any:
    if kind == RUN_STARTED:
        return data
    if kind == "ArticlePage":
        follow = [(str(url), int(hops)) for url, hops in data.get("follow") or []]
        article = _article(data["article"])
        return ArticlePage(article, data.get("etag"), data.get("last_modified"), follow, _capture(data.get("capture")))
    if kind == "NotModified":
        return NotModified(**{**data, "capture": _capture(data.get("capture"))})
    if kind == "LeadImage":
        return LeadImage(**{**data, "capture": _capture(data.get("capture"))})
    if kind == "Article":
        return _article(data)
    if kind in ("Discovered", "BackfillProgress"):
        data = {**data, "follow": [(str(url), int(hops)) for url, hops in data.get("follow") or []]}
    return KINDS[kind](**data)


def decode(raw: bytes) -> Message:
    """Message bytes -> :class:`Message`; raises :class:`MessageError` for anything unreadable."""
    try:
        body = json.loads(raw)
        kind = body["kind"]
        if kind != RUN_STARTED and kind not in KINDS:
            raise MessageError(f"unknown message kind {kind!r}")
        return Message(str(body["id"]), str(body["run"]), kind, str(body["key"]), _build(kind, body["item"]), raw)
    except (ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, MessageError):
            raise
        raise MessageError(f"unreadable message ({exc}): {raw[:120]!r}") from None
