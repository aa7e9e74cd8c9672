"""Dump what ``extract_article`` returns for every fixture page and many sample-site pages, as JSON lines,
so two versions of the extractor can be compared byte for byte.

Run from the project root: .venv/bin/python bench/extraction_identity.py --pages 300 > new.jsonl
For an older version, put its tree first on the path:
    git archive REF | tar -x -C /tmp/ref && PYTHONPATH=/tmp/ref .venv/bin/python bench/extraction_identity.py > old.jsonl
then ``cmp old.jsonl new.jsonl`` (or ``diff``). Each line is one page: its name, then the Article as
``to_dict()`` or the error's reason and message. Sample-site pages include fault pages, AMP copies and
the pages served to a bare http URL.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

from crawler.extraction import ExtractionError, extract_article
from crawler.samplesite import SampleSite
from crawler.samplesite.model import ArticleSpec
from crawler.samplesite.routes import Router

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "articles"


def fixture_pages() -> Iterator[tuple[str, bytes, str]]:
    for page in sorted(FIXTURES.glob("*.html")):
        spec = json.loads(page.with_suffix(".json").read_text(encoding="utf-8"))
        yield f"fixture {page.stem}", page.read_bytes(), spec["url"]


def site_pages(count: int, seed: int) -> Iterator[tuple[str, bytes, str]]:
    """``count`` good pages per template, then every fault page of the site; every fifth as its AMP copy."""
    site = SampleSite(articles=max(count * 80, 100), seed=seed)  # new-template pages are mostly national ones
    router = Router(site)
    chosen: dict[str, list[ArticleSpec]] = {"old": [], "new": []}
    for k in range(site.articles):
        spec = site.article_at(k)
        if spec.fault is None and len(chosen[spec.template]) < count:
            chosen[spec.template].append(spec)
    for n, spec in enumerate([*chosen["old"], *chosen["new"], *site.faults()]):
        amp = n % 5 == 0
        path = f"/{spec.host}/amp/berita/{spec.article_id}/{spec.slug}" if amp else f"/{spec.host}{spec.path}"
        page = router.get(path)
        body = page.body if isinstance(page.body, bytes) else page.body.encode("utf-8")
        url = spec.amp_url if amp else spec.url
        yield f"site {seed} {n} {spec.template} {spec.fault or 'ok'}{' amp' if amp else ''}", body, url


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300, help="good sample-site pages per template and seed")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 7])
    args = parser.parse_args()
    pages = [*fixture_pages(), *(p for seed in args.seeds for p in site_pages(args.pages, seed))]
    for name, html, url in pages:
        try:
            result: object = extract_article(html, url).to_dict()
        except ExtractionError as exc:
            result = {"error": exc.reason.value, "message": str(exc)}
        sys.stdout.write(json.dumps({"page": name, "result": result}, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(pages)} pages", file=sys.stderr)


if __name__ == "__main__":
    main()
