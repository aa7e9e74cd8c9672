"""Removals: revisits that find archived articles gone (404, 410, a soft 404, a redirect to a list
page) record it, keep every archived copy, and see the article come back; a 503 is no removal.

One sample site, one archive, a series of real crawls (in file order): the first archives a
region, then articles are taken down through ``/_control/remove`` and revisits are forced
with ``ANTARA_NOW`` past the revisit ages.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from datasette.utils import tilde_encode
from scrapy import Request
from scrapy.http import HtmlResponse
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from archive import Archive
from crawler.domain.items import CrawlError
from crawler.domain.regions import REGIONS
from crawler.samplesite import SampleSite
from crawler.scrapy.errors import describe_failure
from crawler.scrapy.pages import article_from_response, as_removal
from crawler.serve.plugins.antara_article import removal_date
from tests.conftest import RunningSite, crawl_sample, row_dicts, serve_site
from tests.test_serve import canned, get

KINDS = ("404", "410", "soft_404", "redirect")
#: the status each kind answers at the article URL (a redirect: its 301; a soft 404: 200)
STATUS = {"404": 404, "410": 410, "soft_404": 200, "redirect": 301}
AGES = "1h,1d,7d,30d,60d"
START = datetime.now(timezone.utc)


def at(days: int) -> str:
    return (START + timedelta(days=days)).isoformat()


def control(site: RunningSite, path: str) -> dict[str, Any]:
    request = urllib.request.Request(f"{site.url}/_control/{path}", method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return dict(json.loads(answer.read()))


def truth_rows(site: RunningSite) -> list[dict[str, Any]]:
    with urllib.request.urlopen(f"{site.url}/_control/truth?region=kalteng", timeout=10) as answer:
        return list(json.loads(answer.read())["articles"]["kalteng"])


def revisit(site: RunningSite, db: Path, days: int) -> dict[str, Any]:
    result = crawl_sample(
        site, db, "--region", "kalteng", "--incremental", "--follow-depth", "0", "-q",
        "--revisit", AGES, "-s", f"ANTARA_NOW={at(days)}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    return row_dicts(db, "SELECT * FROM crawl_runs ORDER BY id DESC LIMIT 1")[0]


def snapshot(db: Path, url: str) -> dict[str, Any]:
    """What a removal must not touch: the row's text and version, its versions, its captures."""
    row = row_dicts(db, "SELECT title, body, content_hash, version, warc_record_id FROM articles WHERE url = ?", (url,))
    versions = row_dicts(db, "SELECT * FROM article_versions WHERE article_url = ? ORDER BY version", (url,))
    captures = row_dicts(db, "SELECT warc_record_id FROM captures WHERE url = ? ORDER BY id", (url,))
    return {"row": row[0], "versions": versions, "captures": [c["warc_record_id"] for c in captures]}


def events(db: Path, url: str) -> list[dict[str, Any]]:
    return row_dicts(
        db, "SELECT run_id, seen_at, event, status, kind, location FROM article_removals WHERE article_url = ?"
        " ORDER BY id", (url,),
    )  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSite]:
    with serve_site(SampleSite(articles=500, seed=23), tmp_path_factory.mktemp("removals")) as running:
        yield running


@pytest.fixture(scope="module")
def db(site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("archive") / "archive.db"
    first = crawl_sample(site, path, "--region", "kalteng", "--follow-depth", "0", "--max-pages", "1", "-q")
    assert first.returncode == 0, first.stderr[-2000:]
    return path


@pytest.fixture(scope="module")
def chosen(db: Path) -> dict[str, str]:
    """kind -> URL of an archived article taken down that way; ``503`` -> one that fails instead."""
    urls = [r["url"] for r in row_dicts(db, "SELECT url FROM articles ORDER BY article_id")]
    assert len(urls) >= 6
    return dict(zip((*KINDS, "503"), urls, strict=False))


@pytest.mark.slow  # a crawl of the sample site
def test_removed_articles_are_recorded_and_nothing_archived_changes(
    site: RunningSite, db: Path, chosen: dict[str, str]
) -> None:
    before = {url: snapshot(db, url) for url in chosen.values()}
    assert all(s["captures"] for s in before.values()), "the crawl captured every article"
    for kind in KINDS:
        assert control(site, f"remove?url={chosen[kind]}&kind={kind}") == {"removed": chosen[kind], "kind": kind}
    failing = "/" + chosen["503"].split("://", 1)[1]
    site.server.router.broken[failing] = 503
    truth = {r["url"]: r for r in truth_rows(site)}
    assert {url: r["removed"] for url, r in truth.items() if "removed" in r} == {chosen[k]: k for k in KINDS}

    run = revisit(site, db, 8)
    del site.server.router.broken[failing]

    assert run["revisits"] == len(row_dicts(db, "SELECT url FROM articles"))
    for kind in KINDS:
        url = chosen[kind]
        row = row_dicts(db, "SELECT removed_at, removed_status FROM articles WHERE url = ?", (url,))[0]
        assert row == {"removed_at": datetime.fromisoformat(at(8)).isoformat(), "removed_status": kind}
        location = "https://kalteng.antaranews.com/terkini" if kind == "redirect" else None
        assert events(db, url) == [
            {
                "run_id": run["id"],
                "seen_at": row["removed_at"],
                "event": "removed",
                "status": STATUS[kind],
                "kind": kind,
                "location": location,
            }
        ]
    for url, kept in before.items():
        now = snapshot(db, url)
        assert (now["row"], now["versions"]) == (kept["row"], kept["versions"]), f"{url}: a removal changed it"
        # every capture stays; the answer of the revisit (the 404 page, the redirect...) is captured too
        assert now["captures"][: len(kept["captures"])] == kept["captures"]
        assert len(now["captures"]) > len(kept["captures"])
    # a 503 may pass: recorded as an error of the run, no removal
    assert row_dicts(db, "SELECT removed_at FROM articles WHERE url = ?", (chosen["503"],)) == [{"removed_at": None}]
    assert events(db, chosen["503"]) == []
    assert json.loads(run["errors_by_kind"]) == {"http_503": 1} and run["errors"] == 1
    # the fetches that found the articles gone are in crawl_errors under the article's URL
    seen = {
        r["url"]: r["status"]
        for r in row_dicts(db, "SELECT url, status FROM crawl_errors WHERE run_id = ?", (run["id"],))
    }
    assert seen == {**{chosen[k]: STATUS[k] for k in KINDS}, chosen["503"]: 503}


@pytest.mark.slow  # a crawl of the sample site
def test_an_article_that_stays_gone_is_revisited_on_schedule_without_new_events(
    site: RunningSite, db: Path, chosen: dict[str, str]
) -> None:
    run = revisit(site, db, 31)  # past the 30-day age: every article is due once more
    assert run["revisits"] == len(row_dicts(db, "SELECT url FROM articles"))
    for kind in KINDS:
        assert [e["event"] for e in events(db, chosen[kind])] == ["removed"]
        assert row_dicts(db, "SELECT removed_status FROM articles WHERE url = ?", (chosen[kind],))[0] == {
            "removed_status": kind
        }
    assert revisit(site, db, 32)["revisits"] == 0  # gone or not, nothing passed an age since


def article_page(db: Path, url: str) -> str:
    (response,) = get(db, f"/archive/articles/{tilde_encode(url)}")
    assert response.status_code == 200, response.text[:500]
    return response.text


@pytest.mark.slow  # a crawl of the sample site
def test_the_article_page_and_the_canned_query_show_a_removal(db: Path, chosen: dict[str, str]) -> None:
    removed_at = row_dicts(db, "SELECT removed_at FROM articles WHERE url = ?", (chosen["410"],))[0]["removed_at"]
    html = article_page(db, chosen["410"])
    assert f"Removed from the site on {removal_date(removed_at)} (410)" in html
    assert "The archived copy below is kept as it was." in html
    assert "redirected to https://kalteng.antaranews.com/terkini" in article_page(db, chosen["redirect"])
    assert "Removed from the site" not in article_page(db, chosen["503"])
    listed = canned(db, "removed_articles", region="")
    assert {r["url"]: r["removed_status"] for r in listed} == {chosen[k]: k for k in KINDS}
    assert canned(db, "removed_articles", region="kalsel") == []


@pytest.mark.slow  # a crawl of the sample site
def test_a_restored_article_is_seen_back_and_keeps_its_history(
    site: RunningSite, db: Path, chosen: dict[str, str]
) -> None:
    for kind in KINDS:
        assert control(site, f"restore?url={chosen[kind]}") == {"restored": chosen[kind], "was": kind}
    assert not any("removed" in r for r in truth_rows(site))
    run = revisit(site, db, 61)
    for kind in KINDS:
        url = chosen[kind]
        assert row_dicts(db, "SELECT removed_at, removed_status FROM articles WHERE url = ?", (url,))[0] == {
            "removed_at": None,
            "removed_status": None,
        }
        history = events(db, url)
        assert [(e["event"], e["kind"]) for e in history] == [("removed", kind), ("restored", "online")]
        assert history[1]["run_id"] == run["id"] and history[1]["status"] == 304  # the same page again
    assert run["errors"] == 0
    restored_at = events(db, chosen["404"])[1]["seen_at"]
    html = article_page(db, chosen["404"])
    assert f"Removed from the site, restored on {removal_date(restored_at)}" in html
    assert f"Back on the site on {removal_date(restored_at)}" in html
    listed = canned(db, "removed_articles", region="")
    assert {r["url"]: (r["removed_at"], r["restored_at"]) for r in listed} == {
        chosen[k]: (None, restored_at) for k in KINDS
    }


def test_record_removal_and_online_are_state_changes_only(tmp_path: Path) -> None:
    archive = Archive(tmp_path / "a.db")
    archive.sync_regions(r.as_row() for r in REGIONS)
    record = {
        "url": "https://kalteng.antaranews.com/berita/1/a",
        "site": "kalteng.antaranews.com",
        "region": "kalteng",
        "article_id": 1,
        "title": "T",
        "body": "B",
        "published_at": "2026-11-01T10:00:00+07:00",
        "published_at_raw": "x",
        "content_hash": "h",
    }
    archive.upsert_article(record, now="2026-11-01T04:00:00+00:00")
    assert not archive.record_online("kalteng.antaranews.com", 1, None, 200)
    assert not archive.record_removal("kalteng.antaranews.com", 2, None, 404, "404")  # not archived
    assert archive.record_removal("kalteng.antaranews.com", 1, None, 404, "404", now="2026-11-02T00:00:00+00:00")
    assert not archive.record_removal("kalteng.antaranews.com", 1, None, 410, "410")  # still gone: no news
    assert archive.record_online("kalteng.antaranews.com", 1, None, 200, now="2026-11-03T00:00:00+00:00")
    assert not archive.record_online("kalteng.antaranews.com", 1, None, 200)
    history = archive.removal_history(record["url"])
    assert [(h["event"], h["kind"], h["seen_at"]) for h in history] == [
        ("removed", "404", "2026-11-02T00:00:00+00:00"),
        ("restored", "online", "2026-11-03T00:00:00+00:00"),
    ]
    assert removal_date("2026-11-02T00:00:00+00:00") == "2 November 2026"


ARTICLE = "https://kalteng.antaranews.com/berita/383304/kemenag-kalteng-genjot-pasar-murah"
NOT_FOUND_PAGE = b"<html><head><title>404 Halaman tidak ditemukan</title></head><body><h1>404</h1></body></html>"
HOME_PAGE = (
    b"<html><head><title>ANTARA Kalteng</title></head><body><ul><li><a href='/berita/1/a'>A</a></li></ul></body></html>"
)


@pytest.mark.parametrize(
    ("redirects", "final", "body", "removed", "url", "status"),
    [
        ([], ARTICLE, NOT_FOUND_PAGE, "soft_404", ARTICLE, 200),  # "not found" answered with 200
        ([], ARTICLE, HOME_PAGE, "soft_404", ARTICLE, 200),  # the home page served at the article URL
        ([ARTICLE], "https://kalteng.antaranews.com/terkini", HOME_PAGE, "redirect", ARTICLE, 301),
        ([ARTICLE], "https://kalteng.antaranews.com/", HOME_PAGE, "redirect", ARTICLE, 301),
        ([ARTICLE], "https://kalteng.antaranews.com/berita/383304/new-slug", NOT_FOUND_PAGE, "soft_404", None, 200),
        ([], ARTICLE, b"", None, ARTICLE, 200),  # an empty answer may pass: retried by later runs
    ],
)
def test_which_failed_answers_say_the_article_is_gone(
    redirects: list[str], final: str, body: bytes, removed: str | None, url: str | None, status: int
) -> None:
    meta = {"redirect_urls": redirects, "redirect_reasons": [301] * len(redirects)} if redirects else {}
    request = Request(final, meta=meta)
    response = HtmlResponse(final, status=200, body=body, request=request, encoding="utf-8")
    error = article_from_response(response)
    assert isinstance(error, CrawlError)
    marked = as_removal(response, error)
    assert (marked.removed, marked.status) == (removed, status)
    assert marked.url == (url or final)
    assert marked.location == (final if removed == "redirect" else None)


@pytest.mark.parametrize(("status", "removed"), [(404, "404"), (410, "410"), (500, None), (503, None), (429, None)])
def test_which_http_errors_say_the_article_is_gone(status: int, removed: str | None) -> None:
    response = HtmlResponse(ARTICLE, status=status, body=b"", request=Request(ARTICLE))
    error = describe_failure(Failure(HttpError(response)), ARTICLE)
    assert error.removed == removed
