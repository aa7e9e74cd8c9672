"""The project deploys to a real Scrapyd and a scheduled job writes the same archive as ``scrapy crawl``.

Starts ``scrapyd`` on a free loopback port with its own directories, uploads the project egg with
``scrapyd-deploy`` (built from a copy of the project, so no build/ or *.egg-info lands in the
work tree), schedules the ``antara`` spider against the sample site through ``schedule.json``
and waits for ``listjobs.json`` to report it finished.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, RunningSite, rows

pytestmark = pytest.mark.slow  # starts scrapyd, deploys an egg and runs a job

PROJECT = "antara_archive"
START_TIMEOUT = 30.0
JOB_TIMEOUT = 120.0
#: What the project egg is built from: everything setup.py/pyproject.toml and scrapy.cfg need.
PROJECT_FILES = ("pyproject.toml", "setup.py", "scrapy.cfg", "README.md")
PROJECT_PACKAGES = ("crawler", "spiders", "archive")


@dataclass
class Scrapyd:
    url: str
    process: subprocess.Popen[bytes]
    root: Path
    log_path: Path

    def log_tail(self, chars: int = 3000) -> str:
        return self.log_path.read_text(errors="replace")[-chars:] if self.log_path.exists() else ""

    def get(self, endpoint: str, **params: str) -> dict:
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        with urllib.request.urlopen(f"{self.url}{endpoint}{query}", timeout=10) as response:
            return json.load(response)

    def post(self, endpoint: str, fields: list[tuple[str, str]]) -> dict:
        data = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(f"{self.url}{endpoint}", data=data, timeout=10) as response:
            return json.load(response)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env() -> dict[str, str]:
    env = dict(os.environ)
    # Scrapyd's runner only takes the settings module from the egg when this is unset.
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    env.pop("SCRAPY_PROJECT", None)
    return env


@pytest.fixture
def scrapyd(tmp_path: Path) -> Iterator[Scrapyd]:
    if importlib.util.find_spec("scrapyd") is None:
        pytest.fail("scrapyd is not installed: pip install -e '.[test]' (or '.[scrapyd]')")
    root = tmp_path / "scrapyd"
    root.mkdir()
    port = free_port()
    (root / "scrapyd.conf").write_text(
        "[scrapyd]\n"
        "bind_address = 127.0.0.1\n"
        f"http_port = {port}\n"
        f"eggs_dir = {root / 'eggs'}\n"
        f"logs_dir = {root / 'logs'}\n"
        f"dbs_dir = {root / 'dbs'}\n"
        f"items_dir = {root / 'items'}\n"
        "max_proc = 1\n"
        "poll_interval = 0.2\n"
    )
    log_path = root / "scrapyd.out"
    with open(log_path, "wb") as log:
        # cwd is the temp dir: Scrapyd reads ./scrapyd.conf, and no scrapy.cfg or project package is
        # importable from there, so jobs run the deployed egg.
        process = subprocess.Popen(
            [sys.executable, "-m", "scrapyd", "--pidfile="],
            cwd=root,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Scrapyd(f"http://127.0.0.1:{port}/", process, root, log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                pytest.fail(f"scrapyd exited with code {process.returncode} at start:\n{server.log_tail()}")
            try:
                if server.get("daemonstatus.json").get("status") == "ok":
                    break
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"scrapyd did not answer daemonstatus.json in {START_TIMEOUT:.0f}s:\n{server.log_tail()}")
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


def deploy(server: Scrapyd, workdir: Path) -> None:
    """``scrapyd-deploy test -p antara_archive`` from a copy of the project pointing at ``server``."""
    script = Path(sys.executable).with_name("scrapyd-deploy")
    if not script.exists():
        pytest.fail(f"{script} not found: pip install -e '.[test]' (or '.[scrapyd]')")
    workdir.mkdir()
    for name in PROJECT_FILES:
        shutil.copy2(ROOT / name, workdir / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in PROJECT_PACKAGES:
        shutil.copytree(ROOT / name, workdir / name, ignore=ignore)
    with open(workdir / "scrapy.cfg", "a") as cfg:
        cfg.write(f"\n[deploy:test]\nurl = {server.url}\nproject = {PROJECT}\n")
    result = subprocess.run(
        [str(script), "test", "-p", PROJECT, "-v", "1"],
        cwd=workdir,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 0, f"scrapyd-deploy failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    assert '"status": "ok"' in result.stdout, result.stdout[-2000:] + result.stderr[-2000:]


def build_artefacts() -> dict[str, int]:
    """What a setup.py build writes at the project root (build/, *.egg-info, setup.py), with mtimes."""
    return {
        path.name: path.stat().st_mtime_ns
        for path in ROOT.iterdir()
        if path.name in ("build", "setup.py") or path.name.endswith(".egg-info")
    }


def wait_for_job(server: Scrapyd, job: str) -> dict:
    deadline = time.monotonic() + JOB_TIMEOUT
    while time.monotonic() < deadline:
        jobs = server.get("listjobs.json", project=PROJECT)
        for entry in jobs.get("finished", []):
            if entry["id"] == job:
                return entry
        time.sleep(0.5)
    try:
        server.post("cancel.json", [("project", PROJECT), ("job", job)])
    except OSError:
        pass
    pytest.fail(f"job {job} did not finish within {JOB_TIMEOUT:.0f}s:\n{job_log(server, job)[-3000:]}")


def job_log(server: Scrapyd, job: str) -> str:
    path = server.root / "logs" / PROJECT / "antara" / f"{job}.log"
    return path.read_text(errors="replace") if path.exists() else f"(no log at {path})"


def test_scrapyd_deploy_and_schedule_write_the_archive(
    scrapyd: Scrapyd, sample_site: RunningSite, tmp_path: Path
) -> None:
    before = build_artefacts()
    deploy(scrapyd, tmp_path / "project")
    assert build_artefacts() == before, "scrapyd-deploy left build artefacts in the work tree"
    assert scrapyd.get("listspiders.json", project=PROJECT)["spiders"] == ["antara"]

    db = tmp_path / "scrapyd.db"
    scheduled = scrapyd.post(
        "schedule.json",
        [
            ("project", PROJECT),
            ("spider", "antara"),
            ("regions", "kalteng"),
            ("max_pages", "1"),
            ("follow_depth", "0"),
            ("setting", f"ARCHIVE_DB={db}"),
            ("setting", f"ANTARA_MIRROR={sample_site.url}"),
            ("setting", "DOWNLOAD_DELAY=0"),
            ("setting", "AUTOTHROTTLE_ENABLED=0"),
            ("setting", "CONCURRENT_REQUESTS_PER_DOMAIN=4"),
        ],
    )
    assert scheduled.get("status") == "ok", scheduled
    job = scheduled["jobid"]
    wait_for_job(scrapyd, job)

    log = job_log(scrapyd, job)
    assert db.exists(), f"the job wrote no archive at {db}:\n{log[-3000:]}"
    expected = {s.article_id for s in sample_site.site.listed("kalteng", 1) if not s.fault}
    assert expected
    assert {r["article_id"] for r in rows(db, "SELECT article_id FROM articles")} == expected, log[-3000:]
    runs = rows(db, "SELECT outcome FROM crawl_runs")
    assert [r["outcome"] for r in runs] == ["finished"], log[-3000:]
    # the job ran with the project's settings module, taken from the egg's entry point
    assert "'BOT_NAME': 'antara-archive'" in log, log[:3000]
    assert "antara-archive/" in log  # the honest user agent is in the settings dump
