"""A bare Scrapy spider that makes the crawl ``antara crawl --delay 0`` makes, with nothing of this project.

The baseline of ``bench/crawl.py``. It imports no module of this project (``crawler``, ``spiders``,
``archive``), only Scrapy (and parsel, through Scrapy's selectors) and the standard library, so it
is what a plain Scrapy project reaches on the same site. It does what ``antara crawl --all-regions
--mirror SITE --delay 0`` asks for:

- on each of the 35 sites, the list pages ``/terkini``, ``/terkini/2``, ... up to ``--max-pages``,
  one after the other (the next is asked for once the previous one is read);
- every article a list page links to, then the "Baca juga" links of each article body, up to
  ``--follow-depth`` hops. An article is fetched once whatever variant of its URL links to it
  (another slug, AMP, http, a query, an upper-case host, the kalut alias: an article is its id on
  its host), and one first reached through a longer chain has its links followed again when a
  shorter one reaches it, so the hops are the fewest, as in our crawl;
- each article page parsed with Scrapy's selectors: title, body text, publication date (the
  printed one read into a datetime, else the page's machine-readable one) and the Baca juga
  links. A page counts as an article when it has all three of title, body and date (our crawl
  stores no article without them), and only an article's links are followed.

Settings are those ``antara crawl --delay 0 [--concurrency C]`` runs with (crawler/scrapy/settings.py
and crawler/run.py), written out in :func:`settings`. Requests go straight to the mirror
(``{mirror}/{host}{path}``) with the real host as their download slot, so concurrency and the
scheduler's per-slot queues are per real site, as in ours. What differs, by design: robots.txt
is read once, at the mirror's root (a 404: everything allowed), where ours reads each site's
(35 requests; none disallows an article); there is no HTTP cache (ours keeps robots.txt in one);
nothing is stored or captured.

Run from the project root (``bench/crawl.py`` does, in a child process)::

    .venv/bin/python bench/baseline_spider.py --mirror http://127.0.0.1:8080 [--max-pages 3]
        [--follow-depth 2] [--concurrency C] [--keys FILE]

It prints one JSON line: ``articles`` (pages parsed as articles), ``seconds`` (Scrapy's
``elapsed_time_seconds``), ``requests`` and ``responses``. ``--keys FILE`` writes the articles
parsed, one ``host id`` line each, for comparing with what our crawl stored.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

# Run as a script, bench/ comes first on sys.path, and bench/incremental.py would shadow the
# ``incremental`` package that Twisted imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import scrapy  # noqa: E402
from scrapy.crawler import CrawlerProcess  # noqa: E402
from scrapy.http import Response  # noqa: E402

#: The sites, national first: subdomain of antaranews.com and the time zone of dates printed without one.
_SITE_TABLE = """
www:WIB aceh:WIB bali:WITA babel:WIB banten:WIB bengkulu:WIB gorontalo:WITA jambi:WIB jabar:WIB
jateng:WIB jatim:WIB kalbar:WIB kalsel:WITA kalteng:WIB kaltim:WITA kaltara:WITA kepri:WIB kl:WIB
lampung:WIB ambon:WIT megapolitan:WIB mataram:WITA kupang:WITA papua:WIT papuabarat:WIT papuatengah:WIT
riau:WIB makassar:WITA sulteng:WITA sultra:WITA manado:WITA sumbar:WIB sumsel:WIB sumut:WIB jogja:WIB
"""
#: host -> zone label
SITES: dict[str, str] = {
    f"{name}.antaranews.com": zone for name, zone in (item.split(":") for item in _SITE_TABLE.split())
}
ALIASES = {"kalut.antaranews.com": "kaltara.antaranews.com", "antaranews.com": "www.antaranews.com"}
ZONES = {"WIB": timezone(timedelta(hours=7)), "WITA": timezone(timedelta(hours=8)), "WIT": timezone(timedelta(hours=9))}
MONTHS = {
    name: number
    for number, name in enumerate(
        (
            "januari",
            "februari",
            "maret",
            "april",
            "mei",
            "juni",
            "juli",
            "agustus",
            "september",
            "oktober",
            "november",
            "desember",
        ),
        start=1,
    )
}

_ARTICLE_PATH = re.compile(r"^/(?:amp/)?berita/([0-9]{1,12})(?:/([^/?#]*))?/?$", re.IGNORECASE)
_PRINTED_DATE = re.compile(r"(\d{1,2})\s+([A-Za-z]+)\s+(\d{4}),?\s+(\d{1,2})[:.](\d{2})(?:\s+(WIB|WITA|WIT)\b)?")
_SPACES = re.compile(r"\s+")

LIST_ENTRIES = "article.simple-post, div.card__post"
ENTRY_LINKS = "h2 a::attr(href), h3 a::attr(href), h4 a::attr(href), a::attr(href)"
TITLE = "h1.post-title, div.wrap__article-detail-title h1"
BODY = "div.post-content, div.wrap__article-detail-content"
PRINTED_DATE = "span.article-date, div.wrap__article-detail-info"
MACHINE_DATES = (
    "span.article-date time::attr(datetime), meta[itemprop=datePublished]::attr(content),"
    " meta[property='article:published_time']::attr(content)"
)
BACA_JUGA = ".//*[starts-with(normalize-space(text()), 'Baca juga')]/a/@href"
TEXT = ".//text()[not(ancestor::script or ancestor::style)]"

#: an article: (host, id on that host)
Key = tuple[str, int]
#: what a link says: host, id, slug (lower case, may be empty)
Ref = tuple[str, int, str]


def article_ref(href: str, base: str) -> Ref | None:
    """The article ``href`` (resolved against ``base``) points at, or None when it is no article URL."""
    try:
        parts = urlsplit(urljoin(base, href.strip()))
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.username or parts.password or port not in (None, 80, 443):
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    host = ALIASES.get(host, host)
    found = _ARTICLE_PATH.match(parts.path)
    if host not in SITES or found is None:
        return None
    return host, int(found.group(1)), (found.group(2) or "").lower()


def read_date(printed: str, machine: list[str], zone: str) -> datetime | None:
    """The printed date ("Kamis, 20 Oktober 2022 15:02 WIB"), else the first ISO 8601 one that reads."""
    found = _PRINTED_DATE.search(printed)
    if found and found.group(2).lower() in MONTHS:
        day, month, year, hour, minute, label = found.groups()
        try:
            return datetime(
                int(year), MONTHS[month.lower()], int(day), int(hour), int(minute), tzinfo=ZONES[label or zone]
            )
        except ValueError:
            pass
    for value in machine:
        try:
            return datetime.fromisoformat(value.strip())
        except ValueError:
            continue
    return None


def fold(parts: list[str]) -> str:
    return _SPACES.sub(" ", " ".join(parts)).strip()


class BareSpider(scrapy.Spider):
    """List pages, their articles and Baca juga links to ``follow_depth`` hops; counts the articles parsed."""

    name = "bare"

    def __init__(self, mirror: str, max_pages: Any = 3, follow_depth: Any = 2, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.mirror = mirror.rstrip("/")
        self.max_pages = int(max_pages)
        self.depth = int(follow_depth)
        #: fewest hops from a list page to each article requested
        self.hops: dict[Key, int] = {}
        #: the Baca juga targets of each article parsed
        self.targets: dict[Key, list[Ref]] = {}
        #: the articles parsed, in order
        self.parsed: list[Key] = []

    def fetch(self, site: str, path: str, callback: Any, priority: int, **cb_kwargs: Any) -> scrapy.Request:
        """A request for ``https://{site}{path}``, sent to the mirror, in the site's own download slot."""
        return scrapy.Request(
            f"{self.mirror}/{site}{path}",
            callback=callback,
            priority=priority,
            cb_kwargs={"url": f"https://{site}{path}", **cb_kwargs},
            meta={"download_slot": site},
        )

    async def start(self) -> AsyncIterator[scrapy.Request]:
        for host in SITES:
            yield self.list_page(host, 1)

    def list_page(self, host: str, page: int) -> scrapy.Request:
        path = "/terkini" if page <= 1 else f"/terkini/{page}"
        return self.fetch(host, path, self.parse_list, 100 - min(page, 50), host=host, page=page)

    def parse_list(self, response: Response, url: str, host: str, page: int) -> Iterator[scrapy.Request]:
        listed: set[Key] = set()
        for entry in response.css(LIST_ENTRIES):
            ref = next(filter(None, (article_ref(href, url) for href in entry.css(ENTRY_LINKS).getall())), None)
            if ref is None or ref[:2] in listed:
                continue
            listed.add(ref[:2])
            yield from self.follow(ref, 0, 50 - min(page, 50))
        if listed and page < self.max_pages:
            yield self.list_page(host, page + 1)

    def follow(self, ref: Ref, hops: int, priority: int) -> Iterator[scrapy.Request]:
        """Request the article once; when a shorter path reaches a parsed one, follow its links again."""
        host, article_id, slug = ref
        key = (host, article_id)
        known = self.hops.get(key)
        if known is not None and known <= hops:
            return
        self.hops[key] = hops
        if known is None:
            path = f"/berita/{article_id}/{slug}" if slug else f"/berita/{article_id}"
            yield self.fetch(host, path, self.parse_article, priority, key=key)
            return
        if hops < self.depth:
            for target in self.targets.get(key, ()):
                yield from self.follow(target, hops + 1, -(hops + 1))

    def parse_article(self, response: Response, url: str, key: Key) -> Iterator[scrapy.Request]:
        title = fold(response.css(TITLE)[:1].xpath(TEXT).getall())
        body = response.css(BODY)[:1]
        text = fold(body.xpath(TEXT).getall())
        printed = fold(response.css(PRINTED_DATE)[:1].xpath(TEXT).getall())
        published = read_date(printed, response.css(MACHINE_DATES).getall(), SITES[key[0]])
        if not (title and text and published):
            return
        self.parsed.append(key)
        refs: dict[Key, Ref] = {}
        for href in body.xpath(BACA_JUGA).getall():
            ref = article_ref(href, url)
            if ref is not None:
                refs.setdefault(ref[:2], ref)
        self.targets[key] = list(refs.values())
        hops = self.hops[key]  # it may have been lowered while the page was being fetched
        if hops < self.depth:
            for ref in refs.values():
                yield from self.follow(ref, hops + 1, -(hops + 1))


def settings(concurrency: int | None) -> dict[str, Any]:
    """What ``antara crawl --delay 0 [--concurrency C]`` runs with, minus the project's own components."""
    return {
        "BOT_NAME": "bare",
        "USER_AGENT": "bare-scrapy-baseline/1.0 (+https://github.com/antara-archive/antara-archive)",
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": 16,
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency or 1,
        "DOWNLOAD_DELAY": 0.0,
        "DOWNLOAD_DELAY_JITTER": 0.0,
        "AUTOTHROTTLE_ENABLED": False,
        "DOWNLOAD_TIMEOUT": 30,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "RETRY_GIVE_UP_LOG_LEVEL": "INFO",
        "REDIRECT_MAX_TIMES": 5,
        "DOWNLOAD_MAXSIZE": 16 * 1024 * 1024,
        "DOWNLOAD_WARNSIZE": 4 * 1024 * 1024,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "WARNING",
        "TWISTED_REACTOR": "twisted.internet.asyncioreactor.AsyncioSelectorReactor",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", required=True, help="base URL of the sample site, e.g. http://127.0.0.1:8080")
    parser.add_argument("--max-pages", type=int, default=3)
    parser.add_argument("--follow-depth", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=None, help="parallel requests per site [1]")
    parser.add_argument("--keys", type=Path, default=None, help="write the articles parsed here, 'host id' a line")
    args = parser.parse_args()
    process = CrawlerProcess(settings(args.concurrency))
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, mirror=args.mirror, max_pages=args.max_pages, follow_depth=args.follow_depth)
    process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    spider: BareSpider = crawler.spider  # type: ignore[assignment]
    if args.keys is not None:
        args.keys.write_text("".join(f"{host} {article_id}\n" for host, article_id in spider.parsed))
    figures = {
        "articles": len(spider.parsed),
        "seconds": stats.get("elapsed_time_seconds", 0.0),
        "requests": stats.get("downloader/request_count", 0),
        "responses": stats.get("downloader/response_count", 0),
        "finish_reason": stats.get("finish_reason", "?"),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
