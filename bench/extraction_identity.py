"""Dump what ``extract_article`` returns for every fixture page and many sample-site pages, as JSON lines,
so two versions of the extractor can be compared byte for byte.

Run from the project root: .venv/bin/python bench/extraction_identity.py --pages 300 > new.jsonl
For an older version, put its tree first on the path:
    mkdir /tmp/ref && git archive REF crawler | tar -x -C /tmp/ref
    PYTHONPATH=/tmp/ref .venv/bin/python bench/extraction_identity.py > old.jsonl
then ``cmp old.jsonl new.jsonl`` (or ``diff``). Each line is one page: its name, then the Article as
``to_dict()`` or the error's reason and message. Besides the fixtures, variants of them with odd markup (see
``EDITS``) and sample-site pages, fault pages and AMP copies included.
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


#: Byte edits applied to every fixture page, each giving a variant with odd markup: classes split by
#: other whitespace, containers missing or repeated, paragraphs with ids, breaks and headings moved.
EDITS: list[tuple[bytes, bytes]] = [
    (b'class="', b'class="\t'),
    (b'class="', b'class="\xc2\xa0'),
    (b"post-wrapper", b"post-wrapperX"),
    (b'wrap__article-detail"', b'wrap__article-detailX"'),
    (b"wrap__article-detail-content", b"wrap__article-detail-contentX"),
    (b"post-content", b"post-contentX"),
    (b"</p>", b"<br></p>"),
    (b"<p>", b'<p id="x">'),
    (b"<p>", b"<p><b>a</b><i>b</i>"),
    (b"</p>", b'<span class="x">s</span></p>'),
    (b"<h1", b"<h2"),
    (b"article-date", b"article-dateX"),
    (b"wrap__article-detail-info", b"wrap__article-detail-infoX"),
    (b"breadcrumbs__item", b"breadcrumbs__itemX"),
    (b"text-muted", b"text-mutedX"),
    (b"<footer", b'<div class="tags-wrapper"><ul><li><a href="/tag/z">z</a></li></ul></div><footer'),
    (b'<div class="blog-tags', b'<div class="blog-tags"><a href="/tag/q">q</a></div><div class="blog-tags'),
    (b"blog-tags", b"blog-tagsX"),
    (b"tags-wrapper", b"tags-wrapperX"),
    (
        b'<div class="wrap__article-detail-content',
        b'<div class="wrap__article-detail-image"><p><img data-src="/x.jpg"></p><figcaption>c</figcaption></div>'
        b'<div class="wrap__article-detail-title"><h1>T2</h1></div><div class="wrap__article-detail-content',
    ),
    (b"wp-caption-text", b"wp-caption-textX"),
    (b"figcaption", b"p"),
    (b"simple-share", b"simple-share x"),
    (b"<header", b'<p class="simple-share"><a href="/c">C</a></p><header'),
    (b"post-header", b"post-headerX"),
    (b"data-src", b"data-srcX"),
    (b'<link rel="canonical"', b'<link rel="canonical" href="/berita/1/x"><link'),
    (b'rel="canonical" href="https://', b'rel="canonical" href="http://'),
    (b"/berita/", b"/BERITA/"),
    (b"application/ld+json", b"text/plain"),
]


def variant_pages() -> Iterator[tuple[str, bytes, str]]:
    for name, html, url in fixture_pages():
        for n, (old, new) in enumerate(EDITS):
            if old in html:
                yield f"variant {n} {name}", html.replace(old, new), url


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
    pages = [*fixture_pages(), *variant_pages(), *(p for seed in args.seeds for p in site_pages(args.pages, seed))]
    for name, html, url in pages:
        try:
            result: object = extract_article(html, url).to_dict()
        except ExtractionError as exc:
            result = {"error": exc.reason.value, "message": str(exc)}
        sys.stdout.write(json.dumps({"page": name, "result": result}, ensure_ascii=False, sort_keys=True) + "\n")
    print(f"{len(pages)} pages", file=sys.stderr)


if __name__ == "__main__":
    main()
