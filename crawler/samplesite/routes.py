"""Map a mirror request path ``/{host}{path}?{query}`` to the sample site's response."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from crawler.domain.regions import Region, region_for_host
from crawler.samplesite import render
from crawler.samplesite.images import ImageHost, image_host_of
from crawler.samplesite.model import ArticleSpec, SampleSite, slugify
from crawler.samplesite.words import TAGS

HTML = "text/html; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

_TERKINI = re.compile(r"^/terkini(?:/(\d{1,6}))?$")
_ARTICLE = re.compile(r"^/(amp/)?berita/(\d{1,12})(?:/[^/]*)?$")
_TAG = re.compile(r"^/tag/([a-z0-9-]+)(?:/(\d{1,6}))?$")
_MEDIA = re.compile(r"^/(foto|video|infografis)/(\d{1,12})(?:/[^/]*)?$")
_TAG_NAMES = {slugify(t): t for t in TAGS}


@dataclass(frozen=True)
class Page:
    """One response: status, Content-Type and the encoded body."""

    status: int
    content_type: str
    body: bytes


#: how ``/_control/remove`` takes an article down: a 404, a 410, a 200 "not found" page, a redirect to ``/terkini``
REMOVAL_KINDS = ("404", "410", "soft_404", "redirect")

NOT_FOUND = Page(404, HTML, render.NOT_FOUND_HTML.encode())
SERVER_ERROR = Page(500, HTML, render.SERVER_ERROR_HTML.encode())


def _html(text: str) -> Page:
    return Page(200, HTML, text.encode())


class Router:
    """Answers mirror paths for one :class:`SampleSite`; keeps a bounded cache of rendered pages."""

    def __init__(self, site: SampleSite, cache_size: int = 512) -> None:
        self.site = site
        self._cached = lru_cache(maxsize=cache_size)(self._route)
        self._generation = site.generation
        #: pages that fail for good: mirror path -> HTTP status answered instead of the page,
        #: e.g. ``{"/kalsel.antaranews.com/terkini": 500}``; a path ending in "/" covers itself and all below it
        self.broken: dict[str, int] = {}
        #: the image host (``img.antaranews.com``); its ``faults`` turn chosen images into bad answers
        self.images = ImageHost()
        #: articles taken down: (host, article id) -> how (:data:`REMOVAL_KINDS`), every URL of them
        self.removed: dict[tuple[str, int], str] = {}

    def get(self, target: str) -> Page:
        """The response to ``target`` (``/{host}{path}[?query]``); the query never changes the page."""
        if self._generation != self.site.generation:  # articles were published or edited
            self._cached.cache_clear()
            self._generation = self.site.generation
        path = target.split("?", 1)[0].split("#", 1)[0]
        if self.broken:
            status = self._broken_status(path)
            if status is not None:
                return NOT_FOUND if status == 404 else Page(status, HTML, render.SERVER_ERROR_HTML.encode())
        if image_host_of(path) is not None:
            return self._image(path)
        if self.removed:
            gone = self._removed_page(path)
            if gone is not None:
                return gone
        return self._cached(path)

    def _image(self, path: str) -> Page:
        """An answer of the image host (not cached: its faults may change between requests)."""
        answer = self.images.get("/" + path.lstrip("/").partition("/")[2])
        return NOT_FOUND if answer is None else Page(*answer)

    def _broken_status(self, path: str) -> int | None:
        for broken, status in self.broken.items():
            if path == broken.rstrip("/") or (broken.endswith("/") and path.startswith(broken)):
                return status
        return None

    def removal(self, target: str) -> str | None:
        """How the article a target asks for was taken down (:data:`REMOVAL_KINDS`), or None."""
        spec = self.article_spec(target) if self.removed else None
        return self.removed.get((spec.host, spec.article_id)) if spec is not None else None

    def _removed_page(self, path: str) -> Page | None:
        """The answer for a removed article (a ``redirect`` is sent by the server, with its Location)."""
        kind = self.removal(path)
        if kind == "404":
            return NOT_FOUND
        if kind == "410":
            return Page(410, HTML, render.NOT_FOUND_HTML.encode())
        if kind == "soft_404":  # the "not found" page, answered 200 as some CMSes do
            return _html(render.NOT_FOUND_HTML)
        return None

    def article_spec(self, target: str) -> ArticleSpec | None:
        """The article a target ``/{host}/berita/{id}/...`` (or its AMP copy) asks for, or None."""
        host, _, rest = target.split("?", 1)[0].lstrip("/").partition("/")
        match = _ARTICLE.match("/" + rest.rstrip("/"))
        return self.site.article(host, int(match.group(2))) if match else None

    def _route(self, path: str) -> Page:
        if path in ("", "/"):
            return _html(render.index(self.site))
        host, _, rest = path[1:].partition("/")
        region = region_for_host(host)
        if region is None:
            return NOT_FOUND
        rest = "/" + rest
        if len(rest) > 1:
            rest = rest.rstrip("/")
        if region.language == "en":
            return self._english_page(rest)
        return self._region_page(region, rest)

    def _english_page(self, path: str) -> Page:
        """A page of en.antaranews.com, the English service (its own generator: crawler.samplesite.english)."""
        from crawler.samplesite.english_pages import page

        answer = page(self.site, path)
        if answer is None:
            return NOT_FOUND
        kind, text = answer
        return Page(200, {"html": HTML, "rss": RSS, "text": TEXT}[kind], text.encode())

    def _region_page(self, region: Region, path: str) -> Page:
        site = self.site
        if path == "/":
            return _html(render.home(site, region))
        if path == "/robots.txt":
            return Page(200, TEXT, render.ROBOTS_TXT.encode())
        if path == "/rss/terkini.xml":
            return Page(200, RSS, render.rss(site, region).encode())
        match = _ARTICLE.match(path)
        if match:
            return self._article(region, int(match.group(2)), amp=bool(match.group(1)))
        match = _TERKINI.match(path)
        if match:
            page = int(match.group(1) or 1)
            if page < 1 or page > site.pages(region.slug):
                return NOT_FOUND
            return _html(render.terkini(site, region, page))
        match = _TAG.match(path)
        if match:
            tag = _TAG_NAMES.get(match.group(1))
            if tag is None or int(match.group(2) or 1) != 1:
                return NOT_FOUND
            return _html(render.tag_page(site, region, tag, site.tagged(region.slug, match.group(1))))
        match = _MEDIA.match(path)
        if match:
            return _html(render.media_page(site, region, match.group(1), int(match.group(2))))
        return NOT_FOUND

    def _article(self, region: Region, article_id: int, amp: bool) -> Page:
        spec = self.site.article(region.host, article_id)
        if spec is None or spec.fault == "http_404":
            return NOT_FOUND
        if spec.fault == "http_500":
            return SERVER_ERROR
        if spec.fault == "no_article":
            return _html(render.section_page(self.site, region, spec.category))
        return _html(render.article(self.site, spec, amp=amp))
