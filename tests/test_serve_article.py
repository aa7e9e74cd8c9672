"""The article page of ``antara serve``: Baca juga, linked from, tags, versions, and the archived page replayed.

A real crawl of a sample site, an edit and a revisit make a second version; a hostile
capture (a script, remote images, styles, a frame, links, a meta refresh) is written into
the archive's WARC folder for one article. Then a real Datasette in-process for the page's
content, and a real browser on a running ``antara serve`` for what a reader does.
"""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

import markupsafe
import pytest
from datasette.utils import tilde_encode

from archive.warc import Original, WarcWriter, read_capture
from crawler.samplesite import SampleSite
from tests.conftest import (
    ROOT,
    SCREENSHOTS,
    RunningSite,
    crawl_with_a_correction,
    rows,
    serve_archive,
    serve_site,
)
from tests.test_serve import get

HOSTILE_TITLE = "Captured page with a hostile script"
HOSTILE_HTML = f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="2;url=https://kalteng.antaranews.com/">
<title>{HOSTILE_TITLE}</title>
<link rel="stylesheet" href="https://kalteng.antaranews.com/assets/style.css">
<style>body {{ font-family: serif; }} h1 {{ color: #0a5; }}</style>
<script>document.documentElement.setAttribute("data-script-ran", "yes"); document.title = "SCRIPT RAN";</script>
<script src="https://www.googletagmanager.com/gtag/js"></script>
</head><body>
<h1 id="captured">{HOSTILE_TITLE}</h1>
<p>Teks berita seperti yang ditangkap &lt;b&gt; (ANTARA).</p>
<img src="https://img.antaranews.com/cache/800x533/photo.jpg" alt="remote">
<img src="/relative-image.jpg" alt="relative">
<iframe src="https://www.youtube.com/embed/xyz"></iframe>
<p><a id="live-link" href="https://kalteng.antaranews.com/berita/1/x">a link to the live site</a>
<a id="self-link" target="_self" href="https://kalteng.antaranews.com/berita/2/y">another</a></p>
<form action="https://kalteng.antaranews.com/cari"><input name="q"><button id="send">Cari</button></form>
<img src="x" onerror="document.documentElement.setAttribute('data-script-ran', 'onerror')">
</body></html>
"""


@dataclass
class Facts:
    """What the fixture made: which article has which part, for the tests to check."""

    db: Path
    linking: str  # an article with archived and not-archived Baca juga targets
    target: str  # an archived Baca juga target of ``linking``: has the hostile capture
    edited: str  # an article with a second version (an edit found by a revisit)
    uncaptured: str  # an article whose capture was removed


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSite]:
    with serve_site(SampleSite(articles=700, seed=12), tmp_path_factory.mktemp("article-site")) as running:
        yield running


@pytest.fixture(scope="module")
def facts(site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> Facts:
    db = tmp_path_factory.mktemp("article") / "archive.db"
    edited_url = crawl_with_a_correction(site, db)
    assert [r["article_url"] for r in rows(db, "SELECT article_url FROM article_versions")] == [edited_url]

    linking = rows(
        db,
        "SELECT l.source_url FROM links l LEFT JOIN articles t"
        " ON t.site = l.target_site AND t.article_id = l.target_article_id"
        " WHERE l.kind = 'baca_juga' AND l.source_url != ? GROUP BY l.source_url"
        " HAVING count(t.url) > 0 AND count(t.url) < count(*) ORDER BY l.source_url LIMIT 1",
        (edited_url,),
    )[0]["source_url"]
    target = rows(
        db,
        "SELECT t.url FROM links l JOIN articles t ON t.site = l.target_site AND t.article_id = l.target_article_id"
        " WHERE l.source_url = ? AND l.kind = 'baca_juga' AND t.url NOT IN (?, ?) ORDER BY l.position LIMIT 1",
        (linking, edited_url, linking),
    )[0]["url"]
    uncaptured = rows(
        db, "SELECT url FROM articles WHERE url NOT IN (?, ?, ?) ORDER BY url LIMIT 1", (linking, target, edited_url)
    )[0]["url"]
    folder = Path(rows(db, "SELECT value FROM archive_meta WHERE key = 'warc_dir'")[0]["value"])
    writer = WarcWriter(folder, prefix="hostile")
    body = HOSTILE_HTML.encode()
    response = b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
    response += f"Content-Length: {len(body)}\r\n\r\n".encode() + body
    records = writer.write_exchange(target, b"GET / HTTP/1.1\r\nHost: kalteng.antaranews.com\r\n\r\n", response)
    writer.close()
    main = next(r for r in records if r.record_type == "response")
    conn = sqlite3.connect(db)
    with conn:
        conn.execute(
            "UPDATE articles SET warc_file = ?, warc_offset = ?, warc_length = ?, warc_record_id = ? WHERE url = ?",
            (main.file, main.offset, main.length, main.record_id, target),
        )
        conn.execute(
            "UPDATE articles SET warc_file = NULL, warc_offset = NULL, warc_length = NULL, warc_record_id = NULL"
            " WHERE url = ?",
            (uncaptured,),
        )
    conn.close()
    return Facts(db, linking, target, edited_url, uncaptured)


def page_path(url: str) -> str:
    return "/archive/articles/" + str(tilde_encode(url))


def esc(text: str) -> str:
    return str(markupsafe.escape(text))


def section(html: str, start: str, end: str) -> str:
    begin = html.index(start)
    return html[begin : html.index(end, begin)]


# -- in-process -------------------------------------------------------------------------------------


@pytest.mark.slow
def test_article_page_shows_byline_dateline_local_time_and_image_caption(facts: Facts) -> None:
    article = rows(facts.db, "SELECT * FROM articles WHERE url = ?", (facts.linking,))[0]
    (page,) = get(facts.db, page_path(facts.linking))
    assert page.status_code == 200
    html = page.text
    assert f"<h1>{esc(article['title'])}</h1>" in html
    assert f'<span class="antara-reporter">{esc(article["reporter"])}</span>' in html
    assert f'<span class="antara-editor">{esc(article["editor"])}</span>' in html
    assert f'<span class="antara-place">{esc(article["dateline"])}</span>' in html
    when = datetime.fromisoformat(article["published_at"])
    assert article["published_at"].endswith("+07:00")  # kalteng is on WIB
    assert f"{when.day} {when:%B %Y}, {when:%H:%M} WIB" in html
    assert esc(article["image_caption"]) in html and "Image not archived" in html
    assert f'href="{esc(article["image_url"])}"' in html
    assert f'src="{esc(article["image_url"])}"' not in html, "the remote image is never loaded"


@pytest.mark.slow
def test_baca_juga_links_to_archived_pages_and_marks_the_others_external(facts: Facts) -> None:
    links = rows(
        facts.db,
        "SELECT l.target_url, t.url AS archived, t.title FROM links l LEFT JOIN articles t"
        " ON t.site = l.target_site AND t.article_id = l.target_article_id"
        " WHERE l.source_url = ? AND l.kind = 'baca_juga' ORDER BY l.position",
        (facts.linking,),
    )
    (page,) = get(facts.db, page_path(facts.linking))
    listed = section(page.text, 'class="antara-links antara-baca-juga"', "</ul>")
    items = re.findall(r"<li class=\"(antara-archived|antara-not-archived)\">(.*?)</li>", listed, re.S)
    assert len(items) == len(links) and {kind for kind, _ in items} == {"antara-archived", "antara-not-archived"}
    for (kind, item), link in zip(items, links, strict=True):
        if link["archived"]:
            assert kind == "antara-archived"
            assert f'href="{page_path(link["archived"])}"' in item and esc(link["title"]) in item
        else:
            assert kind == "antara-not-archived" and 'class="antara-external"' in item
            assert f'href="{esc(link["target_url"])}"' in item and "not archived" in item
    # the archived target's page answers, and lists the linking article under "linked from"
    (target,) = get(facts.db, page_path(facts.target))
    assert target.status_code == 200
    linked_from = section(target.text, 'class="antara-links antara-linked-from"', "</ul>")
    title = rows(facts.db, "SELECT title FROM articles WHERE url = ?", (facts.linking,))[0]["title"]
    assert f'<a href="{page_path(facts.linking)}">{esc(title)}</a>' in linked_from
    sources = rows(
        facts.db,
        "SELECT DISTINCT l.source_url FROM links l JOIN articles a ON a.url = ?"
        " WHERE l.target_site = a.site AND l.target_article_id = a.article_id AND l.kind = 'baca_juga'",
        (facts.target,),
    )
    assert linked_from.count("<li>") == len(sources)


@pytest.mark.slow
def test_tags_link_to_the_articles_list_filtered_by_that_tag(facts: Facts) -> None:
    tags = json.loads(rows(facts.db, "SELECT tags FROM articles WHERE url = ?", (facts.linking,))[0]["tags"])
    assert tags
    (page,) = get(facts.db, page_path(facts.linking))
    nav = section(page.text, '<nav class="antara-tags"', "</nav>")
    hrefs = re.findall(r'<a href="([^"]+)">([^<]+)</a>', nav)
    assert [markupsafe.Markup(name).unescape() for _, name in hrefs] == tags
    for href, name in hrefs:
        assert href == f"/archive/articles?tags__arraycontains={quote_plus(markupsafe.Markup(name).unescape())}"
        listed = get(facts.db, href.replace("/archive/articles?", "/archive/articles.json?_shape=objects&_size=max&"))
        urls = {r["url"] for r in listed[0].json()["rows"]}
        assert facts.linking in urls
        expected = {r["url"] for r in rows(facts.db, "SELECT url, tags FROM articles") if name in r["tags"]}
        assert urls <= expected


@pytest.mark.slow
def test_versions_show_what_changed(facts: Facts) -> None:
    old = rows(facts.db, "SELECT body FROM article_versions WHERE article_url = ?", (facts.edited,))[0]["body"]
    new = rows(facts.db, "SELECT version, body FROM articles WHERE url = ?", (facts.edited,))[0]
    assert new["version"] == 2
    (page,) = get(facts.db, page_path(facts.edited))
    versions = section(page.text, '<section class="antara-versions"', "</section>")
    assert "Version 1 &rarr; 2" in versions
    added = re.findall(r"<ins>(.*?)</ins>", versions, re.S)
    assert any("ralat ke-1" in a for a in added), added
    kept = len([p for p in old.split("\n\n") if p.strip()])
    assert re.search(r"&hellip; \d+ unchanged paragraphs? &hellip;", versions)
    assert versions.count("<p>") < kept + 2, "unchanged paragraphs are folded"
    (plain,) = get(facts.db, page_path(facts.linking))
    assert "antara-versions" not in plain.text, "an article with one version shows no versions section"


def _plugin() -> Any:
    path = ROOT / "crawler" / "serve" / "plugins" / "antara_article.py"
    spec = importlib.util.spec_from_file_location("antara_article_under_test", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_word_diff_marks_changed_words_and_escapes_text() -> None:
    plugin = _plugin()
    html = str(plugin.diff_words("Banjir merendam 20 rumah <warga>", "Banjir merendam 35 rumah <warga> & sawah"))
    assert html == "Banjir merendam <del>20</del><ins>35</ins> rumah &lt;warga&gt;<ins> &amp; sawah</ins>"
    parts = plugin.diff_body("Satu.\n\nDua lama.\n\nTiga.", "Satu.\n\nDua baru.\n\nTiga.\n\n<script>x</script>")
    assert [p.get("unchanged") for p in parts] == [1, None, 1, None]
    assert str(parts[1]["html"]) == "Dua <del>lama.</del><ins>baru.</ins>"
    assert str(parts[3]["html"]) == "<ins>&lt;script&gt;x&lt;/script&gt;</ins>"
    long_old, long_new = " ".join(f"kata{i}" for i in range(900)), " ".join(f"kata{i}" for i in range(1, 901))
    assert str(plugin.diff_words(long_old, long_new)) == f"<del>{long_old}</del><ins>{long_new}</ins>", "bounded work"


@pytest.mark.slow
def test_replay_answers_the_captured_body_under_a_strict_policy(facts: Facts) -> None:
    replay, original, missing, unknown, traversal = get(
        facts.db,
        page_path(facts.target) + "/as-archived",
        page_path(facts.linking) + "/as-archived",
        page_path(facts.uncaptured) + "/as-archived",
        page_path("https://kalteng.antaranews.com/berita/1/nope") + "/as-archived",
        "/archive/articles/~2E~2E~2F~2E~2E~2Fetc~2Fpasswd/as-archived",
    )
    assert replay.status_code == 200 and replay.headers["content-type"] == "text/html; charset=utf-8"
    policy = replay.headers["content-security-policy"]
    for directive in ("sandbox", "default-src 'none'", "script-src 'none'", "img-src data:", "frame-ancestors 'self'"):
        assert directive in policy
    assert replay.headers["x-content-type-options"] == "nosniff"
    assert replay.text.replace('<base target="_blank">', "", 1) == HOSTILE_HTML, "the body as captured"
    # a real capture of the crawl: the article's text is in it
    title = rows(facts.db, "SELECT title FROM articles WHERE url = ?", (facts.linking,))[0]["title"]
    assert original.status_code == 200 and esc(title) in original.text
    assert "content-security-policy" in original.headers
    for answer in (missing, unknown, traversal):
        assert answer.status_code == 404 and answer.text.startswith("No archived page to show")
    assert "without a WARC capture" in missing.text
    (page,) = get(facts.db, page_path(facts.uncaptured))
    assert "antara-replay-frame" not in page.text and "it was archived without a WARC capture" in page.text
    (page,) = get(facts.db, page_path(facts.target))
    frame = re.search(r"<iframe [^>]*>", page.text)
    assert frame is not None and 'sandbox=""' in frame.group(0)
    assert f'src="{page_path(facts.target)}/as-archived"' in frame.group(0)


@pytest.mark.slow
def test_replay_reads_only_the_archives_warc_folder(facts: Facts, tmp_path: Path) -> None:
    """A row naming a file outside the folder (a path, not a file name) is refused, not read."""
    copy = tmp_path / "copy.db"
    conn = sqlite3.connect(facts.db)
    conn.execute(f"VACUUM INTO '{copy}'")
    conn.close()
    secret = tmp_path / "secret.warc.gz"
    shutil.copy(next((Path(f"{facts.db}.warc")).glob("*.warc.gz")), secret)
    conn = sqlite3.connect(copy)
    with conn:
        conn.execute("UPDATE articles SET warc_file = ? WHERE url = ?", (f"../{secret.name}", facts.linking))
        conn.execute("UPDATE articles SET warc_file = ? WHERE url = ?", (str(secret), facts.target))
    conn.close()
    first, second = get(copy, page_path(facts.linking) + "/as-archived", page_path(facts.target) + "/as-archived")
    assert first.status_code == second.status_code == 404
    assert "WARC file name is not one this server reads" in first.text


@pytest.mark.slow
def test_replay_of_a_revisit_shows_the_payload_it_refers_to(facts: Facts, tmp_path: Path) -> None:
    """A row refetched unchanged points to a revisit record (headers only): the body is its original's."""
    copy = tmp_path / "copy.db"
    conn = sqlite3.connect(facts.db)
    conn.execute(f"VACUUM INTO '{copy}'")
    conn.close()
    row = rows(copy, "SELECT * FROM articles WHERE url = ?", (facts.linking,))[0]
    first = rows(copy, "SELECT * FROM captures WHERE warc_record_id = ?", (row["warc_record_id"],))[0]
    folder = Path(rows(copy, "SELECT value FROM archive_meta WHERE key = 'warc_dir'")[0]["value"])
    captured = read_capture(folder / row["warc_file"], row["warc_offset"])
    writer = WarcWriter(tmp_path / "warc", prefix="revisit")
    records = writer.write_exchange(
        facts.linking,
        b"GET / HTTP/1.1\r\n\r\n",
        captured.head + captured.payload,
        original=lambda url, digest: Original(first["warc_record_id"], first["url"], first["fetched_at"]),
    )
    writer.close()
    revisit = next(r for r in records if r.record_type == "revisit")
    shutil.copy(tmp_path / "warc" / revisit.file, folder / revisit.file)
    conn = sqlite3.connect(copy)
    with conn:
        conn.execute(
            "INSERT INTO captures (url, record_type, fetched_at, status, warc_file, warc_offset, warc_length,"
            " warc_record_id, refers_to) VALUES (?, 'revisit', ?, 200, ?, ?, ?, ?, ?)",
            (
                facts.linking,
                revisit.date,
                revisit.file,
                revisit.offset,
                revisit.length,
                revisit.record_id,
                first["warc_record_id"],
            ),
        )
        conn.execute(
            "UPDATE articles SET warc_file = ?, warc_offset = ?, warc_length = ?, warc_record_id = ? WHERE url = ?",
            (revisit.file, revisit.offset, revisit.length, revisit.record_id, facts.linking),
        )
    conn.close()
    (replay,) = get(copy, page_path(facts.linking) + "/as-archived")
    assert replay.status_code == 200
    assert replay.content.replace(b'<base target="_blank">', b"", 1) == captured.body()


# -- in a real browser ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(facts: Facts, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_archive(facts.db, tmp_path_factory.mktemp("article-serve")) as server:
        yield server.url


def no_overflow(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    inner = page.evaluate("window.innerWidth")
    assert width <= inner, f"horizontal overflow: {width} > {inner}"


@pytest.mark.slow
@pytest.mark.browser
def test_browser_follow_baca_juga_and_view_as_archived(facts: Facts, served: str, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    blocked: dict[str, str] = {}
    sent_outside: list[str] = []
    popups: list[Any] = []
    context.on("request", lambda request: requests.append(request.url))
    context.on("requestfailed", lambda request: blocked.setdefault(request.url, request.failure or ""))
    context.on("page", lambda page: popups.append(page))

    def refuse_outside(route: Any) -> None:
        """Every request the browser really sends passes here; one past the server is a failure (and aborted)."""
        if route.request.url.startswith(served):
            route.continue_()
        else:
            sent_outside.append(route.request.url)
            route.abort()

    context.route("**/*", refuse_outside)
    page = context.new_page()
    page.set_default_timeout(15_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.goto(served + page_path(facts.linking).lstrip("/"))
    target_title = rows(facts.db, "SELECT title FROM articles WHERE url = ?", (facts.target,))[0]["title"]
    page.locator("ul.antara-baca-juga li.antara-archived a", has_text=target_title).first.click()
    page.wait_for_url(re.compile(re.escape(str(tilde_encode(facts.target)))))
    assert page.locator("article.antara-article h1").inner_text() == target_title
    no_overflow(page)

    page.locator("details.antara-replay summary").click()
    frame_element = page.locator("iframe.antara-replay-frame")
    frame_element.wait_for(state="visible")
    frame = frame_element.element_handle().content_frame()
    frame.wait_for_load_state()
    captured = frame.locator("#captured")
    captured.wait_for()
    assert captured.inner_text() == HOSTILE_TITLE
    assert frame.locator("html").get_attribute("data-script-ran") is None, "no script ran in the frame"
    page.wait_for_timeout(2500)  # past the page's meta refresh and its lazy loads
    assert frame.locator("#captured").inner_text() == HOSTILE_TITLE, "the frame was not navigated away"
    assert frame.locator("html").get_attribute("data-script-ran") is None, "no script ran in the frame"
    frame.locator("#live-link").click()
    frame.locator("#send").click()
    page.wait_for_timeout(500)
    assert frame.locator("#captured").inner_text() == HOSTILE_TITLE, "a click on a link or a form stays put"
    page.locator("section.antara-as-archived").screenshot(path=str(SCREENSHOTS / "article-as-archived-hostile.png"))
    # target=_self navigates the frame itself: the article page's CSP (frame-src 'self') refuses it
    frame.locator("#self-link").click()
    page.wait_for_timeout(500)
    assert page.locator("article.antara-article h1").inner_text() == target_title
    assert popups == [page], "no link of the archived page opened a window"
    assert sent_outside == [], f"requests left the server: {sent_outside}"
    # the page's remote style and images were attempted and refused by the policy, inside the browser
    outside = [url for url in requests if not url.startswith(served)]
    assert "https://img.antaranews.com/cache/800x533/photo.jpg" in outside
    assert {blocked.get(url) for url in outside} == {"csp"}, blocked
    assert blocked.get(served + "relative-image.jpg") == "csp", "not even an image of this server"
    assert not any("berita/2/y" in url or "cari" in url for url in requests), "no navigation, no form sent"
    assert any(url.endswith("/as-archived") for url in requests)
    context.close()


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1280])
def test_browser_article_page_fits_the_screen(facts: Facts, served: str, browser: Any, width: int) -> None:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.set_default_timeout(15_000)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, url in (("article", facts.linking), ("article-versions", facts.edited)):
        page.goto(served + page_path(url).lstrip("/"))
        page.locator("details.antara-replay summary").click()
        page.locator("iframe.antara-replay-frame").wait_for(state="visible")
        no_overflow(page)
        suffix = "-phone" if width == 375 else ""
        if name == "article":
            page.screenshot(path=str(SCREENSHOTS / f"article{suffix}.png"), full_page=True)
        else:
            page.locator("section.antara-versions").scroll_into_view_if_needed()
            page.screenshot(path=str(SCREENSHOTS / f"article-versions{suffix}.png"))
    page.close()
