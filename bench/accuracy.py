"""Field accuracy of our extraction and of trafilatura on the project's fixture pages.

Run from the project root: .venv/bin/python bench/accuracy.py   (needs the ``bench`` extra: trafilatura)

For every ``tests/fixtures/articles/*.html`` whose ``.json`` expects an article (not an error), both
extractors get the page and its URL; per field the share of pages where the value is right:

- title, reporter: exact match after whitespace folding (pages whose expected value is null are left out);
- date with offset: ``published_at`` exactly, e.g. ``2022-10-20T15:02:00+07:00``;
- date (day): only the calendar day, the most trafilatura's date (htmldate) gives;
- body: token F1 of lowercased word tokens (``\\w+``) against the expected body, averaged over pages.
"""

from __future__ import annotations

import json
import re
import statistics
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from crawler.extraction import ExtractionError, extract_article

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "articles"
Fields = dict[str, str | None]


def ours(html: bytes, url: str) -> Fields:
    try:
        a = extract_article(html, url)
    except ExtractionError:
        return {}
    return {"title": a.title, "published_at": a.published_at, "reporter": a.reporter, "body": a.body}


def trafilatura_fields(html: bytes, url: str) -> Fields:
    import trafilatura

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        doc = trafilatura.bare_extraction(html, url=url, with_metadata=True)
    if doc is None:
        return {}
    return {"title": doc.title, "published_at": doc.date, "reporter": doc.author, "body": doc.text}


def fold(value: str | None) -> str | None:
    return " ".join(value.split()) if value else None


def token_f1(got: str | None, want: str) -> float:
    a, b = Counter(re.findall(r"\w+", (got or "").lower())), Counter(re.findall(r"\w+", want.lower()))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def score(extract: Callable[[bytes, str], Fields], cases: list[tuple[bytes, str, dict[str, Any]]]) -> dict[str, float]:
    hits: dict[str, list[float]] = {
        "title": [],
        "date with offset": [],
        "date (day)": [],
        "reporter": [],
        "body F1": [],
    }
    for html, url, want in cases:
        got = extract(html, url)
        if want.get("title"):
            hits["title"].append(fold(got.get("title")) == fold(want["title"]))
        if want.get("published_at"):
            date = got.get("published_at") or ""
            hits["date with offset"].append(date == want["published_at"])
            hits["date (day)"].append(date[:10] == want["published_at"][:10])
        if want.get("reporter"):
            hits["reporter"].append(fold(got.get("reporter")) == fold(want["reporter"]))
        hits["body F1"].append(token_f1(got.get("body"), want["body"]))
    return {field: statistics.mean(values) for field, values in hits.items()}


def cases() -> list[tuple[bytes, str, dict[str, Any]]]:
    out = []
    for page in sorted(FIXTURES.glob("*.html")):
        spec = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        if "expected" in spec:
            out.append((page.read_bytes(), spec["url"], spec["expected"]))
    return out


def main() -> None:
    pages = cases()
    results = {"ours (extract_article)": score(ours, pages)}
    try:
        results["trafilatura.bare_extraction"] = score(trafilatura_fields, pages)
    except ImportError:
        print("trafilatura not installed: pip install -e '.[bench]' to compare it")
    fields = list(next(iter(results.values())))
    print(f"{len(pages)} fixture article pages ({FIXTURES.relative_to(Path.cwd())})")
    print(f"{'extractor':30s}" + "".join(f"{f:>18s}" for f in fields))
    for name, values in results.items():
        print(f"{name:30s}" + "".join(f"{values[f]:>18.3f}" for f in fields))


if __name__ == "__main__":
    main()
