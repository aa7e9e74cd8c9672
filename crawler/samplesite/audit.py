"""Audit a crawl of the sample site in fault mode: was every fault survived or recorded, and nothing lost?

Compares what the server answered (its :class:`~crawler.samplesite.faults.Answer` records)
with what the archive holds. Reads the SQLite file with the standard library only.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from crawler.domain.regions import region_for_host
from crawler.samplesite.faults import EXPECTED_REASON, INVALID_BYTES, Answer, resource
from crawler.samplesite.model import SampleSite

#: Fields of an archived article compared with the site's truth.
FIELDS = ("url", "title", "body", "published_at", "dateline", "reporter", "editor", "category", "image_url")
_REPLACEMENT = "\ufffd" * len(INVALID_BYTES)  # what a decoder makes of the invalid bytes


def key_of_url(url: str) -> str:
    """The :func:`~crawler.samplesite.faults.resource` key of a real ANTARA URL."""
    parts = urlsplit(url)
    return resource(f"/{(parts.hostname or '').lower()}{parts.path}")[0]


@dataclass
class FaultAudit:
    """What a fault-mode crawl met and what became of it."""

    requests: int = 0  #: requests the site answered (redirect-loop hops not counted)
    faults: Counter[str] = field(default_factory=Counter)  #: faults served, by kind
    retried: Counter[str] = field(default_factory=Counter)  #: faults followed by another attempt
    recorded: Counter[str] = field(default_factory=Counter)  #: final faults found in crawl_errors as expected
    harmless: Counter[str] = field(default_factory=Counter)  #: final faults the article was archived through
    articles_served: int = 0  #: article pages whose last answer was a good article
    articles_archived: int = 0  #: rows in ``articles``
    lost: list[str] = field(default_factory=list)  #: served good, not archived (or archived wrong)
    unaccounted: list[str] = field(default_factory=list)  #: final faults without the expected outcome
    wrongly_archived: list[str] = field(default_factory=list)  #: archived although the last answer was broken
    #: requests that reached this server outside the mirror layout: a crawler that followed an
    #: off-site link or redirect to the loopback canary (``http://127.0.0.1:PORT/canary/...``)
    offsite_requests: list[str] = field(default_factory=list)
    integrity: str = ""  #: ``PRAGMA integrity_check``

    @property
    def ok(self) -> bool:
        problems = self.lost or self.unaccounted or self.wrongly_archived or self.offsite_requests
        return not problems and self.integrity == "ok"

    def summary(self) -> str:
        injected = sum(self.faults.values())
        return (
            f"{self.requests} requests, {injected} faults injected ({sum(self.retried.values())} retried,"
            f" {sum(self.recorded.values())} recorded in crawl_errors, {sum(self.harmless.values())} archived"
            f" through), {self.articles_served} articles served correctly, {self.articles_archived} archived,"
            f" {len(self.lost)} lost, {len(self.unaccounted)} faults unaccounted,"
            f" {len(self.offsite_requests)} off-site requests, integrity {self.integrity}"
        )


def audit(site: SampleSite, answers: list[Answer], db: str | Path) -> FaultAudit:
    """Check the archive ``db`` of a crawl against the ``answers`` the site gave it."""
    report = FaultAudit(requests=len(answers))
    last: dict[str, Answer] = {}
    for answer in answers:
        if region_for_host(answer.key.split("/", 1)[0]) is None:
            report.offsite_requests.append(answer.target)
        if answer.fault:
            report.faults[answer.fault] += 1
        previous = last.get(answer.key)
        if previous is not None and previous.fault:
            report.retried[previous.fault] += 1
        last[answer.key] = answer
    conn = sqlite3.connect(f"{Path(db).resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        articles = {f"{r['site']}/berita/{r['article_id']}": dict(r) for r in conn.execute("SELECT * FROM articles")}
        errors: dict[str, set[str]] = {}
        for row in conn.execute("SELECT url, reason FROM crawl_errors"):
            errors.setdefault(key_of_url(row["url"]), set()).add(row["reason"])
        report.integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()
    report.articles_archived = len(articles)
    for key, answer in last.items():
        expected = EXPECTED_REASON.get(answer.fault) if answer.fault else None
        spec = None
        if answer.kind == "article":
            host, _, number = key.partition("/berita/")
            spec = site.article(host, int(number))
            if expected is None and (spec is None or spec.fault):  # a broken page of the site itself
                continue
        if expected is not None:
            if expected in errors.get(key, set()):
                report.recorded[str(answer.fault)] += 1
            else:
                report.unaccounted.append(f"{answer.target}: {answer.fault}, no {expected} row")
            if key in articles and answer.kind == "article":
                report.wrongly_archived.append(f"{answer.target}: {answer.fault}")
            continue
        if answer.kind != "article" or spec is None:
            continue
        report.articles_served += 1
        row = articles.get(key)
        if row is None:
            report.lost.append(f"{spec.url}: served {answer.fault or 'correctly'}, not archived")
            continue
        if answer.fault:
            report.harmless[answer.fault] += 1
        title = row["title"].replace(_REPLACEMENT, "") if answer.fault == "invalid_utf8" else row["title"]
        wrong = [name for name in FIELDS if (title if name == "title" else row[name]) != getattr(spec, name)]
        if json.loads(row["tags"] or "[]") != list(spec.tags):
            wrong.append("tags")
        if wrong:
            report.lost.append(f"{spec.url}: served {answer.fault or 'correctly'}, archived with wrong {wrong}")
    return report
