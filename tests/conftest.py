"""Shared fixtures: the sample site on loopback and a helper that runs the real CLI."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.samplesite import SampleSite, make_server
from crawler.samplesite.server import SampleSiteServer

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_ARTICLES = 3000
SAMPLE_SEED = 7


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
