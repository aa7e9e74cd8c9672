"""Fault mode: the sample site answers badly on purpose, and the crawler survives, records, loses nothing."""

from __future__ import annotations

import http.client
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.samplesite import SampleSite, make_server
from crawler.samplesite.audit import FaultAudit, audit
from crawler.samplesite.faults import (
    CONTENT,
    EXPECTED_REASON,
    INVALID_BYTES,
    KINDS,
    LOOP_PARAM,
    RETRIED,
    TRANSPORT,
    FaultPlan,
    resource,
)
from crawler.samplesite.server import SampleSiteServer
from tests.conftest import run_cli

SITE = SampleSite(3000, 7)
#: the crawl's own limits, shortened so that slow answers and Retry-After cost a second or two
FAST = ("-s", "DOWNLOAD_TIMEOUT=2", "-s", "ANTARA_RETRY_BACKOFF=0.1")


@dataclass
class Served:
    server: SampleSiteServer

    @property
    def url(self) -> str:
        return self.server.base_url


def serve(plan: FaultPlan) -> Iterator[Served]:
    import threading

    server = make_server(SITE, faults=plan)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Served(server)
    finally:
        server.shutdown()
        server.server_close()


def crawl(served: Served, db: Path, *args: str) -> tuple[int, str, FaultAudit]:
    result = run_cli(
        *("crawl", "--db", str(db), "--mirror", served.url, "--delay", "0", "--concurrency", "4", "-q"), *FAST, *args
    )
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.returncode, result.stdout + result.stderr, audit(SITE, list(served.server.answers), db)


# ---------------------------------------------------------------------- the plan


def test_the_plan_is_deterministic_per_resource_and_attempt() -> None:
    plan = FaultPlan(0.3, seed=5)
    draws = [plan.pick(f"kalteng.antaranews.com/berita/{n}", "article", a, True) for n in range(300) for a in range(3)]
    again = [plan.pick(f"kalteng.antaranews.com/berita/{n}", "article", a, True) for n in range(300) for a in range(3)]
    assert draws == again
    share = sum(d is not None for d in draws) / len(draws)
    assert 0.25 < share < 0.35
    assert set(draws) - {None} == set(KINDS)
    other = FaultPlan(0.3, seed=6)
    other_seed = [other.pick(f"kalteng.antaranews.com/berita/{n}", "article", 0, True) for n in range(300)]
    assert other_seed != draws[::3]


def test_the_plan_respects_page_kinds_and_shares() -> None:
    assert all(FaultPlan(1.0).pick(f"x/terkini/{n}", "list", 0, False) in TRANSPORT for n in range(200))
    assert all(FaultPlan(1.0).pick(f"x/berita/{n}", "article", 0, False) in TRANSPORT for n in range(200))
    assert all(FaultPlan(1.0).pick("x/robots.txt", "other", n, True) is None for n in range(50))
    assert all(FaultPlan(0.0).pick(f"x/berita/{n}", "article", 0, True) is None for n in range(200))
    only = FaultPlan(1.0, kinds=("http_503",), pages=("article",))
    assert only.pick("x/berita/1", "article", 0, True) == "http_503"
    assert only.pick("x/terkini", "list", 0, True) is None
    with pytest.raises(ValueError, match="unknown fault kinds: nope"):
        FaultPlan(0.5, kinds=("nope",))
    with pytest.raises(ValueError):
        FaultPlan(1.5)


@pytest.mark.parametrize(
    ("target", "key", "kind"),
    [
        ("/kalteng.antaranews.com/berita/383371/a-b", "kalteng.antaranews.com/berita/383371", "article"),
        ("/KALTENG.antaranews.com/amp/berita/383371/c?utm_source=x", "kalteng.antaranews.com/berita/383371", "article"),
        ("/kalteng.antaranews.com/terkini/2", "kalteng.antaranews.com/terkini/2", "list"),
        ("/kalteng.antaranews.com/rss/terkini.xml", "kalteng.antaranews.com/rss/terkini.xml", "feed"),
        ("/kalteng.antaranews.com/robots.txt", "kalteng.antaranews.com/robots.txt", "other"),
    ],
)
def test_resource_keys(target: str, key: str, kind: str) -> None:
    assert resource(target) == (key, kind)


# ---------------------------------------------------------------------- each fault on the wire


def fetch(port: int, target: str) -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", target)
        resp = conn.getresponse()
        headers = {k.lower(): v for k, v in resp.getheaders()}
        if int(headers.get("content-length", "0")) > 1_000_000:
            return resp.status, headers, b""
        try:
            body = resp.read()
        except http.client.IncompleteRead as exc:
            body = b"INCOMPLETE:" + exc.partial
        return resp.status, headers, body
    finally:
        conn.close()


@pytest.fixture(scope="module")
def article_path() -> str:
    spec = next(s for s in SITE.listed("kalteng", 1) if s.fault is None and s.template == "old")
    return f"/{spec.host}{spec.path}"


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_each_fault_is_served_as_described(kind: str, article_path: str) -> None:
    plan = FaultPlan(1.0, kinds=(kind,), slow_seconds=0.2, retry_after=3)
    for served in serve(plan):
        status, headers, body = fetch(served.server.port, article_path)
        answers = served.server.answers
    assert [a.fault for a in answers] == [kind]
    good = SITE.article("kalteng.antaranews.com", int(article_path.split("/")[3]))
    assert good is not None
    if kind == "slow":
        assert status == 200 and good.title.encode() in body
    elif kind == "drop":
        assert body.startswith(b"INCOMPLETE:")
    elif kind in ("http_429", "http_503"):
        assert status == int(kind[5:])
        assert headers.get("retry-after") == ("3" if kind == "http_429" else None)
    elif kind == "redirect_loop":
        assert status == 302 and headers["location"].endswith(f"?{LOOP_PARAM}=1")
        assert headers["location"].startswith("https://kalteng.antaranews.com/berita/")
    elif kind == "offsite_redirect":
        assert status == 302 and "antaranews.com/" not in headers["location"].split("//", 1)[1].split("/", 1)[0] + "/"
    elif kind == "empty":
        assert status == 200 and body == b""
    elif kind == "huge":
        assert status == 200 and int(headers["content-length"]) == 20 * 1024 * 1024
    elif kind == "invalid_utf8":
        assert INVALID_BYTES in body and "charset=utf-8" in headers["content-type"]
    elif kind == "legacy_encoding":
        assert "windows-1252" in headers["content-type"] and b'<meta charset="windows-1252">' in body
        assert "COPYRIGHT \u00a9".encode("cp1252") in body
    elif kind == "no_container":
        assert good.title.encode() in body and b"post-content" not in body
    elif kind == "bad_date":
        assert b"45 Brumaire" in body and good.published_at.encode() not in body
    elif kind == "hostile_links":
        assert b"antaranews.com.evil.test" in body and b"127.0.0.1" in body


def test_a_redirect_loop_goes_on_until_the_client_gives_up(article_path: str) -> None:
    for served in serve(FaultPlan(1.0, kinds=("redirect_loop",))):
        first = fetch(served.server.port, article_path)[1]["location"]
        hop = "/" + first.split("://", 1)[1]
        second = fetch(served.server.port, hop)[1]["location"]
        assert second.endswith(f"?{LOOP_PARAM}=0")
        assert [a.attempt for a in served.server.answers] == [0]  # hops are not new attempts


# ---------------------------------------------------------------------- crawls in fault mode


@pytest.fixture(scope="module")
def fault_crawl(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    db = tmp_path_factory.mktemp("faults") / "faults.db"
    for served in serve(FaultPlan(0.3, seed=1, slow_seconds=4, retry_after=1)):
        code, output, report = crawl(served, db, "--region", "kalteng,kalsel,nasional", "--max-pages", "3")
        answers = list(served.server.answers)
    return {"db": db, "code": code, "output": output, "report": report, "answers": answers}


@pytest.mark.slow
def test_a_fault_mode_crawl_finishes_and_loses_nothing(fault_crawl: dict) -> None:
    report: FaultAudit = fault_crawl["report"]
    assert fault_crawl["code"] == 0, fault_crawl["output"][-3000:]
    assert set(report.faults) == set(KINDS), "every kind of fault was met"
    assert report.lost == [], "every article served correctly is archived, with the site's fields"
    assert report.unaccounted == [], "every fault that was the last answer is in crawl_errors"
    assert report.wrongly_archived == [], "no broken page became an article"
    assert report.offsite_requests == [], "no link or redirect made the crawler leave ANTARA"
    assert report.integrity == "ok"
    assert report.articles_archived == report.articles_served > 100
    assert sum(report.retried.values()) > 0 and set(report.retried) <= set(RETRIED)


@pytest.mark.slow
def test_the_fault_mode_archive_is_sound(fault_crawl: dict) -> None:
    conn = sqlite3.connect(fault_crawl["db"])
    try:
        assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        conn.execute("INSERT INTO articles_fts(articles_fts) VALUES('integrity-check')")
        duplicates = conn.execute("SELECT site, article_id FROM articles GROUP BY 1, 2 HAVING count(*) > 1").fetchall()
        assert duplicates == []
        reasons = {r for (r,) in conn.execute("SELECT DISTINCT reason FROM crawl_errors")}
        details = [d for (d,) in conn.execute("SELECT detail FROM crawl_errors")]
        empty = conn.execute("SELECT count(*) FROM articles WHERE trim(body) = '' OR trim(title) = ''").fetchone()[0]
    finally:
        conn.close()
    assert empty == 0, "a page without its container is an error, never an empty article"
    assert {"offsite_blocked", "redirect_loop", "too_large", "missing_body", "bad_date"} <= reasons
    assert not reasons & {"download_error", "ignored"}, "every failure has a specific reason"
    assert all(details)


@pytest.mark.slow
def test_retry_after_is_honoured(fault_crawl: dict) -> None:
    by_key: dict[str, list] = {}
    for answer in fault_crawl["answers"]:
        by_key.setdefault(answer.key, []).append(answer)
    waits = [
        later.at - earlier.at
        for answers in by_key.values()
        for earlier, later in zip(answers, answers[1:], strict=False)
        if earlier.fault == "http_429"
    ]
    assert waits, "some 429 answers were retried"
    assert min(waits) >= 0.95, "a retry never comes before the Retry-After the server asked for"


@pytest.mark.slow
def test_transient_faults_that_never_clear_are_recorded_after_retries(tmp_path: Path) -> None:
    plan = FaultPlan(1.0, seed=2, kinds=RETRIED, pages=("article",), slow_seconds=4, retry_after=1)
    for served in serve(plan):
        code, output, report = crawl(
            served, tmp_path / "t.db", "--region", "kalteng", "--max-pages", "1", "--follow-depth", "0"
        )
        answers = list(served.server.answers)
    assert code == 0, output[-3000:]
    assert report.unaccounted == [] and report.lost == [] and report.articles_archived == 0
    article_keys = {a.key for a in answers if a.kind == "article"}
    attempts = {key: sum(a.key == key for a in answers) for key in article_keys}
    assert set(attempts.values()) == {3}, "each article was tried once and retried twice (RETRY_TIMES)"
    conn = sqlite3.connect(tmp_path / "t.db")
    reasons = {r for (r,) in conn.execute("SELECT reason FROM crawl_errors")}
    conn.close()
    assert reasons <= {EXPECTED_REASON[k] for k in RETRIED} and len(reasons) >= 4


@pytest.mark.slow
def test_hostile_links_and_offsite_redirects_never_leave_antara(tmp_path: Path) -> None:
    plan = FaultPlan(0.5, seed=3, kinds=("hostile_links", "offsite_redirect"), pages=("article", "list"))
    for served in serve(plan):
        code, output, report = crawl(served, tmp_path / "h.db", "--region", "kalteng,nasional", "--max-pages", "2")
    assert code == 0, output[-3000:]
    assert report.faults["hostile_links"] and report.faults["offsite_redirect"]
    assert report.offsite_requests == []
    assert report.ok, report.summary()
    conn = sqlite3.connect(tmp_path / "h.db")
    reasons = dict(conn.execute("SELECT reason, count(*) FROM crawl_errors GROUP BY reason").fetchall())
    links = conn.execute("SELECT count(*) FROM links WHERE target_url NOT LIKE 'https://%antaranews.com/%'").fetchone()
    conn.close()
    assert reasons.get("offsite_blocked") == report.recorded["offsite_redirect"]
    assert "dns_error" not in reasons, "no look-alike host was even looked up"
    assert links == (0,)


def test_kinds_are_documented_with_their_outcome() -> None:
    assert set(EXPECTED_REASON) == set(KINDS) == set(TRANSPORT) | set(CONTENT)
    doc = (Path(__file__).resolve().parent.parent / "docs" / "reliability.md").read_text()
    for kind in KINDS:
        assert f"`{kind}`" in doc
