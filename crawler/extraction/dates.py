"""Date parsing for ANTARA pages: a small table-driven regex parser, not dateparser.

The sites print a handful of fixed formats ("Kamis, 20 Oktober 2022 15:02 WIB", and on the
English service "Monday, November 30, 2026 15:02 WIB", ISO 8601 in metadata, RFC 2822 in feeds,
"26 menit lalu" or "2 hours ago" on lists), so a few anchored regular
expressions and a month table are exact, fast and predictable where dateparser would be
heavy, slow and apt to guess.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from email.utils import parsedate_to_datetime

from crawler.domain.regions import ZONES

__all__ = ["DateError", "find_date_text", "parse_date", "to_iso"]


class DateError(ValueError):
    """A date string that cannot be turned into a real, aware datetime."""

    def __init__(self, text: object, why: str = "unrecognised date") -> None:
        super().__init__(f"{why}: {text!r}")
        self.text = text
        self.why = why


#: Month names and abbreviations, Indonesian and English, lowercase.
MONTHS: dict[str, int] = {}
for _number, _names in enumerate(
    (
        "januari jan january",
        "februari feb pebruari peb february",
        "maret mar march",
        "april apr",
        "mei may",
        "juni jun june",
        "juli jul july",
        "agustus agu agt ags aug august",
        "september sep sept",
        "oktober okt oct october",
        "november nov nopember nop",
        "desember des dec december",
    ),
    start=1,
):
    for _name in _names.split():
        MONTHS[_name] = _number

#: Weekday names that may precede a date; they are checked, never used.
WEEKDAYS = frozenset(
    "senin selasa rabu kamis jumat jum'at sabtu minggu ahad sen sel rab kam jum sab min "
    "monday tuesday wednesday thursday friday saturday sunday "
    "mon tue wed thu fri sat sun".split()
)

#: Seconds per unit of a relative list date ("26 menit lalu", "2 hours ago").
RELATIVE_UNITS: dict[str, int] = {
    "detik": 1,
    "second": 1,
    "menit": 60,
    "minute": 60,
    "jam": 3600,
    "hour": 3600,
    "hari": 86400,
    "day": 86400,
    "minggu": 604800,
    "pekan": 604800,
    "week": 604800,
}

_ZONE = r"(?P<tz>wita|wib|wit|utc|gmt|z|[+-]\d{2}(?::?\d{2})?)"
_TIME = (
    r"(?:\s*,?\s*(?:pukul\s+|jam\s+|at\s+)?(?P<H>\d{1,2})[:.](?P<M>\d{2})(?:[:.](?P<S>\d{2}))?"
    r"(?:\s*(?P<ampm>[ap])\.?m\.?)?)?"
)
_WEEKDAY = r"(?:(?P<wd>[a-z']+)\s*,?\s*)?"

_TEXTUAL = re.compile(
    rf"^{_WEEKDAY}(?P<d>\d{{1,2}})\s*(?P<mon>[a-z]+)\.?\s*,?\s*(?P<y>\d{{4}}){_TIME}\s*{_ZONE}?$",
    re.IGNORECASE,
)
# English, month first: "Monday, November 30, 2026 15:02 WIB", "Nov. 30th 2026, 3:02 pm".
_MONTH_FIRST = re.compile(
    rf"^(?:(?P<wd>[a-z']+)(?:\s*,\s*|\s+))?(?P<mon>[a-z]{{3,}})\.?\s*(?P<d>\d{{1,2}})(?:st|nd|rd|th)?\s*,?\s*(?P<y>\d{{4}}){_TIME}\s*{_ZONE}?$",
    re.IGNORECASE,
)
_NUMERIC = re.compile(
    rf"^{_WEEKDAY}\(?(?P<d>\d{{1,2}})/(?P<m>\d{{1,2}})/(?P<y>\d{{4}})\)?{_TIME}\s*{_ZONE}?$",
    re.IGNORECASE,
)
_ISO = re.compile(
    r"^(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})"
    r"(?:[T ](?P<H>\d{2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,]\d+)?)?)?"
    r"\s*(?P<tz>z|[+-]\d{2}(?::?\d{2})?)?$",
    re.IGNORECASE,
)
_RFC2822 = re.compile(
    r"^(?:(?:mon|tue|wed|thu|fri|sat|sun),\s*)?\d{1,2}\s+"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)\s+\d{4}\s+"
    r"\d{1,2}:\d{2}(?::\d{2})?\s+(?:[+-]\d{4}|gmt|ut|utc)$",
    re.IGNORECASE,
)
_RELATIVE = re.compile(
    r"^(?P<n>\d{1,4}|se|a|an)\s*(?P<unit>[a-z]+?)s?\s+(?:yang\s+)?(?:lalu|ago)$",
    re.IGNORECASE,
)
_JUST_NOW = re.compile(r"^(?:baru\s+saja|just\s+now|sekarang)$", re.IGNORECASE)

#: Finds a date inside a longer text (a list teaser's share line, an info bar).
_FIND = re.compile(
    r"(?:\b(?:senin|selasa|rabu|kamis|jum'?at|sabtu|minggu|ahad|mon|tue|wed|thu|fri|sat|sun)"
    r"[a-z]*\s*,?\s*)?"
    r"(?:\b\d{1,2}\s*[a-z]{3,9}\.?\s*,?\s*\d{4}|\(?\b\d{1,2}/\d{1,2}/\d{4}\)?)"
    r"(?:\s*,?\s*(?:pukul\s+)?\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)?"
    r"(?:\s*(?:wita|wib|wit|utc|gmt)\b|\s*[+-]\d{2}:?\d{2})?"
    r"|(?:\b(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*\s*,?\s*)?"
    r"\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?\s*\d{1,2}(?:st|nd|rd|th)?\s*,\s*\d{4}"
    r"(?:\s*,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}(?:[:.]\d{2})?(?:\s*[ap]\.?m\b\.?)?)?"
    r"(?:\s*(?:wita|wib|wit|utc|gmt)\b|\s*[+-]\d{2}:?\d{2})?"
    r"|\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:z|[+-]\d{2}:?\d{2})?)?"
    r"|\b(?:\d{1,4}\s*|se)(?:detik|menit|jam|hari|minggu|pekan)\s+(?:yang\s+)?lalu\b"
    r"|\b(?:\d{1,4}|an?)\s+(?:second|minute|hour|day|week)s?\s+ago\b"
    r"|\bbaru\s+saja\b",
    re.IGNORECASE,
)

# The printed form of nearly every article, exactly as printed (single spaces, an upper-case zone):
# "Kamis, 20 Oktober 2022 15:02 WIB" and on the English service "Monday, November 30, 2026 15:02 WIB"
# (the zone label may be missing: the region's zone applies).
# Read without the general path's tries; whatever these do not settle goes down the general path.
_USUAL_DAY_FIRST = re.compile(r"([A-Za-z']+), (\d{1,2}) ([A-Za-z]+) (\d{4}) (\d{1,2}):(\d{2})(?: (WIB|WITA|WIT))?")
_USUAL_MONTH_FIRST = re.compile(r"([A-Za-z']+), ([A-Za-z]+) (\d{1,2}), (\d{4}) (\d{1,2}):(\d{2})(?: (WIB|WITA|WIT))?")

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"), None)


def _clean(text: str) -> str:
    if not text.isascii():  # isascii() is O(1); only non-ASCII text can hold zero-width characters
        text = text.translate(_ZERO_WIDTH)
    return " ".join(text.split())


def _zone(label: str | None, default_zone: str) -> tzinfo:
    """The tzinfo for a printed label or offset, or for ``default_zone`` when there is none."""
    if not label:
        return ZONES[default_zone]
    upper = label.upper()
    if upper in ZONES:
        return ZONES[upper]
    if upper in ("Z", "UTC", "GMT"):
        return timezone.utc
    sign = -1 if upper[0] == "-" else 1
    digits = upper[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:4] or 0)
    if hours > 14 or minutes > 59:
        raise ValueError(f"offset {label} out of range")
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def _build(text: str, match: re.Match[str], month: int, default_zone: str) -> datetime:
    """Datetime from a match's year/day/time/zone groups and a month number."""
    year = int(match.group("y"))
    if not 1900 <= year <= 2100:
        raise DateError(text, "year out of range")
    hour = int(match.group("H") or 0)
    ampm = match.groupdict().get("ampm")  # only the textual forms have one
    if ampm:
        if not 1 <= hour <= 12:
            raise DateError(text, f"hour {hour} with am/pm")
        hour = hour % 12 + (12 if ampm.lower() == "p" else 0)
    try:
        return datetime(
            year,
            month,
            int(match.group("d")),
            hour,
            int(match.group("M") or 0),
            int(match.group("S") or 0),
            tzinfo=_zone(match.group("tz"), default_zone),
        )
    except ValueError as exc:
        raise DateError(text, f"impossible date ({exc})") from None


def _check_weekday(text: str, match: re.Match[str]) -> None:
    weekday = match.group("wd")
    if weekday and weekday.lower() not in WEEKDAYS:
        raise DateError(text, f"unknown weekday {weekday!r}")


def _relative(text: str, match: re.Match[str], default_zone: str, now: datetime | None) -> datetime:
    unit = match.group("unit").lower()
    if unit not in RELATIVE_UNITS:
        raise DateError(text, f"unknown time unit {unit!r}")
    if now is None:
        raise DateError(text, "relative date needs a reference time (now)")
    count = match.group("n").lower()
    amount = 1 if count in ("se", "a", "an") else int(count)
    return _anchor(now, default_zone) - timedelta(seconds=amount * RELATIVE_UNITS[unit])


def _anchor(now: datetime, default_zone: str) -> datetime:
    """``now`` in the site's zone, whole seconds; a naive ``now`` is taken as site-local."""
    zone = ZONES[default_zone]
    local = now.replace(tzinfo=zone) if now.tzinfo is None else now.astimezone(zone)
    return local.replace(microsecond=0)


def parse_date(text: str, default_zone: str = "WIB", now: datetime | None = None) -> datetime:
    """Aware datetime for a date as ANTARA prints it, in any of the formats it uses.

    Accepts "Kamis, 20 Oktober 2022 15:02 WIB" (label optional, weekday optional, seconds
    optional, hour unpadded, ``.`` or ``:`` between hour and minute), the English forms
    "Monday, November 30, 2026 15:02 WIB" (month first, "30th", "at 3:02 pm" too) and
    "Mon, 30 Nov 2026 15:02 WIB", "(20/10/2022)" style numeric dates, ISO 8601 (``Z``,
    ``+07:00``, ``+0700`` or no offset), RFC 2822 feed dates and relative list dates
    ("26 menit lalu", "2 hours ago", "baru saja", "just now") resolved against ``now``.
    A date without a zone label or offset is taken as local to ``default_zone``; a date
    without a time is taken as midnight. Raises :class:`DateError` on anything else,
    including impossible dates (31 Februari, hour 25) and relative dates without ``now``.
    """
    if default_zone not in ZONES:
        raise DateError(default_zone, "unknown default zone")
    usual = _usual(text, default_zone) if type(text) is str else None
    return usual if usual is not None else _parse_general(text, default_zone, now)


def _parse_general(text: str, default_zone: str, now: datetime | None) -> datetime:
    """:func:`parse_date` for any of its forms (the usual printed one included)."""
    if not isinstance(text, str):
        raise DateError(text, "not a string")
    clean = _clean(text)
    if not clean:
        raise DateError(text, "empty date")
    if len(clean) > 80:
        raise DateError(clean[:80] + "...", "too long to be a date")
    if _RFC2822.match(clean):
        return _rfc2822(text, clean)
    # month first before day first: "November 30th, 2026" would read as day 30 of month "th"
    for textual in (_MONTH_FIRST, _TEXTUAL):
        match = textual.match(clean)
        if match:
            _check_weekday(text, match)
            month = MONTHS.get(match.group("mon").lower())
            if month is None:
                raise DateError(text, f"unknown month {match.group('mon')!r}")
            return _build(text, match, month, default_zone)
    match = _ISO.match(clean)
    if match:
        return _build(text, match, int(match.group("m")), default_zone)
    match = _NUMERIC.match(clean)
    if match:
        _check_weekday(text, match)
        return _build(text, match, int(match.group("m")), default_zone)
    match = _RELATIVE.match(clean)
    if match:
        return _relative(text, match, default_zone, now)
    if _JUST_NOW.match(clean):
        if now is None:
            raise DateError(text, "relative date needs a reference time (now)")
        return _anchor(now, default_zone)
    raise DateError(text)


def _usual(text: str, default_zone: str) -> datetime | None:
    """The date of ``text`` when it is printed in the usual form (see ``_USUAL_DAY_FIRST``), else
    None (the general path decides, and raises where it must). Gives what the general path gives:
    the form has no zero-width or extra space to clean, and no RFC 2822 zone."""
    match = _USUAL_DAY_FIRST.fullmatch(text)
    if match is not None:
        weekday, day, month_name, year, hour, minute, zone = match.groups()
    else:
        match = _USUAL_MONTH_FIRST.fullmatch(text)
        if match is None:
            return None
        weekday, month_name, day, year, hour, minute, zone = match.groups()
    month = MONTHS.get(month_name.lower())
    if month is None or weekday.lower() not in WEEKDAYS or not 1900 <= int(year) <= 2100:
        return None
    try:
        return datetime(int(year), month, int(day), int(hour), int(minute), tzinfo=ZONES[zone or default_zone])
    except ValueError:
        return None


def _rfc2822(text: str, clean: str) -> datetime:
    try:
        parsed = parsedate_to_datetime(clean)
    except (TypeError, ValueError) as exc:
        raise DateError(text, f"impossible date ({exc})") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=timezone.utc)


def find_date_text(text: str) -> str | None:
    """The first date-looking part of a longer text (whitespace folded), or None."""
    match = _FIND.search(_clean(text))
    return match.group(0).strip() if match else None


def to_iso(dt: datetime) -> str:
    """ISO 8601 with seconds and a colon in the offset, e.g. ``2022-10-20T15:02:00+07:00``."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise DateError(dt, "naive datetime has no offset")
    return dt.isoformat(timespec="seconds")
