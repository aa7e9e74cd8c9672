"""Shared fixtures: the sample site on loopback and a helper that runs the real CLI."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, NoReturn

import pytest

from crawler.samplesite import SampleSite, make_server
from crawler.samplesite.server import SampleSiteServer

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ARTICLES = 3000
SAMPLE_SEED = 7

#: Debian's redis-server and chromium (scripts/install-test-deps); the variables point elsewhere
REDIS_SERVER = Path(os.environ.get("ANTARA_REDIS_SERVER", "/usr/bin/redis-server"))
CHROMIUM = Path(os.environ.get("ANTARA_CHROMIUM", "/usr/bin/chromium"))
#: ANTARA_REQUIRE_ALL_TESTS=1 (CI): a missing program fails its tests instead of skipping them
REQUIRE_ALL = os.environ.get("ANTARA_REQUIRE_ALL_TESTS", "") == "1"

#: marker -> (the fixture whose tests must carry it, the program it needs, its name)
NEEDS = {"redis": ("redis_server", REDIS_SERVER, "redis-server"), "browser": ("browser", CHROMIUM, "chromium")}


def _not_found(program: Path, what: str) -> str:
    return f"{what} not found at {program}: run scripts/install-test-deps (as root)"


def missing(program: Path, what: str) -> NoReturn:
    """Skip the test that needs ``program`` (or fail it, under ANTARA_REQUIRE_ALL_TESTS=1)."""
    if REQUIRE_ALL:
        pytest.fail(f"{_not_found(program, what)} (ANTARA_REQUIRE_ALL_TESTS=1: nothing may be skipped)", pytrace=False)
    pytest.skip(_not_found(program, what))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test that uses Redis or the browser says so with its marker, so ``-m "not redis"`` holds;
    a marked test whose program is missing is skipped before its fixtures (a crawl, say) are set up."""
    unmarked = [
        f"{item.nodeid} uses the {fixture} fixture without @pytest.mark.{marker}"
        for item in items
        for marker, (fixture, _, _) in NEEDS.items()
        if fixture in getattr(item, "fixturenames", ()) and item.get_closest_marker(marker) is None
    ]
    if unmarked:
        raise pytest.UsageError("\n".join(unmarked))
    if REQUIRE_ALL:
        return  # pytest_runtest_setup fails them instead
    for item in items:
        for marker, (_, program, what) in NEEDS.items():
            if item.get_closest_marker(marker) is not None and not program.exists():
                item.add_marker(pytest.mark.skip(reason=_not_found(program, what)))


def pytest_runtest_setup(item: pytest.Item) -> None:
    """Under ANTARA_REQUIRE_ALL_TESTS=1, a marked test whose program is missing fails before its fixtures."""
    for marker, (_, program, what) in NEEDS.items():
        if item.get_closest_marker(marker) is not None and not program.exists():
            missing(program, what)


@dataclass
class RunningSite:
    site: SampleSite
    url: str
    log_path: Path
    server: SampleSiteServer

    def requests(self) -> list[str]:
        """Request lines logged so far: 'GET /{host}{path} STATUS'."""
        return self.log_path.read_text().splitlines() if self.log_path.exists() else []

    def mark(self) -> int:
        return len(self.requests())


@contextlib.contextmanager
def serve_site(site: SampleSite, folder: Path) -> Iterator[RunningSite]:
    """Serve ``site`` on a free loopback port in a thread, logging requests under ``folder``."""
    log_path = folder / "requests.log"
    server = make_server(site, host="127.0.0.1", port=0, log_path=str(log_path))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield RunningSite(site, f"http://127.0.0.1:{server.port}", log_path, server)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def sample_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSite]:
    """The shared, unchanging sample site (tests that publish or edit articles make their own)."""
    with serve_site(SampleSite(articles=SAMPLE_ARTICLES, seed=SAMPLE_SEED), tmp_path_factory.mktemp("site")) as site:
        yield site


@dataclass
class RunningRedis:
    """A redis-server of our own on a loopback port."""

    url: str
    process: subprocess.Popen[bytes]

    def client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.url)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRedis]:
    """Debian's redis-server (installed by scripts/install-test-deps), started on a free loopback
    port in its own folder, no persistence, stopped by pid at the end of the session."""
    import redis

    exe = REDIS_SERVER
    if not exe.exists():
        missing(exe, "redis-server")
    folder = tmp_path_factory.mktemp("redis")
    port = _free_port()
    log = open(folder / "redis.log", "wb")
    process = subprocess.Popen(
        [str(exe), "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(folder), "--daemonize", "no"],
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    running = RunningRedis(f"redis://127.0.0.1:{port}/0", process)
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                running.client().ping()
                break
            except redis.ConnectionError:  # not listening yet, or still loading
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not start: {(folder / 'redis.log').read_text()}") from None
                time.sleep(0.05)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture
def redis_url(redis_server: RunningRedis) -> str:
    """The session's Redis, emptied for this test."""
    redis_server.client().flushall()
    return redis_server.url


def rows(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    """The rows a query reads from an archive file, each a ``sqlite3.Row``."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def row_dicts(db: Path, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    """:func:`rows` as plain dicts (to compare, merge or print them)."""
    return [dict(row) for row in rows(db, sql, params)]


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``python -m crawler ARGS`` in a subprocess, as a user would, bounded in time."""
    env = dict(os.environ)
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    return subprocess.run(
        [sys.executable, "-m", "crawler", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def crawl_sample(site: RunningSite, db: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``antara crawl`` of the running sample site into ``db``, throttling off, 4 requests per host."""
    return run_cli("crawl", "--db", str(db), "--mirror", site.url, "--delay", "0", "--concurrency", "4", *args)


@dataclass
class RunningServe:
    """``antara serve`` in a subprocess: its base URL, the line saying which mode it chose, its process."""

    url: str
    mode_line: str
    process: subprocess.Popen[str]
    stderr_path: Path


@contextlib.contextmanager
def serve_archive(db: Path, folder: Path, *args: str) -> Iterator[RunningServe]:
    """Start ``antara serve --db DB --port 0 ARGS`` on loopback, wait until it answers, stop it by its pid."""
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    stderr_path = folder / "serve-stderr.txt"
    with stderr_path.open("w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "crawler", "serve", "--db", str(db), "--port", "0", *args],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    try:
        try:
            first, second = lines.get(timeout=30), lines.get(timeout=30)
        except queue.Empty:
            pytest.fail(f"antara serve printed no URL within 30 s: {stderr_path.read_text()[-2000:]}")
        match = re.search(r"Datasette at (http://127\.0\.0\.1:\d+/)", second)
        assert match, second
        url = match.group(1)
        import httpx

        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(url + "-/versions.json", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, stderr_path.read_text()[-2000:]
            time.sleep(0.1)
        yield RunningServe(url, first.rstrip("\n"), proc, stderr_path)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def assert_frontier_holds_only_retries(db: Path) -> None:
    """After a finished run the frontier keeps only links whose fetch failed for a reason that
    may pass (each with its crawl_errors rows), for the next runs to try again."""
    from crawler.domain.reasons import PERMANENT_CODES

    conn = sqlite3.connect(db)
    try:
        left = conn.execute(
            "SELECT f.url, f.failures, (SELECT group_concat(reason) FROM crawl_errors e WHERE e.url = f.url)"
            " FROM frontier f"
        ).fetchall()
    finally:
        conn.close()
    for url, failures, reasons in left:
        assert failures and reasons, f"{url} is in the frontier without a failure"
        assert not set(reasons.split(",")) & set(PERMANENT_CODES), f"{url} failed for good: {reasons}"


#: where browser tests save their screenshots: tests/artifacts (git-ignored) unless
#: ANTARA_SCREENSHOT_DIR says otherwise (``ANTARA_SCREENSHOT_DIR=docs/screenshots`` renews the docs' pictures)
SCREENSHOTS = ROOT / os.environ.get("ANTARA_SCREENSHOT_DIR", "tests/artifacts")


#: chromium is run headless with nothing that reaches the network
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium driven by Playwright (its own browser download is never used)."""
    if not CHROMIUM.exists():
        missing(CHROMIUM, "chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def crawl_with_a_correction(site: RunningSite, db: Path) -> str:
    """Two crawls of kalteng into ``db``; between them one listed article is corrected, so it
    gains a second version (the later run's clock is 8 days on: a revisit is due). Its URL."""
    first = crawl_sample(site, db, "--region", "kalteng", "--follow-depth", "0", "-q")
    assert first.returncode == 0, first.stderr[-2000:]
    edited = next(s for s in site.site.listed("kalteng", 1) if s.fault is None)
    site.site.edit(edited.host, edited.article_id)
    later = (datetime.now(timezone.utc) + timedelta(days=8)).isoformat()
    second = crawl_sample(
        site, db, "--region", "kalteng", "--incremental", "--follow-depth", "0", "-q", "-s", f"ANTARA_NOW={later}"
    )
    assert second.returncode == 0, second.stderr[-2000:]
    return str(edited.url)
