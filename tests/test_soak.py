"""A short soak: two simulated days of hourly scheduled runs, killed runs, an outage, a live server.

Runs ``bench/soak.py`` as a user would (one process, its own sample site with a clock, the
crawl command `antara schedule` prints once per simulated hour, one `antara serve` polled
throughout) and checks its figures: nothing lost or duplicated, killed runs lose nothing, the
server never answers 5xx and shows new rows, every outage is flagged for its site, corrections
become version rows. The seed fixes the site, the faults, the outage and the kill points
(counted in requests, not seconds), so the soak is the same on a fast or a loaded machine.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # two simulated days of hourly runs: minutes

ROOT = Path(__file__).resolve().parent.parent
DAYS = 2
REGIONS = "kalteng,kalsel"
SEED = 3
#: runs 0 and 1 are killed (the first run and its resumption: two kills in a row); others by chance
KILL_AT = "0,1"


@pytest.fixture(scope="module")
def soak(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    folder = tmp_path_factory.mktemp("soak")
    figures = folder / "figures.json"
    done = subprocess.run(
        [sys.executable, "bench/soak.py", "--days", str(DAYS), "--regions", REGIONS, "--seed", str(SEED)]
        + ["--kill-at", KILL_AT, "--kill-rate", "0.05", "--fault-share", "0.05", "--edit-share", "0.2"]
        + ["--outages", "1", "--folder", str(folder / "run"), "--json", str(figures)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert figures.exists(), f"the soak wrote no figures:\n{done.stdout}\n{done.stderr[-3000:]}"
    return json.loads(figures.read_text()), done


def test_the_soak_ran_what_it_says(soak: tuple[dict[str, Any], subprocess.CompletedProcess[str]]) -> None:
    figures, done = soak
    assert figures["runs"] == DAYS * 24
    assert figures["kills"] >= 2
    assert len(figures["outages"]) == 1 and figures["outage_site_days"] > 0
    assert figures["published"] > 0 and figures["expected_in_regions"] > 0
    assert figures["server_requests"] > 100
    assert figures["runs_failed"] == []
    assert "Soak: 2 simulated days" in done.stdout and "result:" in done.stdout


def test_nothing_lost_nothing_duplicated(soak: tuple[dict[str, Any], subprocess.CompletedProcess[str]]) -> None:
    figures, _ = soak
    assert figures["lost"] == []
    assert figures["duplicates"] == []
    assert figures["archived_in_regions"] >= figures["expected_in_regions"]


def test_killed_runs_lose_nothing_and_refetch_nothing_archived(
    soak: tuple[dict[str, Any], subprocess.CompletedProcess[str]],
) -> None:
    figures, _ = soak
    assert figures["kills"] >= 2
    assert figures["lost_after_kill"] == []
    assert figures["killed_ledger_wrong"] == []  # a killed run's ledger row counts what it stored
    assert figures["extra_refetched"] == []  # fetched twice: only what was in flight at a kill
    assert figures["extra_fetches"] == figures["extra_in_flight"]


def test_edits_become_version_rows(soak: tuple[dict[str, Any], subprocess.CompletedProcess[str]]) -> None:
    figures, _ = soak
    assert figures["edits_due"] >= 1
    assert figures["edits_stale"] == []
    assert figures["edits_versioned"] + figures["edits_seen_late"] == figures["edits_due"]
    assert figures["edits_versioned"] >= 1


def test_server_never_fails_and_follows_the_archive(
    soak: tuple[dict[str, Any], subprocess.CompletedProcess[str]],
) -> None:
    figures, _ = soak
    assert figures["server_5xx"] == 0, figures["server_errors"]
    assert figures["server_unanswered"] == 0, figures["server_errors"]
    assert figures["server_other_errors"] == 0, figures["server_errors"]
    assert figures["stale_checks"] >= 2 and figures["stale_failed"] == []


def test_every_outage_is_flagged_for_its_site(soak: tuple[dict[str, Any], subprocess.CompletedProcess[str]]) -> None:
    figures, _ = soak
    assert figures["outages_flagged"] == len(figures["outages"]), figures["health_source"]
    assert all(outage["flagged"] is True for outage in figures["outages"])


def test_exit_status_says_whether_it_held(soak: tuple[dict[str, Any], subprocess.CompletedProcess[str]]) -> None:
    figures, done = soak
    assert done.returncode == (1 if figures["failures"] else 0)
    assert figures["failures"] == [], done.stdout
