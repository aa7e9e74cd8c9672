"""Times as the archive stores them: ISO 8601 in UTC with seconds."""

from __future__ import annotations

from datetime import datetime, timezone


def parse_utc(value: str) -> datetime:
    """An ISO 8601 time in UTC (a time without an offset is taken as UTC)."""
    parsed = datetime.fromisoformat(value)
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


def utc_now() -> str:
    """Current time as ISO 8601 UTC with seconds, e.g. ``2026-11-28T06:42:47+00:00``."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
