"""Crawl options: parsed and validated once, for the CLI and for ``scrapy crawl -a`` alike."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from crawler.regions import REGIONS, Region, UnknownRegion, parse_regions


class OptionError(ValueError):
    """A crawl option with a bad value; the message names the option and the value."""


@dataclass(frozen=True)
class Since:
    """Lower bound on publication time: a local calendar date, or an exact instant."""

    text: str
    day: date | None = None
    instant: datetime | None = None

    def admits(self, published_at: str | None) -> bool:
        """True when an article published at ``published_at`` (ISO with offset) is not older."""
        if published_at is None:
            return True
        try:
            when = datetime.fromisoformat(published_at)
        except ValueError:
            return True
        if self.day is not None:
            return when.date() >= self.day  # the article's own local date
        assert self.instant is not None
        return when >= self.instant


def parse_since(text: str) -> Since:
    """``YYYY-MM-DD`` (a local date on each site) or an ISO 8601 date-time with offset."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return Since(text, day=date.fromisoformat(text))
        except ValueError as exc:
            raise OptionError(f"--since {text!r} is not a real date ({exc})") from None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise OptionError(
            f"--since {text!r} is not a date: use YYYY-MM-DD or an ISO 8601 time like 2026-11-01T06:00:00+07:00"
        ) from None
    if instant.tzinfo is None:
        raise OptionError(f"--since {text!r} needs a UTC offset, e.g. {text}+07:00 (or give a plain date)")
    return Since(text, instant=instant)


def _non_negative_int(name: str, value: Any, minimum: int = 0) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise OptionError(f"{name} {value!r} is not a whole number") from None
    if number < minimum:
        raise OptionError(f"{name} must be at least {minimum}, got {number}")
    return number


@dataclass(frozen=True)
class CrawlOptions:
    regions: list[Region]
    max_pages: int = 3
    follow_depth: int = 2
    since: Since | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(
        cls,
        regions: str | list[str] | None,
        max_pages: Any = 3,
        follow_depth: Any = 2,
        since: str | None = None,
        all_regions: bool = False,
    ) -> CrawlOptions:
        if all_regions:
            chosen = list(REGIONS)
        else:
            if not regions:
                raise OptionError("no region given: pass --region SLUG (e.g. kalteng) or --all-regions")
            try:
                chosen = parse_regions(regions)
            except UnknownRegion as exc:
                raise OptionError(str(exc)) from None
            if not chosen:
                raise OptionError("no region given: pass --region SLUG (e.g. kalteng) or --all-regions")
        return cls(
            regions=chosen,
            max_pages=_non_negative_int("--max-pages", max_pages, minimum=1),
            follow_depth=_non_negative_int("--follow-depth", follow_depth),
            since=parse_since(since) if since else None,
        )

    def as_arguments(self) -> dict[str, Any]:
        """The options as stored in ``crawl_runs.arguments``."""
        return {
            "regions": [r.slug for r in self.regions],
            "max_pages": self.max_pages,
            "follow_depth": self.follow_depth,
            "since": self.since.text if self.since else None,
        }
