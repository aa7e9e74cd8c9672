"""The ANTARA sites the crawler knows: slug, host, name, time zone and language, shared by all layers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta, timezone

#: Indonesian time zones by their printed label.
ZONES: dict[str, timezone] = {
    "WIB": timezone(timedelta(hours=7), "WIB"),
    "WITA": timezone(timedelta(hours=8), "WITA"),
    "WIT": timezone(timedelta(hours=9), "WIT"),
}


@dataclass(frozen=True)
class Region:
    """One ANTARA site: a regional subdomain or the national site."""

    slug: str  #: short name used on the command line and in the archive, e.g. ``kalteng``
    host: str  #: lowercase host name, e.g. ``kalteng.antaranews.com``
    name: str  #: human name of the region, e.g. ``Kalimantan Tengah``
    zone: str  #: time zone label used when a page prints none: ``WIB``, ``WITA`` or ``WIT``
    template: str = "old"  #: page template the site serves: ``old`` or ``new``
    #: language of the site's articles, an ISO 639-1 code: ``id`` (Indonesian) or ``en`` (English)
    language: str = "id"
    #: first path segment of the site's article URLs: ``berita`` (``/berita/{id}/{slug}``), ``news`` on en
    article_section: str = "berita"
    #: path of the site's latest-news list, page 1 (page n is ``{list_path}/{n}``)
    list_path: str = "/terkini"
    #: path of the site's RSS feed of the newest articles: ``/rss/terkini.xml``, ``/rss/news.xml`` on en
    feed_path: str = "/rss/terkini.xml"

    @property
    def tz(self) -> timezone:
        return ZONES[self.zone]

    def as_row(self) -> dict[str, str]:
        return {
            "slug": self.slug,
            "host": self.host,
            "name": self.name,
            "time_zone": self.zone,
            "utc_offset": _offset_text(self.zone),
        }


def _offset_text(zone: str) -> str:
    hours = int(ZONES[zone].utcoffset(None).total_seconds() // 3600)
    return f"+{hours:02d}:00"


_TABLE = """
aceh|Aceh|WIB
bali|Bali|WITA
babel|Bangka Belitung|WIB
banten|Banten|WIB
bengkulu|Bengkulu|WIB
gorontalo|Gorontalo|WITA
jambi|Jambi|WIB
jabar|Jawa Barat|WIB
jateng|Jawa Tengah|WIB
jatim|Jawa Timur|WIB
kalbar|Kalimantan Barat|WIB
kalsel|Kalimantan Selatan|WITA
kalteng|Kalimantan Tengah|WIB
kaltim|Kalimantan Timur|WITA
kaltara|Kalimantan Utara|WITA
kepri|Kepulauan Riau|WIB
kl|Kuala Lumpur bureau|WIB
lampung|Lampung|WIB
ambon|Maluku (also Maluku Utara)|WIT
megapolitan|Jakarta area|WIB
mataram|Nusa Tenggara Barat|WITA
kupang|Nusa Tenggara Timur|WITA
papua|Papua|WIT
papuabarat|Papua Barat|WIT
papuatengah|Papua Tengah|WIT
riau|Riau|WIB
makassar|Sulawesi Selatan (also Sulawesi Barat)|WITA
sulteng|Sulawesi Tengah|WITA
sultra|Sulawesi Tenggara|WITA
manado|Sulawesi Utara|WITA
sumbar|Sumatera Barat|WIB
sumsel|Sumatera Selatan|WIB
sumut|Sumatera Utara|WIB
jogja|Yogyakarta|WIB
"""

NATIONAL = Region("nasional", "www.antaranews.com", "Nasional", "WIB", template="new")

#: The national agency's English service: articles at ``/news/{id}/{slug}``, latest news at
#: ``/latest-news``, feed at ``/rss/news.xml``. Not in :data:`REGIONS`: ``--all-regions`` leaves it
#: out, ``--region en`` crawls it.
ENGLISH = Region(
    "en",
    "en.antaranews.com",
    "ANTARA English",
    "WIB",
    template="new",
    language="en",
    article_section="news",
    list_path="/latest-news",
    feed_path="/rss/news.xml",
)

#: The Indonesian-language sites, national first, then the 34 regional sites in the order of the
#: site notes: what ``--all-regions`` crawls and the sample site serves.
REGIONS: tuple[Region, ...] = (NATIONAL,) + tuple(
    Region(slug, f"{slug}.antaranews.com", name, zone)
    for slug, name, zone in (line.split("|") for line in _TABLE.strip().splitlines())
)

#: Every site in the registry: the 35 Indonesian-language sites, then the English service.
SITES: tuple[Region, ...] = (*REGIONS, ENGLISH)

#: The feed path of every site (a URL ending in one of them is a site's feed).
FEED_PATHS: tuple[str, ...] = tuple(dict.fromkeys(r.feed_path for r in SITES))

BY_SLUG: dict[str, Region] = {r.slug: r for r in SITES}

#: Host aliases that serve a known region under another name.
HOST_ALIASES: dict[str, str] = {
    "kalut.antaranews.com": "kaltara.antaranews.com",
    "antaranews.com": "www.antaranews.com",
}

BY_HOST: dict[str, Region] = {r.host: r for r in SITES}


def region_for_host(host: str) -> Region | None:
    """The region served by ``host`` (case-insensitive, aliases resolved), or None."""
    host = host.lower().rstrip(".")
    host = HOST_ALIASES.get(host, host)
    return BY_HOST.get(host)


class UnknownRegion(ValueError):
    """A region slug that is not in the registry."""


def parse_regions(values: list[str] | tuple[str, ...] | str) -> list[Region]:
    """Resolve slugs given as repeated and/or comma-separated values, keeping order, no repeats.

    Raises :class:`UnknownRegion` naming the bad slug and listing the valid ones.
    """
    if isinstance(values, str):
        values = [values]
    out: list[Region] = []
    for value in values:
        for slug in (s.strip().lower() for s in value.split(",")):
            if not slug:
                continue
            region = BY_SLUG.get(slug)
            if region is None:
                raise UnknownRegion(f"unknown region {slug!r}; choose from: {', '.join(BY_SLUG)}")
            if region not in out:
                out.append(region)
    return out
