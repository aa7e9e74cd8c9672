"""The sample site's English service, ``en.antaranews.com``: a small deterministic generator of its own.

English article ``i`` (0 <= i < count) follows from ``(seed, i)`` alone, like the Indonesian ones,
so adding the English host changes no page of the 35 Indonesian hosts. There is one English
article for every 35 Indonesian ones the site was built with (one region's share), published
every :data:`~crawler.samplesite.model.STEP_MINUTES` minutes up to the site's anchor, Jakarta
time. Pages follow the site notes' new template: articles at ``/news/{id}/{slug}`` (AMP copy at
``/amp/news/...``) with "Also read:" lines to earlier English articles and sometimes to a
national Indonesian one, credits Reporter/Translator/Editor, tags; ``/latest-news[/n]`` lists
them 20 a page, newest first, and the feed is at ``Region.feed_path`` (``/rss/news.xml``).
Indonesian articles link to English ones only when the site is built with ``english_links=True``.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

from crawler.domain.regions import ENGLISH, REGIONS, Region
from crawler.samplesite import english_words as E
from crawler.samplesite import words as W
from crawler.samplesite.model import (
    ANCHOR,
    IMG_BASE,
    JITTER_MINUTES,
    PER_PAGE,
    STEP_MINUTES,
    ArticleSpec,
    BacaJuga,
    Variants,
    _hash,
    slugify,
)

if TYPE_CHECKING:
    from crawler.samplesite.model import SampleSite

EN_BASE_ID = 412_000  #: id of English article 0 in ``/news/{id}/{slug}``
#: English articles link to an Indonesian national article with this probability
INDONESIAN_LINK_SHARE = 0.3
#: ``english_links=True``: the share of Indonesian articles with a "Baca juga" link to an English one
ENGLISH_LINK_SHARE = 0.15
_HREFS = ("absolute", "relative", "absolute", "utm", "amp")


@dataclass(frozen=True)
class EnglishArticleSpec(ArticleSpec):
    """The truth about one English article: an :class:`ArticleSpec` with a translator and ``/news/`` URLs."""

    translator: str | None = None  #: "Translator: ..." as printed (names joined by ", "); None when not credited
    language: str = "en"

    @property
    def amp_url(self) -> str:
        return f"https://{self.host}/amp/news/{self.article_id}/{self.slug}"

    @property
    def path(self) -> str:
        return f"/news/{self.article_id}/{self.slug}"


class EnglishService:
    """The English articles of one :class:`SampleSite` (use :func:`english`, which keeps one per site)."""

    region: Region = ENGLISH

    def __init__(self, site: SampleSite) -> None:
        self.site = site
        #: articles before any clock: one region's share of the site's first size
        self.base_count = site.base_articles // len(REGIONS)
        self._spec = lru_cache(maxsize=2048)(self._make_spec)

    # ------------------------------------------------------------------ truth API

    @property
    def count(self) -> int:
        """English articles published now (all ``base_count`` without a clock)."""
        now = self.site.now
        return self.base_count if now is None else self.index_before(now) + 1

    @property
    def pages(self) -> int:
        return max(1, -(-self.count // PER_PAGE))

    def article(self, article_id: int) -> EnglishArticleSpec | None:
        i = article_id - EN_BASE_ID
        return self._spec(i, self.site.generation) if 0 <= i < self.count else None

    def listed(self, page: int) -> list[EnglishArticleSpec]:
        """The articles of ``/latest-news/{page}``, newest first (every English article is listed)."""
        newest = self.count - 1 - (page - 1) * PER_PAGE
        return [self._spec(i, self.site.generation) for i in range(newest, max(-1, newest - PER_PAGE), -1)]

    def articles(self) -> list[EnglishArticleSpec]:
        """Every English article, newest first."""
        return [self._spec(i, self.site.generation) for i in range(self.count - 1, -1, -1)]

    def published_at(self, i: int) -> datetime:
        jitter = _hash(self.site.seed, ENGLISH.host, i, "t") % JITTER_MINUTES
        minutes = -(self.base_count - 1 - i) * STEP_MINUTES + jitter
        return (ANCHOR + timedelta(minutes=minutes)).replace(tzinfo=ENGLISH.tz)

    def index_before(self, when: datetime) -> int:
        """The newest English article published at or before ``when`` (aware), -1 for none."""
        lo, hi = 0, self.base_count + max(0, int((when - self.published_at(0)).total_seconds() // 60) // STEP_MINUTES)
        while lo < hi:  # first i published after ``when`` (times grow with i)
            mid = (lo + hi) // 2
            if self.published_at(mid) <= when:
                lo = mid + 1
            else:
                hi = mid
        return lo - 1

    # ------------------------------------------------------------------ one article

    def _title(self, i: int) -> tuple[int, int, int]:
        ns, nv, no = len(E.SUBJECTS), len(E.VERBS), len(E.OBJECTS)
        p = (i * 7919 + _hash(self.site.seed, ENGLISH.host, "perm")) % (ns * nv * no)
        return p % ns, (p // ns) % nv, p // (ns * nv)

    def title(self, i: int) -> str:
        s, v, o = self._title(i)
        return f"{E.SUBJECTS[s][0]} {E.VERBS[v][0]} {E.OBJECTS[o]}"

    def url(self, i: int) -> str:
        return f"https://{ENGLISH.host}/news/{EN_BASE_ID + i}/{slugify(self.title(i))}"

    def _person(self, rng: random.Random) -> str:
        return f"{rng.choice(W.FIRST_NAMES)} {rng.choice(W.LAST_NAMES)}"

    def _make_spec(self, i: int, generation: int) -> EnglishArticleSpec:
        seed = self.site.seed
        rng = random.Random(f"{seed}:{ENGLISH.host}:{i}")
        s, v, o = self._title(i)
        title = self.title(i)
        when = self.published_at(i)
        day = E.DAYS[when.weekday()]
        city = E.CITIES[_hash(seed, ENGLISH.host, i, "b") % len(E.CITIES)]
        official, reporter, editor = self._person(rng), self._person(rng), self._person(rng)
        translator: str | None = None
        if rng.random() < 0.6:
            translator = self._person(rng) if rng.random() < 0.8 else f"{self._person(rng)}, {self._person(rng)}"
        photographer = self._person(rng)
        obj = E.OBJECTS[o]
        lead = f"{E.SUBJECTS[s][1]} {E.VERBS[v][1]} the {obj} on {day}, officials said."
        slots = {
            "obj": obj,
            "city": city,
            "day": day,
            "pct": rng.randint(3, 40),
            "money": rng.randint(2, 250),
            "count": rng.randint(50, 900),
            "person": official,
        }
        picked = rng.sample(E.SENTENCES, rng.randint(3, 6))
        paragraphs = [f"{city} (ANTARA) - {lead}"] + [sentence.format(**slots) for sentence in picked]
        tags = rng.sample(E.TAGS, rng.randint(2, 4))
        category = rng.choice(E.CATEGORIES)
        image_tag = _hash(seed, ENGLISH.host, i, "img") & 0xFFFFFF
        image = f"{IMG_BASE}/1200x800/{when.year}/{when.month:02d}/en-{image_tag:06x}.jpg"
        caption = (
            f"Officials attend the launch of the {obj} in {city} on {day} "
            f"({E.MONTHS[when.month - 1]} {when.day}, {when.year}). ANTARA/{photographer}"
        )
        summary = lead if len(lead) <= 160 else lead[:157].rsplit(" ", 1)[0] + "..."
        printed = f"{day}, {E.MONTHS[when.month - 1]} {when.day}, {when.year} {when.hour:02d}:{when.minute:02d} WIB"
        links = self._also_read(i, when, len(paragraphs), rng)
        return EnglishArticleSpec(
            host=ENGLISH.host,
            region=ENGLISH.slug,
            article_id=EN_BASE_ID + i,
            index=i,
            slug=slugify(title),
            url=self.url(i),
            template="new",
            title=title,
            paragraphs=paragraphs,
            body="\n\n".join(paragraphs),
            published_at=when.isoformat(),
            published_at_raw=printed,
            dateline=city,
            reporter=reporter,
            editor=editor,
            category=category,
            tags=tags,
            image_url=image,
            image_caption=caption,
            summary=summary,
            hidden=False,
            fault=None,
            baca_juga=[link.url for link in links],
            baca_juga_links=links,
            related=[],
            inline_links=[],
            variants=Variants(),
            quote_paragraph=None,
            ads_paragraph=None,
            translator=translator,
        )

    def _also_read(self, i: int, when: datetime, n_par: int, rng: random.Random) -> list[BacaJuga]:
        """Up to three "Also read:" links: earlier English articles, sometimes a national Indonesian one."""
        links: list[BacaJuga] = []
        for j in sorted({i - 1 - rng.randrange(min(i, 30)) for _ in range(rng.choice((0, 1, 1, 2)))} if i else ()):
            variant = _HREFS[(i + j) % len(_HREFS)]
            url = self.url(j)
            links.append(BacaJuga(url, _en_href(url, variant), self.title(j), variant, 0))
        if rng.random() < INDONESIAN_LINK_SHARE:
            target = self.site.article_before("nasional", when)
            if target is not None:
                links.append(BacaJuga(target.url, target.url, target.title, "absolute", 0))
        positions = {1: [n_par // 2], 2: [1, n_par - 1], 3: [1, n_par // 2 + 1, n_par - 1]}.get(len(links), [])
        return [
            BacaJuga(link.url, link.href, link.title, link.variant, min(positions[k], n_par - 1))
            for k, link in enumerate(links)
        ]


def _en_href(url: str, variant: str) -> str:
    path = url.split(ENGLISH.host, 1)[1]
    if variant == "relative":
        return path
    if variant == "utm":
        return f"{url}?utm_source=antaranews&utm_medium=desktop&utm_campaign=also_read"
    if variant == "amp":
        return f"https://{ENGLISH.host}/amp{path}"
    return url


_SERVICES: WeakKeyDictionary[SampleSite, EnglishService] = WeakKeyDictionary()


def english(site: SampleSite) -> EnglishService:
    """The English service of ``site`` (made on first use, then kept as long as the site)."""
    service = _SERVICES.get(site)
    if service is None:
        service = _SERVICES[site] = EnglishService(site)
    return service


def indonesian_link(site: SampleSite, spec_host: str, i: int, when: datetime, n_par: int) -> BacaJuga | None:
    """``english_links=True``: the "Baca juga" link Indonesian article ``i`` of ``spec_host`` gives to
    an English article published before it (None for most articles)."""
    rng = random.Random(f"{site.seed}:{spec_host}:{i}:english")
    if rng.random() >= ENGLISH_LINK_SHARE:
        return None
    service = english(site)
    j = service.index_before(when) - rng.randrange(10)
    if j < 0 or j >= service.count:
        return None
    url = service.url(j)
    return BacaJuga(url, url, service.title(j), "absolute", n_par - 1)


def truth_rows(site: SampleSite) -> list[dict[str, object]]:
    """``/_control/truth?region=en``: every English article, newest first, as the clock's truth lists them."""
    return [
        {
            "article_id": spec.article_id,
            "url": spec.url,
            "published_at": spec.published_at,
            "hidden": False,
            "fault": None,
            "revision": 0,
            "edited_at": None,
            "language": "en",
        }
        for spec in english(site).articles()
    ]


def as_json(spec: EnglishArticleSpec) -> str:
    """The page's JSON-LD."""
    data = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "mainEntityOfPage": {"@type": "WebPage", "@id": spec.url},
        "headline": spec.title,
        "description": spec.summary,
        "image": [spec.image_url],
        "datePublished": spec.published_at,
        "dateModified": spec.published_at,
        "author": {"@type": "Person", "name": spec.reporter},
        "publisher": {"@type": "Organization", "name": "ANTARA"},
        "inLanguage": "en",
    }
    return json.dumps(data, ensure_ascii=False).replace("</", "<\\/")
