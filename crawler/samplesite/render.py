"""HTML, RSS and text of the sample site's pages, following the markup in the site notes."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from email.utils import format_datetime
from html import escape

from crawler.domain.regions import BY_SLUG, REGIONS, Region
from crawler.samplesite import words as W
from crawler.samplesite.model import ANCHOR, ArticleSpec, SampleSite, slugify

AD_MARKUP = (
    '<ins class="adsbygoogle" style="display:block; text-align:center;" data-ad-layout="in-article" '
    'data-ad-format="fluid" data-ad-client="ca-pub-0000000000000000" data-ad-slot="0000000000"></ins>'
    "<script>(adsbygoogle = window.adsbygoogle || []).push({});</script>"
)
ROBOTS_TXT = "User-agent: *\nDisallow: /search\nDisallow: /cari\nAllow: /\n"
NOT_FOUND_HTML = (
    '<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8"><title>404 Halaman tidak ditemukan</title>'
    "</head><body><h1>404</h1><p>Halaman yang Anda cari tidak ditemukan.</p></body></html>\n"
)
SERVER_ERROR_HTML = (
    '<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8"><title>500 Internal Server Error</title>'
    "</head><body><h1>Internal Server Error</h1><p>Terjadi kesalahan pada server.</p></body></html>\n"
)


def _a(text: str) -> str:
    """Escape for an attribute value."""
    return escape(text, quote=True)


def _t(text: str) -> str:
    """Escape for text content."""
    return escape(text, quote=False)


def _local(spec: ArticleSpec) -> datetime:
    return datetime.fromisoformat(spec.published_at)


def list_date(spec: ArticleSpec) -> str:
    """Absolute list-page date, e.g. ``20 Oktober 2022 15:02`` (hour unpadded when the article's is)."""
    when = _local(spec)
    hour = str(when.hour) if spec.variants.unpadded_hour else f"{when.hour:02d}"
    return f"{when.day} {W.MONTHS[when.month - 1]} {when.year} {hour}:{when.minute:02d}"


def list_href(spec: ArticleSpec, rank: int) -> str:
    """How a list page writes an article link: mostly absolute, sometimes relative or with utm."""
    if rank % 7 == 2:
        return spec.path
    if rank % 7 == 5:
        return f"{spec.url}?utm_source=terkini&utm_medium=list"
    return spec.url


def _paragraph_html(spec: ArticleSpec, k: int) -> str:
    text = spec.paragraphs[k]
    links = sorted((link for link in spec.inline_links if link.paragraph == k), key=lambda link: link.start)
    out: list[str] = []
    pos = 0
    for link in links:
        out.append(_t(text[pos : link.start]))
        out.append(f'<a href="{_a(link.href)}">{_t(text[link.start : link.end])}</a>')
        pos = link.end
    out.append(_t(text[pos:]))
    return "".join(out)


def _baca_juga(spec: ArticleSpec, k: int, old: bool) -> list[str]:
    out = []
    for link in spec.baca_juga_links:
        if link.after == k:
            anchor = f'Baca juga: <a href="{_a(link.href)}">{_t(link.title)}</a>'
            out.append(f'<span class="baca-juga">{anchor}</span>' if old else anchor)
    return out


def _old_body(spec: ArticleSpec) -> str:
    v = spec.variants
    pieces: list[str] = []
    for k in range(len(spec.paragraphs)):
        text = _paragraph_html(spec, k)
        if k == 0 and v.dateline_break:
            prefix, rest = text.split(" (ANTARA) - ", 1)
            text = f"{prefix} (ANTARA) -<br />\n{rest}"
        if k == spec.ads_paragraph:
            text = f"{text} {AD_MARKUP}"
        if k == spec.quote_paragraph:
            pieces.append(f'<div class="quote_old">{text}</div>')
        elif v.body == "br":
            pieces.append(text)
        else:
            pieces.append(f"<p>{text}</p>")
        for link in _baca_juga(spec, k, old=True):
            pieces.append(link if v.body == "br" else f"<p>{link}</p>")
    return ("<br /><br />\n" if v.body == "br" else "\n").join(pieces)


def _old_date(spec: ArticleSpec) -> str:
    raw = spec.published_at_raw
    if raw is None:
        return ""
    text = _t(raw)
    if spec.variants.date_markup == "time" and spec.fault is None:
        text = f'<time datetime="{spec.published_at}">{text}</time>'
    return f' / <span class="article-date"><i class="fa fa-clock-o"></i>{text}</span>'


def _old_chrome(site: SampleSite, region: Region, title: str, head: str, main: str, amp: bool = False) -> str:
    name = site.site_name(region.slug)
    html_tag = '<html amp lang="id">' if amp else '<html lang="id">'
    return (
        f'<!DOCTYPE html>\n{html_tag}\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_t(title)}</title>\n{head}"
        f'<link rel="alternate" type="application/rss+xml" title="{_a(name)}" href="https://{region.host}/rss/terkini.xml">\n'
        "</head>\n<body>\n"
        f'<header class="header"><nav class="navbar"><a class="navbar-brand" href="https://{region.host}/">{_t(name)}</a>\n'
        '<ul class="nav navbar-nav"><li><a href="/">Beranda</a></li><li><a href="/terkini">Terkini</a></li>'
        '<li><a href="https://www.antaranews.com/">ANTARA Nasional</a></li>'
        '<li><a href="https://kalut.antaranews.com/">Kaltara</a></li></ul></nav></header>\n'
        f'<div class="container"><div class="row"><div class="col-md-8">\n{main}\n</div>\n'
        '<div class="col-md-4"><aside class="sidebar"><h4 class="block-title">Terpopuler</h4></aside></div>'
        "</div></div>\n"
        f'<footer class="footer"><p>Copyright &copy; {ANCHOR.year} {_t(name)}</p></footer>\n</body>\n</html>\n'
    )


def _no_image(region: Region) -> str:
    return f"https://{region.host}/assets/img/no-image.jpg"


def old_article(site: SampleSite, spec: ArticleSpec, amp: bool = False) -> str:
    region = BY_SLUG[spec.region]
    v = spec.variants
    name = site.site_name(region.slug)
    head = [
        f'<meta name="keywords" content="{_a(",".join(spec.tags))}">',
        f'<meta name="description" content="{_a(spec.summary)}">',
    ]
    if v.itemprop_date and spec.fault is None:
        head.append(f'<meta itemprop="datePublished" content="{spec.published_at}">')
    head += [
        f'<meta property="og:title" content="{_a(spec.title)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:url" content="{spec.url}">',
        f'<meta property="og:image" content="{spec.image_url}">',
        f'<link rel="canonical" href="{spec.url}">',
    ]
    if not amp:
        head.append(f'<link rel="amphtml" href="{spec.amp_url}">')
    sep = " " if v.credits == "spaced" else ""
    br = "<br />" if v.credits == "spaced" else "<br>"
    credits = (
        f"Pewarta{sep}: {_t(spec.reporter)}{br}Editor{sep}: {_t(spec.editor)}{br}"
        f"COPYRIGHT © {_t(name)} {_local(spec).year}"
    )
    tags = "".join(f'<li><a href="/tag/{slugify(t)}">{_t(t)}</a></li>' for t in spec.tags)
    main = [
        '<article class="post-wrapper clearfix">',
        '<header class="post-header">',
        f'<h1 class="post-title">{_t(spec.title)}</h1>',
        f'<p class="simple-share"><a href="/{region.slug}/{slugify(spec.category)}">{_t(spec.category)}</a>'
        f"{_old_date(spec)}</p>",
        f'<figure class="image-overlay"><picture><img class="lazy" data-src="{spec.image_url}" '
        f'src="{_no_image(region)}" alt="{_a(spec.title)}"></picture></figure>',
        f'<div class="wp-caption"><p class="wp-caption-text">{_t(spec.image_caption)}</p></div>',
        "</header>",
        '<div class="post-content clearfix font17">',
        _old_body(spec),
        f'<p class="text-muted small mt10">{credits}</p>',
        "</div>",
        f'<footer class="post-meta"><div class="tags-wrapper"><ul><li>Tags:</li>{tags}</ul></div></footer>',
    ]
    if spec.related:
        main.append(
            '<div class="related-posts clearfix"><div class="title-wrapper"><h3 class="block-title">'
            "<span>Berita Terkait</span></h3></div>"
        )
        for url in spec.related:
            teaser = site.teaser(url)
            if teaser:
                title, thumb = teaser
                main.append(
                    f'<article class="simple-post clearfix"><div class="simple-thumb"><a href="{url}">'
                    f'<picture><img class="lazy" data-src="{thumb}" src="{_no_image(region)}" alt="{_a(title)}">'
                    f'</picture></a></div><header><h3><a href="{url}" title="{_a(title)}">{_t(title)}</a></h3>'
                    "</header></article>"
                )
        main.append("</div>")
    main.append("</article>")
    return _old_chrome(site, region, f"{spec.title} - {name}", "\n".join(head) + "\n", "\n".join(main), amp=amp)


def _json_ld(spec: ArticleSpec) -> str:
    data: dict[str, object] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": spec.url},
        "headline": spec.title,
        "description": spec.summary,
        "image": [spec.image_url],
    }
    if spec.fault is None:
        data["datePublished"] = spec.published_at
        data["dateModified"] = spec.published_at
    data["author"] = {"@type": "Person", "name": spec.reporter}
    data["publisher"] = {
        "@type": "Organization",
        "name": "ANTARA",
        "logo": {"@type": "ImageObject", "url": "https://www.antaranews.com/img/antaranews.png"},
    }
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")


def _new_chrome(title: str, head: str, main: str, amp: bool = False) -> str:
    html_tag = '<html amp lang="id">' if amp else '<html lang="id">'
    return (
        f'<!DOCTYPE html>\n{html_tag}\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_t(title)}</title>\n{head}</head>\n<body>\n"
        '<header class="header-news"><nav class="navbar navbar-expand-lg"><a class="navbar-brand" '
        'href="https://www.antaranews.com/">ANTARA News</a><ul class="navbar-nav">'
        '<li class="nav-item"><a class="nav-link" href="https://www.antaranews.com/terkini">Terkini</a></li>'
        '<li class="nav-item"><a class="nav-link" href="https://kalteng.antaranews.com/">Kalteng</a></li>'
        "</ul></nav></header>\n"
        f'<section class="pb-80"><div class="container"><div class="row"><div class="col-md-8">\n{main}\n'
        "</div></div></div></section>\n"
        f'<footer class="wrapper__footer"><p>&copy; {ANCHOR.year} ANTARA</p></footer>\n</body>\n</html>\n'
    )


def new_article(site: SampleSite, spec: ArticleSpec, amp: bool = False) -> str:
    host = spec.host
    head = [
        f'<meta name="description" content="{_a(spec.summary)}">',
        f'<meta name="keywords" content="{_a(",".join(spec.tags))}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{_a(spec.title)}">',
        f'<meta property="og:description" content="{_a(spec.summary)}">',
        f'<meta property="og:url" content="{spec.url}">',
        f'<meta property="og:image" content="{spec.image_url}">',
    ]
    if spec.fault is None:
        head.append(f'<meta property="article:published_time" content="{spec.published_at}">')
    head += [
        f'<meta property="article:section" content="{_a(spec.category)}">',
        f'<link rel="canonical" href="{spec.url}">',
    ]
    if not amp:
        head.append(f'<link rel="amphtml" href="{spec.amp_url}">')
    head.append(f'<script type="application/ld+json">{_json_ld(spec)}</script>')
    body: list[str] = []
    for k in range(len(spec.paragraphs)):
        body.append(f"<p>{_paragraph_html(spec, k)}</p>")
        body += [f"<p>{link}</p>" for link in _baca_juga(spec, k, old=False)]
    body.append(
        f'<p class="text-muted mt-2 small">Pewarta: {_t(spec.reporter)}<br />Editor: {_t(spec.editor)}<br />'
        f"Copyright © ANTARA {_local(spec).year}</p>"
    )
    body.append(f"<p>{W.AI_NOTICE}</p>")
    date = ""
    if spec.published_at_raw is not None:
        date = (
            '<div class="wrap__article-detail-info"><ul class="list-inline"><li class="list-inline-item">'
            f'<span class="text-secondary font-weight-normal"><i class="fa fa-clock-o"></i> '
            f"{_t(spec.published_at_raw)}</span></li></ul></div>"
        )
    tags = "".join(
        f'<li class="list-inline-item"><a href="https://{host}/tag/{slugify(t)}">{_t(t)}</a></li>' for t in spec.tags
    )
    main = "\n".join(
        [
            '<ul class="breadcrumbs bg-light mb-4">',
            f'<li class="breadcrumbs__item"><a href="https://{host}/" class="breadcrumbs__url">'
            '<i class="fa fa-home"></i> Beranda</a></li>',
            f'<li class="breadcrumbs__item"><a href="https://{host}/{slugify(spec.category)}" '
            f'class="breadcrumbs__url">{_t(spec.category)}</a></li>',
            "</ul>",
            '<div class="wrap__article-detail">',
            f'<div class="wrap__article-detail-title"><h1>{_t(spec.title)}</h1></div>',
            date,
            f'<div class="wrap__article-detail-image mt-4"><figure class="mb-0"><picture><img class="img-fluid" '
            f'src="{spec.image_url}" alt="{_a(spec.title)}"></picture>'
            f'<figcaption class="figure-caption">{_t(spec.image_caption)}</figcaption></figure></div>',
            '<div class="wrap__article-detail-content post-content">',
            "\n".join(body),
            "</div>",
            '<div class="blog-tags"><ul class="list-inline"><li class="list-inline-item"><i class="fa fa-tags"></i>'
            f"</li>{tags}</ul></div>",
            "</div>",
        ]
    )
    return _new_chrome(f"{spec.title} - ANTARA News", "\n".join(head) + "\n", main, amp=amp)


def article(site: SampleSite, spec: ArticleSpec, amp: bool = False) -> str:
    return (new_article if spec.template == "new" else old_article)(site, spec, amp)


# ---------------------------------------------------------------------- list-like pages


def _old_item(region: Region, href: str, title: str, thumb: str, section: tuple[str, str], date: str) -> str:
    return (
        f'<article class="simple-post simple-big clearfix">\n<div class="simple-thumb"><a href="{_a(href)}">'
        f'<picture><img class="lazy" data-src="{thumb}" src="{_no_image(region)}" alt="{_a(title)}"></picture>'
        f'</a></div>\n<header>\n<h3><a href="{_a(href)}" title="{_a(title)}">{_t(title)}</a></h3>\n'
        f'<p class="simple-share"><a href="{section[1]}">{_t(section[0])}</a> / <span>{date}</span></p>\n'
        "</header>\n</article>"
    )


def _new_item(region: Region, href: str, title: str, thumb: str, section: tuple[str, str], date: str) -> str:
    return (
        '<div class="card__post card__post-list card__post__transition mt-30"><div class="row">\n'
        f'<div class="col-md-5"><div class="card__post__transition"><a href="{_a(href)}"><picture>'
        f'<img class="lazy" data-src="{thumb}" src="{_no_image(region)}" alt="{_a(title)}"></picture></a></div></div>\n'
        '<div class="col-md-7 my-auto pl-0"><div class="card__post__body"><div class="card__post__content">\n'
        f'<div class="card__post__category"><a href="{section[1]}">{_t(section[0])}</a></div>\n'
        f'<div class="card__post__title"><h2 class="post_title"><a href="{_a(href)}">{_t(title)}</a></h2></div>\n'
        '<div class="card__post__author-info mb-2"><ul class="list-inline"><li class="list-inline-item">'
        f'<span class="text-secondary">{date}</span></li></ul></div>\n'
        "</div></div></div>\n</div></div>"
    )


def _item(region: Region, spec: ArticleSpec, rank: int) -> str:
    thumb = spec.image_url.replace("/800x533/", "/360x240/")
    cat = slugify(spec.category)
    section = (spec.category, f"https://{region.host}/{cat}" if region.template == "new" else f"/{region.slug}/{cat}")
    make = _new_item if region.template == "new" else _old_item
    return make(region, list_href(spec, rank), spec.title, thumb, section, list_date(spec))


def _media_item(site: SampleSite, region: Region, n: int, date: str) -> str:
    kind, label = W.MEDIA_KINDS[n % len(W.MEDIA_KINDS)]
    media_id = site.media_id(region.host, n)
    title = f"{label}: Kegiatan warga {site.display_name(region.slug)} pekan ini ({n + 1})"
    href = f"https://{region.host}/{kind}/{media_id}/{slugify(title)}"
    thumb = f"https://img.antaranews.com/cache/360x240/{ANCHOR.year}/{ANCHOR.month:02d}/{kind}-{media_id}.jpg"
    make = _new_item if region.template == "new" else _old_item
    return make(region, href, title, thumb, (label, f"/{kind}"), date)


def _pagination(region: Region, page: int, pages: int) -> str:
    def href(n: int) -> str:
        path = "/terkini" if n == 1 else f"/terkini/{n}"
        return f"https://{region.host}{path}" if region.template == "new" else path

    items = []
    if page > 1:
        items.append(f'<li class="page-item"><a class="page-link" href="{href(page - 1)}" aria-label="Previous">'
                     "&laquo;</a></li>")  # fmt: skip
    for n in range(max(1, page - 2), min(pages, page + 2) + 1):
        active = " active" if n == page else ""
        items.append(f'<li class="page-item{active}"><a class="page-link" href="{href(n)}">{n}</a></li>')
    if page < pages:
        items.append(f'<li class="page-item"><a class="page-link" href="{href(page + 1)}" aria-label="Next">'
                     "&raquo;</a></li>")  # fmt: skip
    return f'<ul class="pagination pagination-sm">{"".join(items)}</ul>'


def _list_page(site: SampleSite, region: Region, heading: str, items: Iterable[str], footer: str = "") -> str:
    if region.template == "new":
        main = f'<div class="wrap__list-news">\n<h1 class="title">{_t(heading)}</h1>\n' + "\n".join(items)
        return _new_chrome(f"{heading} - ANTARA News", "", main + f"\n{footer}\n</div>")
    main = f'<div class="terkini">\n<h1 class="block-title">{_t(heading)}</h1>\n' + "\n".join(items)
    name = site.site_name(region.slug)
    return _old_chrome(site, region, f"{heading} - {name}", "", main + f"\n{footer}\n</div>")


def terkini(site: SampleSite, region: Region, page: int) -> str:
    """A /terkini page: 20 listed articles, newest first, with media teasers and pagination."""
    specs = site.listed(region.slug, page)
    items: list[str] = []
    for n, spec in enumerate(specs):
        rank = (page - 1) * 20 + n
        items.append(_item(region, spec, rank))
        if n in (4, 11, 16):
            items.append(_media_item(site, region, page * 3 + (4, 11, 16).index(n), list_date(spec)))
    heading = "Berita Terkini" if page == 1 else f"Berita Terkini - Halaman {page}"
    return _list_page(site, region, heading, items, _pagination(region, page, site.pages(region.slug)))


def tag_page(site: SampleSite, region: Region, tag: str, specs: list[ArticleSpec]) -> str:
    items = [_item(region, spec, 0) for spec in specs]
    return _list_page(site, region, f"Berita {tag}", items)


def section_page(site: SampleSite, region: Region, category: str) -> str:
    """A section index: looks like a list page, holds no article container (the ``no_article`` fault)."""
    items = [_item(region, spec, 0) for spec in site.newest_ok(region.slug, 8)]
    return _list_page(site, region, f"Berita {category}", items)


def media_page(site: SampleSite, region: Region, kind: str, media_id: int) -> str:
    label = dict(W.MEDIA_KINDS)[kind]
    title = f"{label}: Kegiatan warga {site.display_name(region.slug)} ({media_id})"
    main = (
        f'<div class="{kind}-detail"><h1 class="{kind}-title">{_t(title)}</h1>\n'
        f'<img class="img-fluid" src="https://img.antaranews.com/cache/800x533/{ANCHOR.year}/{ANCHOR.month:02d}/'
        f'{kind}-{media_id}.jpg" alt="{_a(title)}">\n<p class="{kind}-caption">{_t(title)}. ANTARA FOTO/Redaksi</p>'
        "</div>"
    )
    if region.template == "new":
        return _new_chrome(f"{title} - ANTARA News", "", main)
    return _old_chrome(site, region, f"{title} - {site.site_name(region.slug)}", "", main)


def home(site: SampleSite, region: Region) -> str:
    specs = site.listed(region.slug, 1)[:10]
    items = [_item(region, spec, n) for n, spec in enumerate(specs)]
    return _list_page(site, region, site.site_name(region.slug), items, _pagination(region, 1, 1))


def rss(site: SampleSite, region: Region) -> str:
    """``/rss/terkini.xml``: the 20 newest listed articles as RSS 2.0."""
    specs = site.listed(region.slug, 1)
    name = site.site_name(region.slug)
    built = _local(specs[0]) if specs else ANCHOR.replace(tzinfo=region.tz)
    items = []
    for spec in specs:
        thumb = spec.image_url.replace("/800x533/", "/360x240/")
        items.append(
            f"<item>\n<title>{_t(spec.title)}</title>\n<link>{spec.url}</link>\n"
            f'<guid isPermaLink="false">{spec.url}</guid>\n<pubDate>{format_datetime(_local(spec))}</pubDate>\n'
            f'<description><![CDATA[<img src="{thumb}" align="left" border="0" />{spec.summary}]]></description>\n'
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>{_t(name)} - Berita Terkini</title>\n<link>https://{region.host}/terkini</link>\n"
        f"<description>Berita terkini {_t(site.display_name(region.slug))}</description>\n<language>id</language>\n"
        f"<lastBuildDate>{format_datetime(built)}</lastBuildDate>\n"
        f'<atom:link href="https://{region.host}/rss/terkini.xml" rel="self" type="application/rss+xml" />\n'
        + "\n".join(items)
        + "\n</channel>\n</rss>\n"
    )


def index(site: SampleSite) -> str:
    rows = "\n".join(
        f'<li><a href="/{r.host}/terkini">{r.host}</a> ({_t(site.site_name(r.slug))}, {site.count(r.slug)} articles, '
        f"{r.template} template)</li>"
        for r in REGIONS
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Sample ANTARA site</title></head><body>\n'
        f"<h1>Sample ANTARA site</h1>\n<p>{site.articles} articles, seed {site.seed}. "
        "Mirror layout: <code>/{host}{path}?{query}</code>.</p>\n"
        f"<ul>\n{rows}\n</ul>\n</body></html>\n"
    )
