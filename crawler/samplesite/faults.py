"""Fault mode of the sample site: on a chosen share of requests, answer the way a bad day on the web does.

Whether a request gets a fault, and which, follows from ``(seed, resource, attempt)`` only: the
resource is the article (``host/berita/id``, whatever slug, AMP or query led to it) or the path,
and the attempt counts earlier requests for that resource. So a crawl meets the same faults in
the same places every time, whatever order its concurrent requests arrive in, and a retry is a
new draw (a transient fault may clear up, as it does on the real web).

No Scrapy import: the server uses this, and tests read :class:`Answer` records to know exactly
what the crawler was sent.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from dataclasses import dataclass

from crawler.samplesite.model import BAD_DATE_TEXT, ArticleSpec, BacaJuga

#: Faults that concern how a response travels; any page can get them.
TRANSPORT = ("slow", "drop", "http_429", "http_503", "redirect_loop", "offsite_redirect", "empty", "huge")
#: Faults that concern what an article page holds; only article pages get them.
CONTENT = ("invalid_utf8", "legacy_encoding", "no_container", "bad_date", "hostile_links")
KINDS = TRANSPORT + CONTENT

#: What a correct crawler does with each fault when it is the last answer it gets for a page:
#: the ``crawl_errors`` reason it records, or None when the article must be archived anyway.
EXPECTED_REASON: dict[str, str | None] = {
    "slow": "timeout",
    "drop": "truncated",
    "http_429": "http_429",
    "http_503": "http_503",
    "redirect_loop": "redirect_loop",
    "offsite_redirect": "offsite_blocked",
    "empty": "empty_page",
    "huge": "too_large",
    "invalid_utf8": None,  # archived; the undecodable bytes become U+FFFD
    "legacy_encoding": None,  # archived exactly: the page says windows-1252 and is decoded so
    "no_container": "missing_body",
    "bad_date": "bad_date",
    "hostile_links": None,  # archived exactly; the links are not followed
}
#: HTTP status each fault is answered with (a slow or cut-off answer keeps the page's own status)
STATUS: dict[str, int] = {
    "http_429": 429,
    "http_503": 503,
    "redirect_loop": 302,
    "offsite_redirect": 302,
    **{k: 200 for k in ("empty", "huge", *CONTENT)},
}
#: Faults a crawler retries (a later attempt is a new draw).
RETRIED = ("slow", "drop", "http_429", "http_503", "empty")

LOOP_PARAM = "fault_loop"  #: query parameter of the redirect loop's hops
INVALID_BYTES = b"\xff\xfe"  #: never valid in UTF-8; put right after the headline text
LEGACY_CHARSET = "windows-1252"
_ARTICLE = re.compile(r"^/(?:amp/)?berita/(\d{1,12})(?:/[^/]*)?/?$")
_LIST = re.compile(r"^/terkini(?:/\d{1,6})?/?$")


def _draw(*parts: object) -> int:
    data = ":".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


def resource(target: str) -> tuple[str, str]:
    """``(key, page kind)`` of a mirror target ``/{host}{path}?{query}``.

    The key names what is fetched: ``host/berita/id`` for every variant of one article, else
    ``host/path``. The kind is ``article``, ``list``, ``feed`` or ``other``.
    """
    path = target.split("?", 1)[0].split("#", 1)[0]
    host, _, rest = path.lstrip("/").partition("/")
    host, rest = host.lower(), "/" + rest
    match = _ARTICLE.match(rest)
    if match:
        return f"{host}/berita/{int(match.group(1))}", "article"
    if _LIST.match(rest):
        return f"{host}{rest.rstrip('/')}", "list"
    if rest.startswith("/rss/"):
        return f"{host}{rest}", "feed"
    return f"{host}{rest}", "other"


@dataclass(frozen=True)
class FaultPlan:
    """Which share of requests get a fault, drawn with ``seed``; and how the slow ones are slow."""

    share: float
    seed: int = 0
    #: the kinds to draw from (any subset of :data:`KINDS`)
    kinds: tuple[str, ...] = KINDS
    #: the page kinds that get faults (any of ``article``, ``list``, ``feed``)
    pages: tuple[str, ...] = ("article", "list", "feed")
    #: a slow answer starts after this many seconds: past Scrapy's default 30 s download timeout
    slow_seconds: float = 35.0
    #: ``Retry-After`` of the 429 answers, in seconds
    retry_after: int = 2
    #: size of the oversized page: past the crawler's 16 MB DOWNLOAD_MAXSIZE
    huge_bytes: int = 20 * 1024 * 1024

    def __post_init__(self) -> None:
        if not 0.0 <= self.share <= 1.0:
            raise ValueError("the fault share must be between 0 and 1")
        unknown = set(self.kinds) - set(KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"unknown fault kinds: {', '.join(sorted(unknown)) or '(none given)'}")
        if not set(self.pages) <= {"article", "list", "feed"}:
            raise ValueError("faults go to article, list and feed pages only")

    def pick(self, key: str, kind: str, attempt: int, article_ok: bool) -> str | None:
        """The fault for attempt ``attempt`` at resource ``key`` of page kind ``kind``, or None.

        Robots.txt and pages other than articles, list pages and feeds never get one (an
        unreadable robots.txt keeps the crawler off the whole host; ``SampleSiteServer.robots``
        sets a host's robots.txt answer instead). Content
        faults go only to article pages that would otherwise be served as a good article
        (``article_ok``).
        """
        if kind not in self.pages or self.share <= 0:
            return None
        h = _draw(self.seed, key, attempt)
        if (h % 1_000_000) / 1_000_000 >= self.share:
            return None
        allowed = [k for k in self.kinds if k in TRANSPORT or (kind == "article" and article_ok)]
        if not allowed:
            return None
        return allowed[(h >> 24) % len(allowed)]


@dataclass(frozen=True)
class Answer:
    """One request the sample site answered while a fault plan was set."""

    key: str  #: see :func:`resource`
    kind: str  #: page kind
    target: str  #: the request target as received
    attempt: int  #: earlier requests for the same key (redirect-loop hops are not counted)
    fault: str | None  #: the fault served, or None for the normal answer
    status: int  #: the HTTP status sent (a slow or dropped answer is still a 200)
    at: float  #: ``time.monotonic()`` when the request arrived


# ---------------------------------------------------------------------- damaged pages


def offsite_targets(host: str, path: str, port: int) -> tuple[str, ...]:
    """Where an off-site redirect may point: look-alike domains, userinfo tricks, IP literals, odd ports.

    The loopback ones point back at this server *outside* the mirror layout, so a crawler
    that followed them would show up in the request log as a path without a host.
    """
    return (
        f"https://antaranews.com.evil.test{path}",
        f"https://{host}@evil.test{path}",
        f"http://127.0.0.1:{port}/canary{path}",
        f"http://{host}@127.0.0.1:{port}/canary{path}",
        f"https://{host}:8443{path}",
    )


def hostile_links(spec: ArticleSpec, port: int) -> ArticleSpec:
    """``spec`` with extra "Baca juga" links to non-ANTARA hosts after its first paragraph."""
    targets = [
        f"https://antaranews.com.evil.test/berita/{spec.article_id}/x",
        f"https://{spec.host}@evil.test/berita/{spec.article_id}/x",
        f"https://evil.test#@{spec.host}/berita/{spec.article_id}/x",
        f"http://127.0.0.1:{port}/canary/berita/{spec.article_id}/x",
        f"http://[::1]:{port}/canary/berita/{spec.article_id}/x",
        f"https://{spec.host}:8443/berita/{spec.article_id}/x",
        f"//evil.test/berita/{spec.article_id}/x",
        "javascript:alert(document.domain)//berita/1/x",
    ]
    extra = [
        BacaJuga(url=href, href=href, title=f"Tautan palsu {n + 1}", variant="hostile", after=0)
        for n, href in enumerate(targets)
    ]
    return dataclasses.replace(spec, baca_juga_links=[*spec.baca_juga_links, *extra])


def bad_date(spec: ArticleSpec) -> ArticleSpec:
    """``spec`` printing an unreadable date and no date metadata (the base site's ``bad_date`` page)."""
    return dataclasses.replace(spec, fault="bad_date", published_at_raw=BAD_DATE_TEXT)


def without_container(html: bytes) -> bytes:
    """The article page after a redesign renamed its body container: title and date are still there."""
    return html.replace(b'class="post-content clearfix font17"', b'class="entry-body clearfix font17"').replace(
        b'class="wrap__article-detail-content post-content"', b'class="wrap__article-body"'
    )


def with_invalid_utf8(html: bytes) -> bytes:
    """The page with :data:`INVALID_BYTES` right after the headline text (still declared UTF-8)."""
    return re.sub(rb"(<h1[^>]*>[^<]*)", lambda m: m.group(1) + INVALID_BYTES, html, count=1)


def in_legacy_encoding(html: bytes) -> bytes:
    """The page re-encoded as windows-1252, its ``<meta charset>`` saying so."""
    text = html.decode("utf-8").replace('<meta charset="utf-8">', f'<meta charset="{LEGACY_CHARSET}">', 1)
    return text.encode("cp1252")
