"""The archive record a correct crawl stores for a sample-site article, without any HTTP.

Used to build big archives quickly (benchmarks, tests of the archive library).
"""

from __future__ import annotations

import hashlib
from typing import Any

from crawler.extraction.urls import parse_article_url
from crawler.samplesite.english import EnglishArticleSpec
from crawler.samplesite.model import ArticleSpec


def article_record(spec: ArticleSpec) -> dict[str, Any]:
    """Fields of ``crawler.domain.items.Article`` for ``spec``, as ``archive.Archive.upsert_article`` takes them."""
    return {
        "url": spec.url,
        "site": spec.host,
        "region": spec.region,
        "article_id": spec.article_id,
        "title": spec.title,
        "summary": spec.summary,
        "body": spec.body,
        "published_at": spec.published_at,
        "published_at_raw": spec.published_at_raw or spec.published_at,
        "dateline": spec.dateline,
        "reporter": spec.reporter,
        "editor": spec.editor,
        "category": spec.category,
        "tags": spec.tags,
        "image_url": spec.image_url,
        "image_caption": spec.image_caption,
        "word_count": len(spec.body.split()),
        "content_hash": hashlib.sha256(f"{spec.title}\n\n{spec.body}".encode()).hexdigest(),
        "template": spec.template,
        "links": [_link(link.url, link.title) for link in spec.baca_juga_links],
        **_language(spec),
    }


def _language(spec: ArticleSpec) -> dict[str, Any]:
    """``language`` and ``translator``: those of an English article, ``id`` and none for the others."""
    if isinstance(spec, EnglishArticleSpec):
        return {"language": spec.language, "translator": spec.translator}
    return {"language": "id", "translator": None}


def _link(url: str, title: str) -> dict[str, Any]:
    """A Baca juga link with its target's site and article id."""
    ref = parse_article_url(url)
    assert ref is not None  # the sample site links articles only
    return {"url": url, "anchor_text": title, "kind": "baca_juga", "site": ref.host, "article_id": ref.article_id}
