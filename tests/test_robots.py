"""robots.txt read as RFC 9309 says: unreadable disallows all, a kept copy stands in, Crawl-delay spaces requests."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from archive import Archive
from crawler.domain.reasons import PERMANENT_CODES
from crawler.samplesite import SampleSite, make_server
from crawler.samplesite.faults import FaultPlan
from crawler.samplesite.routes import TEXT, Page
from crawler.samplesite.server import SampleSiteServer
from crawler.scrapy.robots import KEPT_FOLDER, verdict
from tests.conftest import ROOT, _free_port, run_cli
from tests.test_distributed import processes, seed

SITE = SampleSite(600, 7)
DARK, LIT = "kalteng.antaranews.com", "kalsel.antaranews.com"
SERVER_ERROR = Page(500, "text/html; charset=utf-8", b"<html><body>Internal Server Error</body></html>")
#: one list page per region, no Baca juga hops: a crawl of a few seconds
SMALL = ("--delay", "0", "--concurrency", "4", "-q")


@contextmanager
def served(folder: Path, plan: FaultPlan | None = None) -> Iterator[SampleSiteServer]:
    server = make_server(SITE, log_path=str(folder / "requests.log"), faults=plan)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def requested(folder: Path, host: str) -> list[str]:
    """Paths of ``host`` the sample site was asked for, in order (robots.txt included)."""
    log = folder / "requests.log"
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.split()[1][len(host) + 1 :] for line in lines if line.split()[1].startswith(f"/{host}/")]


def pages(paths: list[str]) -> list[str]:
    return [p for p in paths if p != "/robots.txt"]


def errors(db: Path) -> list[tuple[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT url, reason FROM crawl_errors ORDER BY id").fetchall()
    finally:
        conn.close()


def listed_good(host: str) -> list[str]:
    """Paths of the articles on the host's first list page that the site serves as good articles."""
    region = host.split(".")[0]
    return [spec.url.split(host, 1)[1] for spec in SITE.listed(region, 1) if spec.fault is None]


@pytest.mark.parametrize("status", [200, 204, 299])
def test_2xx_is_rules(status: int) -> None:
    assert verdict(status) == "rules"


@pytest.mark.parametrize("status", [301, 400, 401, 403, 404, 410, 451])
def test_4xx_and_a_leftover_redirect_mean_no_rules(status: int) -> None:
    assert verdict(status) == "none"


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504, 599])
def test_5xx_and_429_are_unreadable(status: int) -> None:
    assert verdict(status) == "unreadable"


# ---------------------------------------------------------------------- no copy kept: disallow all


def _crawl(mode: str, server: SampleSiteServer, db: Path, cache: Path) -> tuple[int, str]:
    regions = ("--region", "kalteng,kalsel")
    common = ("--db", str(db), "--mirror", server.base_url, *SMALL, "-s", f"HTTPCACHE_DIR={cache}")
    if mode == "backfill":
        args = ("backfill", *regions, "--pages", "1-1", *common)
    else:
        args = ("crawl", *regions, "--max-pages", "1", "--follow-depth", "0", *common)
        args += ("--incremental", "--revisit", "off") if mode == "incremental" else ()
    result = run_cli(*args, timeout=120)
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result.returncode, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["full", "incremental", "backfill"])
def test_robots_txt_answering_500_disallows_the_host(mode: str, tmp_path: Path) -> None:
    with served(tmp_path) as server:
        server.robots[DARK] = SERVER_ERROR
        code, output = _crawl(mode, server, tmp_path / "a.db", tmp_path / "robots-cache")
    assert code == 0, output[-3000:]
    dark = requested(tmp_path, DARK)
    assert dark == ["/robots.txt"] * 3, "robots.txt tried and retried twice, then no page of the host"
    assert len(pages(requested(tmp_path, LIT))) > 5, "the other host is crawled as usual"
    found = errors(tmp_path / "a.db")
    assert {reason for url, reason in found if DARK in url} == {"robots_unavailable"}
    assert not any(reason == "robots_unavailable" for url, reason in found if LIT in url)
    said = f"robots.txt of {DARK} answered HTTP 500, after retries, and no earlier copy is kept"
    assert output.count(said) == 1, output[-3000:]
    with Archive(str(tmp_path / "a.db")) as archive:
        assert not any(archive.failed_for_good(url, PERMANENT_CODES) for url, _ in found if DARK in url), (
            "a later run tries again"
        )


@pytest.mark.slow
def test_an_unreachable_robots_txt_disallows_the_host(tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{_free_port()}"  # nothing listens there: connection refused
    db = tmp_path / "a.db"
    result = run_cli(
        *("crawl", "--region", "kalteng", "--max-pages", "1", "--db", str(db), "--mirror", nobody, *SMALL),
        timeout=120,
    )
    assert result.returncode == 1, "no page could be fetched"
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    assert {reason for _, reason in errors(db)} == {"robots_unavailable"}
    assert f"robots.txt of {DARK} could not be fetched (" in result.stderr


@pytest.mark.slow
@pytest.mark.redis
def test_distributed_workers_obey_an_unreadable_robots_txt(redis_url: str, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with served(tmp_path) as server, processes(tmp_path) as running:
        server.robots[DARK] = SERVER_ERROR
        running.start("ingest", "ingest", "--redis", redis_url, "--db", str(db), "-q")
        seed(redis_url, "--region", "kalteng,kalsel", "--max-pages", "1", "--follow-depth", "0")
        running.start(
            *("worker", "crawl", "--distributed", "--redis", redis_url, "--mirror", server.base_url, *SMALL),
            *("-s", "ANTARA_IDLE_CLOSE=1", "-s", "ANTARA_WORKER_TICK=0.2", "-s", f"HTTPCACHE_DIR={tmp_path / 'rc'}"),
        )
        running.wait_all(timeout=180)
        for name, process in running.started:
            assert process.returncode == 0, running.output(name)[-3000:]
    assert pages(requested(tmp_path, DARK)) == []
    assert len(pages(requested(tmp_path, LIT))) > 5
    found = errors(db)
    assert {reason for url, reason in found if DARK in url} == {"robots_unavailable"}
    assert running.output("worker").count(f"robots.txt of {DARK} answered HTTP 500") == 1


# ---------------------------------------------------------------------- the last good copy


@pytest.mark.slow
def test_the_last_good_copy_is_obeyed_when_robots_txt_fails(tmp_path: Path) -> None:
    good = listed_good(DARK)
    hidden, shown = good[1], good[2:]
    rules = f"User-agent: *\nDisallow: /search\nDisallow: {hidden.rsplit('/', 1)[0]}/\n"
    cache = tmp_path / "robots-cache"

    def crawl(name: str, robots: Page) -> tuple[list[str], str, list[tuple[str, str]]]:
        folder = tmp_path / name
        folder.mkdir()
        db = folder / "a.db"
        with served(folder) as server:
            server.robots[DARK] = robots
            result = run_cli(
                *("crawl", "--region", "kalteng", "--max-pages", "1", "--follow-depth", "0", "--db", str(db)),
                *("--mirror", server.base_url, *SMALL, "-s", f"HTTPCACHE_DIR={cache}"),
                *("-s", "HTTPCACHE_EXPIRATION_SECS=1"),  # the day-long cache is stale by the next run
                timeout=120,
            )
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
        time.sleep(1.1)
        return requested(folder, DARK), result.stderr, errors(db)

    paths, _, found = crawl("good", Page(200, TEXT, rules.encode()))
    assert hidden not in paths and set(shown) <= set(paths)
    assert [reason for url, reason in found if url.endswith(hidden)] == ["robots_disallowed"]

    paths, said, found = crawl("failing", SERVER_ERROR)
    assert paths.count("/robots.txt") == 3, "the stale cache was not used; robots.txt was asked for again"
    assert hidden not in paths and set(shown) <= set(paths), "the kept copy's rules are obeyed"
    assert "robots_unavailable" not in {reason for _, reason in found}
    assert said.count(f"robots.txt of {DARK} answered HTTP 500, after retries; obeying the copy read") == 1

    paths, _, found = crawl("missing", Page(404, TEXT, b"Not Found"))
    assert hidden in paths and set(shown) <= set(paths), "a missing robots.txt allows everything"
    assert not {reason for _, reason in found} & {"robots_disallowed", "robots_unavailable"}
    assert (cache / KEPT_FOLDER / f"{DARK}.robots.txt").read_bytes() == b"", "the kept copy now says: no rules"


# ---------------------------------------------------------------------- Crawl-delay


@pytest.mark.slow
def test_crawl_delay_spaces_the_hosts_requests(tmp_path: Path) -> None:
    delay = 1.0
    allowed = listed_good(DARK)[:5]  # the rest of the list page is disallowed: a short crawl
    rules = "".join(f"Allow: {path}\n" for path in allowed)
    robots = Page(200, TEXT, f"User-agent: *\nCrawl-delay: {delay}\n{rules}Disallow: /berita/\n".encode())
    with served(tmp_path, FaultPlan(0.0)) as server:  # fault mode with no faults: every answer timed
        server.robots[DARK] = robots
        result = run_cli(
            *("crawl", "--region", "kalteng", "--max-pages", "1", "--follow-depth", "0"),
            *("--db", str(tmp_path / "a.db"), "--mirror", server.base_url, *SMALL),
            *("-s", f"HTTPCACHE_DIR={tmp_path / 'rc'}"),
            timeout=120,
        )
        answers = [a for a in server.answers if a.key.startswith(DARK + "/")]
    assert result.returncode == 0, result.stderr[-3000:]
    assert [a.target.split("/", 2)[2] for a in answers[:2]] == ["robots.txt", "terkini"]
    assert sorted("/" + a.target.split("/", 2)[2] for a in answers[2:]) == sorted(allowed)
    gaps = [round(later.at - earlier.at, 3) for earlier, later in zip(answers, answers[1:], strict=False)]
    assert min(gaps) >= 0.9 * delay, f"requests to {DARK} came closer than its Crawl-delay: {gaps}"


# ---------------------------------------------------------------------- many requests, one robots.txt

#: a spider that asks for many pages of one host at once, so that all of them wait for its robots.txt
_MANY_AT_ONCE = """
import os, sys
import scrapy
from scrapy.crawler import CrawlerProcess
from scrapy.utils.project import get_project_settings

os.environ["SCRAPY_SETTINGS_MODULE"] = "crawler.scrapy.settings"
mirror, cache, *paths = sys.argv[1:]

class ManyAtOnce(scrapy.Spider):
    name = "many-at-once"

    async def start(self):
        for path in paths:
            yield scrapy.Request("https://kalteng.antaranews.com" + path, errback=self.failed)

    def parse(self, response):
        print("FETCHED", response.url, flush=True)

    def failed(self, failure):
        print("REFUSED", failure.request.url, type(failure.value).__name__, flush=True)

    def closed(self, reason):
        from crawler.scrapy.robots import crawl_delay_for
        print("CRAWL-DELAY", crawl_delay_for(self.crawler, "kalteng.antaranews.com"), flush=True)

settings = get_project_settings()
settings.setdict({"ANTARA_MIRROR": mirror, "HTTPCACHE_DIR": cache, "ARCHIVE_DB": "", "ANTARA_WARC": False,
                  "ADDONS": {}, "EXTENSIONS": {}, "ITEM_PIPELINES": {}, "LOG_LEVEL": "WARNING",
                  "DOWNLOAD_DELAY": 0, "AUTOTHROTTLE_ENABLED": False, "CONCURRENT_REQUESTS_PER_DOMAIN": 8},
                 priority="cmdline")
process = CrawlerProcess(settings)
process.crawl(ManyAtOnce)
process.start()
"""


def test_every_request_waiting_for_robots_txt_obeys_it(tmp_path: Path) -> None:
    """Twelve requests wait for one robots.txt together; each is checked against it, not only the first."""
    articles = listed_good(DARK)[:12]
    with served(tmp_path) as server:
        server.robots[DARK] = Page(200, TEXT, b"User-agent: *\nCrawl-delay: 2.5\nDisallow: /berita/\n")
        result = subprocess.run(
            [sys.executable, "-c", _MANY_AT_ONCE, server.base_url, str(tmp_path / "rc"), *articles],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )
    assert result.returncode == 0, result.stderr[-3000:]
    assert requested(tmp_path, DARK) == ["/robots.txt"], "no article was fetched past robots.txt"
    refused = [line for line in result.stdout.splitlines() if line.startswith("REFUSED")]
    assert len(refused) == len(articles) and all(line.endswith(" IgnoreRequest") for line in refused)
    assert "CRAWL-DELAY 2.5" in result.stdout.splitlines(), "what a shared limiter would read"


def test_the_robots_cache_stores_each_answer_whole(tmp_path: Path) -> None:
    """Readers racing a writer see the old answer or the new one, never a part; junk is a miss."""
    from scrapy import Request as ScrapyRequest
    from scrapy import Spider
    from scrapy.http import TextResponse
    from scrapy.utils.test import get_crawler

    from crawler.scrapy.robotscache import AtomicFileCacheStorage

    crawler = get_crawler(Spider, {"HTTPCACHE_DIR": str(tmp_path / "cache"), "HTTPCACHE_EXPIRATION_SECS": 3600})
    spider = Spider.from_crawler(crawler, name="antara")
    storage = AtomicFileCacheStorage(crawler.settings)
    storage.open_spider(spider)
    url = "https://kalteng.antaranews.com/robots.txt"
    request = ScrapyRequest(url)
    assert storage.retrieve_response(spider, request) is None
    bodies = [b"User-agent: *\nDisallow: /" + str(i).encode() * 20000 + b"\n" for i in range(2)]

    def answer(body: bytes) -> TextResponse:
        return TextResponse(url, status=200, headers={"Content-Type": "text/plain"}, body=body)

    storage.store_response(spider, request, answer(bodies[0]))
    seen: list[bytes] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set() and len(seen) < 5000:
            got = storage.retrieve_response(spider, ScrapyRequest(url))
            assert got is not None
            seen.append(got.body)

    reader = threading.Thread(target=read)
    reader.start()
    for i in range(200):
        storage.store_response(spider, request, answer(bodies[i % 2]))
    done.set()
    reader.join(timeout=30)
    assert seen and set(seen) <= set(bodies), "a reader saw part of an answer"
    got = storage.retrieve_response(spider, request)
    assert got is not None and got.status == 200 and got.headers[b"Content-Type"] == b"text/plain"

    storage.path(spider, request).write_bytes(b'{"url": "cut sh')
    assert storage.retrieve_response(spider, request) is None, "an unreadable entry is fetched again"
