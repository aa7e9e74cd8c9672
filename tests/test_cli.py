"""Bad command-line input gets one clear line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli


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
