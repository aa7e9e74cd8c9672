"""URL classification and canonicalisation for ANTARA sites (pure functions)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import url_query_cleaner

from crawler.domain.regions import HOST_ALIASES, Region, region_for_host

# /berita/{id}/{slug} and /amp/berita/{id}/{slug} (/news/ on the English service); the slug may be
# missing. The section must be the host's own (Region.article_section): /news/ on www is no article.
_ARTICLE_PATH = re.compile(r"^/(?:amp/)?(berita|news)/([0-9]{1,12})(?:/([^/?#]*))?/?$", re.IGNORECASE)
_NON_ARTICLE = re.compile(r"^/(?:amp/)?(foto|video|infografis)/", re.IGNORECASE)
# The plain shape of most article links: http(s) on a lowercase host (no port, no user) or a bare
# path, a lowercase slug, nothing after it. Whatever else is read by urljoin and urlsplit.
_PLAIN_ARTICLE = re.compile(
    r"(?:(?:https|http)://(?P<host>[a-z0-9.-]+))?/(?:amp/)?(?P<section>berita|news)/(?P<id>[0-9]{1,12})/(?P<slug>[a-z0-9-]+)"
)
_PLAIN_BASE = re.compile(r"(?:https|http)://(?P<host>[a-z0-9.-]+)/")
# Latest news: /terkini[/n], /latest-news[/n] on the English service (accepted on every host).
_LIST_PATH = re.compile(r"^/(?:terkini|latest-news)(?:/([0-9]{1,6}))?/?$", re.IGNORECASE)

#: Tracking parameters stripped from every URL the crawler requests.
TRACKING_PARAMS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content", "fbclid", "gclid")


@dataclass(frozen=True)
class ArticleRef:
    """What an article URL says: which site, which article."""

    region: Region
    article_id: int
    slug: str

    @property
    def host(self) -> str:
        return self.region.host

    @cached_property  # asked for several times per page; the frozen fields never change
    def url(self) -> str:
        """Canonical URL: https, lowercase host, ``/berita/{id}/{slug}`` (``/news/`` on the English
        service), no query, never AMP."""
        section = self.region.article_section
        path = f"/{section}/{self.article_id}/{self.slug}" if self.slug else f"/{section}/{self.article_id}"
        return f"https://{self.region.host}{path}"


def host_of(url: str) -> str:
    """Lowercase host of ``url`` with aliases resolved ('' when there is none)."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return ""
    return HOST_ALIASES.get(host, host)


@lru_cache(maxsize=8192)
def is_antara_host(url: str) -> bool:
    """True when ``url`` is http(s) on a known ANTARA news host (not img./cdn./video., not look-alikes)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("http", "https") or parts.username or parts.password:
        return False
    if port not in (None, 80, 443):
        return False
    return region_for_host(parts.hostname or "") is not None


@lru_cache(maxsize=8192)  # pure, and the same links recur on many pages; ArticleRef is frozen
def parse_article_url(url: str, base: str | None = None) -> ArticleRef | None:
    """The article an URL points at, or None when it is not an ANTARA article URL.

    ``base`` resolves relative links. Query strings, fragments, ``http``, upper-case hosts,
    the ``kalut`` alias and the AMP form all lead to the same :class:`ArticleRef`.
    """
    fast = _PLAIN_ARTICLE.fullmatch(url)  # nearly every link: absolute or a path, lowercase, no query
    if fast:
        return _plain_article_ref(fast, base)
    return _parse_joined(url, base)


def _plain_article_ref(match: re.Match[str], base: str | None) -> ArticleRef | None:
    """What :func:`parse_article_url` gives for an href of the plain shape, without ``urljoin`` and
    ``urlsplit``: the shape leaves nothing for them to resolve (no dot segment, query, port, user)."""
    plain_base = None
    if base is not None:
        plain_base = _PLAIN_BASE.match(base)
        if plain_base is None:  # urljoin may have something to say about this base: let it
            return _parse_joined(match.string, base)
    host = match.group("host") or (plain_base.group("host") if plain_base else None)
    if host is None:  # a path, and no base to resolve it against
        return None
    region = region_for_host(host)
    if region is None or match.group("section") != region.article_section:
        return None
    return ArticleRef(region=region, article_id=int(match.group("id")), slug=match.group("slug"))


def _parse_joined(url: str, base: str | None) -> ArticleRef | None:
    """The general case of :func:`parse_article_url`: resolve against ``base``, then split."""
    try:
        url = urljoin(base, url.strip()) if base is not None else url.strip()
    except ValueError:  # e.g. an unclosed IPv6 bracket in a scraped href
        return None
    if not is_antara_host(url):
        return None
    parts = urlsplit(url)
    match = _ARTICLE_PATH.match(parts.path)
    if not match:
        return None
    region = region_for_host(parts.hostname or "")
    assert region is not None  # is_antara_host checked it
    if match.group(1).lower() != region.article_section:
        return None
    return ArticleRef(region=region, article_id=int(match.group(2)), slug=(match.group(3) or "").lower())


def canonical_article_url(url: str, base: str | None = None) -> str | None:
    """Canonical form of an article URL, or None when ``url`` is not an article URL."""
    ref = parse_article_url(url, base)
    return ref.url if ref else None


def classify_url(url: str) -> str:
    """Kind of page behind ``url``.

    One of ``article``, ``list``, ``photo``, ``video``, ``infographic``, ``tag``, ``search``,
    ``rss``, ``robots``, ``other`` (an ANTARA page of another kind) or ``offsite``.
    """
    if not is_antara_host(url):
        return "offsite"
    path = urlsplit(url).path or "/"
    if parse_article_url(url) is not None:
        return "article"
    non_article = _NON_ARTICLE.match(path)
    if non_article:
        return {"foto": "photo", "video": "video", "infografis": "infographic"}[non_article.group(1).lower()]
    lower = path.lower()
    if _LIST_PATH.match(path):
        return "list"
    if lower.startswith("/tag/"):
        return "tag"
    if lower.startswith(("/search", "/cari")):
        return "search"
    if lower.startswith("/rss/"):
        return "rss"
    if lower == "/robots.txt":
        return "robots"
    return "other"


def clean_url(url: str, base: str | None = None) -> str:
    """Absolute URL with tracking parameters and the fragment removed (host lower-cased)."""
    if base is not None:
        url = urljoin(base, url.strip())
    url = url_query_cleaner(url, TRACKING_PARAMS, remove=True, keep_fragments=False)
    parts = urlsplit(url)
    return urlunsplit((parts.scheme.lower(), parts.netloc.lower(), parts.path or "/", parts.query, ""))


def list_page_url(region: Region, page: int) -> str:
    """URL of the ``page``-th latest-news page of ``region`` (1 is ``/terkini``, ``/latest-news`` on en)."""
    path = region.list_path
    return f"https://{region.host}{path}" if page <= 1 else f"https://{region.host}{path}/{page}"


def list_page_number(url: str) -> int | None:
    """Page number of a ``/terkini[/n]`` or ``/latest-news[/n]`` URL, or None."""
    match = _LIST_PATH.match(urlsplit(url).path or "/")
    if not match:
        return None
    return int(match.group(1) or 1)
