"""Error reasons mean what they say: one enum, only page conditions permanent, our bugs retried."""

from __future__ import annotations

import ast
import json
import logging
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from scrapy.http import HtmlResponse

from archive import Archive
from archive.schema import SCHEMA_VERSION
from crawler.domain.items import CrawlError
from crawler.domain.reasons import EXTRACTOR_VERDICTS, PERMANENT_CODES, Reason, list_ended
from crawler.domain.regions import REGIONS
from crawler.extraction import EXTRACTOR_VERSION, ExtractionError, extract_article
from crawler.extraction import article as article_module
from crawler.samplesite import SampleSite
from crawler.samplesite.faults import EXPECTED_REASON
from crawler.scrapy.pages import article_from_response
from tests.conftest import ROOT, RunningSite, serve_site

FIXTURES = ROOT / "tests" / "fixtures" / "articles"
SEED = (FIXTURES / "kalteng_seed.html").read_bytes()
SEED_URL = json.loads((FIXTURES / "kalteng_seed.json").read_text())["url"]


# ---- the enum ----------------------------------------------------------------------------------


def test_only_page_conditions_are_permanent() -> None:
    assert {r.value for r in Reason if r.permanent} == {
        "http_404",
        "http_410",
        "not_article_url",
        "no_article",
        "missing_title",
        "missing_body",
        "missing_date",
        "bad_date",
        "robots_disallowed",
        "offsite_blocked",
        "not_html",
        "redirect_loop",
        "too_large",
        "image_not_an_image",
        "image_too_large",
    }
    for transient in ("extractor_error", "older_than_since", "timeout", "http_500", "http_503", "empty_page"):
        assert not Reason(transient).permanent
    assert set(PERMANENT_CODES) == {r.value for r in Reason if r.permanent}
    assert set(EXTRACTOR_VERDICTS) == {"not_article_url", "no_article", "missing_title", "missing_body"} | {
        "missing_date",
        "bad_date",
    }
    assert set(EXTRACTOR_VERDICTS) <= set(PERMANENT_CODES)


@pytest.mark.parametrize(
    ("status", "code"),
    [(404, "http_404"), (410, "http_410"), (503, "http_503"), (418, "http_4xx"), (599, "http_5xx"), (300, "http_3xx")],
)
def test_every_status_has_a_member(status: int, code: str) -> None:
    assert Reason.for_status(status) is Reason(code)
    assert f"{Reason.for_status(status)}" == code  # stored, logged and formatted as the bare code


def test_a_crawl_error_only_takes_a_member() -> None:
    assert CrawlError("https://x", "http_404").reason is Reason.HTTP_404  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        CrawlError("https://x", "feed_timeout")  # type: ignore[arg-type]
    assert list_ended(2, Reason.HTTP_404) and not list_ended(1, Reason.HTTP_404)
    assert list_ended(5, Reason.EMPTY_LIST) and not list_ended(1, Reason.EMPTY_LIST)
    assert not list_ended(3, Reason.HTTP_500)


def test_the_sample_site_expects_only_members() -> None:
    assert {code for code in EXPECTED_REASON.values() if code} <= {r.value for r in Reason}


#: where each call takes its reason: (position, keyword)
_REASON_ARGUMENT = {"CrawlError": (1, "reason"), "ExtractionError": (0, "reason"), "record_error": (2, "reason")}


def _reason_arguments(tree: ast.AST) -> list[ast.expr]:
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in _REASON_ARGUMENT:
            position, keyword = _REASON_ARGUMENT[name]
            found += [k.value for k in node.keywords if k.arg == keyword]
            found += node.args[position : position + 1]
    return found


def test_no_module_spells_a_reason_as_a_string() -> None:
    """Every reason given to CrawlError, ExtractionError or record_error is a Reason (or a variable holding
    one), and no reason code is written out anywhere in the crawler but in crawler/domain/reasons.py."""
    codes = {r.value for r in Reason}
    offenders, checked = [], 0
    for path in [*(ROOT / "crawler").rglob("*.py"), *(ROOT / "spiders").rglob("*.py")]:
        if path.name == "reasons.py" or "samplesite" in path.parts:  # the sample site is the tests' truth
            continue
        tree = ast.parse(path.read_text())
        for argument in _reason_arguments(tree):
            checked += 1
            if isinstance(argument, (ast.Constant, ast.JoinedStr)):
                offenders.append(f"{path.relative_to(ROOT)}:{argument.lineno} {ast.unparse(argument)}")
        for node in ast.walk(tree):
            # "truncated" is also a key of Datasette's facet results
            if isinstance(node, ast.Constant) and node.value in codes and path.name != "antara_archive.py":
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.value!r}")
    assert offenders == []
    assert checked >= 20  # the calls were found


# ---- a bug in the extractor is extractor_error, never a page condition -------------------------


@pytest.mark.parametrize(
    "bug",
    [KeyError("byline"), AttributeError("'NoneType' object has no attribute 'text'"), TypeError("x"), IndexError(0)]
    + [ValueError("invalid literal for int()"), ZeroDivisionError("division by zero")],
    ids=lambda e: type(e).__name__,
)
def test_a_programming_error_in_a_field_helper_is_extractor_error(
    bug: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(page: Any) -> list[str]:
        raise bug

    monkeypatch.setattr(article_module, "_tags", broken)
    with pytest.raises(ExtractionError) as caught:
        extract_article(SEED, SEED_URL)
    assert caught.value.reason is Reason.EXTRACTOR_ERROR
    assert caught.value.__cause__ is bug
    assert not caught.value.reason.permanent
    assert type(bug).__name__ in caught.value.detail


def test_markup_too_deep_to_walk_stays_a_page_condition(monkeypatch: pytest.MonkeyPatch) -> None:
    def too_deep(page: Any) -> list[str]:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(article_module, "_tags", too_deep)
    with pytest.raises(ExtractionError) as caught:
        extract_article(SEED, SEED_URL)
    assert caught.value.reason is Reason.NO_ARTICLE


def test_an_extractor_error_is_logged_with_its_traceback(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(page: Any) -> list[str]:
        return {}["tags"]  # type: ignore[no-any-return]

    monkeypatch.setattr(article_module, "_tags", broken)
    response = HtmlResponse(SEED_URL, body=SEED, encoding="utf-8")
    with caplog.at_level(logging.ERROR, logger="crawler.scrapy.pages"):
        error = article_from_response(response)
    assert isinstance(error, CrawlError) and error.reason is Reason.EXTRACTOR_ERROR
    [record] = caplog.records
    assert record.levelno == logging.ERROR and SEED_URL in record.getMessage()
    text = caplog.text
    assert "Traceback" in text and "KeyError: 'tags'" in text and "in broken" in text
    monkeypatch.undo()
    caplog.clear()
    assert not isinstance(article_from_response(response), CrawlError)
    assert caplog.records == []  # a page condition is no bug: nothing logged


# ---- which failures an incremental run leaves alone --------------------------------------------


@pytest.mark.parametrize(
    ("reason", "recorded_by", "for_good"),
    [
        ("http_404", EXTRACTOR_VERSION, True),
        ("http_404", None, True),  # a row of an archive made before versions were kept
        ("robots_disallowed", "0", True),  # not the extractor's verdict: its version does not matter
        ("no_article", EXTRACTOR_VERSION, True),
        ("no_article", "0", False),  # older extraction rules: the page is tried again
        ("no_article", None, False),  # maybe the bug this fixes misreported it: tried again once
        ("bad_date", "0", False),
        ("extractor_error", EXTRACTOR_VERSION, False),  # our bug: every run tries again
        ("http_503", EXTRACTOR_VERSION, False),
        ("timeout", None, False),
        ("older_than_since", EXTRACTOR_VERSION, False),
    ],
)
def test_failed_for_good(tmp_path: Path, reason: str, recorded_by: str | None, for_good: bool) -> None:
    url = "https://kalteng.antaranews.com/berita/1/x"
    with Archive(tmp_path / "a.db") as archive:
        archive.record_error(None, url, reason, extractor_version=recorded_by)
        assert archive.failed_for_good(url, PERMANENT_CODES, EXTRACTOR_VERSION, EXTRACTOR_VERDICTS) is for_good
        assert not archive.failed_for_good("https://kalteng.antaranews.com/berita/2/y", PERMANENT_CODES)


def test_an_archive_from_before_error_versions_gets_the_new_columns(tmp_path: Path) -> None:
    db = tmp_path / "old.db"
    url = "https://kalteng.antaranews.com/berita/1/x"
    with Archive(db) as archive:
        archive.sync_regions(r.as_row() for r in REGIONS)
        run = archive.start_run({}, ["kalteng"], "test")
        archive.record_error(run, url, "no_article")
        archive.finish_run(run, "finished", "finished", {}, [{"region": "kalteng", "articles_new": 3}])
    conn = sqlite3.connect(db)
    with conn:  # what a schema-3 archive looked like
        conn.execute("ALTER TABLE crawl_errors DROP COLUMN extractor_version")
        for column in ("health", "health_reasons", "field_coverage"):
            conn.execute(f"ALTER TABLE crawl_run_regions DROP COLUMN {column}")
        conn.execute("UPDATE archive_meta SET value = '3' WHERE key = 'schema_version'")
    conn.close()
    with Archive(db) as archive:
        assert "extractor_version" in archive.db.table("crawl_errors").columns_dict
        assert {"health", "health_reasons", "field_coverage"} <= set(archive.db.table("crawl_run_regions").columns_dict)
        assert archive.meta("schema_version") == str(SCHEMA_VERSION)
        assert not archive.failed_for_good(url, PERMANENT_CODES, EXTRACTOR_VERSION, EXTRACTOR_VERDICTS)
        assert archive.failed_for_good(url, PERMANENT_CODES)  # what an older crawler would have said
        [row] = archive.site_history("kalteng", None)
        assert (row["articles_new"], row["health"], row["mode"]) == (3, None, "full")


# ---- end to end: a bug met in a crawl is recorded, logged, and retried by the next run ---------

#: ``antara`` with a bug injected into one field helper, for the articles whose ids are given
BUGGY_ANTARA = """
import sys
from crawler.extraction import article
from crawler.cli.main import main

real_tags, broken = article._tags, set(int(n) for n in sys.argv.pop(1).split(","))

def _tags(page):
    if page.ref.article_id in broken:
        return {}["tag_list"][0]  # the bug: a KeyError in a field helper
    return real_tags(page)

article._tags = _tags
sys.argv[0] = "antara"
main()
"""


def _antara(*args: str, bug_in: list[int] | None = None) -> subprocess.CompletedProcess[str]:
    code = ["-c", BUGGY_ANTARA, ",".join(map(str, bug_in))] if bug_in else ["-m", "crawler"]
    return subprocess.run(
        [sys.executable, *code, *args], cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
    )


def _fetched(site: RunningSite, since: int, url: str) -> int:
    path = "/" + url.split("://", 1)[1]
    return sum(1 for line in site.requests()[since:] if line.split()[1] == path)


@pytest.mark.slow
def test_an_extractor_bug_is_recorded_logged_and_retried_by_the_next_incremental_run(tmp_path: Path) -> None:
    site = SampleSite(articles=3000, seed=7)
    fine = [spec for spec in site.listed("kalteng", 1) if spec.fault is None]
    buggy, gone = fine[0], fine[1]
    db = tmp_path / "bug.db"
    with serve_site(site, tmp_path) as running:
        running.server.router.broken["/" + gone.url.split("://", 1)[1]] = 404
        crawl = ("crawl", "--db", str(db), "--mirror", running.url, "--delay", "0", "--concurrency", "4")
        scope = ("--region", "kalteng", "--max-pages", "1", "--follow-depth", "0", "-s", "ANTARA_RETRY_BACKOFF=0")
        first = _antara(*crawl, *scope, bug_in=[buggy.article_id])
        assert first.returncode == 0, first.stderr[-3000:]
        assert f"extractor error on {buggy.url}" in first.stderr
        assert "Traceback (most recent call last)" in first.stderr and "KeyError: 'tag_list'" in first.stderr

        conn = sqlite3.connect(db)
        try:
            errors = dict(conn.execute("SELECT url, reason FROM crawl_errors").fetchall())
            archived = {url for (url,) in conn.execute("SELECT url FROM articles")}
        finally:
            conn.close()
        assert errors[buggy.url] == "extractor_error" and errors[gone.url] == "http_404"
        assert buggy.url not in archived

        mark = running.mark()  # the bug is fixed: a plain antara now
        second = _antara(*crawl, *scope, "--incremental", "--revisit", "off", "-q")
        assert second.returncode == 0, second.stderr[-3000:]
        assert _fetched(running, mark, buggy.url) == 1, "extractor_error is never permanent: fetched again"
        assert _fetched(running, mark, gone.url) == 0, "a 404 is a condition of the page: left alone"
        assert "extractor error" not in second.stderr
    conn = sqlite3.connect(db)
    try:
        row = conn.execute("SELECT title, tags FROM articles WHERE url = ?", [buggy.url]).fetchone()
    finally:
        conn.close()
    assert row == (buggy.title, json.dumps(list(buggy.tags), ensure_ascii=False))
