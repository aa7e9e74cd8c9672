"""Distributed crawling: a real redis-server, worker processes and one ingester crawl the sample site."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.utils.request import request_from_dict

from archive.warc import read_capture, warc_files
from crawler.distributed import keys, messages, serializer
from crawler.domain.items import (
    Article,
    ArticlePage,
    BackfillProgress,
    CaptureIndexed,
    CrawlError,
    Discovered,
    Link,
    NotModified,
    WarcRef,
)
from crawler.extraction.urls import parse_article_url
from crawler.replay.reextract import response_from_capture
from crawler.samplesite import SampleSite
from crawler.scrapy.pages import article_from_response
from tests.conftest import (
    ROOT,
    RunningRedis,
    RunningSite,
    assert_frontier_holds_only_retries,
    rows,
    run_cli,
    serve_site,
)
from tests.test_crawl_e2e import expected_reach
from tests.test_warc import _as_row, records

REGIONS = ("kalteng", "kalsel", "nasional")
MAX_PAGES = 3
FOLLOW_DEPTH = 2
#: each worker's requests in flight at most (CONCURRENT_REQUESTS): what a kill -9 can make it fetch again
WORKER_CONCURRENCY = 8
WORKER = (
    "--delay",
    "0",
    "--concurrency",
    "4",
    "-q",
    "-s",
    f"CONCURRENT_REQUESTS={WORKER_CONCURRENCY}",
    "-s",
    "ANTARA_IDLE_CLOSE=1",
    "-s",
    "ANTARA_WORKER_TTL=2",
    "-s",
    "ANTARA_WORKER_TICK=0.2",
)


# -- requests and items as plain data ----------------------------------------------------------
class _Spider(scrapy.Spider):
    name = "probe"

    def parse_list(self, response: Any, region: str, page: int) -> None: ...

    def parse_article(self, response: Any, key: tuple[str, int]) -> None: ...

    def on_error(self, failure: Any) -> None: ...


@pytest.mark.parametrize(
    "request_",
    [
        scrapy.Request("https://kalteng.antaranews.com/terkini/2", cb_kwargs={"region": "kalteng", "page": 2}),
        scrapy.Request(
            "https://www.antaranews.com/berita/4812079/x",
            cb_kwargs={"key": ("www.antaranews.com", 4812079)},
            headers={"If-None-Match": '"abc"', "Referer": "https://www.antaranews.com/terkini"},
            meta={"handle_httpstatus_list": [304], "redirect_urls": ["http://x/ü"], "download_latency": 0.25},
            priority=-2,
        ),
        scrapy.Request("https://kalsel.antaranews.com/rss/terkini.xml", body=b"\x00\xff binary", method="POST"),
    ],
    ids=["list", "article-with-key-tuple-and-headers", "bytes-body"],
)
def test_requests_round_trip_as_json(request_: scrapy.Request) -> None:
    spider = _Spider()
    request_ = request_.replace(
        callback=spider.parse_article if "key" in request_.cb_kwargs else spider.parse_list, errback=spider.on_error
    )
    data = serializer.dumps(request_.to_dict(spider=spider))
    json.loads(data)  # plain JSON, readable in redis-cli
    back = request_from_dict(serializer.loads(data), spider=spider)
    for attr in ("url", "method", "body", "cb_kwargs", "meta", "priority", "dont_filter"):
        assert getattr(back, attr) == getattr(request_, attr), attr
    assert back.headers == request_.headers
    assert back.callback == request_.callback and back.errback == request_.errback
    if "key" in request_.cb_kwargs:
        assert isinstance(back.cb_kwargs["key"], tuple)


@pytest.mark.parametrize(
    "bad",
    [
        b'{"url": "https://x/", "_class": "os.system"}',
        b'{"not": "a request"}',
        b"\x80\x04pickle",
    ],
)
def test_queued_data_that_is_not_a_plain_request_is_refused(bad: bytes) -> None:
    with pytest.raises(ValueError):
        serializer.loads(bad)


def test_callback_arguments_must_be_plain_data() -> None:
    with pytest.raises(serializer.SerializationError, match="plain data"):
        serializer.dumps({"url": "https://x/", "cb_kwargs": {"region": object()}})


ARTICLE = Article(
    url="https://kalteng.antaranews.com/berita/1/a",
    site="kalteng.antaranews.com",
    region="kalteng",
    article_id=1,
    title="Judul",
    body="Isi",
    published_at="2026-11-01T10:00:00+07:00",
    published_at_raw="1 November 2026 10:00 WIB",
    tags=["a", "b"],
    links=[Link("https://kalsel.antaranews.com/berita/2/b", "b")],
)


@pytest.mark.parametrize(
    "item, key",
    [
        (
            ArticlePage(ARTICLE, '"e"', None, [("https://kalsel.antaranews.com/berita/2/b", 1)]),
            "article kalteng.antaranews.com 1",
        ),
        (ARTICLE, "article kalteng.antaranews.com 1"),
        (NotModified(ARTICLE.url, ARTICLE.site, 1), "article kalteng.antaranews.com 1"),
        (
            ArticlePage(ARTICLE, None, None, [], WarcRef("a.warc.gz", 10, 900, "<urn:uuid:1>", "2026-11-01T03:00:00Z")),
            "article kalteng.antaranews.com 1",
        ),
        (
            NotModified(
                ARTICLE.url, ARTICLE.site, 1, WarcRef("a.warc.gz", 0, 9, "<urn:uuid:2>", "2026-11-01T03:00:00Z")
            ),
            "article kalteng.antaranews.com 1",
        ),
        (
            CaptureIndexed([{"warc_record_id": "<urn:uuid:3>", "record_type": "request"}]),
            "capture <urn:uuid:3>",
        ),
        (
            CrawlError("https://x.antaranews.com/berita/9/z", "http_404", 404, "gone", None),
            "error https://x.antaranews.com/berita/9/z",
        ),
        (
            Discovered("https://kalteng.antaranews.com/terkini", [(ARTICLE.url, 0)]),
            "discovered https://kalteng.antaranews.com/terkini",
        ),
        (BackfillProgress("kalteng", 4, "2025-01-01", None, False, [(ARTICLE.url, 0)]), "backfill kalteng 4"),
    ],
    ids=lambda v: type(v).__name__ if not isinstance(v, str) else "",
)
def test_items_round_trip_as_messages(item: Any, key: str) -> None:
    message = messages.decode(messages.encode(item, "run-1", "w/1"))
    assert (message.run, message.key, message.id) == ("run-1", key, "w/1")
    assert message.item == item


def test_unreadable_messages_are_refused() -> None:
    for raw in (b"{", b'{"id": "1", "run": "r", "kind": "Evil", "key": "k", "item": {}}', b'{"kind": "CrawlError"}'):
        with pytest.raises(messages.MessageError):
            messages.decode(raw)


# -- whole runs -------------------------------------------------------------------------------
def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    return env


class Processes:
    """Workers and ingesters started as a user would, each logging to its own files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.started: list[tuple[str, subprocess.Popen[str]]] = []

    def start(self, name: str, *args: str) -> subprocess.Popen[str]:
        out = open(self.folder / f"{name}.out", "w")  # noqa: SIM115 (the process writes it; closed on exit)
        err = open(self.folder / f"{name}.err", "w")  # noqa: SIM115
        process = subprocess.Popen(
            [sys.executable, "-m", "crawler", *args], cwd=ROOT, env=_env(), stdout=out, stderr=err, text=True
        )
        self.started.append((name, process))
        return process

    def output(self, name: str) -> str:
        return (self.folder / f"{name}.out").read_text() + (self.folder / f"{name}.err").read_text()

    def wait_all(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        for name, process in self.started:
            left = max(0.1, deadline - time.monotonic())
            try:
                process.wait(timeout=left)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"{name} still running after {timeout}s:\n{self.output(name)[-3000:]}") from None

    def stop_all(self) -> None:
        for _, process in self.started:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


@contextmanager
def processes(folder: Path) -> Iterator[Processes]:
    running = Processes(folder)
    try:
        yield running
    finally:
        running.stop_all()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def seed(redis_url: str, *args: str) -> str:
    result = run_cli("seed", "--redis", redis_url, *args)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("Seeded run ")
    return result.stdout.split()[2].rstrip(":")


def fetch_counts(log: list[str]) -> tuple[Counter[str], dict[str, str]]:
    """How often each path was requested, and its last status."""
    counts: Counter[str] = Counter()
    status: dict[str, str] = {}
    for line in log:
        _, path, code = line.split()[:3]
        counts[path] += 1
        status[path] = code
    return counts, status


def archived(db: Path) -> set[tuple[str, int]]:
    return {(r["site"], r["article_id"]) for r in rows(db, "SELECT site, article_id FROM articles")}


def assert_complete_run(db: Path, site: Any, workers: int) -> dict[str, Any]:
    """The archive holds exactly the reachable articles, each once, and one finished run counting them."""
    good, bad = expected_reach(site, REGIONS, MAX_PAGES, FOLLOW_DEPTH)
    assert archived(db) == set(good)
    assert all(r["version"] == 1 for r in rows(db, "SELECT version FROM articles"))
    errors = {
        (ref.host, ref.article_id): r["reason"]
        for r in rows(db, "SELECT url, reason FROM crawl_errors")
        if (ref := parse_article_url(r["url"])) is not None
    }
    assert errors == {key: spec.fault for key, spec in bad.items()}
    assert len(rows(db, "SELECT id FROM crawl_errors")) == len(bad), "each failure recorded once"
    runs = rows(db, "SELECT * FROM crawl_runs")
    assert len(runs) == 1
    run = dict(runs[0])
    assert (run["outcome"], run["finish_reason"], run["workers"]) == ("finished", "finished", workers)
    assert run["articles_new"] == len(good) and run["articles_updated"] == run["articles_unchanged"] == 0
    assert run["errors"] == len(bad) and sum(json.loads(run["errors_by_kind"]).values()) == len(bad)
    assert run["run_key"] and json.loads(run["arguments"])["regions"] == list(REGIONS)
    assert run["pages_fetched"] >= len(good) + len(bad) + len(REGIONS) * MAX_PAGES
    per_region = {
        r["region"]: dict(r) for r in rows(db, "SELECT * FROM crawl_run_regions WHERE run_id = ?", (run["id"],))
    }
    assert sum(r["articles_new"] for r in per_region.values()) == len(good)
    assert all(per_region[slug]["list_pages"] == MAX_PAGES for slug in REGIONS)
    # judged as a crawl's run is: every site answered, few errors
    assert (run["health"], json.loads(run["health_reasons"])) == ("ok", [])
    assert json.loads(run["field_coverage"])["articles"] == len(good), "every article counted once, across ingesters"
    for slug in REGIONS:
        region = per_region[slug]
        assert (region["health"], json.loads(region["health_reasons"])) == ("ok", []), slug
        assert json.loads(region["field_coverage"])["articles"] == region["articles_new"], slug
    assert_frontier_holds_only_retries(db)
    assert rows(db, "SELECT * FROM ingested_items") == []
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    return run


def assert_redis_cleaned(redis_server: RunningRedis) -> None:
    client = redis_server.client()
    left = {k.decode() for k in client.keys("*")}
    assert left == {keys.RUN}, "the run's queue, seen-set, hops, stats and in-flight hashes are gone"
    assert client.hget(keys.RUN, "state") == b"finished"


@pytest.mark.slow
@pytest.mark.redis
def test_two_workers_and_one_ingester(
    sample_site: RunningSite, redis_server: RunningRedis, redis_url: str, tmp_path: Path
) -> None:
    db = tmp_path / "archive.db"
    mark = sample_site.mark()
    with processes(tmp_path) as running:
        ingester = running.start("ingest", "ingest", "--redis", redis_url, "--db", str(db), "-q")
        run_key = seed(redis_url, "--region", ",".join(REGIONS), "--max-pages", str(MAX_PAGES))
        for n in (1, 2):
            running.start(
                f"worker{n}",
                "crawl",
                "--distributed",
                "--redis",
                redis_url,
                "--mirror",
                sample_site.url,
                *WORKER,
                "-s",
                f"HTTPCACHE_DIR={tmp_path / 'robots-cache'}",
            )
        running.wait_all(timeout=240)
        for name, process in running.started:
            assert process.returncode == 0, running.output(name)[-3000:]
    assert "Traceback" not in running.output("ingest") + running.output("worker1") + running.output("worker2")
    assert ingester.returncode == 0
    assert "duplicates skipped" in running.output("ingest")

    run = assert_complete_run(db, sample_site.site, workers=2)
    assert run["run_key"] == run_key
    assert_redis_cleaned(redis_server)

    counts, status = fetch_counts(sample_site.requests()[mark:])
    twice = {p: n for p, n in counts.items() if n > 1 and not p.endswith("/robots.txt") and status[p] != "500"}
    assert twice == {}, "the shared seen-set lets no worker fetch what another fetched"
    assert all(n <= 2 for p, n in counts.items() if p.endswith("/robots.txt")), "robots.txt once per worker"


@pytest.mark.slow
@pytest.mark.redis
def test_killed_worker_and_ingester_lose_nothing(redis_server: RunningRedis, redis_url: str, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    site = SampleSite(articles=3000, seed=7)  # the shared site's twin, with a request log of its own
    with serve_site(site, tmp_path) as served, processes(tmp_path) as running:
        running.start("ingest1", "ingest", "--redis", redis_url, "--db", str(db), "-q")
        seed(redis_url, "--region", ",".join(REGIONS), "--max-pages", str(MAX_PAGES))
        slow = ("--mirror", served.url, *WORKER, "--delay", "0.05", "--concurrency", "1")
        slow += ("-s", f"HTTPCACHE_DIR={tmp_path / 'robots-cache'}")
        victim = running.start("worker1", "crawl", "--distributed", "--redis", redis_url, *slow)
        running.start("worker2", "crawl", "--distributed", "--redis", redis_url, *slow)
        wait_for(lambda: served.mark() >= 120, 120, "the workers to be well into the crawl")
        victim.send_signal(signal.SIGKILL)  # requests in its hands stay in its in-flight hash
        victim.wait(timeout=10)
        running.start("worker3", "crawl", "--distributed", "--redis", redis_url, *slow)
        wait_for(lambda: db.exists() and _count(db) >= 150, 120, "the ingester to store articles")
        ingester = running.started[0][1]
        ingester.send_signal(signal.SIGKILL)  # with a batch maybe committed and not yet removed
        ingester.wait(timeout=10)
        running.start("ingest2", "ingest", "--redis", redis_url, "--db", str(db), "-q")
        running.wait_all(timeout=240)
        for name, process in running.started[2:]:
            assert process.returncode == 0, running.output(name)[-3000:]
        log = served.requests()

    assert_complete_run(db, site, workers=3)
    assert_redis_cleaned(redis_server)
    counts, status = fetch_counts(log)
    again = {p for p, n in counts.items() if n > 1 and not p.endswith("/robots.txt") and status[p] != "500"}
    assert len(again) <= WORKER_CONCURRENCY, f"only what the killed worker had in flight is fetched again: {again}"


@pytest.mark.slow
@pytest.mark.redis
def test_a_region_whose_list_pages_all_fail_degrades_the_distributed_run(redis_url: str, tmp_path: Path) -> None:
    """The ingester judges the run as a crawl's pipeline does: a site gone dark is named."""
    db = tmp_path / "archive.db"
    with serve_site(SampleSite(articles=3000, seed=7), tmp_path) as served, processes(tmp_path) as running:
        served.server.router.broken["/kalsel.antaranews.com/terkini/"] = 500  # every list page of kalsel
        running.start("ingest", "ingest", "--redis", redis_url, "--db", str(db))
        seed(redis_url, "--region", "kalteng,kalsel", "--max-pages", "2", "--follow-depth", "0")
        for n in (1, 2):
            running.start(
                f"worker{n}", "crawl", "--distributed", "--redis", redis_url, "--mirror", served.url, *WORKER,
                "-s", f"HTTPCACHE_DIR={tmp_path / 'robots-cache'}",
            )  # fmt: skip
        running.wait_all(timeout=180)
        for name, process in running.started:
            assert process.returncode == 0, running.output(name)[-3000:]
    run = dict(rows(db, "SELECT * FROM crawl_runs")[0])
    sites = {r["region"]: dict(r) for r in rows(db, "SELECT * FROM crawl_run_regions WHERE run_id = ?", (run["id"],))}
    assert (sites["kalsel"]["list_pages"], sites["kalsel"]["articles_new"], sites["kalsel"]["errors"]) == (0, 0, 2)
    assert sites["kalteng"]["articles_new"] > 20

    assert (run["outcome"], run["health"]) == ("finished", "degraded")
    (reason,) = json.loads(sites["kalsel"]["health_reasons"])
    dark = "went dark: no list page or feed could be read ("
    assert sites["kalsel"]["health"] == "degraded" and reason.startswith(dark)
    failures = set(reason.removeprefix(dark).removesuffix(")").split(", "))
    assert failures == {"list page 1 (http_500)", "list page 2 (http_500)"}  # met in whichever order
    assert json.loads(run["health_reasons"]) == [f"kalsel: {reason}"]
    assert (sites["kalteng"]["health"], json.loads(sites["kalteng"]["health_reasons"])) == ("ok", [])
    assert f"Run {run['id']} is degraded: kalsel: went dark" in running.output("ingest")

    status = run_cli("status", "--db", str(db), "--json", "--fail-on-degraded")
    assert status.returncode == 1, status.stderr
    line = json.loads(status.stdout.splitlines()[0])
    assert (line["health"], line["health_reasons"]) == ("degraded", [f"kalsel: {reason}"])
    assert line["sites"] == {
        "kalsel": {"health": "degraded", "health_reasons": [reason]},
        "kalteng": {"health": "ok", "health_reasons": []},
    }


def _count(db: Path) -> int:
    try:
        return int(rows(db, "SELECT count(*) AS n FROM articles")[0]["n"])
    except sqlite3.OperationalError:  # not created yet, or busy
        return 0


@pytest.mark.slow
@pytest.mark.redis
def test_ingester_stores_each_thing_once(redis_url: str, tmp_path: Path) -> None:
    from archive import Archive
    from crawler.distributed.ingest import Ingester
    from crawler.distributed.state import RunState, connect

    server = connect(redis_url)
    run = RunState(
        "r1", "running", {"regions": "kalteng"}, time.time(), ledger={"mode": "full", "regions": ["kalteng"]}
    )
    run.save(server)
    page = ArticlePage(ARTICLE, '"e1"', None, [])
    error = CrawlError("https://kalteng.antaranews.com/berita/9/z", "http_404", 404, "gone")
    list_error = CrawlError("https://kalteng.antaranews.com/terkini", "http_500", 500, "server error")
    sent = [
        messages.run_started("r1", run.ledger, run.seeded_at),
        messages.encode(list_error, "r1", "w1/0"),  # stored by the first ingester only
        messages.encode(page, "r1", "w1/1"),
        messages.encode(error, "r1", "w1/2"),
        messages.encode(page, "r1", "w2/7"),  # fetched again: w1 was killed before it acknowledged the request
        b"{not json",
    ]
    for raw in sent:
        server.lpush(keys.ITEMS, raw)
    server.sadd(keys.RUN_WORKERS, "w1", "w2")  # both gone (no heartbeat), their stats left behind
    server.hset(
        keys.stats("w1"),
        mapping={
            "downloader/response_count": 3,
            "downloader/request_count": 3,
            "antara/list_pages/kalteng": 2,
            "antara/list_read/kalteng": 1,  # page 2 was read, page 1 failed
        },
    )
    server.hset(keys.stats("w2"), mapping={"downloader/response_count": 2, "downloader/request_count": 2})

    db = tmp_path / "archive.db"
    with Archive(db) as archive:
        first = Ingester(server, archive, batch=2, wait=0.1)
        taken = first.take()
        first.ingest(taken)
        server.lpush(keys.PROCESSING, *reversed(taken))  # as if killed after the commit, before the LREM
    with Archive(db) as archive:
        second = Ingester(server, archive, batch=2, wait=0.1).run()

    assert second.duplicates == 2 and second.failed == 1 and second.finished_runs == [1]
    assert server.lrange(keys.FAILED, 0, -1) == [b"{not json"]
    assert server.llen(keys.PROCESSING) == 0 and server.llen(keys.ITEMS) == 0
    assert [r["url"] for r in rows(db, "SELECT url FROM articles")] == [ARTICLE.url]
    assert [r["reason"] for r in rows(db, "SELECT reason FROM crawl_errors ORDER BY id")] == ["http_500", "http_404"]
    run_row = dict(rows(db, "SELECT * FROM crawl_runs")[0])
    assert run_row["run_key"] == "r1" and run_row["outcome"] == "finished" and run_row["workers"] == 2
    assert (run_row["articles_new"], run_row["articles_unchanged"], run_row["errors"]) == (1, 0, 2)
    assert (run_row["pages_fetched"], run_row["requests"], run_row["requests_per_new_article"]) == (5, 5, 5.0)
    regions = rows(db, "SELECT region, articles_new, errors FROM crawl_run_regions")
    assert [tuple(r) for r in regions] == [("kalteng", 1, 2)]
    # judged on all the run stored, the list page the killed ingester stored included
    failed = "list page 1 (http_500) failed; the run went on with the other list pages"
    assert run_row["health"] == "degraded"
    assert f"kalteng: {failed}" in json.loads(run_row["health_reasons"])
    assert json.loads(run_row["field_coverage"])["articles"] == 1
    site = dict(rows(db, "SELECT health, health_reasons FROM crawl_run_regions")[0])
    assert (site["health"], json.loads(site["health_reasons"])) == ("degraded", [failed])
    assert server.hget(keys.RUN, "state") == b"finished"


@pytest.mark.slow
@pytest.mark.redis
def test_worker_and_seed_arguments_are_checked(redis_url: str) -> None:
    cases = [
        (("seed", "--region", "kalteng"), "--redis URL is required"),
        (("seed", "--redis", "http://x", "--region", "kalteng"), "is not a Redis URL"),
        (("seed", "--redis", redis_url, "--region", "kalteng", "--incremental"), "not distributed"),
        (("seed", "--redis", redis_url, "--region", "atlantis"), "unknown region"),
        (("crawl", "--distributed", "--redis", redis_url, "--region", "kalteng"), "--region: a worker takes"),
        (("crawl", "--distributed", "--redis", redis_url, "--db", "x.db"), "--db: a worker takes"),
        (("crawl", "--redis", redis_url), "--redis only applies with --distributed"),
    ]
    for args, message in cases:
        result = run_cli(*args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.startswith("antara: error:") and message in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.stderr
    result = run_cli("crawl", "--distributed", "--redis", redis_url)
    assert result.returncode == 1 and "no run has been seeded" in result.stderr
    result = run_cli("crawl", "--distributed", "--redis", "redis://127.0.0.1:9/0")
    assert result.returncode == 1 and "cannot reach Redis" in result.stderr
    seed(redis_url, "--region", "kalteng")
    result = run_cli("seed", "--redis", redis_url, "--region", "kalsel")
    assert result.returncode == 1 and "is still in progress" in result.stderr


@pytest.mark.redis
def test_one_writer_per_archive(redis_url: str, tmp_path: Path) -> None:
    from crawler.domain.lock import hold_lock

    db = tmp_path / "archive.db"
    with hold_lock(db):  # a crawl (or another ingester) is writing it
        result = run_cli("ingest", "--redis", redis_url, "--db", str(db))
    assert result.returncode == 75, result.stderr
    assert "another crawl or ingester is already writing" in result.stderr


@pytest.mark.slow
@pytest.mark.redis
def test_distributed_backfill(sample_site: RunningSite, redis_url: str, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    with processes(tmp_path) as running:
        running.start("ingest", "ingest", "--redis", redis_url, "--db", str(db), "-q")
        seed(redis_url, "--backfill", "--region", "kalteng", "--pages", "2-3")
        running.start(
            "worker", "crawl", "--distributed", "--redis", redis_url, "--mirror", sample_site.url, *WORKER,
            "-s", f"HTTPCACHE_DIR={tmp_path / 'robots-cache'}",
        )  # fmt: skip
        running.wait_all(timeout=180)
        for name, process in running.started:
            assert process.returncode == 0, running.output(name)[-3000:]
    listed = [spec for page in (2, 3) for spec in sample_site.site.listed("kalteng", page)]
    assert {r["article_id"] for r in rows(db, "SELECT article_id FROM articles")} == {
        spec.article_id for spec in listed if not spec.fault
    }
    state = dict(rows(db, "SELECT * FROM backfill_state WHERE region = 'kalteng'")[0])
    assert (state["next_page"], state["done"]) == (4, 1)
    run = dict(rows(db, "SELECT mode, outcome, list_pages FROM crawl_runs")[0])
    assert run == {"mode": "backfill", "outcome": "finished", "list_pages": 2}


@pytest.mark.slow
@pytest.mark.redis
def test_workers_capture_warc_and_the_ingester_indexes_it(
    sample_site: RunningSite, redis_url: str, tmp_path: Path
) -> None:
    """Workers write WARC files of their own into --warc-dir and push the index rows; the
    ingester fills ``captures``, and every article row points at a record that re-extracts to it."""
    db, folder = tmp_path / "archive.db", tmp_path / "warc"
    with processes(tmp_path) as running:
        running.start("ingest", "ingest", "--redis", redis_url, "--db", str(db), "-q")
        seed(redis_url, "--region", "kalteng,nasional", "--max-pages", "2", "--follow-depth", "1")
        for n in (1, 2):
            running.start(
                f"worker{n}", "crawl", "--distributed", "--redis", redis_url, "--mirror", sample_site.url, *WORKER,
                "--warc-dir", str(folder), "-s", f"HTTPCACHE_DIR={tmp_path / 'robots-cache'}",
            )  # fmt: skip
        running.wait_all(timeout=180)
        for name, process in running.started:
            assert process.returncode == 0, running.output(name)[-3000:]
    files = warc_files(folder)
    assert len(files) == 2, "one file per worker, named apart by pid"
    written = records(folder)
    captures = rows(db, "SELECT * FROM captures")
    assert sorted(c["warc_record_id"] for c in captures) == sorted(r.record.record_id for r in written)
    assert {c["warc_file"] for c in captures} == {f.name for f in files}
    run = rows(db, "SELECT id, warc_records, warc_bytes FROM crawl_runs")[0]
    assert {c["run_id"] for c in captures} == {run["id"]} and run["warc_records"] == len(captures)
    assert run["warc_bytes"] == sum(c["warc_length"] for c in captures)

    articles = rows(db, "SELECT * FROM articles")
    assert articles and all(a["warc_record_id"] for a in articles)
    for row in articles:
        capture = read_capture(folder / row["warc_file"], row["warc_offset"])
        assert capture.record.record_id == row["warc_record_id"] and capture.record.length == row["warc_length"]
        assert capture.record.record_type == "response"
        fetched = parse_article_url(capture.url)
        assert fetched is not None and (fetched.host, fetched.article_id) == (row["site"], row["article_id"])
        article = article_from_response(response_from_capture(capture))
        assert isinstance(article, Article)
        assert {k: row[k] for k in _as_row(article)} == _as_row(article)
    assert rows(db, "SELECT * FROM ingested_items") == []


@pytest.mark.slow
@pytest.mark.redis
def test_a_worker_without_warc_dir_captures_nothing_and_says_so(
    sample_site: RunningSite, redis_url: str, tmp_path: Path
) -> None:
    db = tmp_path / "archive.db"
    with processes(tmp_path) as running:
        running.start("ingest", "ingest", "--redis", redis_url, "--db", str(db), "-q")
        seed(redis_url, "--region", "kalteng", "--max-pages", "1", "--follow-depth", "0")
        running.start(
            "worker", "crawl", "--distributed", "--redis", redis_url, "--mirror", sample_site.url, *WORKER,
            "-s", f"HTTPCACHE_DIR={tmp_path / 'robots-cache'}",
        )  # fmt: skip
        running.wait_all(timeout=120)
        for name, process in running.started:
            assert process.returncode == 0, running.output(name)[-3000:]
    assert "WARC capture is off in this worker" in running.output("worker")
    assert rows(db, "SELECT id FROM captures") == []
    assert (
        rows(db, "SELECT count(*) AS n FROM articles WHERE warc_record_id IS NULL")[0]["n"]
        == len(rows(db, "SELECT url FROM articles"))
        > 0
    )
