"""Bad command-line input gets one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import socket
import subprocess
from pathlib import Path

import pytest

from crawler.cli.main import cli
from tests.conftest import ROOT, RunningSite, crawl_sample, run_cli


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["crawl", "--region", "atlantis"], "unknown region 'atlantis'"),
        (["crawl", "--region", "kalteng,narnia"], "unknown region 'narnia'"),
        (["crawl"], "no region given"),
        (["crawl", "--region", "kalteng", "--since", "2026-13-45"], "not a real date"),
        (["crawl", "--region", "kalteng", "--since", "kemarin"], "is not a date"),
        (["crawl", "--region", "kalteng", "--since", "2026-11-01T06:00:00"], "needs a UTC offset"),
        (["crawl", "--region", "kalteng", "--max-pages", "zero"], "--max-pages 'zero' is not a whole number"),
        (["crawl", "--region", "kalteng", "--max-pages", "0"], "--max-pages must be at least 1"),
        (["crawl", "--region", "kalteng", "--follow-depth", "-1"], "--follow-depth must be at least 0"),
        (["crawl", "--region", "kalteng", "--mirror", "ftp://x"], "is not an http(s) URL"),
        (["crawl", "--region", "kalteng", "--delay", "-3"], "--delay"),
        (["crawl", "--region", "kalteng", "--set", "NOEQUALS"], "is not NAME=VALUE"),
        (["ingest", "--redis", "redis://127.0.0.1:9/0", "-s", "NOEQUALS"], "is not NAME=VALUE"),
        (["ingest", "--redis", "redis://127.0.0.1:9/0", "-s", "ANTARA_HEALTH_MIN_ARTICLES=many"], "'--set'"),
        (["crawl", "--region", "kalteng", "--bogus"], "No such option"),
        (["crawl", "--region", "kalteng", "--follow-older"], "--follow-older only applies with --since"),
        (["sample-site", "--port", "99999"], "--port"),
        (["frobnicate"], "No such command 'frobnicate'"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(args: list[str], needle: str) -> None:
    result = run_cli(*args, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("antara: error: ")
    assert needle in lines[0]
    assert "Traceback" not in result.stderr


def test_unusable_archive_path_is_one_line(tmp_path: Path) -> None:
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_text("this is not a database\n" * 100)
    for db in (str(tmp_path / "missing-folder" / "a.db"), str(not_sqlite)):
        result = run_cli("crawl", "--region", "kalteng", "--db", db, "--mirror", "http://127.0.0.1:9", timeout=60)
        assert result.returncode == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("antara: error: "), result.stderr
        assert "Traceback" not in result.stderr
    assert not_sqlite.read_text().startswith("this is not a database")


def test_help_shows_examples() -> None:
    result = run_cli("crawl", "--help", timeout=60)
    assert result.returncode == 0
    assert "antara crawl --region kalteng,kalsel" in result.stdout
    top = run_cli("--help", timeout=60)
    assert top.returncode == 0 and "sample-site" in top.stdout and "crawl" in top.stdout


def test_sample_site_on_a_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_cli("sample-site", "--port", str(port), "--articles", "50", timeout=60)
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert lines == [f"antara: error: cannot serve on 127.0.0.1:{port}: Address already in use"], result.stderr


@pytest.mark.slow
def test_what_a_crawl_leaves_beside_the_archive_is_git_ignored(sample_site: RunningSite, tmp_path: Path) -> None:
    """The archive, its lock, WAL files, WARC folder and robots.txt cache, named as the repository sees them."""
    result = crawl_sample(sample_site, tmp_path / "archive.db", "--region", "kalteng", "--max-pages", "1", "-q")
    assert result.returncode == 0, result.stderr[-2000:]
    left = sorted(str(p.relative_to(tmp_path)) + ("/" if p.is_dir() else "") for p in tmp_path.rglob("*"))
    assert {"archive.db", "archive.db.lock", "archive.db.warc/", "archive.db.robots-cache/"} <= set(left), left
    checked = subprocess.run(
        ["git", "check-ignore", "--no-index", "--verbose", "--non-matching", "--stdin"],
        cwd=ROOT,
        input="\n".join(left) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    not_ignored = [line.split("\t")[1] for line in checked.stdout.splitlines() if line.startswith("::")]
    assert not_ignored == [], not_ignored


@pytest.mark.parametrize("level, shown", [("DEBUG", True), ("INFO", False)])
def test_the_log_level_decides_which_of_scrapys_lines_are_shown(
    sample_site: RunningSite, tmp_path: Path, level: str, shown: bool
) -> None:
    """Scrapy's per-page DEBUG lines are written at --log-level DEBUG, and left out (not even
    built) above it, where its INFO lines still are."""
    args = ("--region", "kalteng", "--max-pages", "1", "--follow-depth", "0", "--log-level", level)
    result = crawl_sample(sample_site, tmp_path / "a.db", *args)
    assert result.returncode == 0, result.stderr[-2000:]
    assert ("DEBUG: Crawled (200)" in result.stderr) is shown
    assert ("DEBUG: Scraped from <200" in result.stderr) is shown
    assert "INFO: Spider opened" in result.stderr


@pytest.mark.parametrize("command", sorted(cli.commands))
def test_every_command_has_an_example_in_its_help(command: str) -> None:
    result = run_cli(command, "--help", timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Example" in result.stdout, result.stdout
    assert f"  antara {command} " in result.stdout, result.stdout


@pytest.mark.parametrize(
    ("stats", "outcome", "status", "error"),
    [
        ({"finish_reason": "finished", "downloader/response_count": 5}, "finished", 0, None),
        ({"finish_reason": "closespider_pagecount", "downloader/response_count": 5}, "finished", 0, None),
        ({"finish_reason": "shutdown", "downloader/response_count": 5}, "interrupted", 130, None),
        ({"finish_reason": "archive_error", "archive/fatal": "disk full"}, "failed", 1, "disk full"),
        ({"finish_reason": "shutdown", "archive/fatal": "disk full"}, "failed", 1, "disk full"),
        ({"finish_reason": "finished", "archive/errors": 3}, "failed", 1, "no page could be fetched"),
        ({"finish_reason": "cancelled", "downloader/response_count": 5}, "failed", 1, None),
    ],
)
def test_a_crawl_result_and_its_exit_status_follow_from_its_stats(
    stats: dict[str, object], outcome: str, status: int, error: str | None
) -> None:
    from crawler.cli.crawl import EXIT_STATUS
    from crawler.run import CrawlResult

    result = CrawlResult.from_stats(stats)
    assert (result.outcome, EXIT_STATUS[result.outcome], result.ran) == (outcome, status, True)
    assert (result.error or "").startswith(error or "")
    assert bool(result.error) == bool(error)


def test_setting_overrides_put_the_flags_over_set_and_set_over_the_distributed_run() -> None:
    from crawler.domain.options import setting_overrides

    extra = {"ANTARA_MIRROR": "http://127.0.0.1:1", "REDIS_URL": "redis://other/0", "DOWNLOAD_DELAY": "3"}
    chosen = setting_overrides(
        extra, mirror="http://127.0.0.1:2", warc=False, warc_dir="w", redis_url="redis://127.0.0.1:6379/0"
    )
    assert chosen == {
        "ANTARA_DISTRIBUTED": True,
        "REDIS_URL": "redis://other/0",
        "ANTARA_MIRROR": "http://127.0.0.1:2",
        "DOWNLOAD_DELAY": "3",
        "ANTARA_WARC": False,
        "ANTARA_WARC_DIR": str(Path("w").resolve()),
    }
    assert setting_overrides() == {}
