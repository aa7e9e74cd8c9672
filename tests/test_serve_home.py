"""``antara serve``'s home page, crawl health page, canned query pages, error pages and footer.

An archive of two real crawls of a sample site of our own: the second one with kalsel gone dark
(every list page and its feed answer 503), so the health page has a degraded site to show.
Page content through Datasette in-process; what a reader does in a real chromium.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from crawler.domain.regions import REGIONS
from crawler.samplesite import SampleSite
from crawler.serve.app import CONFIG_DIR, build_datasette, load_metadata
from tests.conftest import SCREENSHOTS, RunningSite, crawl_sample, rows, serve_archive, serve_site
from tests.test_serve import get, keep_screenshot

KALSEL = "/kalsel.antaranews.com"
FAST = ("-s", "ANTARA_RETRY_BACKOFF=0", "-q")
GONE_DARK = "kalsel: went dark: no list page or feed could be read"
LICENCE = "Articles © ANTARA; archived for research only, not for republication"
INTERNAL = ("archive_meta", "frontier", "backfill_state", "ingested_items", "article_tags")


def plugin() -> ModuleType:
    """plugins/antara_home.py, loaded from its file as Datasette loads it."""
    spec = importlib.util.spec_from_file_location("antara_home_test", CONFIG_DIR / "plugins" / "antara_home.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSite]:
    """A sample site of our own: the fixture breaks kalsel for the second crawl."""
    with serve_site(SampleSite(articles=1500, seed=7), tmp_path_factory.mktemp("home-site")) as running:
        yield running


@pytest.fixture(scope="module")
def archive(site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("home") / "archive.db"
    regions = ("--region", "kalteng,kalsel,nasional", "--max-pages", "2")
    first = crawl_sample(site, db, *regions, *FAST)
    assert first.returncode == 0, first.stderr[-3000:]
    site.server.router.broken[f"{KALSEL}/terkini/"] = 503  # every list page
    site.server.router.broken[f"{KALSEL}/rss/terkini.xml"] = 503
    try:
        second = crawl_sample(site, db, *regions, "--incremental", *FAST)
    finally:
        site.server.router.broken.clear()
    assert second.returncode == 0, second.stderr[-3000:]
    return db


def title_of(html: str) -> str:
    found = re.search(r"<title>(.*?)</title>", html, re.S)
    assert found, html[:500]
    return found.group(1).strip()


# -- in-process: content -------------------------------------------------------------------------


@pytest.mark.slow
def test_home_has_search_sites_latest_chart_and_queries(archive: Path) -> None:
    (home,) = get(archive, "/")
    assert home.status_code == 200
    html = home.text
    form = re.search(r'<form class="antara-search" action="([^"]+)" method="get" role="search">', html)
    assert form and form.group(1) == "/archive/articles"
    assert 'id="antara-search" name="_search"' in html
    total = rows(archive, "SELECT count(*) FROM articles")[0][0]
    assert f"Search {total:,} articles" in html

    sites = rows(
        archive,
        "SELECT region, count(*) AS n, max(published_at) AS newest FROM articles GROUP BY region ORDER BY n DESC",
    )
    assert {s["region"] for s in sites} >= {"kalteng", "kalsel", "nasional"}
    for site in sites:
        row = re.search(
            rf'\?region={site["region"]}">{site["region"]}</a></td><td>[^<]*</td><td class="num">([\d,]+)</td>'
            rf'<td class="nowrap"><time datetime="([^"]+)">',
            html,
        )
        assert row, site["region"]
        assert row.group(1) == f"{site['n']:,}" and row.group(2) == site["newest"]

    latest = rows(archive, "SELECT url, title, published_at FROM articles ORDER BY published_at DESC LIMIT 15")
    section = html.split('id="latest-heading"')[1].split("</section>")[0]
    shown = re.findall(r'<li><a href="(/archive/articles/[^"]+)">([^<]+)</a>', section)
    assert [t for _, t in shown] == [str(markup_escape(r["title"])) for r in latest]
    zones = {"+07:00": "WIB", "+08:00": "WITA", "+09:00": "WIT"}
    for article in latest:
        stamp = article["published_at"]
        local = f"{stamp[:10]} {stamp[11:16]} {zones[stamp[19:]]}"
        assert f'<time datetime="{stamp}">{local}</time>' in section

    # the chart: 90 days up to the newest local date, one <g> per day, the legend's totals add up
    svg = html.split('<svg class="antara-chart"')[1].split("</svg>")[0]
    assert svg.count("<g><title>") == 90
    newest = max(s["newest"] for s in sites)[:10]
    assert f"<title>{newest}: " in svg
    assert "12 PM" not in svg and " AM<" not in svg
    legend = dict(re.findall(r'</span>([^<]+?) <span class="antara-meta">([\d,]+)</span></li>', html))
    since = (date.fromisoformat(newest) - timedelta(days=89)).isoformat()
    for group, _, regions in plugin().REGION_GROUPS:
        expected = rows(
            archive,
            f"SELECT count(*) FROM articles WHERE region IN ({','.join('?' * len(regions))}) AND published_at >= ?",
            (*regions, since),
        )[0][0]
        assert legend[markup_escape(group)] == f"{expected:,}", group
    assert int(legend["Kalimantan"]) > 0 and int(legend["National"]) > 0
    for name, query in load_metadata()["databases"]["archive"]["queries"].items():
        assert f'<a href="/archive/{name}">{query["title"]}</a>' in html
    assert '<a href="/health">Crawl health</a>' in html
    assert LICENCE in html
    assert not re.search(r'<link rel="stylesheet" href="https?://', html)
    assert not re.search(r'src="https?://', html), "the home page fetches nothing from the internet"


@pytest.mark.slow
def test_home_counts_follow_new_articles(archive: Path, tmp_path: Path) -> None:
    """The sites' counts are kept between page loads only while the archive has no new article."""
    copy = tmp_path / "copy.db"
    shutil.copy(archive, copy)

    async def run() -> list[str]:
        ds = build_datasette(copy)
        await ds.invoke_startup()
        pages = [(await ds.client.get("/")).text, (await ds.client.get("/")).text]
        conn = sqlite3.connect(copy)
        with conn:
            conn.execute(
                "INSERT INTO articles (url, site, region, article_id, title, body, published_at)"
                " VALUES ('https://kupang.antaranews.com/berita/1/x', 'kupang.antaranews.com', 'kupang', 1,"
                " 'Berita baru dari Kupang', 'Isi', '2099-01-01T08:00:00+08:00')"
            )
        conn.close()
        pages.append((await ds.client.get("/")).text)
        return pages

    first, again, after = asyncio.run(run())
    total = rows(archive, "SELECT count(*) FROM articles")[0][0]
    assert f"Search {total:,} articles" in first and f"Search {total:,} articles" in again
    assert f"Search {total + 1:,} articles" in after
    assert '?region=kupang">kupang</a></td><td>Nusa Tenggara Timur</td>' in after
    assert "Berita baru dari Kupang" in after.split('id="latest-heading"')[1]
    assert "<title>2099-01-01: 1 article (Bali &amp; Nusa Tenggara 1)</title>" in after


def markup_escape(text: str) -> str:
    import markupsafe

    return str(markupsafe.escape(text))


def test_every_region_is_in_exactly_one_chart_group() -> None:
    module = plugin()
    grouped = [slug for _, _, slugs in module.REGION_GROUPS for slug in slugs]
    assert sorted(grouped) == sorted(r.slug for r in REGIONS)
    colours = [colour for _, colour, _ in module.REGION_GROUPS]
    assert len(set(colours)) == len(colours) <= 8


def test_chart_ticks_are_dates_and_bars_stack_per_day() -> None:
    module = plugin()
    counts = {"2026-11-30": {"Java": 30, "Sulawesi": 10}, "2026-10-15": {"National": 5}}
    chart = module.chart_svg(counts, date(2026, 11, 30))
    assert (chart.first, chart.last, chart.total) == ("2026-09-02", "2026-11-30", 45)
    svg = str(chart.svg)
    assert "<title>2026-11-30: 40 articles (Java 30, Sulawesi 10)</title>" in svg
    assert re.findall(r">(\d+ [A-Z][a-z]{2})</text>", svg) == ["15 Sep", "1 Oct", "15 Oct", "1 Nov", "15 Nov"]
    assert {g["name"]: g["articles"] for g in chart.legend}["Java"] == 30
    assert svg.count("<rect") == 3


@pytest.mark.slow
def test_internal_tables_are_hidden_but_reachable_and_articles_come_first(archive: Path) -> None:
    database, index_json, *internal = get(
        archive, "/archive", "/archive.json", *(f"/archive/{name}" for name in INTERNAL)
    )
    listed = re.findall(r'<div class="db-table">\s*<h3><a href="/archive/([^"]+)">', database.text)
    assert listed[0] == "articles"
    assert not set(INTERNAL) & set(listed)
    assert {"links", "captures", "crawl_runs", "crawl_run_regions", "crawl_errors", "regions", "tags"} <= set(listed)
    tables = {t["name"]: t["hidden"] for t in index_json.json()["tables"]}
    assert "archive_meta" not in tables, "left out of the table lists (it names a filesystem path)"
    assert all(tables[name] for name in INTERNAL if name != "archive_meta")
    # reachable by URL, but archive_meta (it names the WARC folder's path) is never served
    statuses = {name: page.status_code for name, page in zip(INTERNAL, internal, strict=True)}
    assert statuses == {name: 403 if name == "archive_meta" else 200 for name in INTERNAL}
    (home,) = get(archive, "/")
    for name in INTERNAL:
        assert f'/archive/{name}"' not in home.text


@pytest.mark.slow
def test_canned_queries_lead_with_title_and_description_and_fold_the_sql(archive: Path) -> None:
    queries = load_metadata()["databases"]["archive"]["queries"]
    pages = get(archive, *(f"/archive/{name}" for name in queries))
    for (name, query), page in zip(queries.items(), pages, strict=True):
        assert page.status_code == 200, name
        assert title_of(page.text) == f"{query['title']} - ANTARA news archive"
        assert f">{query['title']}</h1>" in page.text
        assert str(markup_escape(query["description"])) in page.text
        assert "Custom SQL query" not in page.text
        before, folded = page.text.split('<details class="antara-sql">')
        assert "<pre" not in before and "select" in folded.split("</details>")[0].lower()
        for param in query.get("params", []):
            assert f'name="{param}"' in before
        assert LICENCE in page.text, name


@pytest.mark.slow
def test_crawl_runs_recent_has_health(archive: Path) -> None:
    (response,) = get(archive, "/archive/crawl_runs_recent.json?_shape=array")
    got = response.json()
    runs = rows(archive, "SELECT id, health, health_reasons FROM crawl_runs ORDER BY id DESC")
    assert [(r["run"], r["health"]) for r in got] == [(r["id"], r["health"]) for r in runs]
    assert got[0]["health"] == "degraded" and GONE_DARK in got[0]["health_reasons"]
    assert got[0]["health_reasons"] == "; ".join(json.loads(runs[0]["health_reasons"]))
    assert got[1]["health"] == "ok" and got[1]["health_reasons"] is None


@pytest.mark.slow
def test_health_page_names_the_degraded_site_and_its_reason(archive: Path) -> None:
    (page,) = get(archive, "/health")
    assert page.status_code == 200
    html = page.text
    assert title_of(html) == "Crawl health - ANTARA news archive"
    assert "1 site degraded in its latest crawl: kalsel." in html
    card = html.split('<li class="antara-card antara-health-degraded">')[1].split("</li>\n")[0]
    reason = json.loads(
        rows(archive, "SELECT health_reasons FROM crawl_run_regions WHERE region = 'kalsel' ORDER BY run_id DESC")[0][0]
    )[0]
    assert "kalsel" in card and str(markup_escape(reason)) in card
    for run in rows(archive, "SELECT id FROM crawl_runs"):
        assert f"<strong>Run {run['id']}</strong>" in html
    errors = rows(archive, "SELECT reason, count(*) AS n FROM crawl_errors GROUP BY reason ORDER BY n DESC, reason")
    shown = re.findall(r'\?reason=([^"]+)">[^<]+</a></td><td class="num">([\d,]+)</td>', html)
    assert shown == [(e["reason"], f"{e['n']:,}") for e in errors]
    assert "http_503" in {e["reason"] for e in errors}
    assert LICENCE in html


@pytest.mark.slow
def test_friendly_404_and_500_pages_carry_the_licence(archive: Path) -> None:
    missing, missing_row, forbidden = get(
        archive, "/no/such/page", "/archive/articles/no-such-article", "/archive?sql=select+1"
    )
    assert forbidden.status_code == 403
    assert "<h1>Forbidden</h1>" in forbidden.text and "Error 403" in forbidden.text and LICENCE in forbidden.text
    for page in (missing, missing_row):
        assert page.status_code == 404
        assert "<h1>Page not found</h1>" in page.text
        assert title_of(page.text).startswith("Page not found - ")
        assert 'name="_search"' in page.text and LICENCE in page.text
        assert "/antara-static/antara-home.css" in page.text

    async def render_500() -> str:
        ds = build_datasette(archive)
        await ds.invoke_startup()
        template = ds.jinja_env.get_template("error.html")
        # the context Datasette's handle_exception gives error.html
        rendered: str = await template.render_async(
            ok=False,
            status=500,
            title=None,
            error="disk I/O error",
            urls=ds.urls,
            app_css_hash=ds.app_css_hash(),
            menu_links=lambda: [],
        )
        return rendered

    html = asyncio.run(render_500())
    assert "<h1>Something went wrong</h1>" in html and "disk I/O error" in html and LICENCE in html


@pytest.mark.slow
def test_the_licence_is_in_every_footer(archive: Path) -> None:
    url = rows(archive, "SELECT url FROM articles LIMIT 1")[0]["url"]
    from datasette.utils import tilde_encode

    paths = ["/", "/archive", "/archive/articles", f"/archive/articles/{tilde_encode(url)}", "/archive/crawl_runs/1"]
    for path, page in zip(paths, get(archive, *paths), strict=True):
        assert page.status_code == 200, path
        footer = page.text.split('<footer class="ft">')[1].split("</footer>")[0]
        assert LICENCE in footer and 'href="/health"' in footer, path


# -- a real browser -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def served(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_archive(archive, tmp_path_factory.mktemp("home-serve")) as server:
        yield server.url


@pytest.mark.slow
@pytest.mark.browser
def test_browser_search_from_home_with_the_keyboard(archive: Path, served: str, browser: Any, tmp_path: Path) -> None:
    known = rows(archive, "SELECT url, title FROM articles ORDER BY published_at DESC LIMIT 1 OFFSET 5")[0]
    word = max(re.findall(r"\w+", known["title"]), key=len)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(served)
    for _ in range(10):  # Tab from the top of the page reaches the search box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.id") == "antara-search":
            break
    else:
        pytest.fail("the search box is not reachable with Tab")
    page.keyboard.type(word)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/archive/articles\?_search="))
    assert f"_search={word}" in page.url
    assert known["title"] in page.locator("section.content").inner_text()
    assert all(r.startswith(served) for r in requests), [r for r in requests if not r.startswith(served)]
    keep_screenshot(page, tmp_path, "home-search-results")
    page.close()


@pytest.mark.slow
@pytest.mark.browser
def test_browser_health_page_shows_the_degraded_sites_reason(served: str, browser: Any, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(15_000)
    page.goto(served)
    page.get_by_role("link", name="Crawl health").first.click()
    page.wait_for_url(re.compile(r"/health$"))
    card = page.locator("li.antara-health-degraded", has_text="kalsel").first
    assert card.is_visible()
    assert "went dark: no list page or feed could be read" in card.inner_text()
    assert page.get_by_role("status").inner_text().startswith("1 site degraded")
    keep_screenshot(page, tmp_path, "health")
    page.close()


#: page -> its screenshot's name in docs/screenshots
PAGES = {
    "": "home",
    "archive": "database",
    "archive/crawl_runs_recent": "query-crawl-runs-recent",
    "archive/search_articles?q=banjir": "query-search-articles",
    "health": "health",
    "archive/nope": "404",
}


@pytest.mark.slow
@pytest.mark.browser
@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("path", list(PAGES))
def test_browser_no_horizontal_overflow(served: str, browser: Any, path: str, width: int, tmp_path: Path) -> None:
    """Each page fits the width; its screenshot is saved as NAME-WIDTH.png (see SCREENSHOTS)."""
    page = browser.new_page(viewport={"width": width, "height": 800})
    page.set_default_timeout(15_000)
    page.goto(served + path)
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"{path or 'home'} at {width} px scrolls sideways by {overflow} px"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{PAGES[path]}-{width}.png"), full_page=True)
    page.close()
