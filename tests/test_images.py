"""Lead images: the sample site's image host, the crawl that fetches each article's image once into
the WARC files (identical bytes stored once, revisits for the rest), the faults that end in clear
crawl_errors, robots.txt and politeness on the image host, and ``antara serve`` showing the image
from the archive with the site stopped.
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner
from datasette.utils import tilde_encode
from scrapy import Request
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response as ScrapyResponse
from scrapy.utils.test import get_crawler

from archive import Archive
from crawler.cli.main import cli
from crawler.domain.options import CrawlOptions
from crawler.domain.reasons import Reason
from crawler.samplesite import SampleSite
from crawler.samplesite.images import COLOURS, OVERSIZED_BYTES, ImageHost, colour_of
from crawler.samplesite.routes import TEXT, Page
from crawler.scrapy import settings as project
from crawler.scrapy.images import IMAGE_META, image_problem
from crawler.scrapy.middlewares import AntaraOnlyMiddleware
from spiders.antara import AntaraSpider
from tests.conftest import RunningSite, rows, run_cli, serve_site
from tests.test_serve import get

IMG = "https://img.antaranews.com/cache/800x533/2026/11/IMG_20261127_abc123.jpg"
MAX_BYTES = 100_000  #: the image cap of the crawls below (the oversized fault is larger)


def project_crawler(**settings: Any) -> Any:
    """A Scrapy crawler with the project's image settings (and ``settings`` over them)."""
    return get_crawler(settings_dict={"ANTARA_IMAGE_HOSTS": project.ANTARA_IMAGE_HOSTS, **settings})


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and raw scanlines of a PNG: it must be a valid one (signature, CRCs, zlib)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, {}
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert zlib.crc32(kind + body) & 0xFFFFFFFF == crc, kind
        chunks[kind] = chunks.get(kind, b"") + body
        pos += 12 + length
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    return width, height, zlib.decompress(chunks[b"IDAT"])


# -- the sample site's image host -------------------------------------------------------------------


def test_the_image_host_serves_small_valid_pngs_shared_in_a_few_colours() -> None:
    host = ImageHost()
    paths = [f"/cache/800x533/2026/11/IMG_20261127_{n:06x}.jpg" for n in range(40)]
    answers = [host.get(p) for p in paths]
    assert all(a is not None and a[0] == 200 and a[1] == "image/png" for a in answers)
    bodies = [a[2] for a in answers if a is not None]
    for body in bodies:
        width, height, raw = png_pixels(body)
        assert (width, height) == (16, 9) and len(raw) == 9 * (1 + 16 * 3)
        assert len(body) < 200
    assert len(set(bodies)) == COLOURS, "the same bytes under many URLs"
    assert host.get(paths[3]) == answers[3], "deterministic"
    assert host.get(paths[3].replace("/800x533/", "/360x240/")) == answers[3], "a thumbnail is the same picture"
    assert host.get("/berita/1/x") is None and host.get("/cache/../etc/passwd") is None
    assert host.get("/robots.txt") == (200, "text/plain; charset=utf-8", b"User-agent: *\nAllow: /\n")


def test_every_lead_image_the_sample_site_names_is_served() -> None:
    """Indonesian and English articles' lead images follow the site notes' ``/cache/{W}x{H}/{YYYY}/{MM}/``
    form, so a crawl with images finds each of them (an English one once answered 404)."""
    from crawler.samplesite.english import english

    site = SampleSite(articles=700, seed=3)
    specs = [site.article_at(k) for k in range(0, 700, 7)] + english(site).articles()[:40]
    assert any(spec.image_url and "/en-" in spec.image_url for spec in specs)
    host = ImageHost()
    for spec in specs:
        if spec.image_url:
            answer = host.get(urlsplit(spec.image_url).path)
            assert answer is not None and answer[0] == 200 and answer[1] == "image/png", spec.image_url


def test_image_faults_answer_an_oversized_png_or_an_html_page() -> None:
    host = ImageHost({"/cache/a.jpg": "oversized", "/cache/b.jpg": "html"})
    big = host.get("/cache/a.jpg")
    html = host.get("/cache/b.jpg")
    assert big is not None and big[1] == "image/png" and len(big[2]) >= OVERSIZED_BYTES
    assert len(zlib.compress(big[2])) > OVERSIZED_BYTES * 0.9, "noise: it stays large on the wire"
    png_pixels(big[2])
    assert html is not None and html[1].startswith("text/html") and html[2].startswith(b"<!DOCTYPE html>")


def test_the_router_answers_the_image_host_and_its_faults_at_once() -> None:
    from crawler.samplesite.routes import Router

    router = Router(SampleSite(articles=50))
    path = "/cache/800x533/2026/11/IMG_20261127_abc123.jpg"
    assert router.get(f"/img.antaranews.com{path}").content_type == "image/png"
    router.images.faults[path] = "html"
    assert router.get(f"/img.antaranews.com{path}").content_type.startswith("text/html")
    assert router.get("/img.antaranews.com/berita/1/x").status == 404


# -- what may reach an image host -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "image", "allowed"),
    [
        (IMG, True, True),
        (IMG, False, False),  # no page of an image host is crawled
        ("https://img.antaranews.com/robots.txt", False, True),  # its rules, obeyed by image requests
        ("https://cdn.antaranews.com/x/y.png", True, True),
        ("https://IMG.antaranews.com./cache/a.jpg", True, True),
        ("https://video.antaranews.com/a.jpg", True, False),
        ("https://img.antaranews.com.evil.example/cache/a.jpg", True, False),
        ("https://user@img.antaranews.com/cache/a.jpg", True, False),
        ("https://img.antaranews.com:8443/cache/a.jpg", True, False),
        ("ftp://img.antaranews.com/cache/a.jpg", True, False),
        ("https://kalteng.antaranews.com/berita/1/x", False, True),
    ],
)
def test_only_image_requests_reach_the_image_hosts(url: str, image: bool, allowed: bool) -> None:
    middleware = AntaraOnlyMiddleware.from_crawler(project_crawler())
    request = Request(url, meta={IMAGE_META: True} if image else {})
    if allowed:
        assert middleware.process_request(request) is None
    else:
        with pytest.raises(IgnoreRequest, match="offsite"):
            middleware.process_request(request)


def test_the_image_hosts_setting_replaces_the_default() -> None:
    middleware = AntaraOnlyMiddleware.from_crawler(project_crawler(ANTARA_IMAGE_HOSTS="img.example"))
    with pytest.raises(IgnoreRequest):
        middleware.process_request(Request(IMG, meta={IMAGE_META: True}))
    assert middleware.process_request(Request("https://img.example/a.png", meta={IMAGE_META: True})) is None


@pytest.mark.parametrize(
    ("content_type", "body", "reason"),
    [
        (b"image/jpeg", b"\xff\xd8\xff", None),
        (b"image/png", b"\x89PNG", None),
        (b"IMAGE/WEBP; q=1", b"RIFF", None),
        (b"image/gif", b"GIF89a", None),
        (b"text/html; charset=utf-8", b"<html>", Reason.IMAGE_NOT_AN_IMAGE),
        (b"image/svg+xml", b"<svg/>", Reason.IMAGE_NOT_AN_IMAGE),  # markup that can carry scripts
        (None, b"\xff\xd8\xff", Reason.IMAGE_NOT_AN_IMAGE),
        (b"image/png", b"", Reason.EMPTY_PAGE),
        (b"image/png", b"x" * (MAX_BYTES + 1), Reason.IMAGE_TOO_LARGE),
    ],
)
def test_what_counts_as_a_lead_image(content_type: bytes | None, body: bytes, reason: Reason | None) -> None:
    headers = {b"Content-Type": content_type} if content_type else {}
    problem = image_problem(ScrapyResponse(IMG, headers=headers, body=body), MAX_BYTES, "https://a/berita/1/x")
    assert (problem.reason if problem else None) == reason
    if problem is not None:
        assert problem.referer == "https://a/berita/1/x" and problem.detail


@pytest.mark.parametrize(("mode", "default"), [("full", False), ("incremental", False), ("backfill", False)])
def test_images_are_fetched_only_when_asked(mode: str, default: bool) -> None:
    extra = {"pages": "1-2"} if mode == "backfill" else {}
    options = CrawlOptions.parse(["kalteng"], mode=mode, **extra)
    assert options.images is default and options.as_arguments()["images"] is default
    assert CrawlOptions.parse(["kalteng"], mode=mode, images=not default, **extra).images is (not default)
    assert AntaraSpider(**options.spider_arguments()).options.images is default, "the spider gets the choice"


def test_schedule_units_fetch_images_unless_told_not_to() -> None:
    on = CliRunner().invoke(cli, ["schedule", "--region", "kalteng", "--format", "systemd"])
    off = CliRunner().invoke(cli, ["schedule", "--region", "kalteng", "--format", "cron", "--no-images"])
    assert on.exit_code == off.exit_code == 0, on.output + off.output
    (start,) = [line for line in on.output.splitlines() if line.startswith("ExecStart=")]
    assert "crawl --incremental" in start and start.endswith(" -q --with-images")
    assert "--with-images" not in off.output and off.output.count(" -q --no-images") == 1


def test_an_image_of_the_same_bytes_under_another_url_is_found_by_digest(tmp_path: Path) -> None:
    with Archive(tmp_path / "a.db") as archive:
        row = {"record_type": "response", "fetched_at": "2026-11-27T00:00:00Z", "payload_digest": "sha1:X"}
        place = {"warc_file": "f.warc.gz", "warc_offset": 0, "warc_length": 1}
        archive.record_captures(
            [
                {**row, **place, "url": "https://kalteng.antaranews.com/berita/1/x", "warc_record_id": "<a>"},
                {**row, **place, "url": IMG, "warc_record_id": "<b>"},
            ]
        )
        roots = ["https://img.antaranews.com/", "https://cdn.antaranews.com/"]
        found = archive.earlier_payload("sha1:X", roots)
        assert found is not None and found["record_id"] == "<b>" and found["url"] == IMG
        assert archive.earlier_payload("sha1:Y", roots[:1]) is None
        assert archive.earlier_payload("sha1:X", roots[1:]) is None, "news pages are not images"
        # the same article under another slug: found by its /berita/{id}/, not by another article's
        found = archive.earlier_payload("sha1:X", ["https://kalteng.antaranews.com/berita/1/"])
        assert found is not None and found["record_id"] == "<a>"
        assert archive.earlier_payload("sha1:X", ["https://kalteng.antaranews.com/berita/12/"]) is None


# -- crawls of the sample site ----------------------------------------------------------------------


def image_lines(site: RunningSite, since: int = 0) -> list[str]:
    return [line for line in site.requests()[since:] if line.split(" ")[1].startswith("/img.antaranews.com/")]


def crawl(site: RunningSite, db: Path, *args: str) -> str:
    result = run_cli(
        "crawl",
        "--db",
        str(db),
        "--mirror",
        site.url,
        "--region",
        "kalteng",
        "--max-pages",
        "1",
        "--follow-depth",
        "0",
        "--set",
        f"ANTARA_IMAGE_MAX_BYTES={MAX_BYTES}",
        *args,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


@pytest.fixture(scope="module")
def image_crawl(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A crawl with images of a sample site whose image host answers one HTML page and one
    oversized PNG; then a second crawl of the same site. The site is stopped afterwards."""
    folder = tmp_path_factory.mktemp("images")
    site = SampleSite(articles=800, seed=7)
    listed = [s for s in site.listed("kalteng", 1) if s.fault is None]
    faulty = {urlsplit(listed[1].image_url).path: "html", urlsplit(listed[2].image_url).path: "oversized"}
    db = folder / "archive.db"
    with serve_site(site, folder) as running:
        running.server.router.images.faults.update(faulty)
        first = crawl(running, db, "--delay", "0", "--concurrency", "4", "--with-images")
        first_lines = image_lines(running)
        mark = running.mark()
        crawl(running, db, "--delay", "0", "--concurrency", "4", "--with-images")
        second_lines = image_lines(running, mark)
    return {
        "db": db,
        "site": site,
        "listed": listed,
        "html": listed[1].image_url,
        "oversized": listed[2].image_url,
        "first": first,
        "first_lines": first_lines,
        "second_lines": second_lines,
    }


@pytest.mark.slow
def test_each_lead_image_is_captured_once_and_identical_bytes_are_stored_once(image_crawl: dict[str, Any]) -> None:
    db = image_crawl["db"]
    articles = rows(db, "SELECT url, image_url FROM articles WHERE image_url IS NOT NULL")
    assert len(articles) >= 10
    bad = {image_crawl["html"], image_crawl["oversized"]}
    wanted = {a["image_url"] for a in articles} - bad
    captured = rows(
        db,
        "SELECT url, record_type, payload_digest, refers_to, warc_record_id, status, mime FROM captures"
        " WHERE url LIKE 'https://img.antaranews.com/cache/%' AND record_type IN ('response', 'revisit')"
        " AND mime LIKE 'image/%'",
    )
    per_url = Counter(c["url"] for c in captured)
    assert set(per_url) == wanted and set(per_url.values()) == {1}, "every good image captured, once"
    assert all(c["status"] == 200 and c["mime"] == "image/png" for c in captured)
    responses = [c for c in captured if c["record_type"] == "response"]
    revisits = [c for c in captured if c["record_type"] == "revisit"]
    digests = Counter(c["payload_digest"] for c in responses)
    assert set(digests.values()) == {1}, "each payload stored once"
    assert set(digests) == {c["payload_digest"] for c in captured} and len(digests) <= COLOURS
    assert revisits, "images shared by several articles became revisits"
    by_id = {c["warc_record_id"]: c for c in responses}
    for revisit in revisits:
        original = by_id[revisit["refers_to"]]
        assert original["payload_digest"] == revisit["payload_digest"] and original["url"] != revisit["url"]
    truth = {urlsplit(u).path: colour_of(urlsplit(u).path) for u in wanted}
    assert len(set(truth.values())) == len(digests), "one stored payload per distinct image of the site"
    requested = Counter(line.split(" ")[1] for line in image_crawl["first_lines"])
    assert requested["/img.antaranews.com/robots.txt"] == 1
    assert all(n == 1 for n in requested.values()), "no image requested twice"
    assert image_crawl["second_lines"] == [], "the second crawl asks for no image the archive holds"


@pytest.mark.slow
def test_faulty_images_give_clear_errors_and_lose_nothing(image_crawl: dict[str, Any]) -> None:
    db = image_crawl["db"]
    errors = {
        r["url"]: r
        for r in rows(db, "SELECT url, reason, detail, referer FROM crawl_errors WHERE url LIKE 'https://img.%'")
    }
    assert set(errors) == {image_crawl["html"], image_crawl["oversized"]}
    html, big = errors[image_crawl["html"]], errors[image_crawl["oversized"]]
    assert html["reason"] == "image_not_an_image" and "text/html" in html["detail"]
    assert big["reason"] == "image_too_large" and str(MAX_BYTES) in big["detail"]
    listed = image_crawl["listed"]
    assert html["referer"] == listed[1].url and big["referer"] == listed[2].url
    stored = {r["url"] for r in rows(db, "SELECT url FROM articles")}
    assert {s.url for s in listed} <= stored, "the articles of faulty images are archived all the same"
    # the HTML answer is in the WARC files as the server sent it (every exchange is), labelled so
    html_captures = rows(db, "SELECT mime FROM captures WHERE url = ? AND record_type = 'response'", (html["url"],))
    assert [c["mime"] for c in html_captures] == ["text/html"]
    assert not rows(db, "SELECT 1 FROM captures WHERE url = ? AND record_type = 'response'", (big["url"],))


@pytest.mark.slow
def test_the_run_counts_its_images(image_crawl: dict[str, Any]) -> None:
    db = image_crawl["db"]
    first, second = rows(db, "SELECT images, arguments FROM crawl_runs ORDER BY id")
    captured = rows(db, "SELECT count(*) FROM captures WHERE url LIKE 'https://img.%/cache/%' AND mime LIKE 'image/%'")[
        0
    ][0]
    assert first["images"] == captured > 0 and second["images"] == 0
    assert '"images": true' in first["arguments"]


@pytest.mark.slow
def test_the_article_page_shows_the_image_from_the_archive_with_the_site_stopped(
    image_crawl: dict[str, Any],
) -> None:
    db = image_crawl["db"]  # the fixture's site is stopped: every byte must come from the archive
    good = rows(
        db,
        "SELECT a.url, a.image_url, c.record_type FROM articles a JOIN captures c ON c.url = a.image_url"
        " WHERE c.record_type IN ('response', 'revisit') ORDER BY c.record_type",
    )
    response = next(r for r in good if r["record_type"] == "response")
    revisit = next(r for r in good if r["record_type"] == "revisit")
    missing = image_crawl["html"]
    missing_article = rows(db, "SELECT url FROM articles WHERE image_url = ?", (missing,))[0]["url"]
    paths = []
    for url in (response["url"], revisit["url"], missing_article):
        page = f"/archive/articles/{tilde_encode(url)}"
        paths += [page, f"{page}/image"]
    answers = get(db, *paths)
    for (page, image), row in zip(zip(answers[::2], answers[1::2], strict=True), (response, revisit), strict=False):
        assert page.status_code == 200
        assert 'class="antara-lead-image"' in page.text and "Image not archived" not in page.text
        assert image.status_code == 200 and image.headers["content-type"] == "image/png"
        assert image.headers["x-content-type-options"] == "nosniff"
        assert "default-src 'none'" in image.headers["content-security-policy"]
        path = urlsplit(row["image_url"]).path
        assert image.content == ImageHost().get(path)[2]  # type: ignore[index]
    page, image = answers[4], answers[5]
    assert page.status_code == 200 and "Image not archived" in page.text and "antara-lead-image" not in page.text
    assert image.status_code == 404 and image.headers["x-content-type-options"] == "nosniff"


@pytest.mark.slow
def test_the_image_hosts_robots_txt_is_obeyed(tmp_path: Path) -> None:
    site = SampleSite(articles=800, seed=3)
    db = tmp_path / "archive.db"
    with serve_site(site, tmp_path) as running:
        running.server.robots["img.antaranews.com"] = Page(200, TEXT, b"User-agent: *\nDisallow: /cache/\n")
        crawl(running, db, "--delay", "0", "--concurrency", "4", "--with-images")
        requested = [line.split(" ")[1] for line in image_lines(running)]
    assert requested == ["/img.antaranews.com/robots.txt"]
    stored = rows(db, "SELECT count(*) FROM articles")[0][0]
    errors = rows(db, "SELECT reason, count(*) AS n FROM crawl_errors WHERE url LIKE 'https://img.%' GROUP BY 1")
    assert [(e["reason"], e["n"]) for e in errors] == [("robots_disallowed", stored)]
    assert not rows(db, "SELECT 1 FROM captures WHERE url LIKE 'https://img.%/cache/%'")


@pytest.mark.slow
def test_no_image_is_fetched_without_the_option_and_image_requests_are_spaced(tmp_path: Path) -> None:
    site = SampleSite(articles=800, seed=5)
    with serve_site(site, tmp_path) as running:
        crawl(running, tmp_path / "off.db", "--delay", "0", "--concurrency", "4")
        assert image_lines(running) == [], "a full crawl fetches no image unless asked"
        running.server.arrivals = []
        delay = 0.25
        crawl(running, tmp_path / "on.db", "--delay", str(delay), "--concurrency", "1", "--with-images")
        arrivals = [t for t, target in running.server.arrivals if target.startswith("/img.antaranews.com/")]
    assert len(arrivals) >= 5
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    # DOWNLOAD_DELAY_JITTER 0.5: each wait is 0.5x to 1.5x the delay, per host
    assert min(gaps) >= delay * 0.5 - 0.02, gaps


def test_a_lead_image_item_travels_to_the_ingester_and_is_counted(tmp_path: Path) -> None:
    from crawler.distributed.messages import decode, encode
    from crawler.domain.items import LeadImage, WarcRef
    from crawler.scrapy.storage import store_item

    item = LeadImage(IMG, "https://kalteng.antaranews.com/berita/1/x", "image/png", 77, WarcRef("f", 1, 2, "<r>", "d"))
    message = decode(encode(item, "run-1", "w1/1"))
    assert message.item == item and message.key == f"image {IMG}"
    with Archive(tmp_path / "a.db") as archive:
        stored = store_item(archive, message.item, None)
    assert stored.counts == Counter(images=1) and stored.host == "kalteng.antaranews.com"
