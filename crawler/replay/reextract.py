"""Rebuild or update the archive's articles from WARC files alone: no network, the crawl's own extraction.

Every response and revisit record at an article URL is replayed in capture order through the
same steps as a crawl (Scrapy's response classes and text decoding, ``extract_article``,
``Archive.upsert_article``), stamped with its WARC-Date. So re-extracting a crawl's WARC files
into an empty database gives the rows the crawl stored; into the archive itself, a row is
re-derived from the very record it names (``refresh``: no new version), and only records
newer than what a row has seen count as new observations.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from scrapy.http import Headers, Response
from scrapy.responsetypes import responsetypes

from archive import Archive
from archive.stories import update_archive
from archive.warc import Capture, iter_captures, read_capture, seen_at
from crawler import __version__
from crawler.domain.items import Article, CrawlError, WarcRef
from crawler.domain.regions import SITES
from crawler.extraction.urls import parse_article_url
from crawler.scrapy.pages import article_from_response
from crawler.scrapy.storage import provenance, with_link_keys


@dataclass
class Outcome:
    """What one re-extraction did."""

    run_id: int | None = None
    files: int = 0
    records: int = 0  #: WARC records read (every type)
    article_records: int = 0  #: responses and revisits at article URLs
    counts: Counter[str] = field(default_factory=Counter)  #: new, updated, unchanged, refreshed, ...
    errors: Counter[str] = field(default_factory=Counter)  #: extraction failures by reason

    def summary(self) -> str:
        c = self.counts
        errors = sum(self.errors.values())
        reasons = f" ({', '.join(f'{k} {v}' for k, v in sorted(self.errors.items()))})" if errors else ""
        return (
            f"Re-extracted {self.article_records} article records from {self.files} WARC file(s)"
            f" ({self.records} records): {c['new']} articles new, {c['updated']} updated, {c['unchanged']} unchanged,"
            f" {c['refreshed']} refreshed from their own capture, {c['versions_refreshed']} earlier versions"
            f" refreshed, {c['touched']} not-modified, {c['older']} older than the row, {c['skipped']} skipped,"
            f" {errors} not extractable{reasons}"
        )


def response_from_capture(capture: Capture) -> Response:
    """The Scrapy response a crawl's callback got for this record: payload decoded the way
    HttpCompressionMiddleware decodes it, and the same response class."""
    headers = Headers()
    for name, value in capture.headers:
        headers.appendlist(name, value)
    body = capture.body()
    if b"Content-Encoding" in headers and body != capture.payload:
        del headers[b"Content-Encoding"]
    cls = responsetypes.from_args(headers=headers, url=capture.url, body=body)
    return cls(url=capture.url, status=capture.status or 200, headers=headers, body=body)


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def reextract(db: str | Path, paths: Iterable[str | Path], progress: Callable[[str], None] | None = None) -> Outcome:
    """Replay the article records of ``paths`` into the archive ``db`` (created if missing)."""
    files = [Path(p) for p in paths]
    outcome = Outcome(files=len(files))
    originals: dict[str, tuple[Path, int]] = {}
    todo: list[tuple[str, str, int, Path]] = []
    with Archive(db) as archive:
        archive.sync_regions(r.as_row() for r in SITES)
        for path in files:
            rows = []
            for capture in iter_captures(path):
                record = capture.record
                rows.append(record.as_row())
                if record.record_type == "response":
                    originals[record.record_id] = (path, record.offset)
                if record.record_type in ("response", "revisit") and parse_article_url(capture.url):
                    todo.append((record.date, path.name, record.offset, path))
            archive.record_captures(rows)
            outcome.records += len(rows)
            if progress:
                progress(f"indexed {path.name}: {len(rows)} records")
        todo.sort()
        outcome.article_records = len(todo)
        outcome.run_id = archive.start_run(
            {"mode": "reextract", "warc": [p.name for p in files]}, [], __version__, "reextract"
        )
        for _date, _name, offset, path in todo:
            capture = read_capture(path, offset)
            if capture.record.record_type == "revisit":
                found = originals.get(capture.record.refers_to or "")
                if found is None:
                    outcome.counts["skipped"] += 1  # its original is in none of the files given
                    continue
                capture = capture.with_payload_of(read_capture(*found))
            kind = _replay(archive, capture, outcome.run_id)
            outcome.counts[kind] += 1
            if kind.startswith("error:"):
                outcome.counts.pop(kind)
                outcome.errors[kind[6:]] += 1
        counts = {
            "articles_new": outcome.counts["new"],
            "articles_updated": outcome.counts["updated"],
            "articles_unchanged": outcome.counts["unchanged"] + outcome.counts["refreshed"],
            "errors": sum(outcome.errors.values()),
            "errors_by_kind": dict(outcome.errors),
            "requests": 0,
            "pages_fetched": 0,
        }
        update_archive(archive)  # stories of the articles without one (archive/stories.py)
        archive.finish_run(outcome.run_id, "finished", "finished", counts)
    return outcome


def _replay(archive: Archive, capture: Capture, run_id: int) -> str:
    """Apply one article record to the archive; returns what happened."""
    ref = parse_article_url(capture.url)
    assert ref is not None
    state = archive.article_state(ref.host, ref.article_id)
    record_id = capture.record.record_id
    if capture.status == 304:
        if state is None or not _newer(archive, capture, state):
            return "skipped" if state is None else "older"
        archive.touch(ref.host, ref.article_id, run_id, now=seen_at(capture.record.date))
        return "touched"
    if capture.status is None or not 200 <= capture.status < 300:
        return "skipped"  # the crawl recorded an error for it, not a row
    article = article_from_response(response_from_capture(capture))
    if isinstance(article, CrawlError):
        return f"error:{article.reason}"
    row = _row(article, capture)
    if state is not None and record_id in state["versions"]:
        archive.refresh_version(state["url"], state["versions"][record_id], row)
        return "versions_refreshed"
    if state is not None and state["warc_record_id"] == record_id:
        archive.upsert_article(row, run_id, refresh=True)
        return "refreshed"
    if state is not None and not _newer(archive, capture, state):
        return "older"
    return archive.upsert_article(row, run_id, now=seen_at(capture.record.date)).outcome


def _newer(archive: Archive, capture: Capture, state: dict[str, Any]) -> bool:
    """Whether the record was captured after everything the row has seen."""
    known = [_when(state["last_seen_at"])]
    if state["warc_record_id"]:
        row_capture = archive.capture(state["warc_record_id"])
        known.append(_when(row_capture["fetched_at"]) if row_capture else None)
    latest = max((k for k in known if k is not None), default=None)
    when = _when(capture.record.date)
    return latest is None or (when is not None and when > latest)


def _row(article: Article, capture: Capture) -> dict[str, Any]:
    record = capture.record
    row = with_link_keys(asdict(article))
    row.update(
        etag=capture.header("ETag"),
        last_modified=capture.header("Last-Modified"),
        **provenance(WarcRef(record.file, record.offset, record.length, record.record_id, record.date)),
    )
    return row
