"""A deterministic synthetic ANTARA network, computed article by article on demand.

Article ``k`` (0 <= k < articles) belongs to ``REGIONS[k % 35]`` with local index ``i = k // 35``;
everything about it (id, time, title, body, links, faults, markup variants) follows from
``(seed, host, i)`` by index arithmetic and seeded hashing, so a site of a million articles costs
no more memory than one of a hundred. Nothing here reads the clock: the newest article of every
region is published near :data:`ANCHOR` (local time of the region). A site may be given a simulated
clock (:mod:`crawler.samplesite.clock`): it then holds only what was published by its "now".
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, NamedTuple

from crawler.domain.regions import REGIONS, Region, region_for_host
from crawler.samplesite import words as W

if TYPE_CHECKING:
    from crawler.samplesite.clock import Clock, Outage

#: Local wall time of the newest article of every region (never the real clock).
ANCHOR = datetime(2026, 11, 27, 12, 0)
STEP_MINUTES = 47  #: distance between consecutive articles of a region, before jitter
JITTER_MINUTES = 40  #: jitter is in [0, JITTER_MINUTES) so times stay strictly increasing
PER_PAGE = 20  #: listed articles per /terkini page
FAULT_PAGES = 2  #: faulty articles sit on the first FAULT_PAGES list pages
HIDDEN_REMAINDER = 7  #: local index i with i % 10 == 7 is hidden (only reachable via "Baca juga")
CHAIN_REMAINDER = 8  #: i % 10 == 8 always links to the hidden article i - 1 (starts a hidden chain)
FAULT_KINDS = ("http_404", "http_500", "no_article", "missing_date", "bad_date")
BAD_DATE_TEXT = "Kamis, 45 Brumaire 2022 99:99 WIB"
NATIONAL_BASE_ID = 4_812_000
REGIONAL_BASE_ID = 210_000
REGIONAL_ID_STRIDE = 13_331
IMG_BASE = "https://img.antaranews.com/cache"
MEDIA_BASE_ID = 4_700_000  #: ids of /foto/, /video/ and /infografis/ pages linked from the site
#: ``republish=True`` only: the share of articles that republish an earlier article of another site
#: (with edits), and the share that are a new story on the topic of an earlier article of their own site
REPUBLISH_SHARE = 0.25
SIBLING_SHARE = 0.12
REPUBLISH_LOOKBACK = 12  #: a republished source is among the newest this many articles of its site

#: How "Baca juga" hrefs are written; every variant occurs across the site.
HREF_VARIANTS = ("absolute", "relative", "utm", "http", "amp", "other_slug", "upper_host")
_HREF_CYCLE = ("absolute", "relative", "absolute", "utm", "http", "amp", "absolute", "other_slug", "upper_host")
UTM_QUERY = "utm_source=antaranews&utm_medium=desktop&utm_campaign=baca_juga"

_SLUG_RE = re.compile(r"[^a-z0-9]+")
_CANONICAL_RE = re.compile(r"^https://([a-z0-9.-]+)/berita/(\d+)(?:/|$)")
_ENGLISH_RE = re.compile(r"^https://(en\.antaranews\.com)/news/(\d+)(?:/|$)")


def slugify(text: str) -> str:
    """ANTARA-style slug: lowercase ASCII words joined by hyphens."""
    return _SLUG_RE.sub("-", text.lower()).strip("-")


def _hash(*parts: object) -> int:
    """A stable 64-bit hash of ``parts`` (unlike ``hash()``, the same in every process)."""
    data = ":".join(str(p) for p in parts).encode()
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "big")


@dataclass(frozen=True)
class Variants:
    """Which markup variations an article page uses (old template; the new one uses the defaults)."""

    body: str = "p"  #: ``p`` (one <p> per paragraph) or ``br`` (bare text split by <br /><br />)
    dateline_break: bool = False  #: br bodies only: a single <br /> right after "City (ANTARA) -"
    credits: str = "colon"  #: ``colon`` "Pewarta: X<br>Editor: Y" or ``spaced`` "Pewarta : X<br />Editor : Y"
    quote_old: bool = False  #: one body paragraph is printed as ``<div class="quote_old">text</div>``
    date_markup: str = "span"  #: ``span`` (text in span.article-date) or ``time`` (wrapped in <time datetime>)
    zone_label: bool = True  #: False: the printed date has no WIB/WITA/WIT (the region's zone applies)
    unpadded_hour: bool = False  #: the hour is printed without a leading zero ("6:34")
    ads: bool = False  #: a paragraph carries ins.adsbygoogle and an adsbygoogle <script>
    itemprop_date: bool = False  #: <meta itemprop="datePublished"> in the head
    related: bool = False  #: a "Berita Terkait" related-posts block follows the article


@dataclass(frozen=True)
class BacaJuga:
    """One "Baca juga" link as printed in an article body."""

    url: str  #: canonical target URL (true slug, https, lowercase host)
    href: str  #: the href as printed
    title: str  #: anchor text: the target's title
    variant: str  #: one of :data:`HREF_VARIANTS`
    after: int  #: index of the body paragraph this link follows


@dataclass(frozen=True)
class InlineLink:
    """A non-article link inside a body paragraph (``/tag/`` or ``/foto/``); its text is body text."""

    paragraph: int
    start: int  #: offset of the anchor text in the paragraph
    end: int
    href: str


@dataclass(frozen=True)
class ArticleSpec:
    """The truth about one synthetic article: what a correct extractor must return for its page.

    Treat instances as read-only: they are cached and shared.
    """

    host: str  #: lowercase host, e.g. ``kalteng.antaranews.com``
    region: str  #: region slug, ``nasional`` for www
    article_id: int  #: id in ``/berita/{id}/{slug}``, unique per host
    index: int  #: local index i in the region (higher is newer)
    slug: str  #: the true slug
    url: str  #: canonical URL ``https://{host}/berita/{id}/{slug}``
    template: str  #: ``old`` or ``new``
    title: str
    paragraphs: list[str]  #: plain-text body paragraphs, the first with its "City (ANTARA) - " dateline
    body: str  #: paragraphs joined by "\n\n": no "Baca juga" lines, credits, ads, scripts or AI notice
    published_at: str  #: ISO 8601 with the local offset, minute precision, e.g. 2026-11-27T11:13:00+08:00
    published_at_raw: str | None  #: the date exactly as the article page prints it (None: not printed)
    dateline: str  #: city of the dateline
    reporter: str
    editor: str
    category: str
    tags: list[str]
    image_url: str  #: the real (data-src) 800x533 image URL
    image_caption: str  #: ends with "ANTARA/Name" or "ANTARA FOTO/Name"
    summary: str  #: the meta description
    hidden: bool  #: never on list pages or RSS; reachable only through "Baca juga" links
    fault: str | None  #: None or one of :data:`FAULT_KINDS`
    baca_juga: list[str]  #: canonical target URLs in page order, no duplicates
    baca_juga_links: list[BacaJuga]
    related: list[str]  #: canonical URLs in the "Berita Terkait" block (old template, when present)
    inline_links: list[InlineLink]
    variants: Variants
    quote_paragraph: int | None  #: index of the paragraph printed in div.quote_old
    ads_paragraph: int | None  #: index of the paragraph carrying the ad markup

    @property
    def amp_url(self) -> str:
        return f"https://{self.host}/amp/berita/{self.article_id}/{self.slug}"

    @property
    def path(self) -> str:
        return f"/berita/{self.article_id}/{self.slug}"


class _Basics(NamedTuple):
    """The cheap part of an article, needed also by pages that only link to it."""

    title: str
    slug: str
    city: str
    subject: int
    verb: int
    obj: int
    minutes: int  #: local minutes relative to ANCHOR


class _Role(NamedTuple):
    """``republish=True`` only: how an article relates to an earlier one (regions index, local index)."""

    kind: str  #: ``copy`` (the same story, republished with edits) or ``sibling`` (same topic, new story)
    r: int
    i: int


@dataclass
class _Region:
    region: Region
    index: int
    count: int
    base_id: int
    offset_minutes: int
    #: articles the region had when the site was made: publication times count from it, so
    #: articles published later (``SampleSite.publish``) never move the older ones
    base_count: int = 0
    faults: dict[int, str] = field(default_factory=dict)

    @property
    def listed(self) -> int:
        return self.count - (self.count + 2) // 10

    @property
    def pages(self) -> int:
        return max(1, -(-self.listed // PER_PAGE))


def _is_hidden(i: int) -> bool:
    return i % 10 == HIDDEN_REMAINDER


def _listed_position(i: int) -> int:
    """0-based position of listed article ``i`` among the listed articles, oldest first."""
    return i - (i + 3) // 10


def _index_of_position(q: int) -> int:
    m = q % 9
    return 10 * (q // 9) + (m if m < HIDDEN_REMAINDER else m + 1)


class SampleSite:
    """A synthetic ANTARA network of ``articles`` articles, the same for the same ``seed``."""

    def __init__(
        self, articles: int = 2000, seed: int = 1, republish: bool = False, english_links: bool = False
    ) -> None:
        if articles < 0:
            raise ValueError("articles must be >= 0")
        self.articles = articles
        self.seed = seed
        #: opt-in: sites republish each other's stories with edits (see :meth:`story`); off, the
        #: network is exactly the one it always was
        self.republish = republish
        #: how many articles the site was made with (the English service's size follows from it)
        self.base_articles = articles
        #: opt-in: some Indonesian articles' "Baca juga" link to an English article of en.antaranews.com
        #: (off, the Indonesian pages are exactly the ones they always were)
        self.english_links = english_links
        n = len(REGIONS)
        self._regions: list[_Region] = []
        for r, region in enumerate(REGIONS):
            count = articles // n + (1 if r < articles % n else 0)
            base = NATIONAL_BASE_ID if r == 0 else REGIONAL_BASE_ID + REGIONAL_ID_STRIDE * r
            offset = int(region.tz.utcoffset(None).total_seconds() // 60)
            self._regions.append(_Region(region, r, count, base, offset, base_count=count))
        self._by_slug = {reg.region.slug: reg for reg in self._regions}
        for reg in self._regions:
            reg.faults = self._place_faults(reg)
        self._revisions: dict[tuple[int, int], int] = {}
        self._basics = lru_cache(maxsize=16384)(self._make_basics)
        self._spec = lru_cache(maxsize=2048)(self._make_spec)
        self._role = lru_cache(maxsize=65536)(self._make_role)
        #: bumped by every change (publish, edit, clock), so servers know their cached pages are stale
        self.generation = 0
        #: the simulated clock (None: no clock, every article the site was built with is published)
        self.clock: Clock | None = None
        #: the clock's "now" (None without a clock)
        self.now: datetime | None = None

    # ------------------------------------------------------------------ changes over time

    def publish(self, count: int) -> list[ArticleSpec]:
        """Publish ``count`` new articles across the network (newer than every existing one)."""
        new = []
        for k in range(self.articles, self.articles + count):
            reg = self._regions[k % len(REGIONS)]
            reg.count += 1
            new.append((reg.index, reg.count - 1))
        self.articles += count
        self._changed()
        return [self._spec(r, i) for r, i in new]

    def edit(self, host: str, article_id: int) -> ArticleSpec:
        """Correct an article after publication: its body gains a correction paragraph."""
        spec = self.article(host, article_id)
        if spec is None:
            raise KeyError(f"no article {article_id} on {host}")
        key = (self._by_slug[spec.region].index, spec.index)
        self._revisions[key] = self._revisions.get(key, 0) + 1
        self._changed()
        edited = self.article(host, article_id)
        assert edited is not None
        return edited

    def revision(self, host: str, article_id: int) -> int:
        """How many times an article was edited (0 for never), by ``edit`` and by the clock."""
        spec = self.article(host, article_id)
        return 0 if spec is None else self._revision(self._by_slug[spec.region], spec.index)

    def _revision(self, reg: _Region, i: int) -> int:
        edited = self._edit_time(reg, i)
        scheduled = edited is not None and self.now is not None and edited <= self.now
        return self._revisions.get((reg.index, i), 0) + scheduled

    def _changed(self) -> None:
        self._spec.cache_clear()
        self._role.cache_clear()
        self.generation += 1

    # ------------------------------------------------------------------ simulated clock

    def set_clock(self, clock: Clock | None) -> None:
        """Attach a simulated clock and move "now" to its start (None detaches it; the counts stay).

        With a clock, the site holds exactly the articles published at or before "now", in every
        region (``publish`` and ``article_at`` are for sites without one).
        """
        self.clock = clock
        if clock is None:
            self.now = None
            self._changed()
        else:
            self.set_now(clock.start)

    def set_now(self, now: datetime) -> None:
        """Move the clock to ``now`` (aware): articles published since appear, corrections due land."""
        if self.clock is None:
            raise ValueError("the site has no clock: set_clock first")
        if now.tzinfo is None:
            raise ValueError("now must carry a UTC offset")
        self.now = now
        for reg in self._regions:
            reg.count = self._published_by(reg, now)
        self.articles = sum(reg.count for reg in self._regions)
        self._changed()

    def outage(self, host: str) -> Outage | None:
        """The clock's outage of ``host``'s region going on now, or None."""
        region = region_for_host(host)
        if self.clock is None or self.now is None or region is None:
            return None
        return self.clock.outage(region.slug, self.now)

    def edit_time(self, spec: ArticleSpec) -> datetime | None:
        """When the clock corrects ``spec`` (aware; None: never)."""
        return self._edit_time(self._by_slug[spec.region], spec.index)

    def _edit_time(self, reg: _Region, i: int) -> datetime | None:
        if self.clock is None:
            return None
        published = self._published_at(reg, i)
        delay = self.clock.edit_delay(reg.region.host, i)
        return published + delay if delay is not None and published > self.clock.start else None

    def _published_at(self, reg: _Region, i: int) -> datetime:
        return (ANCHOR + timedelta(minutes=self._minutes(reg, i))).replace(tzinfo=reg.region.tz)

    def _published_by(self, reg: _Region, now: datetime) -> int:
        """How many articles of ``reg`` are published at or before ``now`` (times only grow with i)."""
        local = now.astimezone(reg.region.tz).replace(tzinfo=None)
        minute = int((local - ANCHOR).total_seconds() // 60)
        j = max(-1, reg.base_count - 1 + minute // STEP_MINUTES + 1)
        while j >= 0 and self._minutes(reg, j) > minute:
            j -= 1
        while self._minutes(reg, j + 1) <= minute:
            j += 1
        return j + 1

    # ------------------------------------------------------------------ truth API

    @property
    def regions(self) -> list[Region]:
        return [reg.region for reg in self._regions]

    def count(self, region_slug: str) -> int:
        """Number of articles (hidden included) of a region."""
        return self._reg(region_slug).count

    def listed_count(self, region_slug: str) -> int:
        """Number of articles that appear on the region's list pages."""
        return self._reg(region_slug).listed

    def pages(self, region_slug: str) -> int:
        """Number of /terkini pages of a region (page 1 exists even when empty)."""
        return self._reg(region_slug).pages

    def article(self, host: str, article_id: int) -> ArticleSpec | None:
        """The article ``article_id`` of ``host`` (case-insensitive, aliases resolved), or None."""
        region = region_for_host(host)
        if region is None:
            return None
        if region.slug not in self._by_slug:  # the English service
            from crawler.samplesite.english import english

            return english(self).article(article_id)
        reg = self._by_slug[region.slug]
        i = article_id - reg.base_id
        if not 0 <= i < reg.count:
            return None
        return self._spec(reg.index, i)

    def article_at(self, k: int) -> ArticleSpec:
        """Article number ``k`` of the whole network (0 <= k < articles)."""
        if not 0 <= k < self.articles:
            raise IndexError(k)
        return self._spec(k % len(REGIONS), k // len(REGIONS))

    def article_by_url(self, url: str) -> ArticleSpec | None:
        """The article behind a canonical URL (any slug), or None."""
        match = _CANONICAL_RE.match(url) or _ENGLISH_RE.match(url)
        return self.article(match.group(1), int(match.group(2))) if match else None

    def article_before(self, region_slug: str, when: datetime) -> ArticleSpec | None:
        """The newest published, non-faulty article of a region published at or before ``when`` (aware)."""
        reg = self._reg(region_slug)
        j = min(reg.count, self._published_by(reg, when)) - 1
        while j >= 0 and not self._usable(reg, j):
            j -= 1
        return self._spec(reg.index, j) if j >= 0 else None

    def listed(self, region_slug: str, page: int) -> list[ArticleSpec]:
        """The articles on ``/terkini/{page}`` (1-based), newest first; [] past the end."""
        reg = self._reg(region_slug)
        if page < 1:
            return []
        ranks = range((page - 1) * PER_PAGE, min(reg.listed, page * PER_PAGE))
        return [self._spec(reg.index, self._index_of_rank(reg, rank)) for rank in ranks]

    def articles_of(self, region_slug: str) -> Iterator[ArticleSpec]:
        """Every article of a region, hidden ones included, newest first."""
        reg = self._reg(region_slug)
        for i in range(reg.count - 1, -1, -1):
            yield self._spec(reg.index, i)

    def faults(self, region_slug: str | None = None) -> list[ArticleSpec]:
        """The faulty articles (of one region, or of all), newest first per region."""
        regs = [self._reg(region_slug)] if region_slug else self._regions
        return [self._spec(reg.index, i) for reg in regs for i in sorted(reg.faults, reverse=True)]

    def tagged(self, region_slug: str, tag_slug: str, limit: int = 10, scan: int = 200) -> list[ArticleSpec]:
        """Articles of a ``/tag/{tag_slug}`` page: listed, non-faulty, among the ``scan`` newest."""
        reg = self._reg(region_slug)
        out: list[ArticleSpec] = []
        for rank in range(min(scan, reg.listed)):
            spec = self._spec(reg.index, self._index_of_rank(reg, rank))
            if spec.fault is None and tag_slug in (slugify(t) for t in spec.tags):
                out.append(spec)
                if len(out) >= limit:
                    break
        return out

    def newest_ok(self, region_slug: str, limit: int = 10) -> list[ArticleSpec]:
        """The newest listed, non-faulty articles of a region (used by section pages)."""
        reg = self._reg(region_slug)
        out: list[ArticleSpec] = []
        for rank in range(reg.listed):
            i = self._index_of_rank(reg, rank)
            if i not in reg.faults:
                out.append(self._spec(reg.index, i))
                if len(out) >= limit:
                    break
        return out

    def reachable(
        self,
        regions: Iterable[str] | None = None,
        pages: int = 3,
        max_hops: int | None = None,
        follow_offsite: bool = True,
    ) -> dict[str, ArticleSpec]:
        """Articles a correct crawler meets: those listed on pages 1..``pages`` of ``regions``, plus
        everything reachable from them through "Baca juga" links within ``max_hops`` hops (None:
        no limit), crossing to other hosts when ``follow_offsite``. Keyed by canonical URL; faulty
        articles are included (they have no links) so callers can count errors too.
        """
        slugs = list(regions) if regions is not None else [reg.region.slug for reg in self._regions]
        allowed = {self._reg(s).region.host for s in slugs}
        found: dict[str, ArticleSpec] = {}
        frontier: list[ArticleSpec] = []
        for slug in slugs:
            for page in range(1, pages + 1):
                for spec in self.listed(slug, page):
                    if spec.url not in found:
                        found[spec.url] = spec
                        frontier.append(spec)
        hops = 0
        while frontier and (max_hops is None or hops < max_hops):
            hops += 1
            nxt: list[ArticleSpec] = []
            for spec in frontier:
                for url in spec.baca_juga:
                    target = self.article_by_url(url)
                    if target is None or url in found:
                        continue
                    if not follow_offsite and target.host not in allowed:
                        continue
                    found[url] = target
                    nxt.append(target)
            frontier = nxt
        return found

    def media_id(self, host: str, n: int) -> int:
        """Id of the n-th /foto/, /video/ or /infografis/ page linked from ``host``."""
        return MEDIA_BASE_ID + (_hash(self.seed, host, "media") % 100_000) * 10 + n

    def site_name(self, region_slug: str) -> str:
        reg = self._reg(region_slug)
        return W.SITE_NAMES.get(reg.region.slug, f"ANTARA News {reg.region.name}")

    def display_name(self, region_slug: str) -> str:
        reg = self._reg(region_slug)
        return W.DISPLAY_NAMES.get(reg.region.slug, reg.region.name)

    # ------------------------------------------------------------------ internals

    def _reg(self, region_slug: str) -> _Region:
        try:
            return self._by_slug[region_slug]
        except KeyError:
            raise KeyError(f"unknown region {region_slug!r}") from None

    def _index_of_rank(self, reg: _Region, rank: int) -> int:
        return _index_of_position(reg.listed - 1 - rank)

    def _place_faults(self, reg: _Region) -> dict[int, str]:
        rng = random.Random(f"{self.seed}:{reg.region.host}:faults")
        wanted = 1 + rng.randrange(3)
        limit = min(reg.listed, PER_PAGE * FAULT_PAGES)
        candidates = [i for i in (self._index_of_rank(reg, rank) for rank in range(limit)) if i % 10 != CHAIN_REMAINDER]
        chosen = rng.sample(candidates, min(wanted, len(candidates)))
        return {i: FAULT_KINDS[(reg.index + j) % len(FAULT_KINDS)] for j, i in enumerate(chosen)}

    def _minutes(self, reg: _Region, i: int) -> int:
        jitter = _hash(self.seed, reg.region.host, i, "t") % JITTER_MINUTES
        return -(reg.base_count - 1 - i) * STEP_MINUTES + jitter

    def _utc_key(self, reg: _Region, i: int) -> int:
        return self._minutes(reg, i) - reg.offset_minutes

    def _subjects(self, reg: _Region) -> tuple[tuple[str, str], ...]:
        return W.NATIONAL_SUBJECTS if reg.region.slug in ("nasional", "kl") else W.REGIONAL_SUBJECTS

    def _short(self, reg: _Region) -> str:
        return W.SHORT_NAMES.get(reg.region.slug, reg.region.slug.capitalize())

    def _make_basics(self, r: int, i: int) -> _Basics:
        role = self._role(r, i)
        if role is not None:
            return self._role_basics(r, i, role)
        reg = self._regions[r]
        host = reg.region.host
        subjects = self._subjects(reg)
        ns, nv, no = len(subjects), len(W.VERBS), len(W.OBJECTS)
        modulus = ns * nv * no
        # An affine bijection of i keeps titles unique per host for up to `modulus` articles.
        p = (i * 7919 + _hash(self.seed, host, "perm")) % modulus
        s, v, o = p % ns, (p // ns) % nv, p // (ns * nv)
        h = _hash(self.seed, host, i, "b")
        cities = W.CITIES[reg.region.slug]
        city = cities[h % len(cities)]
        title = f"{subjects[s][0].format(R=self._short(reg), C=city)} {W.VERBS[v][0]} {W.OBJECTS[o]}"
        if reg.region.slug == "kl" or (reg.region.slug == "nasional" and (h >> 16) % 3 == 0):
            title += f" di {city}"
        return _Basics(title, slugify(title), city, s, v, o, self._minutes(reg, i))

    def _url(self, r: int, i: int) -> str:
        reg = self._regions[r]
        return f"https://{reg.region.host}/berita/{reg.base_id + i}/{self._basics(r, i).slug}"

    def _image(self, r: int, i: int, size: str) -> str:
        reg = self._regions[r]
        when = ANCHOR + timedelta(minutes=self._basics(r, i).minutes)
        tag = _hash(self.seed, reg.region.host, i, "img") & 0xFFFFFF
        return f"{IMG_BASE}/{size}/{when.year}/{when.month:02d}/IMG_{when:%Y%m%d}_{tag:06x}.jpg"

    def teaser(self, url: str, size: str = "360x240") -> tuple[str, str] | None:
        """Title and thumbnail URL of the article behind a canonical URL, without building it."""
        match = _CANONICAL_RE.match(url)
        region = region_for_host(match.group(1)) if match else None
        if match is None or region is None:
            return None
        reg = self._by_slug[region.slug]
        i = int(match.group(2)) - reg.base_id
        if not 0 <= i < reg.count:
            return None
        return self._basics(reg.index, i).title, self._image(reg.index, i, size)

    def _person(self, rng: random.Random) -> str:
        return f"{rng.choice(W.FIRST_NAMES)} {rng.choice(W.LAST_NAMES)}"

    def _make_spec(self, r: int, i: int) -> ArticleSpec:
        reg = self._regions[r]
        region = reg.region
        host = region.host
        b = self._basics(r, i)
        when = (ANCHOR + timedelta(minutes=b.minutes)).replace(tzinfo=region.tz)
        rng = random.Random(f"{self.seed}:{host}:{i}")
        fault = reg.faults.get(i)
        hidden = _is_hidden(i)
        official = self._person(rng)
        reporter = self._person(rng)
        editor = self._person(rng)
        while editor == reporter:
            editor = self._person(rng)
        photographer = self._person(rng)
        short, name = self._short(reg), self.display_name(region.slug)
        subjects = self._subjects(reg)
        # (modulo: a republished copy keeps the subject of its source, maybe of the other subject list)
        who = subjects[b.subject % len(subjects)][1].format(R=short, RN=name, C=b.city, P=official)
        who2 = rng.choice(subjects)[1].format(R=short, RN=name, C=b.city, P=self._person(rng))
        obj = W.OBJECTS[b.obj]
        day = W.DAYS[when.weekday()]
        slots = {
            "quote": rng.choice(W.QUOTES).format(obj=obj),
            "said": rng.choice(W.SAID),
            "city": b.city,
            "day": day,
            "event": rng.choice(W.EVENTS),
            "year": when.year,
            "money": rng.randint(2, 250),
            "obj": obj,
            "obj2": rng.choice([x for x in W.OBJECTS[:12] if x != obj]),
            "pct": rng.randint(3, 40),
            "who2": who2,
            "count": rng.randint(50, 900),
            "k": rng.randint(3, 14),
            "RN": name,
            "org": rng.choice(W.ORGS),
            "big": f"{rng.randint(1200, 98000):,}".replace(",", "."),
            "month": W.MONTHS[when.month - 1],
            "person": official,
            "resident": self._person(rng),
        }
        role = self._role(r, i)
        if role is not None and role.kind == "sibling":
            # a new story on the same topic: the same official speaks in the same city
            official = self._person(random.Random(f"{self.seed}:{host}:{role.i}"))
            who = subjects[b.subject][1].format(R=short, RN=name, C=b.city, P=official)
            slots["person"] = official
        tail = rng.choice(W.LEAD_TAILS).format(year=when.year)
        paragraphs = [f"{b.city} (ANTARA) - {who} {W.VERBS[b.verb][1]} {obj} {tail}."]
        n_par = rng.randint(4, 9)
        per_par = [1 + (rng.random() < 0.5) for _ in range(n_par - 1)]
        order = rng.sample(range(len(W.SENTENCES)), min(sum(per_par), len(W.SENTENCES)))
        pos = 0
        for count in per_par:
            picked = order[pos : pos + count]
            pos += count
            if picked:
                paragraphs.append(" ".join(W.SENTENCES[k].format(**slots) for k in picked))
        if role is not None and role.kind == "copy":
            paragraphs = self._copied_paragraphs(r, i, role, b.city)
        category = rng.choice(W.CATEGORIES)
        tags = rng.sample(W.TAGS, rng.randint(2, 5))

        inline: list[InlineLink] = []
        if rng.random() < 0.3:
            tag = tags[0]
            sentence = f"Informasi lain seputar {tag} dapat dilihat melalui galeri foto kegiatan tersebut."
            last = len(paragraphs) - 1
            start = len(paragraphs[last]) + 1
            paragraphs[last] = f"{paragraphs[last]} {sentence}"
            t0 = start + sentence.index(tag)
            f0 = start + sentence.index("galeri foto")
            tag_prefix = "" if region.template == "old" else f"https://{host}"
            media = self.media_id(host, rng.randrange(9))
            inline = [
                InlineLink(last, t0, t0 + len(tag), f"{tag_prefix}/tag/{slugify(tag)}"),
                InlineLink(last, f0, f0 + len("galeri foto"), f"https://{host}/foto/{media}/{b.slug[:40].strip('-')}"),
            ]

        if region.template == "old":
            body_style = "br" if rng.random() < 0.3 else "p"
            variants = Variants(
                body=body_style,
                dateline_break=body_style == "br" and rng.random() < 0.5,
                credits="spaced" if rng.random() < 0.35 else "colon",
                quote_old=len(paragraphs) >= 5 and rng.random() < 0.25,
                date_markup="time" if rng.random() < 0.3 else "span",
                zone_label=rng.random() >= 0.15,
                unpadded_hour=when.hour < 10 and rng.random() < 0.6,
                ads=rng.random() < 0.35,
                itemprop_date=rng.random() < 0.3,
                related=rng.random() < 0.7,
            )
        else:
            variants = Variants()
        hour = str(when.hour) if variants.unpadded_hour else f"{when.hour:02d}"
        printed = f"{day}, {when.day} {W.MONTHS[when.month - 1]} {when.year} {hour}:{when.minute:02d}"
        if variants.zone_label:
            printed += f" {region.zone}"
        raw: str | None = {"missing_date": None, "bad_date": BAD_DATE_TEXT}.get(fault or "", printed)

        image = self._image(r, i, "800x533")
        caption = rng.choice(W.CAPTIONS).format(
            who=official,
            event=slots["event"],
            city=b.city,
            day=day,
            date=f"{when.day:02d}/{when.month:02d}/{when.year}",
        )
        caption += f" {'ANTARA FOTO' if rng.random() < 0.3 else 'ANTARA'}/{photographer}"
        lead = paragraphs[0].split(" (ANTARA) - ", 1)[1]
        summary = lead if len(lead) <= 160 else lead[:157].rsplit(" ", 1)[0] + "..."

        links = [] if fault else self._baca_juga(reg, i, len(paragraphs))
        if self.english_links and not fault and len(links) < 3:
            from crawler.samplesite.english import indonesian_link

            to_english = indonesian_link(self, host, i, when, len(paragraphs))
            links = links if to_english is None else [*links, to_english]
        related = self._related(reg, i) if variants.related and fault is None else []
        n = len(paragraphs)
        quote_paragraph = rng.randint(2, n - 2) if variants.quote_old else None
        ads_paragraph = 1 if variants.ads else None
        revision = self._revision(reg, i)
        if revision:
            paragraphs = [*paragraphs, W.CORRECTION.format(n=revision)]
        return ArticleSpec(
            host=host,
            region=region.slug,
            article_id=reg.base_id + i,
            index=i,
            slug=b.slug,
            url=self._url(r, i),
            template=region.template,
            title=b.title,
            paragraphs=paragraphs,
            body="\n\n".join(paragraphs),
            published_at=when.isoformat(),
            published_at_raw=raw,
            dateline=b.city,
            reporter=reporter,
            editor=editor,
            category=category,
            tags=tags,
            image_url=image,
            image_caption=caption,
            summary=summary,
            hidden=hidden,
            fault=fault,
            baca_juga=[link.url for link in links],
            baca_juga_links=links,
            related=related,
            inline_links=inline,
            variants=variants,
            quote_paragraph=quote_paragraph,
            ads_paragraph=ads_paragraph,
        )

    # ------------------------------------------------------------------ republished stories

    def story(self, spec: ArticleSpec) -> str:
        """Canonical URL of the article that first published ``spec``'s story (its own URL unless
        ``spec`` republishes another article; a republished copy may itself be republished)."""
        reg = self._by_slug[spec.region]
        r, i = reg.index, spec.index
        role = self._role(r, i)
        while role is not None and role.kind == "copy":
            r, i = role.r, role.i
            role = self._role(r, i)
        return self._url(r, i)

    def relation(self, spec: ArticleSpec) -> tuple[str, ArticleSpec] | None:
        """``republish=True``: ``("copy", source)`` when ``spec`` republishes ``source`` (one story),
        ``("sibling", other)`` when it is a new story on the topic of ``other``; None otherwise."""
        role = self._role(self._by_slug[spec.region].index, spec.index)
        return None if role is None else (role.kind, self._spec(role.r, role.i))

    def _make_role(self, r: int, i: int) -> _Role | None:
        """``republish=True``: whether article ``i`` of region ``r`` copies or follows up an earlier one."""
        if not self.republish:
            return None
        reg = self._regions[r]
        rng = random.Random(f"{self.seed}:{reg.region.host}:{i}:story")
        draw = rng.random()
        if draw < REPUBLISH_SHARE:
            source = self._republished_source(reg, i, rng)
            return None if source is None else _Role("copy", *source)
        if draw < REPUBLISH_SHARE + SIBLING_SHARE and i > 0:
            # the topic of a recent original of the same site (never a copy: its topic is another site's)
            j = i - 1 - rng.randrange(min(i, REPUBLISH_LOOKBACK))
            while j >= 0 and self._role(r, j) is not None:
                j -= 1
            return None if j < 0 else _Role("sibling", r, j)
        return None

    def _republished_source(self, reg: _Region, i: int, rng: random.Random) -> tuple[int, int] | None:
        """A recent article of another site, published before article ``i`` of ``reg``."""
        others = [x for x in self._regions if x is not reg]
        national = self._regions[0]
        other = national if reg.index != 0 and rng.random() < 0.4 else rng.choice(others)
        key = self._utc_key(reg, i)
        # first j whose time is not older than article i, by time arithmetic alone, so the choice
        # does not depend on how many articles ``other`` holds now
        lo, hi = 0, other.base_count + i + 2
        while lo < hi:
            mid = (lo + hi) // 2
            if self._utc_key(other, mid) < key:
                lo = mid + 1
            else:
                hi = mid
        j = lo - 1 - rng.randrange(REPUBLISH_LOOKBACK)
        return (other.index, j) if 0 <= j < other.count else None

    def _role_basics(self, r: int, i: int, role: _Role) -> _Basics:
        reg = self._regions[r]
        src = self._basics(role.r, role.i)
        rng = random.Random(f"{self.seed}:{reg.region.host}:{i}:retitle")
        nv = len(W.VERBS)
        if role.kind == "copy":
            title, verb, city = src.title, src.verb, src.city
            if rng.random() < 0.3:  # a retitled headline: another verb
                verb = (src.verb + 1 + rng.randrange(nv - 1)) % nv
                title = title.replace(f" {W.VERBS[src.verb][0]} ", f" {W.VERBS[verb][0]} ", 1)
            if rng.random() < 0.5:  # the dateline of the republishing site
                cities = W.CITIES[reg.region.slug]
                city = cities[_hash(self.seed, reg.region.host, i, "b") % len(cities)]
            return _Basics(title, slugify(title), city, src.subject, verb, src.obj, self._minutes(reg, i))
        # a sibling: same subject, object and city, another verb (a different event on the topic)
        verb = (src.verb + 1 + rng.randrange(nv - 1)) % nv
        subjects = self._subjects(reg)
        title = (
            f"{subjects[src.subject][0].format(R=self._short(reg), C=src.city)} {W.VERBS[verb][0]} {W.OBJECTS[src.obj]}"
        )
        if reg.region.slug == "kl" or (reg.region.slug == "nasional" and src.title.endswith(f" di {src.city}")):
            title += f" di {src.city}"
        return _Basics(title, slugify(title), src.city, src.subject, verb, src.obj, self._minutes(reg, i))

    def _copied_paragraphs(self, r: int, i: int, role: _Role, city: str) -> list[str]:
        """The source's text as a republishing site prints it: a new dateline, sometimes the last
        paragraph trimmed, sometimes a closing line added."""
        src_reg = self._regions[role.r]
        src = self._spec(role.r, role.i)
        paragraphs = list(src.paragraphs)
        if self._revision(src_reg, role.i):
            paragraphs = paragraphs[:-1]  # copied before the source was corrected
        rng = random.Random(f"{self.seed}:{self._regions[r].region.host}:{i}:copy")
        lead = paragraphs[0].split(" (ANTARA) - ", 1)[1]
        paragraphs[0] = f"{city} (ANTARA) - {lead}"
        if len(paragraphs) >= 4 and rng.random() < 0.4:
            paragraphs = paragraphs[:-1]
        if rng.random() < 0.3:
            paragraphs.append(f"Berita ini juga disiarkan {self.site_name(src_reg.region.slug)}.")
        return paragraphs

    # ------------------------------------------------------------------ links

    def _usable(self, reg: _Region, j: int) -> bool:
        return 0 <= j < reg.count and j not in reg.faults

    def _snap_hidden(self, reg: _Region, j: int, rng: random.Random, share: float) -> int:
        """Often move ``j`` down to the nearest hidden article, so hidden articles get linked."""
        if rng.random() < share:
            h = j - ((j - HIDDEN_REMAINDER) % 10)
            if h >= 0:
                return h
        return j

    def _local_target(self, reg: _Region, i: int, rng: random.Random) -> tuple[int, int] | None:
        if i == 0:
            return None
        j = self._snap_hidden(reg, i - 1 - rng.randrange(min(i, 40)), rng, 0.5)
        while j >= 0 and not self._usable(reg, j):
            j -= 1
        return (reg.index, j) if j >= 0 else None

    def _offsite_target(self, reg: _Region, i: int, rng: random.Random) -> tuple[int, int] | None:
        others = [x for x in self._regions if x is not reg and x.count]
        if not others:
            return None
        national = self._regions[0]
        other = national if reg.index != 0 and national.count and rng.random() < 0.3 else rng.choice(others)
        key = self._utc_key(reg, i)
        lo, hi = 0, other.count  # first j whose time is not older than article i
        while lo < hi:
            mid = (lo + hi) // 2
            if self._utc_key(other, mid) < key:
                lo = mid + 1
            else:
                hi = mid
        j = lo - 1 - rng.randrange(30)
        if j < 0:
            return None
        j = self._snap_hidden(other, j, rng, 0.6)
        while j >= 0 and not self._usable(other, j):
            j -= 1
        return (other.index, j) if j >= 0 else None

    def _baca_juga(self, reg: _Region, i: int, n_par: int) -> list[BacaJuga]:
        rng = random.Random(f"{self.seed}:{reg.region.host}:{i}:links")
        targets: list[tuple[int, int]] = []
        if _is_hidden(i):
            if i >= 10:
                targets.append((reg.index, i - 10))
            extra = rng.choice((0, 1, 1, 2))
        else:
            if i % 10 == CHAIN_REMAINDER:
                targets.append((reg.index, i - 1))
            extra = rng.choice((0, 1, 1, 2, 2, 3))
        total = min(3, len(targets) + extra)
        attempts = 0
        while len(targets) < total and attempts < 8:
            attempts += 1
            if rng.random() < 0.33:
                target = self._offsite_target(reg, i, rng)
            else:
                target = self._local_target(reg, i, rng)
            if target is not None and target not in targets:
                targets.append(target)
        positions = {1: [n_par // 2], 2: [1, n_par - 1], 3: [1, n_par // 2 + 1, n_par - 1]}.get(len(targets), [])
        links = []
        for j, (r2, i2) in enumerate(targets):
            variant = _HREF_CYCLE[(i + 3 * j + reg.index) % len(_HREF_CYCLE)]
            if variant == "relative" and r2 != reg.index:
                variant = "absolute"
            url = self._url(r2, i2)
            links.append(
                BacaJuga(
                    url=url,
                    href=self._href(r2, i2, variant),
                    title=self._basics(r2, i2).title,
                    variant=variant,
                    after=min(positions[j], n_par - 1),
                )
            )
        return links

    def _href(self, r: int, i: int, variant: str) -> str:
        reg = self._regions[r]
        host, aid, slug = reg.region.host, reg.base_id + i, self._basics(r, i).slug
        path = f"/berita/{aid}/{slug}"
        if variant == "relative":
            return path
        if variant == "utm":
            return f"https://{host}{path}?{UTM_QUERY}"
        if variant == "http":
            return f"http://{host}{path}"
        if variant == "amp":
            return f"https://{host}/amp{path}"
        if variant == "other_slug":
            shorter = slug.rsplit("-", 1)[0] if "-" in slug else f"{slug}-1"
            return f"https://{host}/berita/{aid}/{shorter}"
        if variant == "upper_host":
            return f"https://{host.upper()}{path}"
        return f"https://{host}{path}"

    def _related(self, reg: _Region, i: int) -> list[str]:
        out: list[str] = []
        j = i - 1
        step = 1 + _hash(self.seed, reg.region.host, i, "rel") % 5
        while j >= 0 and len(out) < 3:
            if not _is_hidden(j) and j not in reg.faults:
                out.append(self._url(reg.index, j))
            j -= step
        return out
