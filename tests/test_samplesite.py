"""The synthetic sample site: deterministic, served on loopback, and its truth matches its pages."""

from __future__ import annotations

import http.client
import json
import re
import threading
import tracemalloc
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import pytest
from lxml import etree, html

from crawler.domain.regions import BY_SLUG, REGIONS
from crawler.extraction.urls import parse_article_url
from crawler.samplesite import ArticleSpec, SampleSite, make_server
from crawler.samplesite.model import BAD_DATE_TEXT, FAULT_KINDS, HREF_VARIANTS, PER_PAGE
from crawler.samplesite.routes import Router

SEED = 1
ARTICLES = 2000
REGIONAL = [r.slug for r in REGIONS if r.slug != "nasional"]


class Client:
    """A keep-alive HTTP client for one server, speaking the mirror layout."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def get(self, host: str, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
        target = f"/{host}{path}" if host else path
        self._conn.request(method, target)
        resp = self._conn.getresponse()
        body = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body

    def close(self) -> None:
        self._conn.close()


@pytest.fixture(scope="module")
def site() -> SampleSite:
    return SampleSite(ARTICLES, SEED)


@pytest.fixture(scope="module")
def served(site: SampleSite, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Client, Path]]:
    log = tmp_path_factory.mktemp("samplesite") / "requests.log"
    server = make_server(site, port=0, log_path=str(log))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = Client(server.port)
    try:
        yield client, log
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def client(served: tuple[Client, Path]) -> Client:
    return served[0]


def _doc(body: bytes) -> html.HtmlElement:
    return html.fromstring(body)


def _canonical(doc: html.HtmlElement) -> str:
    return doc.xpath("//link[@rel='canonical']/@href")[0]


def _list_links(doc: html.HtmlElement, template: str) -> list[str]:
    xpath = "//h2[@class='post_title']/a/@href" if template == "new" else "//article/header/h3/a/@href"
    return doc.xpath(xpath)


def _fold(text: str) -> str:
    return " ".join(text.split())


def _reference_body(doc: html.HtmlElement) -> list[str]:
    """A small but honest extractor: the body paragraphs a correct extractor must find."""
    content = doc.cssselect(".post-content")[0]
    for junk in content.cssselect("script, ins, p.text-muted, span.baca-juga"):
        junk.drop_tree()
    pieces: list[str] = [""]

    def add_text(text: str | None) -> None:
        if text:
            pieces[-1] += text

    add_text(content.text)
    breaks = 0
    for child in content:
        if child.tag == "br":
            breaks += 1
            if breaks == 2:
                pieces.append("")
            add_text(" ")
        elif child.tag not in ("p", "div"):  # inline element: its text continues the paragraph
            breaks = 0
            add_text(child.text_content())
        else:
            breaks = 0
            text = child.text_content()
            if text.startswith("Baca juga:") or text.startswith("Dilarang keras"):
                text = ""
            pieces.append(text)
            pieces.append("")
        if child.tail and child.tail.strip():
            breaks = 0
        add_text(child.tail)
    return [p for p in (_fold(piece) for piece in pieces) if p]


# ---------------------------------------------------------------------- model


def test_same_seed_same_bytes_other_seed_other_bytes(site: SampleSite) -> None:
    paths = [
        "/kalteng.antaranews.com/terkini",
        "/www.antaranews.com/terkini/2",
        "/papua.antaranews.com/rss/terkini.xml",
    ]
    paths += [f"/{s.host}{s.path}" for s in site.listed("jatim", 1)[:5] + site.listed("nasional", 2)[:5]]
    first, again, other = (
        Router(SampleSite(ARTICLES, SEED)),
        Router(SampleSite(ARTICLES, SEED)),
        Router(SampleSite(ARTICLES, 2)),
    )
    for path in paths:
        assert first.get(path).body == again.get(path).body
    assert first.get(paths[0]).body != other.get(paths[0]).body


def test_articles_are_distributed_round_robin_with_distinct_ids(site: SampleSite) -> None:
    assert sum(site.count(r.slug) for r in REGIONS) == ARTICLES
    assert site.article_at(0).region == "nasional" and site.article_at(13).region == REGIONS[13].slug
    for slug in ("nasional", "kalteng"):
        specs = list(site.articles_of(slug))
        assert len({s.article_id for s in specs}) == len(specs)
        assert len({s.title for s in specs}) == len(specs)
        times = [datetime.fromisoformat(s.published_at) for s in specs]
        assert times == sorted(times, reverse=True) and len(set(times)) == len(times)


@pytest.mark.parametrize("slug", ["nasional", "kalteng", "kupang", "papua"])
def test_published_at_is_iso_with_the_zone_offset(site: SampleSite, slug: str) -> None:
    offset = {"WIB": "+07:00", "WITA": "+08:00", "WIT": "+09:00"}[BY_SLUG[slug].zone]
    newest = site.listed(slug, 1)[0]
    assert re.fullmatch(r"2026-11-2\dT\d\d:\d\d:00" + re.escape(offset), newest.published_at)
    assert newest.published_at <= f"2026-11-27T12:40:00{offset}"


def test_every_region_has_a_page_one_chain_of_three_hidden_hops(site: SampleSite) -> None:
    def depth(spec: ArticleSpec) -> int:
        hidden = [site.article_by_url(u) for u in spec.baca_juga]
        return max((1 + depth(t) for t in hidden if t and t.hidden), default=0)

    for region in REGIONS:
        assert max(depth(s) for s in site.listed(region.slug, 1)) >= 3, region.slug


def test_baca_juga_targets_are_older_and_cross_hosts_sometimes(site: SampleSite) -> None:
    links = offsite = 0
    for region in REGIONS:
        for spec in site.listed(region.slug, 1):
            for url in spec.baca_juga:
                target = site.article_by_url(url)
                assert target is not None and target.fault is None
                assert datetime.fromisoformat(target.published_at) < datetime.fromisoformat(spec.published_at)
                links += 1
                offsite += target.host != spec.host
    assert 0.1 < offsite / links < 0.45


def test_faults_sit_on_the_first_two_pages(site: SampleSite) -> None:
    kinds = set()
    for region in REGIONS:
        faulty = site.faults(region.slug)
        assert 1 <= len(faulty) <= 3
        early = {s.url for page in (1, 2) for s in site.listed(region.slug, page)}
        assert {s.url for s in faulty} <= early
        kinds |= {s.fault for s in faulty}
    assert kinds == set(FAULT_KINDS)
    assert [s.url for s in SampleSite(ARTICLES, SEED).faults()] == [s.url for s in site.faults()]


@pytest.mark.parametrize("articles", [100_000, 1_000_000])
def test_big_sites_are_cheap_to_build(articles: int) -> None:
    tracemalloc.start()
    big = SampleSite(articles, SEED)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 1_000_000
    deep = big.article_at(articles - 1)
    assert deep.article_id == big.article(deep.host, deep.article_id).article_id  # type: ignore[union-attr]


# ---------------------------------------------------------------------- served pages


def test_index_robots_unknown_host_and_path(client: Client) -> None:
    status, headers, body = client.get("", "/")
    assert status == 200 and b"kalteng.antaranews.com" in body
    status, headers, body = client.get("kalteng.antaranews.com", "/robots.txt")
    assert status == 200 and headers["content-type"] == "text/plain; charset=utf-8"
    assert body.decode().splitlines() == ["User-agent: *", "Disallow: /search", "Disallow: /cari", "Allow: /"]
    assert client.get("example.com", "/terkini")[0] == 404
    assert client.get("img.antaranews.com", "/terkini")[0] == 404
    assert client.get("kalteng.antaranews.com", "/no/such/page")[0] == 404
    assert client.get("kalteng.antaranews.com", "/berita/1/too-old")[0] == 404


def test_head_and_headers(client: Client, site: SampleSite) -> None:
    spec = site.listed("aceh", 1)[3]
    status, headers, body = client.get(spec.host, spec.path)
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    assert int(headers["content-length"]) == len(body)
    status, head_headers, head_body = client.get(spec.host, spec.path, method="HEAD")
    assert status == 200 and head_body == b"" and head_headers["content-length"] == headers["content-length"]


@pytest.mark.parametrize("slug", ["nasional", "kalteng", "papua"])
def test_list_pages_paginate_newest_first_and_end_with_404(client: Client, site: SampleSite, slug: str) -> None:
    region = BY_SLUG[slug]
    seen: list[str] = []
    for page in range(1, site.pages(slug) + 1):
        path = "/terkini" if page == 1 else f"/terkini/{page}"
        status, _, body = client.get(region.host, path)
        assert status == 200
        doc = _doc(body)
        links = [parse_article_url(h, f"https://{region.host}{path}") for h in _list_links(doc, region.template)]
        refs = [ref.url for ref in links if ref is not None]
        assert refs == [s.url for s in site.listed(slug, page)]
        assert len(refs) == PER_PAGE or page == site.pages(slug)
        assert doc.cssselect("ul.pagination")
        seen += refs
    listed = [s for s in site.articles_of(slug) if not s.hidden]
    assert seen == [s.url for s in listed]
    assert client.get(region.host, f"/terkini/{site.pages(slug) + 1}")[0] == 404
    assert client.get(region.host, "/terkini/1")[2] == client.get(region.host, "/terkini")[2]


def test_list_pages_mix_href_forms_and_non_article_teasers(client: Client) -> None:
    body = client.get("kalbar.antaranews.com", "/terkini")[2].decode()
    assert 'href="/berita/' in body and "?utm_source=" in body
    for kind in ("foto", "video", "infografis"):
        assert f"https://kalbar.antaranews.com/{kind}/" in body
    doc = _doc(body)
    assert doc.cssselect("article.simple-post > div.simple-thumb a[href]")
    assert doc.cssselect("article.simple-post header > h3 > a[href][title]")
    assert re.search(r"\d{1,2} \w+ 2026 \d{1,2}:\d\d", doc.cssselect("p.simple-share span")[0].text)


def test_hidden_articles_are_unlisted_but_served(client: Client, site: SampleSite) -> None:
    for slug in ("kalteng", "nasional"):
        host = BY_SLUG[slug].host
        hidden = [s for s in site.articles_of(slug) if s.hidden]
        assert hidden and all(s.index % 10 == 7 for s in hidden)
        listed = set()
        for page in range(1, site.pages(slug) + 1):
            listed |= {s.url for s in site.listed(slug, page)}
        rss = client.get(host, "/rss/terkini.xml")[2].decode()
        for spec in hidden:
            assert spec.url not in listed and spec.url not in rss
        status, _, body = client.get(host, hidden[0].path)
        assert status == 200 and _canonical(_doc(body)) == hidden[0].url


@pytest.mark.parametrize("kind", FAULT_KINDS)
def test_faults_answer_as_declared(client: Client, site: SampleSite, kind: str) -> None:
    specs = [s for s in site.faults() if s.fault == kind]
    assert specs
    for spec in specs[:3]:
        status, _, body = client.get(spec.host, spec.path)
        again = client.get(spec.host, spec.path)
        assert again[0] == status
        expected = {"http_404": 404, "http_500": 500}.get(kind, 200)
        assert status == expected
        if status != 200:
            continue
        doc = _doc(body)
        containers = doc.cssselect("article.post-wrapper, .wrap__article-detail")
        if kind == "no_article":
            assert not containers and not doc.cssselect("h1.post-title, .wrap__article-detail-title")
            continue
        assert containers
        dates = doc.cssselect(".article-date, .wrap__article-detail-info")
        assert "datePublished" not in body.decode() and "published_time" not in body.decode()
        if kind == "missing_date":
            assert not dates and spec.published_at_raw is None
        else:
            assert [_fold(d.text_content()) for d in dates] == [BAD_DATE_TEXT] == [spec.published_at_raw]


def test_rss_lists_page_one_with_zone_offsets(client: Client, site: SampleSite) -> None:
    for slug, offset in (("kalteng", "+0700"), ("kupang", "+0800"), ("papua", "+0900"), ("nasional", "+0700")):
        status, headers, body = client.get(BY_SLUG[slug].host, "/rss/terkini.xml")
        assert status == 200 and "charset=utf-8" in headers["content-type"]
        root = etree.fromstring(body)
        items = root.findall("./channel/item")
        truth = site.listed(slug, 1)
        assert [i.findtext("link") for i in items] == [s.url for s in truth]
        for item, spec in zip(items, truth, strict=True):
            guid = item.find("guid")
            assert guid is not None and guid.get("isPermaLink") == "false" and guid.text == spec.url
            pub = item.findtext("pubDate") or ""
            assert pub.endswith(offset)
            assert parsedate_to_datetime(pub) == datetime.fromisoformat(spec.published_at)
            assert spec.summary in (item.findtext("description") or "")
    assert b"<![CDATA[" in body


def test_wrong_slug_amp_and_aliases_give_the_same_article(client: Client, site: SampleSite) -> None:
    spec = next(s for s in site.listed("kalsel", 1) if s.fault is None)
    right = client.get(spec.host, spec.path)[2]
    for path in (f"/berita/{spec.article_id}/some-old-slug", f"/berita/{spec.article_id}", spec.path + "?utm_source=x"):
        status, _, body = client.get(spec.host, path)
        assert status == 200 and body == right and _canonical(_doc(body)) == spec.url
    assert client.get(spec.host.upper(), spec.path)[2] == right
    status, _, amp = client.get(spec.host, f"/amp{spec.path}")
    assert status == 200 and _canonical(_doc(amp)) == spec.url
    kaltara = next(s for s in site.listed("kaltara", 1) if s.fault is None)
    assert client.get("kalut.antaranews.com", kaltara.path)[2] == client.get(kaltara.host, kaltara.path)[2]


def test_new_template_on_www(client: Client, site: SampleSite) -> None:
    spec = next(s for s in site.listed("nasional", 1) if s.fault is None and s.baca_juga)
    doc = _doc(client.get(spec.host, spec.path)[2])
    assert not doc.cssselect("article.post-wrapper")
    assert doc.cssselect(".breadcrumbs__item")[1].text_content().strip() == spec.category
    assert doc.cssselect(".wrap__article-detail-title h1")[0].text == spec.title
    info = _fold(doc.cssselect(".wrap__article-detail-info")[0].text_content())
    assert info == spec.published_at_raw and info.endswith(" WIB")
    assert doc.xpath("//title")[0].text == f"{spec.title} - ANTARA News"
    assert doc.xpath("//meta[@property='article:published_time']/@content") == [spec.published_at]
    assert doc.xpath("//meta[@property='og:title']/@content") == [spec.title]
    ld = doc.xpath("//script[@type='application/ld+json']")[0].text
    assert f'"name": "{spec.reporter}"' in ld
    content = doc.cssselect(".wrap__article-detail-content.post-content")[0]
    assert content.cssselect("p.text-muted.mt-2.small")
    assert content.xpath("./p")[-1].text.startswith("Dilarang keras mengambil konten")
    assert [a.text for a in doc.cssselect(".blog-tags a")] == spec.tags


def test_old_template_on_regional_hosts(client: Client, site: SampleSite) -> None:
    spec = next(s for s in site.listed("kalteng", 1) if s.fault is None)
    doc = _doc(client.get(spec.host, spec.path)[2])
    assert not doc.cssselect(".wrap__article-detail")
    assert doc.cssselect("article.post-wrapper h1.post-title")[0].text == spec.title
    assert doc.xpath("//meta[@name='keywords']/@content") == [",".join(spec.tags)]
    assert doc.xpath("//meta[@name='description']/@content") == [spec.summary]
    assert doc.xpath("//meta[@property='og:image']/@content") == [spec.image_url]
    assert doc.xpath("//link[@rel='amphtml']/@href") == [spec.amp_url]
    img = doc.cssselect("figure.image-overlay img.lazy")[0]
    assert img.get("data-src") == spec.image_url and img.get("src").endswith("/no-image.jpg")
    assert doc.cssselect("p.wp-caption-text")[0].text == spec.image_caption
    assert [a.text for a in doc.cssselect(".tags-wrapper li a")] == spec.tags


@pytest.mark.parametrize("slug", ["nasional", "kalteng", "kaltim", "ambon", "jogja", "sumut"])
def test_truth_matches_every_page_of_a_region(client: Client, site: SampleSite, slug: str) -> None:
    """The truth body, credits, date and links can be read back from the served page, in every variant."""
    for page in (1, 2, 3):
        for spec in site.listed(slug, page):
            status, _, body = client.get(spec.host, spec.path)
            if spec.fault in ("http_404", "http_500", "no_article"):
                continue
            doc = _doc(body)
            credits = doc.cssselect("p.text-muted")[0]
            names = [_fold(t) for t in credits.xpath("text()")][:2]
            assert names in ([f"Pewarta: {spec.reporter}", f"Editor: {spec.editor}"],
                             [f"Pewarta : {spec.reporter}", f"Editor : {spec.editor}"])  # fmt: skip
            hrefs = [a.get("href") for a in doc.xpath("//*[starts-with(normalize-space(.), 'Baca juga:')]/a")]
            assert _reference_body(doc) == spec.paragraphs, spec.url
            assert spec.body == "\n\n".join(spec.paragraphs)
            assert spec.paragraphs[0].startswith(f"{spec.dateline} (ANTARA) - ")
            assert [link.href for link in spec.baca_juga_links] == hrefs
            for href, url in zip(hrefs, spec.baca_juga, strict=True):
                ref = parse_article_url(href, spec.url)
                target = site.article_by_url(url)
                assert ref is not None and target is not None
                assert (ref.host, ref.article_id) == (target.host, target.article_id)
            caption = spec.image_caption
            assert re.search(r"ANTARA( FOTO)?/[A-Z][a-z]+ [A-Z][a-z]+$", caption)
            if spec.published_at_raw and spec.fault is None:
                assert spec.published_at_raw in body.decode()


def test_variants_and_href_forms_all_occur(site: SampleSite) -> None:
    variants: dict[str, set[object]] = {}
    hrefs: set[str] = set()
    for slug in REGIONAL:
        for page in (1, 2, 3):
            for spec in site.listed(slug, page):
                for name, value in vars(spec.variants).items():
                    variants.setdefault(name, set()).add(value)
                hrefs |= {link.variant for link in spec.baca_juga_links}
    assert all(len(values) == 2 for values in variants.values()), variants
    assert hrefs == set(HREF_VARIANTS)
    zones = {s.published_at_raw.rsplit(" ", 1)[-1] for s in site.listed("kaltim", 1) if s.published_at_raw}
    assert "WITA" in zones


def test_body_links_include_non_article_pages(client: Client, site: SampleSite) -> None:
    spec = next(s for s in site.articles_of("bali") if s.inline_links and s.fault is None)
    body = client.get(spec.host, spec.path)[2].decode()
    hrefs = [link.href for link in spec.inline_links]
    assert any("/tag/" in h for h in hrefs) and any("/foto/" in h for h in hrefs)
    for href in hrefs:
        assert f'href="{href}"' in body
        assert parse_article_url(href, spec.url) is None
        path = href.split("antaranews.com", 1)[-1]
        status, _, page = client.get(spec.host, path)
        assert status == 200 and not _doc(page).cssselect("article.post-wrapper, .wrap__article-detail")


def test_request_log_has_one_line_per_request(served: tuple[Client, Path], site: SampleSite) -> None:
    client, log = served
    spec = site.listed("riau", 2)[0]
    client.get(spec.host, spec.path + "?utm_source=log")
    client.get("riau.antaranews.com", "/terkini/99999")
    lines = log.read_text(encoding="utf-8").splitlines()
    assert f"GET /{spec.host}{spec.path}?utm_source=log 200" in lines
    assert lines[-1] == "GET /riau.antaranews.com/terkini/99999 404"


def test_big_site_answers_page_one_and_a_deep_article() -> None:
    """A 100,000-article site serves its first list page, a deep article and its last list page
    (how fast: bench/samplesite.py)."""
    big = SampleSite(100_000, SEED)
    server = make_server(big)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    client = Client(server.port)
    try:
        status, _, body = client.get("jatim.antaranews.com", "/terkini")
        refs = [parse_article_url(h, "https://jatim.antaranews.com/terkini") for h in _list_links(_doc(body), "old")]
        assert status == 200 and [r.url for r in refs if r] == [s.url for s in big.listed("jatim", 1)]
        deep = big.article_at(17 * 35 + 9)  # one of the oldest articles of region 9
        status, _, body = client.get(deep.host, deep.path)
        assert status == 200 and _canonical(_doc(body)) == deep.url
        last = big.pages("jatim")
        assert client.get("jatim.antaranews.com", f"/terkini/{last}")[0] == 200
        assert client.get("jatim.antaranews.com", f"/terkini/{last + 1}")[0] == 404
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.parametrize("articles", [0, 1, 36, 100])
def test_tiny_sites_still_serve(articles: int) -> None:
    router = Router(SampleSite(articles, SEED))
    for region in REGIONS:
        assert router.get(f"/{region.host}/terkini").status == 200
        assert etree.fromstring(router.get(f"/{region.host}/rss/terkini.xml").body) is not None
    for spec in SampleSite(articles, SEED).faults():
        assert router.get(f"/{spec.host}{spec.path}").status in (200, 404, 500)


def test_publish_adds_newer_articles_without_moving_older_ones() -> None:
    site = SampleSite(articles=700, seed=3)
    before = {spec.url: spec.published_at for spec in site.listed("kalteng", 1)}
    newest = site.listed("kalteng", 1)[0]
    published = site.publish(70)
    assert len(published) == 70
    fresh = [spec for spec in published if spec.region == "kalteng"]
    assert len(fresh) == 2 and all(spec.published_at > newest.published_at for spec in fresh)
    for url, when in before.items():
        assert site.article_by_url(url).published_at == when
    shown = [spec.url for spec in reversed(fresh) if not spec.hidden]
    assert [spec.url for spec in site.listed("kalteng", 1)][: len(shown)] == shown


def test_edit_appends_a_correction_and_changes_the_etag() -> None:
    site = SampleSite(articles=700, seed=3)
    server = make_server(site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        spec = next(s for s in site.listed("kalsel", 1) if s.fault is None)
        url = f"{server.base_url}/{spec.host}/berita/{spec.article_id}/{spec.slug}"
        first = urllib.request.urlopen(url, timeout=10)
        etag = first.headers["ETag"]
        assert etag and first.status == 200
        again = urllib.request.Request(url, headers={"If-None-Match": etag})
        with pytest.raises(urllib.error.HTTPError) as not_modified:
            urllib.request.urlopen(again, timeout=10)
        assert not_modified.value.code == 304
        control = urllib.request.Request(
            f"{server.base_url}/_control/edit?url={urllib.parse.quote(spec.url, safe='')}", method="POST"
        )
        answer = json.loads(urllib.request.urlopen(control, timeout=10).read())
        assert answer == {"edited": spec.url, "revision": 1}
        edited = site.article(spec.host, spec.article_id)
        assert edited.body.startswith(spec.body) and "ralat ke-1" in edited.body
        changed = urllib.request.urlopen(urllib.request.Request(url, headers={"If-None-Match": etag}), timeout=10)
        assert changed.status == 200 and changed.headers["ETag"] != etag
        assert "ralat ke-1" in changed.read().decode()
        publish = urllib.request.Request(f"{server.base_url}/_control/publish?count=35", method="POST")
        assert len(json.loads(urllib.request.urlopen(publish, timeout=10).read())["published"]) == 35
    finally:
        server.shutdown()
        server.server_close()


# ---------------------------------------------------------------------- the English service


def test_english_host_is_served_with_its_own_paths(client: Client, site: SampleSite) -> None:
    from crawler.samplesite.english import english

    service = english(site)
    assert service.count == ARTICLES // len(REGIONS)
    newest = service.listed(1)[0]
    for path, kind in (
        ("/", "text/html"),
        ("/latest-news", "text/html"),
        (f"/latest-news/{service.pages}", "text/html"),
        ("/rss/news.xml", "application/rss+xml"),
        ("/robots.txt", "text/plain"),
        (newest.path, "text/html"),
        (f"/amp{newest.path}", "text/html"),
    ):
        status, headers, body = client.get("en.antaranews.com", path)
        assert status == 200 and headers["content-type"].startswith(kind), path
    status, _, body = client.get("en.antaranews.com", newest.path)
    assert b'<html lang="en">' in body and newest.published_at_raw and newest.published_at_raw.encode() in body
    for path in ("/terkini", f"/latest-news/{service.pages + 1}", f"/berita/{newest.article_id}/x", "/tag/asean"):
        assert client.get("en.antaranews.com", path)[0] == 404, path


def test_english_truth_over_http(client: Client, site: SampleSite) -> None:
    from crawler.samplesite.english import english

    status, _, body = client.get("", "/_control/truth?region=en,kalteng")
    answer = json.loads(body)
    assert status == 200 and set(answer["articles"]) == {"en", "kalteng"}
    assert [r["url"] for r in answer["articles"]["en"]] == [s.url for s in english(site).articles()]
    assert {r["language"] for r in answer["articles"]["en"]} == {"en"}
    assert "language" not in answer["articles"]["kalteng"][0]
    assert "en" not in json.loads(client.get("", "/_control/truth")[2])["articles"]


def test_english_articles_follow_the_clock() -> None:
    from datetime import timedelta, timezone

    from crawler.samplesite.clock import Clock
    from crawler.samplesite.english import english

    site = SampleSite(35 * 12, seed=4)
    full = english(site).count
    start = datetime(2026, 11, 27, 0, 0, tzinfo=timezone.utc)
    site.set_clock(Clock(start, seed=4))
    before = english(site).count
    assert 0 < before < full
    assert all(datetime.fromisoformat(s.published_at) <= start for s in english(site).articles())
    site.set_now(start + timedelta(days=1))
    assert english(site).count > full  # the service goes on publishing after the anchor
