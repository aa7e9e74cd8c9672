"""The ``field_coverage`` JSON of runs and sites: articles parsed and, per field, how many lacked it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


def parse_coverage(text: Any) -> tuple[int, dict[str, int]] | None:
    """(articles parsed, missing per field) of a ``field_coverage`` JSON; None when unreadable."""
    try:
        coverage = json.loads(text)
        return int(coverage.get("articles", 0)), {str(k): int(v) for k, v in dict(coverage["missing"]).items()}
    except (TypeError, ValueError, KeyError, AttributeError):
        return None


def coverage_counts(text: Any) -> dict[str, int]:
    """A ``field_coverage`` JSON as the counts that make it: ``articles_stored``, ``missing/<field>``."""
    coverage = parse_coverage(text)
    if coverage is None:
        return {}
    return {"articles_stored": coverage[0], **{f"missing/{name}": n for name, n in coverage[1].items()}}


def has_coverage(counts: Mapping[str, int]) -> bool:
    return any(name == "articles_stored" or name.startswith("missing/") for name in counts)


def add_coverage(text: Any, counts: Mapping[str, int]) -> str:
    """The ``field_coverage`` JSON ``text`` with ``counts`` (``articles_stored``, ``missing/<field>``) added."""
    parsed, missing = parse_coverage(text) or (0, {})
    parsed += counts.get("articles_stored", 0)
    for name, count in counts.items():
        if name.startswith("missing/"):
            field = name.removeprefix("missing/")
            missing[field] = missing.get(field, 0) + count
    return json.dumps({"articles": parsed, "missing": missing}, sort_keys=True)
