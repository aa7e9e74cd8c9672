"""The sample site's simulated clock: publication by "now", scheduled corrections, outages, truth."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

import pytest

from crawler.samplesite import SampleSite, make_server
from crawler.samplesite.clock import Clock, Outage, parse_time, plan_outages
from crawler.samplesite.server import SampleSiteServer, Served
from crawler.samplesite.words import CORRECTION

START = datetime(2026, 11, 27, 6, 0, tzinfo=timezone.utc)
KALTENG = "kalteng.antaranews.com"


def _site(**clock: object) -> SampleSite:
    site = SampleSite(articles=35 * 12, seed=4)
    site.set_clock(Clock(START, seed=4, **clock))  # type: ignore[arg-type]
    return site


@pytest.fixture
def served() -> Iterator[tuple[SampleSite, SampleSiteServer]]:
    outage = Outage("kalsel", START + timedelta(hours=3), START + timedelta(hours=5), "http_503")
    refused = Outage("jatim", START + timedelta(hours=3), START + timedelta(hours=4), "refused")
    site = _site(edit_share=0.5, outages=(outage, refused))
    server = make_server(site, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield site, server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _get(
    server: SampleSiteServer, target: str, method: str = "GET", **headers: str
) -> tuple[int, bytes, dict[str, str]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.request(method, target, headers=headers)
        answer = conn.getresponse()
        return answer.status, answer.read(), {k.lower(): v for k, v in answer.getheaders()}
    finally:
        conn.close()


def _move(server: SampleSiteServer, now: datetime | str) -> tuple[int, dict[str, object]]:
    text = now.isoformat() if isinstance(now, datetime) else now
    status, body, _ = _get(server, f"/_control/clock?now={urllib.parse.quote(text)}", method="POST")
    return status, json.loads(body)


def test_without_a_clock_nothing_changes() -> None:
    plain, clocked = SampleSite(articles=700, seed=3), SampleSite(articles=700, seed=3)
    clocked.set_clock(None)
    assert plain.clock is None and plain.now is None and plain.outage(KALTENG) is None
    assert [s.url for s in plain.listed("kalteng", 1)] == [s.url for s in clocked.listed("kalteng", 1)]
    assert plain.edit_time(plain.listed("kalteng", 1)[0]) is None


def test_the_site_holds_what_was_published_by_now_and_older_articles_never_move() -> None:
    site = _site()
    assert site.now == START
    first = {s.url: s.published_at for s in site.articles_of("kalteng")}
    assert all(datetime.fromisoformat(when) <= START for when in first.values())
    site.set_now(START + timedelta(hours=24))
    later = list(site.articles_of("kalteng"))
    assert 24 * 60 // 47 - 2 <= len(later) - len(first) <= 24 * 60 // 47 + 2  # one every 47 minutes or so
    assert all(datetime.fromisoformat(s.published_at) <= site.now for s in later)
    assert {s.url: s.published_at for s in later if s.url in first} == first
    newest = later[0]
    site.set_now(datetime.fromisoformat(newest.published_at) - timedelta(minutes=1))
    assert site.article(newest.host, newest.article_id) is None
    assert all(s.index < newest.index for s in site.listed("kalteng", 1))


def test_corrections_land_some_hours_after_publication() -> None:
    site = _site(edit_share=0.5, edit_hours=(2, 20))
    site.set_now(START + timedelta(days=2))
    edited = [s for s in site.articles_of("kalsel") if site.edit_time(s) is not None]
    assert edited, "half the new articles get a correction"
    for spec in edited:
        published = datetime.fromisoformat(spec.published_at)
        assert published > START and timedelta(hours=2) <= site.edit_time(spec) - published <= timedelta(hours=20)
    spec = next(s for s in edited if site.edit_time(s) <= site.now)  # type: ignore[operator]
    when = site.edit_time(spec)
    assert when is not None
    site.set_now(when - timedelta(minutes=1))
    before = site.article(spec.host, spec.article_id)
    site.set_now(when)
    after = site.article(spec.host, spec.article_id)
    assert before is not None and after is not None
    assert CORRECTION.format(n=1) not in before.body and after.body == f"{before.body}\n\n{CORRECTION.format(n=1)}"
    assert site.revision(spec.host, spec.article_id) == 1


def test_outages_and_the_clock_over_http(served: tuple[SampleSite, SampleSiteServer]) -> None:
    site, server = served
    seen: list[Served] = []
    server.watch = seen.append
    assert _get(server, f"/{KALTENG}/terkini")[0] == 200
    newest = site.listed("kalsel", 1)[0]
    assert _move(server, START + timedelta(hours=3)) == (200, {"now": (START + timedelta(hours=3)).isoformat(),
                                                                "articles": site.articles})  # fmt: skip
    for path in ("/robots.txt", "/terkini", "/rss/terkini.xml", newest.path):
        assert _get(server, f"/kalsel.antaranews.com{path}")[0] == 503
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        _get(server, "/jatim.antaranews.com/terkini")
    assert _get(server, f"/{KALTENG}/terkini")[0] == 200
    assert {s.fault for s in seen if "kalsel" in s.target} == {"outage_http_503"}
    assert any(s.fault == "outage_refused" and s.status == 0 for s in seen)
    assert _move(server, START + timedelta(hours=5))[0] == 200
    status, body, headers = _get(server, f"/kalsel.antaranews.com{newest.path}")
    assert status == 200
    assert _get(server, f"/kalsel.antaranews.com{newest.path}", **{"If-None-Match": headers["etag"]})[0] == 304
    assert seen[-1].conditional and not seen[-2].conditional
    assert _move(server, "yesterday")[0] == 400
    assert _move(server, "2026-11-28T06:00:00")[0] == 400  # no offset


def test_truth_reports_articles_edits_and_outages(served: tuple[SampleSite, SampleSiteServer]) -> None:
    site, server = served
    _move(server, START + timedelta(days=1))
    status, body, _ = _get(server, "/_control/truth?region=kalsel")
    truth = json.loads(body)
    assert status == 200 and set(truth["articles"]) == {"kalsel"}
    rows = truth["articles"]["kalsel"]
    assert [r["url"] for r in rows] == [s.url for s in site.articles_of("kalsel")]
    assert all(datetime.fromisoformat(r["published_at"]) <= site.now for r in rows)  # type: ignore[operator]
    assert truth["edits"] and all(parse_time(e["at"]) <= START + timedelta(days=1) for e in truth["edits"])
    assert {r["url"] for r in rows if r["revision"]} == {e["url"] for e in truth["edits"]}
    assert [o["region"] for o in truth["outages"]] == ["kalsel", "jatim"]
    assert _get(server, "/_control/truth?region=atlantis")[0] == 400
    assert _get(server, "/_control/nothing")[0] == 404


def test_a_site_without_a_clock_refuses_to_move() -> None:
    server = make_server(SampleSite(articles=70, seed=1), port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert _move(server, START)[0] == 409
    finally:
        server.shutdown()
        server.server_close()


def test_outage_plans_follow_the_seed_and_never_overlap() -> None:
    first = plan_outages(9, START, 30 * 24, ["kalteng", "kalsel", "jatim"], 9)
    assert first == plan_outages(9, START, 30 * 24, ["kalteng", "kalsel", "jatim"], 9)
    assert first != plan_outages(10, START, 30 * 24, ["kalteng", "kalsel", "jatim"], 9)
    assert len(first) == 9 and {o.kind for o in first} == {"http_503", "refused"}
    for outage in first:
        assert START + timedelta(hours=2) <= outage.start and outage.end <= START + timedelta(hours=30 * 24 - 2)
        assert timedelta(hours=6) <= outage.end - outage.start <= timedelta(hours=24)
        others = [o for o in first if o.region == outage.region and o is not outage]
        assert all(o.end < outage.start or outage.end < o.start for o in others)
    with pytest.raises(ValueError):
        Clock(START.replace(tzinfo=None))


def test_cli_rejects_a_clock_without_offset() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "crawler", "sample-site", "--port", "0", "--clock", "2026-11-27 06:00"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("antara: error:") and "--clock" in done.stderr and "Traceback" not in done.stderr
