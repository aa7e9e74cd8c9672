"""Crawl options: parsed and validated once, for the CLI and for ``scrapy crawl -a`` alike."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from crawler.domain.regions import REGIONS, Region, UnknownRegion, parse_regions


class OptionError(ValueError):
    """A crawl option with a bad value; the message names the option and the value."""


#: what ``--since`` does, for the help of every command that takes it
SINCE_HELP = (
    "Store only articles published on or after this (YYYY-MM-DD, each site's local date, or an ISO time"
    " with offset): older list entries are skipped, paging stops after a page that ends with an older one,"
    " and older Baca juga targets are kept as links only (not fetched when their id shows their age)."
)


@dataclass(frozen=True)
class Since:
    """Lower bound on publication time: a local calendar date, or an exact instant."""

    text: str
    day: date | None = None
    instant: datetime | None = None

    def sql_bound(self) -> tuple[str | None, str | None]:
        """(day, instant) as ISO strings, one of them None, for archive queries."""
        return (
            self.day.isoformat() if self.day else None,
            self.instant.isoformat() if self.instant else None,
        )

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


def parse_since(text: str, option: str = "--since") -> Since:
    """``YYYY-MM-DD`` (a local date on each site) or an ISO 8601 date-time with offset."""
    text = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            return Since(text, day=date.fromisoformat(text))
        except ValueError as exc:
            raise OptionError(f"{option} {text!r} is not a real date ({exc})") from None
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise OptionError(
            f"{option} {text!r} is not a date: use YYYY-MM-DD or an ISO 8601 time like 2026-11-01T06:00:00+07:00"
        ) from None
    if instant.tzinfo is None:
        raise OptionError(f"{option} {text!r} needs a UTC offset, e.g. {text}+07:00 (or give a plain date)")
    return Since(text, instant=instant)


def _non_negative_int(name: str, value: Any, minimum: int = 0) -> int:
    try:
        number = int(str(value).strip())
    except ValueError:
        raise OptionError(f"{name} {value!r} is not a whole number") from None
    if number < minimum:
        raise OptionError(f"{name} must be at least {minimum}, got {number}")
    return number


MODES = ("full", "incremental", "backfill")

#: Default ages at which a recent article is fetched again to notice corrections.
DEFAULT_REVISIT = "1h,1d,7d"

_AGE = re.compile(r"^(\d+)\s*([mhdw])$")
_AGE_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_revisit(text: str | None) -> tuple[timedelta, ...]:
    """``1h,1d,7d`` -> ages; ``off`` or empty -> none."""
    if text is None or text.strip().lower() in ("", "off", "none", "0"):
        return ()
    ages = []
    for part in text.split(","):
        match = _AGE.match(part.strip().lower())
        if not match or int(match.group(1)) == 0:
            raise OptionError(f"--revisit {text!r}: each age is a number and a unit m, h, d or w, e.g. 1h,1d,7d")
        ages.append(timedelta(**{_AGE_UNITS[match.group(2)]: int(match.group(1))}))
    return tuple(sorted(set(ages)))


def parse_pages(text: str | None) -> tuple[int, int | None]:
    """``5-40`` -> (5, 40); ``5-`` or ``5`` -> (5, None)."""
    if not text:
        return 1, None
    match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d*)\s*)?", text)
    if not match or int(match.group(1)) < 1:
        raise OptionError(f"--pages {text!r} is not a page range like 5-40 (pages count from 1)")
    first, last = int(match.group(1)), match.group(2)
    if last and int(last) < first:
        raise OptionError(f"--pages {text!r} ends before it starts")
    return first, int(last) if last else None


def _choose_regions(regions: str | list[str] | None, all_regions: bool) -> list[Region]:
    if all_regions:
        return list(REGIONS)
    try:
        chosen = parse_regions(regions or [])
    except UnknownRegion as exc:
        raise OptionError(str(exc)) from None
    if not chosen:
        raise OptionError("no region given: pass --region SLUG (e.g. kalteng) or --all-regions")
    return chosen


@dataclass(frozen=True)
class CrawlOptions:
    """What one crawl should do; see ``antara crawl --help`` and ``antara backfill --help``."""

    regions: list[Region]
    mode: str = "full"
    max_pages: int = 3
    follow_depth: int = 2
    since: Since | None = None
    #: backfill: stop once a page's last article is older than this
    until: Since | None = None
    #: backfill: first and last list page (None: no last page)
    pages: tuple[int, int | None] = (1, None)
    #: incremental: ages at which recent articles are fetched again
    revisit: tuple[timedelta, ...] = ()
    #: incremental: look at the RSS feed before the list pages
    feeds: bool = True
    #: with ``since``: fetch and store Baca juga targets older than it too
    follow_older: bool = False
    #: fetch each stored article's lead image once (off unless asked; ``antara schedule``'s units ask)
    images: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def parse(
        cls,
        regions: str | list[str] | None,
        max_pages: Any = None,
        follow_depth: Any = 2,
        since: str | None = None,
        all_regions: bool = False,
        mode: str = "full",
        until: str | None = None,
        pages: str | None = None,
        revisit: str | None = None,
        feeds: Any = True,
        follow_older: Any = False,
        images: Any = False,
    ) -> CrawlOptions:
        if mode not in MODES:
            raise OptionError(f"mode {mode!r} is not one of {', '.join(MODES)}")
        chosen = _choose_regions(regions, all_regions)
        default_pages = {"full": 3, "incremental": 20, "backfill": 1_000_000}[mode]
        first, last = parse_pages(pages)
        if mode == "backfill" and until is None and last is None:
            raise OptionError("backfill needs an end: --until DATE or --pages FIRST-LAST")
        return cls(
            regions=chosen,
            mode=mode,
            max_pages=_non_negative_int("--max-pages", max_pages, minimum=1)
            if max_pages is not None
            else default_pages,
            follow_depth=_non_negative_int("--follow-depth", follow_depth),
            since=parse_since(since) if since else None,
            until=parse_since(until, "--until") if until else None,
            pages=(first, last),
            revisit=parse_revisit(DEFAULT_REVISIT if revisit is None and mode == "incremental" else revisit),
            feeds=str(feeds).lower() not in ("0", "false", "no", "off"),
            follow_older=str(follow_older).lower() in ("1", "true", "yes", "on"),
            images=str(images).lower() in ("1", "true", "yes", "on"),
        )

    def spider_arguments(self) -> dict[str, Any]:
        """Keyword arguments for the ``antara`` spider that rebuild these options."""
        first, last = self.pages
        return {
            "regions": ",".join(r.slug for r in self.regions),
            "mode": self.mode,
            "max_pages": self.max_pages,
            "follow_depth": self.follow_depth,
            "since": self.since.text if self.since else None,
            "until": self.until.text if self.until else None,
            "pages": f"{first}-{last if last is not None else ''}",
            "revisit": ",".join(f"{int(a.total_seconds() // 60)}m" for a in self.revisit) or "off",
            "feeds": self.feeds,
            "follow_older": self.follow_older,
            "images": self.images,
        }

    def as_arguments(self) -> dict[str, Any]:
        """The options as stored in ``crawl_runs.arguments``."""
        args: dict[str, Any] = {
            "mode": self.mode,
            "regions": [r.slug for r in self.regions],
            "max_pages": self.max_pages,
            "follow_depth": self.follow_depth,
            "since": self.since.text if self.since else None,
        }
        if self.since and self.follow_older:
            args["follow_older"] = True
        args["images"] = self.images
        if self.mode == "incremental":
            args["revisit"] = [int(a.total_seconds()) for a in self.revisit]
            args["feeds"] = self.feeds
        if self.mode == "backfill":
            args["until"] = self.until.text if self.until else None
            args["pages"] = list(self.pages)
        return args


def setting_overrides(
    extra: Mapping[str, Any] | None = None,
    *,
    mirror: str | None = None,
    warc: bool = True,
    warc_dir: str | None = None,
    redis_url: str | None = None,
) -> dict[str, Any]:
    """The Scrapy settings a run's choices set above the project's, for a crawl, a worker and a seed alike.

    ``extra`` are the ``-s NAME=VALUE`` settings, given over a distributed run's (``redis_url``:
    ``ANTARA_DISTRIBUTED`` and ``REDIS_URL``) and under the flags: ``warc=False`` (``--no-warc``),
    ``warc_dir`` (made absolute) and ``mirror``, a checked http(s) URL without its trailing slash.
    """
    chosen: dict[str, Any] = {"ANTARA_DISTRIBUTED": True, "REDIS_URL": redis_url} if redis_url else {}
    chosen.update(extra or {})
    if not warc:
        chosen["ANTARA_WARC"] = False
    if warc_dir:  # a worker captures only into a folder it is given (docs/distributed.md)
        chosen["ANTARA_WARC_DIR"] = os.path.abspath(warc_dir)
    if mirror:
        chosen["ANTARA_MIRROR"] = mirror
    return chosen
