"""``antara serve`` left running while real crawls write the same archive: never a 5xx, never stale.

The server is started with no mode flag on an archive that a finished crawl left (the
situation that used to pick immutable mode), then crawls write into the same file while a
thread polls pages of every kind: one that finishes, one killed with SIGKILL mid-way, and
the run that resumes it. After each, the server's row count must reach the archive's own.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from crawler.serve.app import build_datasette
from tests.conftest import ROOT, RunningServe, RunningSite, crawl_sample, serve_archive

pytestmark = pytest.mark.slow  # serves while crawls write, for a while

CATCH_UP_SECONDS = 20  # the server must show the archive's rows this soon after a crawl ends
MAX_REQUESTS = 20_000  # the poller's bound, whatever happens
BIG_CRAWL = "kalsel,nasional,jabar,jateng,bali,aceh,riau,papua"  # its log outgrows SQLite's autocheckpoint


def count(db: Path, sql: str) -> int:
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        return int(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


@dataclass
class Poller:
    """Polls ``paths`` of a running server in a thread, round after round, recording every answer."""

    base: str
    paths: list[str]
    wal: Path  #: the archive's write-ahead log, whose largest size is noted
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)  # 5xx answers and transport errors, with the path
    #: articles counts the JSON API reported, in the order it reported them
    counts: list[int] = field(default_factory=list)
    requests: int = 0
    wal_max: int = 0
    stop: threading.Event = field(default_factory=threading.Event)

    def __post_init__(self) -> None:
        self.thread = threading.Thread(target=self._run, name="serve-poller", daemon=True)

    def _run(self) -> None:
        try:
            with httpx.Client(base_url=self.base, timeout=30) as client:
                while not self.stop.is_set() and self.requests < MAX_REQUESTS:
                    for path in self.paths:
                        self._get(client, path)
                    try:
                        self.wal_max = max(self.wal_max, self.wal.stat().st_size)
                    except FileNotFoundError:
                        pass
                    self.stop.wait(0.02)  # leave the crawl some of the two CPUs
        except Exception as exc:  # noqa: BLE001 - a failure of the poller itself must fail the test, not vanish
            self.failures.append(f"the poller stopped: {exc!r}")

    def _get(self, client: httpx.Client, path: str) -> None:
        self.requests += 1
        try:
            response = client.get(path)
        except httpx.TransportError as exc:
            self.failures.append(f"{path}: {exc!r}")
            return
        self.statuses[response.status_code] += 1
        if response.status_code >= 500:
            self.failures.append(f"{path}: {response.status_code} {response.text[:300]}")
        elif response.status_code == 200 and path.startswith("archive/articles.json?_size=0"):
            self.counts.append(response.json()["filtered_table_rows_count"])

    def __enter__(self) -> Poller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def wait_until_current(server: RunningServe, db: Path) -> int:
    """Poll the server until its articles count equals the archive's (deadline, not a fixed sleep)."""
    expected = count(db, "SELECT count(*) FROM articles")
    runs = count(db, "SELECT count(*) FROM crawl_runs")
    deadline = time.monotonic() + CATCH_UP_SECONDS
    seen: tuple[int, int] = (-1, -1)
    while time.monotonic() < deadline:
        articles = httpx.get(server.url + "archive/articles.json?_size=0", timeout=30).json()
        listed = httpx.get(server.url + "archive/crawl_runs_recent.json?_shape=array", timeout=30).json()
        seen = (articles["filtered_table_rows_count"], len(listed))
        if seen == (expected, runs):
            return expected
        time.sleep(0.2)
    raise AssertionError(
        f"after {CATCH_UP_SECONDS} s the server shows {seen} (articles, runs), the archive {expected, runs}"
    )


def test_serve_follows_crawls_without_errors(sample_site: RunningSite, tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    first = crawl_sample(sample_site, db, "--region", "kalteng", "--max-pages", "1", "-q")
    assert first.returncode == 0, first.stderr[-2000:]
    known = sqlite3.connect(db).execute("SELECT url, title FROM articles ORDER BY url LIMIT 1").fetchone()
    word = max(re.findall(r"[A-Za-z]{5,}", known[1]), key=len)
    from datasette.utils import tilde_encode

    paths = [
        "archive/articles.json?_size=0",  # the count, read by the poller
        "archive/articles",  # the table page with its facets
        "archive/articles.json?_size=5&_shape=objects",
        "archive/articles/" + tilde_encode(known[0]),
        "archive/latest_in_region.json?region=kalteng&_shape=array",
        f"archive/articles.json?_search={quote(word)}&_shape=objects",
        f"archive/search_articles?q={quote(word)}",
        "archive",  # the database page counts every table
        "",
    ]
    phases: dict[str, int] = {}
    with serve_archive(db, tmp_path) as server, Poller(server.url, paths, db.with_name(db.name + "-wal")) as poller:
        assert "read-only, live mode: " in server.mode_line, server.mode_line
        start = wait_until_current(server, db)

        # a crawl that finishes: its log grows past SQLite's autocheckpoint, and at the end the crawl
        # checkpoints it with TRUNCATE, both while the server reads
        before = poller.requests
        second = crawl_sample(sample_site, db, "--region", BIG_CRAWL, "--max-pages", "3", "-q")
        assert second.returncode == 0, second.stderr[-2000:]
        phases["finished crawl"] = poller.requests - before
        after_second = wait_until_current(server, db)
        assert after_second > start

        # a crawl killed with SIGKILL once it has stored rows: its committed rows stay in the log
        before = poller.requests
        args = ["--region", "kalbar,jatim", "--db", str(db), "--mirror", sample_site.url, "-q"]
        crawl = subprocess.Popen(
            [sys.executable, "-m", "crawler", "crawl", *args, "--delay", "0.02", "--concurrency", "1"],
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 120
            while crawl.poll() is None and time.monotonic() < deadline:
                if count(db, "SELECT count(*) FROM articles") >= after_second + 20:
                    break
                time.sleep(0.1)
            assert crawl.poll() is None, "the crawl ended before it could be killed; slow it down"
        finally:
            if crawl.poll() is None:
                os.kill(crawl.pid, signal.SIGKILL)
            crawl.wait(timeout=30)
        phases["killed crawl"] = poller.requests - before
        after_kill = wait_until_current(server, db)
        assert after_kill >= after_second + 20

        # the run that resumes it
        before = poller.requests
        resumed = crawl_sample(sample_site, db, *args[:2], "-q")
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        phases["resumed crawl"] = poller.requests - before
        final = wait_until_current(server, db)
        assert final > after_kill
        time.sleep(1)  # a last few rounds after every crawl has ended
    assert poller.failures == [], poller.failures[:10]
    assert set(poller.statuses) == {200}, poller.statuses
    assert all(n >= len(paths) for n in phases.values()), f"the poller ran during each crawl: {phases}"
    assert poller.counts == sorted(poller.counts), "a count never goes back (no stale or torn reads)"
    assert poller.counts[0] == start and poller.counts[-1] == final
    assert len(set(poller.counts)) > 3, "the server saw the counts grow during the crawls"
    logged = server.stderr_path.read_text()
    assert "Traceback" not in logged and "ERROR:" not in logged, logged[-3000:]
    # SQLite checkpoints the log by itself at 1,000 pages: that happened while the server read
    assert poller.wal_max > 1000 * count(db, "PRAGMA page_size"), poller.wal_max


def test_a_checkpoint_while_the_server_reads(sample_site: RunningSite, tmp_path: Path) -> None:
    """A writer's checkpoint(TRUNCATE) waits for a reader mid-query, then empties the log; the server
    sees every committed row throughout."""
    db = tmp_path / "archive.db"
    result = crawl_sample(sample_site, db, "--region", "kalteng", "--max-pages", "1", "-q")
    assert result.returncode == 0, result.stderr[-2000:]
    wal = db.with_name(db.name + "-wal")

    async def scenario() -> list[int]:
        ds = build_datasette(db)
        await ds.invoke_startup()

        async def rows() -> int:
            response = await ds.client.get("/archive/tags.json?_size=0")
            assert response.status_code == 200, response.text[:300]
            return int(response.json()["filtered_table_rows_count"])

        seen = [await rows()]
        writer = sqlite3.connect(db, timeout=0.5)
        reader = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
        try:
            with writer:
                writer.execute("INSERT INTO tags (name) VALUES ('probe-1')")
            seen.append(await rows())
            reader.execute("BEGIN")
            held = reader.execute("SELECT count(*) FROM tags").fetchone()[0]  # a snapshot held open
            with writer:
                writer.execute("INSERT INTO tags (name) VALUES ('probe-2')")
            busy = writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            assert busy[0] == 1, "the checkpoint cannot reset the log under a reader's snapshot"
            assert wal.stat().st_size > 0
            seen.append(await rows())  # the server's own connections read the newest state meanwhile
            assert reader.execute("SELECT count(*) FROM tags").fetchone()[0] == held
            reader.execute("COMMIT")
            assert writer.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
            assert wal.stat().st_size == 0, "TRUNCATE empties the log once no reader needs it"
            seen.append(await rows())
            with writer:
                writer.execute("INSERT INTO tags (name) VALUES ('probe-3')")
            seen.append(await rows())
        finally:
            reader.close()
            writer.close()
        return seen

    seen = asyncio.run(scenario())
    base = seen[0]
    assert seen == [base, base + 1, base + 2, base + 2, base + 3]
