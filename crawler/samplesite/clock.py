"""The sample site's simulated clock: what is published, edited and out of service at a given "now".

A :class:`Clock` is a plan that follows from a seed: when the simulation starts, which share of
the articles published after the start get one correction some hours after publication, and the
outage windows during which a region's host answers nothing but errors. ``SampleSite.set_clock``
attaches it and ``SampleSite.set_now`` moves "now"; from then on the site holds exactly the
articles published at or before "now" (list pages, feeds and article pages alike). Nothing here
reads the real clock.

A site without a clock is unchanged: every article it was built with is published.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from crawler.samplesite.model import SampleSite

#: How a host that is down answers: HTTP 503 to every request, or a closed connection, no answer.
OUTAGE_KINDS = ("http_503", "refused")


def _draw(*parts: object) -> int:
    data = ":".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def parse_time(text: str) -> datetime:
    """An ISO 8601 time with its offset (``Z`` allowed); ValueError without an offset."""
    when = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"{text!r} has no UTC offset (e.g. 2026-11-27T06:00:00+00:00)")
    return when


@dataclass(frozen=True)
class Outage:
    """A window during which every page of one region's host fails."""

    region: str  #: region slug
    start: datetime  #: aware; the first instant of the outage
    end: datetime  #: aware; the first instant after it
    kind: str = "http_503"  #: one of :data:`OUTAGE_KINDS`

    def covers(self, when: datetime) -> bool:
        return self.start <= when < self.end

    def as_dict(self) -> dict[str, str]:
        return {"region": self.region, "start": self.start.isoformat(), "end": self.end.isoformat(), "kind": self.kind}


@dataclass(frozen=True)
class Clock:
    """The simulated time line of a sample site: its start, its edits and its outages."""

    start: datetime  #: aware; "now" when the clock is attached
    seed: int = 0
    #: share of the articles published after ``start`` that get one correction
    edit_share: float = 0.0
    #: a correction lands this many hours (first to last, whole minutes between) after publication
    edit_hours: tuple[int, int] = (2, 20)
    outages: tuple[Outage, ...] = ()

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("the clock's start must carry a UTC offset")
        if not 0.0 <= self.edit_share <= 1.0:
            raise ValueError("the edit share must be between 0 and 1")
        if not 0 <= self.edit_hours[0] <= self.edit_hours[1]:
            raise ValueError("edit hours must be a range of hours, first <= last")
        for outage in self.outages:
            if outage.kind not in OUTAGE_KINDS or outage.end <= outage.start or outage.start.tzinfo is None:
                raise ValueError(f"not a usable outage window: {outage}")

    def edit_delay(self, host: str, index: int) -> timedelta | None:
        """How long after publication article ``index`` of ``host`` is corrected (None: never)."""
        h = _draw(self.seed, host, index, "edit")
        if (h % 1_000_000) / 1_000_000 >= self.edit_share:
            return None
        first, last = (hours * 60 for hours in self.edit_hours)
        return timedelta(minutes=first + (h >> 24) % (last - first + 1))

    def outage(self, region: str, when: datetime) -> Outage | None:
        """The outage of ``region`` going on at ``when``, or None."""
        return next((o for o in self.outages if o.region == region and o.covers(when)), None)


def plan_outages(
    seed: int,
    start: datetime,
    hours: int,
    regions: Sequence[str],
    count: int,
    duration_hours: tuple[int, int] = (6, 24),
    kinds: Sequence[str] = OUTAGE_KINDS,
) -> tuple[Outage, ...]:
    """``count`` outage windows of whole hours among ``regions``, drawn with ``seed``.

    Each lies within ``start + 2 h`` and ``start + hours - 2 h`` (so runs before and after it
    see the site up), and no two windows of one region touch. Fewer come back when they do not fit.
    """
    rng = random.Random(f"{seed}:outages")
    chosen: list[Outage] = []
    shortest, longest = duration_hours
    for n in range(count):
        for _attempt in range(50):
            region = regions[(n + rng.randrange(len(regions))) % len(regions)]
            length = rng.randint(shortest, longest)
            latest = hours - 2 - length
            if latest < 2:
                break
            first = start + timedelta(hours=rng.randint(2, latest))
            window = Outage(region, first, first + timedelta(hours=length), kinds[n % len(kinds)])
            if all(o.region != region or window.end < o.start or o.end < window.start for o in chosen):
                chosen.append(window)
                break
    return tuple(sorted(chosen, key=lambda o: (o.start, o.region)))


def truth(site: SampleSite, regions: Iterable[str] | None = None) -> dict[str, Any]:
    """What the site holds at its "now", JSON-ready: per region every published article (hidden and
    broken ones included, newest first) with its revision, and the clock's outages and edits so far.
    The English service (``en``) is listed only when asked for, its rows with ``"language": "en"``."""
    slugs = list(regions) if regions is not None else [r.slug for r in site.regions]
    clock, now = site.clock, site.now
    articles: dict[str, list[dict[str, Any]]] = {}
    edits: list[dict[str, str]] = []
    for slug in slugs:
        if slug == "en":  # the English service: no clock edits, no faults (crawler.samplesite.english)
            from crawler.samplesite.english import truth_rows

            articles[slug] = truth_rows(site)
            continue
        rows = articles[slug] = []
        for spec in site.articles_of(slug):
            edited = site.edit_time(spec)
            rows.append(
                {
                    "article_id": spec.article_id,
                    "url": spec.url,
                    "published_at": spec.published_at,
                    "hidden": spec.hidden,
                    "fault": spec.fault,
                    "revision": site.revision(spec.host, spec.article_id),
                    "edited_at": edited.isoformat() if edited else None,
                }
            )
            if site.republish:  # which articles are one story (absent otherwise: the output stays as it was)
                rows[-1]["story"] = site.story(spec)
            if edited is not None and now is not None and edited <= now:
                edits.append({"url": spec.url, "at": edited.isoformat()})
    return {
        "now": now.isoformat() if now else None,
        "start": clock.start.isoformat() if clock else None,
        "articles": articles,
        "edits": sorted(edits, key=lambda e: e["at"]),
        "outages": [o.as_dict() for o in clock.outages if now is None or o.start <= now] if clock else [],
    }
