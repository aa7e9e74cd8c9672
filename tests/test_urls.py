"""Tables of real-looking and hostile URLs for the URL helpers."""

from __future__ import annotations

import pytest

from crawler.domain.regions import BY_SLUG
from crawler.extraction import urls
from crawler.extraction.urls import (
    canonical_article_url,
    classify_url,
    clean_url,
    host_of,
    is_antara_host,
    list_page_number,
    list_page_url,
    parse_article_url,
)

K = "https://kalteng.antaranews.com"
E = "https://en.antaranews.com"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{K}/", True),
        ("https://www.antaranews.com/berita/4712345/x", True),
        ("http://www.antaranews.com/", True),
        ("https://antaranews.com/berita/1/x", True),  # bare domain, alias of www
        ("https://KALTENG.AntaraNews.COM/berita/1/x", True),
        ("https://kalteng.antaranews.com./berita/1/x", True),  # trailing dot
        ("https://kalut.antaranews.com/berita/1/x", True),  # old alias of kaltara
        ("https://papuatengah.antaranews.com/", True),
        ("https://www.antaranews.com:443/", True),
        ("http://www.antaranews.com:80/", True),
        # not news hosts
        ("https://img.antaranews.com/cache/730x487/2022/10/x.jpg", False),
        ("https://cdn.antaranews.com/x.js", False),
        ("https://video.antaranews.com/video/1/x", False),
        ("https://en.antaranews.com/news/1/x", True),  # the English service is in the registry
        ("https://EN.antaranews.com/latest-news", True),
        ("https://en.antaranews.com.evil.test/news/1/x", False),
        ("https://foo.antaranews.com/", False),
        # look-alikes and tricks
        ("https://antaranews.com.evil.test/", False),
        ("https://kalteng.antaranews.com.evil.test/berita/1/x", False),
        ("https://evilantaranews.com/", False),
        ("https://www.antaranews.co/", False),
        ("https://www.antaranews.com@evil.test/", False),  # userinfo: the host is evil.test
        ("https://user:pass@www.antaranews.com/", False),  # credentials are refused
        ("https://evil.test@www.antaranews.com/berita/1/x", False),
        ("https://evil.test#@www.antaranews.com/", False),
        ("https://www.antaranews.com\\@evil.test/", False),
        ("https://www.antaranews.com%2eevil.test/", False),
        ("https://127.0.0.1/berita/1/x", False),
        ("http://[::1]/berita/1/x", False),
        ("http://10.0.0.8:8080/berita/1/x", False),
        ("https://[www.antaranews.com/", False),  # broken IPv6 literal
        ("https://www.antaranews.com:8080/", False),
        ("https://www.antaranews.com:99999/", False),
        ("https://www.antaranews.com:abc/", False),
        ("ftp://www.antaranews.com/", False),
        ("javascript:alert(1)//www.antaranews.com/", False),
        ("//www.antaranews.com/berita/1/x", False),  # scheme-relative without a base
        ("/berita/1/x", False),
        ("", False),
    ],
)
def test_is_antara_host(url: str, expected: bool) -> None:
    assert is_antara_host(url) is expected


@pytest.mark.parametrize(
    ("url", "base", "host", "article_id", "slug"),
    [
        (
            f"{K}/berita/612837/wagub-kalteng-dorong-apeksi",
            None,
            "kalteng.antaranews.com",
            612837,
            "wagub-kalteng-dorong-apeksi",
        ),
        (f"{K}/berita/612837", None, "kalteng.antaranews.com", 612837, ""),
        (f"{K}/berita/612837/", None, "kalteng.antaranews.com", 612837, ""),
        (f"{K}/berita/612837/slug/", None, "kalteng.antaranews.com", 612837, "slug"),
        (f"{K}/amp/berita/612837/slug", None, "kalteng.antaranews.com", 612837, "slug"),
        (f"{K}/berita/612837/slug?utm_source=rss&utm_medium=feed", None, "kalteng.antaranews.com", 612837, "slug"),
        (f"{K}/berita/612837/slug#komentar", None, "kalteng.antaranews.com", 612837, "slug"),
        (
            "http://KALTENG.ANTARANEWS.COM/BERITA/612837/Slug-Besar",
            None,
            "kalteng.antaranews.com",
            612837,
            "slug-besar",
        ),
        ("https://kalut.antaranews.com/berita/12345/x", None, "kaltara.antaranews.com", 12345, "x"),
        ("https://antaranews.com/berita/3190021/x", None, "www.antaranews.com", 3190021, "x"),
        ("  https://www.antaranews.com/berita/3190021/x \n", None, "www.antaranews.com", 3190021, "x"),
        ("/berita/612950/x", f"{K}/berita/612837/y", "kalteng.antaranews.com", 612950, "x"),
        ("/berita/612950/x", f"{K}/terkini/2", "kalteng.antaranews.com", 612950, "x"),
        ("//www.antaranews.com/berita/1/x", f"{K}/terkini", "www.antaranews.com", 1, "x"),
        (" /amp/berita/7/x ", "https://papua.antaranews.com/", "papua.antaranews.com", 7, "x"),
        ("https://jatim.antaranews.com/berita/1/x", f"{K}/", "jatim.antaranews.com", 1, "x"),
        # the English service: /news/{id}/{slug} and its AMP copy
        (
            f"{E}/news/412345/indonesia-eyes-green-bonds",
            None,
            "en.antaranews.com",
            412345,
            "indonesia-eyes-green-bonds",
        ),
        (
            f"{E}/amp/news/412345/indonesia-eyes-green-bonds",
            None,
            "en.antaranews.com",
            412345,
            "indonesia-eyes-green-bonds",
        ),
        (f"{E}/news/412345", None, "en.antaranews.com", 412345, ""),
        (
            "http://EN.ANTARANEWS.COM/NEWS/412345/Green-Bonds?utm_source=x#top",
            None,
            "en.antaranews.com",
            412345,
            "green-bonds",
        ),
        ("/news/412346/x", f"{E}/latest-news/2", "en.antaranews.com", 412346, "x"),
        ("/amp/news/412346/x", f"{E}/news/412345/y", "en.antaranews.com", 412346, "x"),
        ("https://en.antaranews.com/news/5/x", f"{K}/berita/1/y", "en.antaranews.com", 5, "x"),
    ],
)
def test_parse_article_url(url: str, base: str | None, host: str, article_id: int, slug: str) -> None:
    ref = parse_article_url(url, base)
    assert ref is not None
    assert (ref.host, ref.article_id, ref.slug) == (host, article_id, slug)


@pytest.mark.parametrize(
    ("url", "base"),
    [
        (f"{K}/foto/601530/petani-panen-jagung", None),
        (f"{K}/video/3211000/festival", None),
        (f"{K}/infografis/601540/jadwal", None),
        (f"{K}/terkini/2", None),
        (f"{K}/tag/banjir", None),
        (f"{K}/berita/", None),
        (f"{K}/berita/abc/slug", None),
        (f"{K}/berita/612837/slug/extra", None),
        (f"{K}/berita/1234567890123/x", None),  # longer than any id
        (f"{K}/berita/\u0661\u0662\u0663/x", None),  # Arabic-Indic digits are not an id
        (f"{K}/kalteng/berita/612837/x", None),
        ("https://img.antaranews.com/berita/1/x", None),
        ("https://kalteng.antaranews.com.evil.test/berita/1/x", None),
        ("https://www.antaranews.com@evil.test/berita/1/x", None),
        ("https://www.kompas.com/berita/1/x", None),
        ("berita/612950/x", f"{K}/berita/612837/y"),  # resolves under /berita/612837/
        ("http://[kalteng.antaranews.com/berita/1/x", f"{K}/"),  # unparseable href
        ("/berita/1/x", "https://[bad/"),
        ("javascript:void(0)", f"{K}/"),
        ("mailto:redaksi@antaranews.com", f"{K}/"),
        ("", f"{K}/"),
        ("/berita/1/x", None),
        # each host's own section only: no /berita/ on en, no /news/ on the Indonesian sites
        (f"{E}/berita/412345/x", None),
        (f"{E}/amp/berita/412345/x", None),
        ("/berita/612950/x", f"{E}/news/1/y"),
        (f"{K}/news/612837/x", None),
        ("https://www.antaranews.com/news/4812002/x", None),
        ("/news/612950/x", f"{K}/terkini"),
        (f"{E}/foto/412345/x", None),
        (f"{E}/video/412345/x", None),
        (f"{E}/news/", None),
        (f"{E}/news/abc/x", None),
        (f"{E}/news/412345/x/extra", None),
        (f"{E}/latest-news/2", None),
    ],
)
def test_not_article_urls(url: str, base: str | None) -> None:
    assert parse_article_url(url, base) is None
    assert canonical_article_url(url, base) is None


# hrefs of the plain shape (read without urljoin) beside near misses that take the general path
PLAIN_AND_NEAR = [
    f"{K}/berita/612837/petani-panen",
    "http://kalteng.antaranews.com/berita/612837/petani-panen",
    "https://kalut.antaranews.com/berita/5/x",
    "https://kalteng.antaranews.com./berita/5/x",
    "https://www.antaranews.com/amp/berita/4812002/polri-bahas",
    "https://img.antaranews.com/berita/1/x",
    "https://kalteng.antaranews.com.evil.test/berita/1/x",
    "https://a..b/berita/1/x",
    "/berita/612950/baca-ini",
    "/amp/berita/0007/x",
    "/berita/1234567890123/x",
    f"{K}/berita/612837/Petani-Panen",
    f"{K}/berita/612837/petani-panen/",
    f"{K}/berita/612837/petani-panen?utm_source=x",
    f"{K}/berita/612837/petani-panen#top",
    f"{K}/berita/612837/./x",
    "https://KALTENG.antaranews.com/berita/1/x",
    "https://kalteng.antaranews.com:443/berita/1/x",
    "https://kalteng.antaranews.com:8443/berita/1/x",
    "https://user@kalteng.antaranews.com/berita/1/x",
    "HTTPS://kalteng.antaranews.com/berita/1/x",
    " /berita/1/x\n",
    f"{E}/news/412345/green-bonds",
    "https://en.antaranews.com/amp/news/412345/green-bonds",
    f"{E}/berita/412345/green-bonds",
    "https://www.antaranews.com/news/4812002/x",
    "/news/412345/x",
    "/amp/news/412345/x",
    f"{E}/news/412345/Green-Bonds",
]
BASES = [
    None,
    f"{K}/berita/612837/y",
    "http://jatim.antaranews.com/",
    "https://kalteng.antaranews.com:8443/berita/1/x",
    "https://KALTENG.antaranews.com/",
    "https://user@kalteng.antaranews.com/",
    "https://kalteng.antaranews.com",
    "https://www.kompas.com/news/",
    f"{E}/news/412345/y",
    "https://en.antaranews.com/latest-news",
    "ftp://kalteng.antaranews.com/",
    "https://[bad/",
]


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("url", PLAIN_AND_NEAR)
def test_plain_article_links_read_as_the_general_path_reads_them(url: str, base: str | None) -> None:
    assert parse_article_url(url, base) == urls._parse_joined(url, base)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (f"{K}/berita/612837/slug", f"{K}/berita/612837/slug"),
        ("http://kalteng.antaranews.com/amp/berita/612837/slug?utm_source=x#top", f"{K}/berita/612837/slug"),
        ("https://Kalteng.Antaranews.com/berita/612837", f"{K}/berita/612837"),
        ("https://kalut.antaranews.com/amp/berita/9/a", "https://kaltara.antaranews.com/berita/9/a"),
        ("https://antaranews.com/berita/1/a/", "https://www.antaranews.com/berita/1/a"),
        (f"{E}/news/412345/green-bonds", f"{E}/news/412345/green-bonds"),
        ("http://EN.antaranews.com/amp/news/412345/green-bonds?utm_source=x#top", f"{E}/news/412345/green-bonds"),
        (f"{E}/news/412345/", f"{E}/news/412345"),
    ],
)
def test_canonical_article_url(url: str, expected: str) -> None:
    assert canonical_article_url(url) == expected


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (f"{K}/berita/612837/slug", "article"),
        (f"{K}/amp/berita/612837/slug", "article"),
        (f"{K}/berita/612837", "article"),
        (f"{K}/foto/601530/x", "photo"),
        (f"{K}/amp/foto/601530/x", "photo"),
        (f"{K}/video/3211000/x", "video"),
        (f"{K}/infografis/601540/x", "infographic"),
        (f"{K}/terkini", "list"),
        (f"{K}/terkini/2", "list"),
        (f"{K}/terkini/2/", "list"),
        (f"{K}/tag/banjir", "tag"),
        (f"{K}/tag/banjir/2", "tag"),
        (f"{K}/search?q=banjir", "search"),
        (f"{K}/rss/terkini.xml", "rss"),
        (f"{K}/robots.txt", "robots"),
        (f"{K}/", "other"),
        (f"{K}", "other"),
        (f"{K}/kabar-daerah/pulang-pisau/2", "other"),
        (f"{K}/terkini/abc", "other"),
        (f"{K}/terkini/\u0662", "other"),
        ("https://kalut.antaranews.com/berita/1/x", "article"),
        ("https://img.antaranews.com/cache/1.jpg", "offsite"),
        ("https://video.antaranews.com/video/1/x", "offsite"),
        ("https://antaranews.com.evil.test/berita/1/x", "offsite"),
        ("https://www.antaranews.com@evil.test/berita/1/x", "offsite"),
        ("https://203.0.113.5/berita/1/x", "offsite"),
        ("https://www.antaranews.com:8443/berita/1/x", "offsite"),
        ("https://twitter.com/antaranews", "offsite"),
        ("not a url", "offsite"),
        (f"{E}/news/412345/green-bonds", "article"),
        (f"{E}/amp/news/412345/green-bonds", "article"),
        (f"{E}/berita/412345/x", "other"),  # not expected on en: no article there
        (f"{K}/news/612837/x", "other"),
        (f"{E}/foto/412345/x", "photo"),
        (f"{E}/video/412345/x", "video"),
        (f"{E}/latest-news", "list"),
        (f"{E}/latest-news/2", "list"),
        (f"{E}/terkini/2", "list"),
        (f"{E}/tag/economy", "tag"),
        (f"{E}/rss/news.xml", "rss"),
        (f"{E}/", "other"),
    ],
)
def test_classify_url(url: str, kind: str) -> None:
    assert classify_url(url) == kind


@pytest.mark.parametrize(
    ("url", "host"),
    [
        (f"{K}/berita/1/x", "kalteng.antaranews.com"),
        ("https://KALUT.antaranews.com./", "kaltara.antaranews.com"),
        ("https://antaranews.com/", "www.antaranews.com"),
        ("https://evil.test@www.antaranews.com/", "www.antaranews.com"),
        ("https://img.antaranews.com/x.jpg", "img.antaranews.com"),
        ("https://[bad/", ""),
        ("/relative/only", ""),
    ],
)
def test_host_of(url: str, host: str) -> None:
    assert host_of(url) == host


@pytest.mark.parametrize(
    ("url", "base", "expected"),
    [
        (f"{K}/terkini/2?utm_source=x&utm_medium=y", None, f"{K}/terkini/2"),
        (f"{K}/search?q=banjir&utm_campaign=z#hasil", None, f"{K}/search?q=banjir"),
        ("HTTPS://Kalteng.AntaraNews.com", None, f"{K}/"),
        ("/terkini/3?fbclid=abc", f"{K}/terkini/2", f"{K}/terkini/3"),
        ("?page=2&gclid=1", f"{K}/tag/banjir", f"{K}/tag/banjir?page=2"),
    ],
)
def test_clean_url(url: str, base: str | None, expected: str) -> None:
    assert clean_url(url, base) == expected


@pytest.mark.parametrize(
    ("slug", "page", "expected"),
    [
        ("kalteng", 1, f"{K}/terkini"),
        ("kalteng", 0, f"{K}/terkini"),
        ("kalteng", 2, f"{K}/terkini/2"),
        ("nasional", 37, "https://www.antaranews.com/terkini/37"),
        ("en", 1, f"{E}/latest-news"),
        ("en", 2, f"{E}/latest-news/2"),
    ],
)
def test_list_page_url(slug: str, page: int, expected: str) -> None:
    url = list_page_url(BY_SLUG[slug], page)
    assert url == expected
    assert list_page_number(url) == max(page, 1)


@pytest.mark.parametrize(
    ("url", "number"),
    [
        (f"{K}/terkini", 1),
        (f"{K}/terkini/", 1),
        (f"{K}/terkini/12", 12),
        (f"{K}/terkini/12?utm_source=x", 12),
        (f"{K}/tag/banjir/2", None),
        (f"{K}/terkini/\u0661\u0662", None),
        (f"{K}/berita/1/x", None),
        (f"{E}/latest-news", 1),
        (f"{E}/latest-news/3", 3),
        (f"{E}/latest-news/x", None),
        (f"{E}/news/412345/x", None),
    ],
)
def test_list_page_number(url: str, number: int | None) -> None:
    assert list_page_number(url) == number
