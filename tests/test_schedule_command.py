"""``antara schedule`` prints cron and systemd units whose command really crawls."""

from __future__ import annotations

import configparser
import shlex
import sqlite3
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, RunningSite, run_cli


def units(output: str) -> dict[str, str]:
    """Split the printed text into its parts by the '# /etc/systemd/system/NAME' headers."""
    parts: dict[str, str] = {}
    current = "cron"
    for line in output.splitlines():
        if line.startswith("# /etc/systemd/system/"):
            current = line.rsplit("/", 1)[1]
            continue
        parts[current] = parts.get(current, "") + line + "\n"
    return parts


@pytest.mark.slow
def test_units_are_complete_and_the_command_runs(sample_site: RunningSite, tmp_path: Path) -> None:
    db = tmp_path / "sched.db"
    result = run_cli("schedule", "--region", "kalteng", "--db", str(db), "--every", "hourly", timeout=60)
    assert result.returncode == 0, result.stderr
    parts = units(result.stdout)
    cron = [line for line in parts["cron"].splitlines() if line and not line.startswith("#")]
    assert len(cron) == 1
    fields = cron[0].split()
    assert fields[0].isdigit() and fields[1:5] == ["*", "*", "*", "*"]
    assert f"crawl --incremental --region kalteng --db {db}" in cron[0]
    service = configparser.ConfigParser(interpolation=None)
    service.read_string(parts["antara-crawl.service"])
    timer = configparser.ConfigParser(interpolation=None)
    timer.read_string(parts["antara-crawl.timer"])
    assert service["Service"]["Type"] == "oneshot" and service["Service"]["SuccessExitStatus"] == "75"
    assert timer["Timer"]["Persistent"] == "true" and timer["Timer"]["OnCalendar"].startswith("*-*-* *:")
    assert timer["Install"]["WantedBy"] == "timers.target"
    # the scheduled command itself crawls (pointed at the sample site)
    command = shlex.split(service["Service"]["ExecStart"]) + ["--mirror", sample_site.url, "--delay", "0"]
    ran = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
    assert ran.returncode == 0, ran.stderr[-2000:]
    conn = sqlite3.connect(db)
    try:
        assert conn.execute("SELECT mode, outcome FROM crawl_runs").fetchall() == [("incremental", "finished")]
        assert conn.execute("SELECT count(*) FROM articles").fetchone()[0] > 0
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("every", "cron", "calendar"),
    [
        ("daily", " 5 * * *", "*-*-* 05:"),
        ("15m", "-59/15 * * * *", "/15:00"),
        ("*/20 6-22 * * 1-5", "*/20 6-22 * * 1-5", None),
        ("0,30 6-22/2 1-31/7 JAN-jun,Dec mon-fri,0,7", "0,30 6-22/2 1-31/7 JAN-jun,Dec mon-fri,0,7", None),
        ("59 23 31 12 7", "59 23 31 12 7", None),
    ],
)
def test_every(every: str, cron: str, calendar: str | None, tmp_path: Path) -> None:
    fmt = "all" if calendar else "cron"
    result = run_cli("schedule", "--all-regions", "--db", str(tmp_path / "a.db"), "--every", every, "--format", fmt)
    assert result.returncode == 0, result.stderr
    assert cron in result.stdout and "--all-regions" in result.stdout
    if calendar:
        assert "OnCalendar=" in result.stdout and calendar in result.stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--every", "fortnightly"], "is not hourly, daily"),
        (["--every", "7m"], "minutes must divide 60"),
        (["--every", "*/20 * * * *", "--format", "systemd"], "use --format cron"),
        (["--region", "narnia"], "unknown region 'narnia'"),
        (["--name", "bad name"], "not a usable unit name"),
        (["--every", "61 * * * *"], "minute field '61': 61 is outside 0-59"),
        (["--every", "0 24 * * *"], "hour field '24': 24 is outside 0-23"),
        (["--every", "0 5 0 * *"], "day of month field '0': 0 is outside 1-31"),
        (["--every", "0 5 * 13 *"], "month field '13': 13 is outside 1-12"),
        (["--every", "0 5 * * 8"], "day of week field '8': 8 is outside 0-7"),
        (["--every", "0 5 * smarch *"], "month field 'smarch': 'smarch' is not a number or a name such as jan"),
        (["--every", "0 5 * * mon-funday"], "'funday' is not a number or a name such as sun"),
        (["--every", "0 5 * * fri-mon"], "the range 'fri-mon' runs backwards"),
        (["--every", "*/0 * * * *"], "the step in '*/0' must be 1 to 60"),
        (["--every", "*/61 * * * *"], "the step in '*/61' must be 1 to 60"),
        (["--every", "5/15 * * * *"], "a step follows * or a range"),
        (["--every", "1,,2 * * * *"], "an empty item in the list"),
        (["--every", "0 5 L * *"], "'l' is not a number"),
        (["--every", "0 5 ? * *"], "'?' is not *, N, N-M"),
        (["--every", "0 5 * * * *"], "or a five-field cron expression"),
    ],
)
def test_bad_arguments(args: list[str], needle: str, tmp_path: Path) -> None:
    base = ["schedule", "--db", str(tmp_path / "a.db")]
    if "--region" not in args:
        base += ["--region", "kalteng"]
    result = run_cli(*base, *args, timeout=60)
    assert result.returncode == 2
    assert result.stdout == "", "nothing is printed before the error"
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0], result.stderr


def test_the_archive_folder_need_not_exist_here(tmp_path: Path) -> None:
    """The units may be printed on one machine and installed on another."""
    db = tmp_path / "elsewhere" / "srv" / "archive.db"
    result = run_cli("schedule", "--region", "kalteng", "--db", str(db), "--format", "all", timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"cd {db.parent} && " in result.stdout and f"--db {db} -q" in result.stdout
    assert f"WorkingDirectory={db.parent}" in result.stdout
    assert not (tmp_path / "elsewhere").exists(), "printing the units creates nothing"
