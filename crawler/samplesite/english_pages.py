"""Pages of the sample site's English service (``en.antaranews.com``): HTML, RSS and their routes."""

from __future__ import annotations

import re
from email.utils import format_datetime
from html import escape
from typing import TYPE_CHECKING

from crawler.domain.regions import ENGLISH
from crawler.samplesite import english_words as E
from crawler.samplesite.english import EnglishArticleSpec, EnglishService, as_json, english
from crawler.samplesite.model import ANCHOR, slugify
from crawler.samplesite.render import ROBOTS_TXT

if TYPE_CHECKING:
    from crawler.samplesite.model import SampleSite

_ARTICLE = re.compile(r"^/(amp/)?news/(\d{1,12})(?:/[^/]*)?$")
_LIST = re.compile(r"^/latest-news(?:/(\d{1,6}))?$")
HOST = ENGLISH.host


def _a(text: str) -> str:
    return escape(text, quote=True)


def _t(text: str) -> str:
    return escape(text, quote=False)


def page(site: SampleSite, path: str) -> tuple[str, str] | None:
    """The English host's answer to ``path`` (no query, no trailing slash but on "/"): ``(kind, text)``
    with kind ``html``, ``rss`` or ``text``; None for a page it does not have (a 404)."""
    service = english(site)
    if path == "/":
        return "html", list_page(service, 1, home=True)
    if path == "/robots.txt":
        return "text", ROBOTS_TXT
    if path == ENGLISH.feed_path:
        return "rss", rss(service)
    match = _ARTICLE.match(path)
    if match:
        spec = service.article(int(match.group(2)))
        return None if spec is None else ("html", article(spec, amp=bool(match.group(1))))
    match = _LIST.match(path)
    if match:
        number = int(match.group(1) or 1)
        return ("html", list_page(service, number)) if 1 <= number <= service.pages else None
    return None


def _chrome(title: str, head: str, main: str, amp: bool = False) -> str:
    html_tag = '<html amp lang="en">' if amp else '<html lang="en">'
    return (
        f'<!DOCTYPE html>\n{html_tag}\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_t(title)}</title>\n{head}"
        f'<link rel="alternate" type="application/rss+xml" title="ANTARA News" href="https://{HOST}{ENGLISH.feed_path}">\n'
        "</head>\n<body>\n"
        f'<header class="header-news"><nav class="navbar navbar-expand-lg"><a class="navbar-brand" href="https://{HOST}/">'
        'ANTARA News</a><ul class="navbar-nav">'
        f'<li class="nav-item"><a class="nav-link" href="https://{HOST}/latest-news">Latest News</a></li>'
        '<li class="nav-item"><a class="nav-link" href="https://www.antaranews.com/">Bahasa Indonesia</a></li>'
        "</ul></nav></header>\n"
        f'<section class="pb-80"><div class="container"><div class="row"><div class="col-md-8">\n{main}\n'
        "</div></div></div></section>\n"
        f'<footer class="wrapper__footer"><p>&copy; {ANCHOR.year} ANTARA</p></footer>\n</body>\n</html>\n'
    )


def _also_read(spec: EnglishArticleSpec, k: int) -> list[str]:
    out = []
    for n, link in enumerate(spec.baca_juga_links):
        if link.after == k:
            label = E.ALSO_READ[(spec.index + n) % len(E.ALSO_READ)]
            out.append(f'<p>{label} <a href="{_a(link.href)}">{_t(link.title)}</a></p>')
    return out


def article(spec: EnglishArticleSpec, amp: bool = False) -> str:
    """``/news/{id}/{slug}`` (``amp``: ``/amp/news/...``) in the new template."""
    head = [
        f'<meta name="description" content="{_a(spec.summary)}">',
        f'<meta name="keywords" content="{_a(",".join(spec.tags))}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{_a(spec.title)}">',
        f'<meta property="og:url" content="{spec.url}">',
        f'<meta property="og:image" content="{spec.image_url}">',
        f'<meta property="article:published_time" content="{spec.published_at}">',
        f'<meta property="article:section" content="{_a(spec.category)}">',
        f'<link rel="canonical" href="{spec.url}">',
    ]
    if not amp:
        head.append(f'<link rel="amphtml" href="{spec.amp_url}">')
    head.append(f'<script type="application/ld+json">{as_json(spec)}</script>')
    body: list[str] = []
    for k, text in enumerate(spec.paragraphs):
        body.append(f"<p>{_t(text)}</p>")
        body += _also_read(spec, k)
    credits = [f"Reporter: {_t(spec.reporter)}"]
    if spec.translator:
        credits.append(f"Translator: {_t(spec.translator)}")
    credits += [f"Editor: {_t(spec.editor)}", f"Copyright &copy; ANTARA {spec.published_at[:4]}"]
    body.append(f'<p class="text-muted mt-2 small">{"<br>".join(credits)}</p>')
    tags = "".join(
        f'<li class="list-inline-item"><a href="https://{HOST}/tag/{slugify(t)}">{_t(t)}</a></li>' for t in spec.tags
    )
    main = "\n".join(
        [
            '<ul class="breadcrumbs bg-light mb-4">',
            f'<li class="breadcrumbs__item"><a href="https://{HOST}/" class="breadcrumbs__url">'
            '<i class="fa fa-home"></i> Home</a></li>',
            f'<li class="breadcrumbs__item"><a href="https://{HOST}/{slugify(spec.category)}" '
            f'class="breadcrumbs__url">{_t(spec.category)}</a></li>',
            "</ul>",
            '<div class="wrap__article-detail">',
            f'<div class="wrap__article-detail-title"><h1>{_t(spec.title)}</h1></div>',
            '<div class="wrap__article-detail-info"><ul class="list-inline d-flex flex-wrap">'
            '<li class="list-inline-item">'
            f'<span class="text-secondary font-weight-normal"><i class="fa fa-clock-o"></i> '
            f"{_t(spec.published_at_raw or '')}</span></li></ul></div>",
            f'<div class="wrap__article-detail-image mt-4"><figure class="mb-0"><img class="img-fluid lazy" '
            f'src="https://{HOST}/img/no-image.jpg" data-src="{spec.image_url}" alt="{_a(spec.title)}">'
            f'<figcaption class="figure-caption">{_t(spec.image_caption)}</figcaption></figure></div>',
            '<div class="wrap__article-detail-content post-content">',
            "\n".join(body),
            "</div>",
            '<div class="blog-tags"><ul class="list-inline"><li class="list-inline-item">'
            f'<i class="fa fa-tags"></i> Tags:</li>{tags}</ul></div>',
            "</div>",
        ]
    )
    return _chrome(f"{spec.title} - ANTARA News", "\n".join(head) + "\n", main, amp=amp)


def list_date(spec: EnglishArticleSpec) -> str:
    """The date a list page prints, e.g. ``November 30, 2026 15:02``."""
    raw = spec.published_at_raw or ""
    return raw.split(", ", 1)[1].removesuffix(" WIB")


def _item(spec: EnglishArticleSpec, rank: int) -> str:
    href = spec.path if rank % 7 == 2 else spec.url
    thumb = spec.image_url.replace("/1200x800/", "/360x240/")
    section = f"https://{HOST}/{slugify(spec.category)}"
    return (
        '<div class="card__post card__post-list card__post__transition mt-30"><div class="row">\n'
        f'<div class="col-md-5"><div class="card__post__transition"><a href="{_a(href)}"><picture>'
        f'<img class="lazy" data-src="{thumb}" src="https://{HOST}/img/no-image.jpg" alt="{_a(spec.title)}">'
        "</picture></a></div></div>\n"
        '<div class="col-md-7 my-auto pl-0"><div class="card__post__body"><div class="card__post__content">\n'
        f'<div class="card__post__category"><a href="{section}">{_t(spec.category)}</a></div>\n'
        f'<div class="card__post__title"><h2 class="post_title"><a href="{_a(href)}">{_t(spec.title)}</a></h2></div>\n'
        '<div class="card__post__author-info mb-2"><ul class="list-inline"><li class="list-inline-item">'
        f'<span class="text-secondary">{list_date(spec)}</span></li></ul></div>\n'
        "</div></div></div>\n</div></div>"
    )


def _pagination(number: int, pages: int) -> str:
    def href(n: int) -> str:
        return f"https://{HOST}/latest-news" if n == 1 else f"https://{HOST}/latest-news/{n}"

    items = []
    if number > 1:
        items.append(f'<li class="page-item"><a class="page-link" href="{href(number - 1)}">&laquo;</a></li>')
    for n in range(max(1, number - 2), min(pages, number + 2) + 1):
        active = " active" if n == number else ""
        items.append(f'<li class="page-item{active}"><a class="page-link" href="{href(n)}">{n}</a></li>')
    if number < pages:
        items.append(f'<li class="page-item"><a class="page-link" href="{href(number + 1)}">&raquo;</a></li>')
    return f'<ul class="pagination pagination-sm">{"".join(items)}</ul>'


def list_page(service: EnglishService, number: int, home: bool = False) -> str:
    """``/latest-news/{number}`` (``home``: the front page, its first ten articles)."""
    specs = service.listed(number)[: 10 if home else None]
    items = [_item(spec, (number - 1) * 20 + n) for n, spec in enumerate(specs)]
    heading = "Latest News" if number == 1 else f"Latest News - Page {number}"
    main = (
        f'<div class="wrap__list-news">\n<h1 class="title">{heading}</h1>\n'
        + "\n".join(items)
        + f"\n{_pagination(number, 1 if home else service.pages)}\n</div>"
    )
    return _chrome(f"{heading} - ANTARA News", "", main)


def rss(service: EnglishService) -> str:
    """The feed (``Region.feed_path``): the 20 newest articles as RSS 2.0."""
    specs = service.listed(1)
    built = service.published_at(specs[0].index) if specs else ANCHOR.replace(tzinfo=ENGLISH.tz)
    items = []
    for spec in specs:
        when = service.published_at(spec.index)
        items.append(
            f"<item>\n<title>{_t(spec.title)}</title>\n<link>{spec.url}</link>\n"
            f'<guid isPermaLink="false">{spec.url}</guid>\n<pubDate>{format_datetime(when)}</pubDate>\n'
            f"<description><![CDATA[{spec.summary}]]></description>\n</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>ANTARA News - Latest News</title>\n<link>https://{HOST}/latest-news</link>\n"
        "<description>Latest news from Indonesia</description>\n<language>en</language>\n"
        f"<lastBuildDate>{format_datetime(built)}</lastBuildDate>\n"
        f'<atom:link href="https://{HOST}{ENGLISH.feed_path}" rel="self" type="application/rss+xml" />\n'
        + "\n".join(items)
        + "\n</channel>\n</rss>\n"
    )
