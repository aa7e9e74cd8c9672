"""Soak: a month of hourly scheduled crawls of a sample site that lives through time, beside one live server.

Run from the project root:
  .venv/bin/python bench/soak.py --days 30 --regions kalteng,kalsel,jatim --seed 1 --json soak.json

The sample site runs in this process with a simulated clock (crawler/samplesite/clock.py): each
simulated hour it publishes new articles in every region, corrects a few articles some hours
after publication, takes a region's host down for some hours (every page 503, or the
connection closed unanswered), and answers --fault-share of the other requests with a transient
fault (cut off, 503, 429, empty). Once per simulated hour the soak runs the exact command that
`antara schedule` prints, pointed at the site with --mirror, --delay 0 and ANTARA_NOW set to the
simulated time. --kill-rate of the runs are killed with SIGKILL when the site has answered a
random number of their requests; the next hourly run resumes. One `antara serve` runs on the same
archive from the end of the first run that ended (as a user starts it, while no crawl runs) to
the end, polled from a thread (table, row, search, canned query, JSON). At the end the archive
is compared with the site's truth and one summary block is printed; the exit status is 1 when
an article is lost or duplicated, the server answered 5xx or an error page, did not answer, or
kept serving stale rows, an outage went unflagged for its site, a correction never reached the
archive, an archived article was fetched again (not as a revisit), or a killed run's ledger row
miscounts what it stored.

Kill points count requests, not seconds, so the same seed kills at the same places on a fast or
a loaded machine. Figures (--json): see ``Figures``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from crawler.domain.regions import BY_SLUG, parse_regions
from crawler.samplesite import SampleSite, make_server
from crawler.samplesite import words as W
from crawler.samplesite.clock import Clock, Outage, plan_outages
from crawler.samplesite.faults import FaultPlan, resource
from crawler.samplesite.server import Served

ROOT = Path(__file__).resolve().parent.parent
#: the simulation starts after the newest article the sample site is built with, in every region
START = datetime(2026, 11, 27, 6, 0, tzinfo=timezone.utc)
#: faults a retry cures: what the soak injects (content faults are permanent by design, see faults.py)
SOAK_FAULTS = ("drop", "http_503", "http_429", "empty")
FOLLOW_DEPTH = 2  #: what `antara schedule` runs with
RUN_TIMEOUT = 300.0  #: seconds one hourly run may take before the soak gives up on it
STALE_AFTER = 10.0  #: seconds the server may take to show a run's rows
MALFORMED = b"database disk image is malformed"


@dataclass
class Config:
    days: float
    regions: list[str]
    seed: int
    kill_rate: float
    fault_share: float
    edit_share: float
    outages: int | None  #: None: one per region per ten days, at least one
    articles: int  #: articles the sample site starts with, across its 35 regions
    kill_at: set[int] = field(default_factory=set)  #: runs (0-based) always killed
    folder: Path = Path(".")
    poll_every: float = 0.2

    @property
    def hours(self) -> int:
        return max(1, round(self.days * 24))


@dataclass
class Figures:
    """What one soak measured; ``failures`` lists what makes it fail."""

    days: float = 0.0
    regions: list[str] = field(default_factory=list)
    seed: int = 0
    runs: int = 0
    kills: int = 0
    kills_planned: int = 0  #: a planned kill does not happen when the run ends before its request
    runs_failed: list[str] = field(default_factory=list)  #: runs not killed that exited non-zero
    outages: list[dict[str, Any]] = field(default_factory=list)  #: windows, each with ``flagged``
    outage_site_days: float = 0.0
    outages_flagged: int | None = None  #: None: the archive holds no per-site health
    health_source: str = ""
    published: int = 0  #: articles of the crawled regions published by the end (hidden, broken included)
    expected: int = 0  #: reachable within the follow depth and not broken by the site, every host
    expected_in_regions: int = 0
    archived: int = 0  #: rows in the archive, every host
    archived_in_regions: int = 0
    lost: list[str] = field(default_factory=list)
    lost_after_kill: list[str] = field(default_factory=list)  #: lost articles a killed run had been sent
    #: killed runs whose ledger row (crawl_runs.articles_new) does not count what they stored
    killed_ledger_wrong: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    edits_made: int = 0
    edits_due: int = 0  #: made, and a revisit checkpoint (1 d after publication) has passed since
    edits_versioned: int = 0  #: due, archived with a version row
    edits_seen_late: int = 0  #: due, first archived after the correction (nothing to version)
    edits_stale: list[str] = field(default_factory=list)  #: due, but the archive holds the old text
    site_requests: int = 0
    requests_per_new_article: float = 0.0
    extra_fetches: int = 0  #: article pages served whole again without a revisit's validators
    extra_in_flight: int = 0  #: of which a killed run had been sent but not stored
    extra_refetched: list[str] = field(default_factory=list)  #: of which had been archived before
    server_requests: int = 0
    server_statuses: dict[str, int] = field(default_factory=dict)
    server_5xx: int = 0
    server_unanswered: int = 0
    server_other_errors: int = 0  #: 4xx, and 200 pages that carry a query error
    server_errors: list[str] = field(default_factory=list)  #: the first few 5xx / unanswered
    stale_checks: int = 0
    stale_failed: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def failures(self) -> list[str]:
        found = []
        if self.lost:
            found.append(f"{len(self.lost)} articles lost")
        if self.duplicates:
            found.append(f"{len(self.duplicates)} duplicates")
        if self.server_5xx or self.server_unanswered or self.server_other_errors:
            found.append(
                f"server: {self.server_5xx} 5xx, {self.server_unanswered} unanswered,"
                f" {self.server_other_errors} other errors"
            )
        if self.stale_failed:
            found.append(f"server stale in {len(self.stale_failed)} of {self.stale_checks} checks")
        if self.outages and self.outages_flagged != len(self.outages):
            found.append(f"outages flagged: {'n/a' if self.outages_flagged is None else self.outages_flagged}"
                         f" of {len(self.outages)}")  # fmt: skip
        if self.edits_stale:
            found.append(f"{len(self.edits_stale)} corrections never archived")
        if self.extra_refetched:
            found.append(f"{len(self.extra_refetched)} archived articles fetched again")
        if self.killed_ledger_wrong:
            found.append(f"{len(self.killed_ledger_wrong)} killed runs' ledgers miscount")
        return found


# ---------------------------------------------------------------------- what the site saw


class Recorder:
    """Watches every request the sample site answers; kills the running crawl at its chosen request."""

    def __init__(self, site: SampleSite) -> None:
        self.site = site
        self.lock = threading.Lock()
        self.requests = 0
        self.run = -1
        self.run_requests = 0
        self.pid: int | None = None
        self.kill_after: int | None = None
        self.killed = False
        self.served_good: set[str] = set()  #: article keys served whole (200, not broken, no fault) so far
        self.run_good: set[str] = set()  #: of those, served in the current run
        self.extra: list[tuple[str, int]] = []  #: (article key, run) served whole again, not as a revisit

    def begin(self, run: int, pid: int, kill_after: int | None) -> None:
        with self.lock:
            self.run, self.run_requests, self.pid, self.kill_after, self.killed = run, 0, pid, kill_after, False
            self.run_good = set()

    def end(self) -> None:
        with self.lock:
            self.pid = None

    def __call__(self, served: Served) -> None:
        if served.target.startswith("/_control/"):
            return
        key, kind = resource(served.target)
        with self.lock:
            self.requests += 1
            self.run_requests += 1
            if kind == "article" and served.method == "GET" and served.status == 200 and served.fault is None:
                host, _, number = key.partition("/berita/")
                spec = self.site.article(host, int(number))
                if spec is not None and spec.fault is None:
                    if key in self.served_good and not served.conditional:
                        self.extra.append((key, self.run))
                    self.served_good.add(key)
                    self.run_good.add(key)
            if self.pid is not None and self.kill_after is not None and not self.killed:
                if self.run_requests >= self.kill_after:
                    try:
                        os.killpg(self.pid, signal.SIGKILL)
                        self.killed = True
                    except ProcessLookupError:
                        pass


# ---------------------------------------------------------------------- the live server


class Poller(threading.Thread):
    """Asks `antara serve` for a few pages in turn, counting answers by status."""

    def __init__(self, base: str, db: Path, region: str, every: float) -> None:
        super().__init__(name="soak-poller", daemon=True)
        self.base, self.every = base.rstrip("/"), every
        self.paths = _pages(db, region)
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.statuses: Counter[str] = Counter()
        self.errors: list[str] = []

    def run(self) -> None:
        n = 0
        while not self.stopping.is_set():
            self.get(self.paths[n % len(self.paths)])
            n += 1
            self.stopping.wait(self.every)

    def get(self, path: str) -> tuple[int, bytes]:
        """Status (0: no answer) and body of one page; counted."""
        try:
            with urllib.request.urlopen(self.base + path, timeout=30) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            status, body = exc.code, exc.read()
        except (OSError, urllib.error.URLError) as exc:
            status, body = 0, str(exc).encode()
        # a page may carry a query error under any status (a canned query's is a 400 page)
        failed_page = status == 200 and (b'class="message-error"' in body or MALFORMED in body)
        answer = "no answer" if status == 0 else f"{status} with an error" if failed_page else str(status)
        with self.lock:
            self.statuses[answer] += 1
            if (status != 200 or failed_page) and len(self.errors) < 10:
                self.errors.append(f"{path}: {status or 'no answer'} {_gist(body)}")
        return status, body

    def served_rows(self) -> int | None:
        status, body = self.get("/archive/articles.json?_size=0")
        if status != 200:
            return None
        count = json.loads(body).get("filtered_table_rows_count")
        return int(count) if count is not None else None

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=60)


def _gist(body: bytes) -> str:
    """The error of a JSON answer or an HTML page (its message, else its title), else the start of the text."""
    text = body.decode(errors="replace")
    try:
        return str(json.loads(text).get("error"))
    except (ValueError, AttributeError):
        pass
    match = re.search(r'class="message-error">(.*?)<', text, re.S) or re.search(r"<title>(.*?)</title>", text, re.S)
    return " ".join((match.group(1) if match else text).split())[:160]


def _pages(db: Path, region: str) -> list[str]:
    from datasette.utils import tilde_encode

    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        found = conn.execute("SELECT url, title FROM articles ORDER BY rowid LIMIT 1").fetchone()
    finally:
        conn.close()
    url, title = found or ("https://kalteng.antaranews.com/berita/1/x", "berita")
    word = max(title.split(), key=len).lower()
    return [
        "/archive/articles",
        f"/archive/articles/{tilde_encode(url)}",
        "/archive/articles?" + urlencode({"_search": word}),
        "/archive/latest_in_region?" + urlencode({"region": region}),
        "/archive/articles.json?" + urlencode({"_size": 5, "_sort_desc": "published_at"}),
        "/archive/crawl_runs.json?_size=0",
    ]


def start_serve(db: Path, folder: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`antara serve` on a free port, as a user starts it; returns the process and its base URL."""
    out = folder / "serve.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "crawler", "serve", "--db", str(db), "--port", "0"],
        cwd=folder,
        stdout=out.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for line in out.read_text(errors="replace").splitlines():
            if line.startswith("Datasette at "):
                base = line.split()[2]
                try:
                    urllib.request.urlopen(base + "archive", timeout=10).close()
                    return process, base
                except (OSError, urllib.error.URLError):
                    break
        if process.poll() is not None:
            raise RuntimeError(f"antara serve exited: {out.read_text(errors='replace')[-500:]}")
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("antara serve did not come up within 60 s")


# ---------------------------------------------------------------------- the hourly command


def scheduled_command(regions: list[str], db: Path) -> list[str]:
    """The command of the crontab line `antara schedule` prints, as an argument list."""
    printed = subprocess.run(
        [sys.executable, "-m", "crawler", "schedule", "--region", ",".join(regions), "--db", str(db)]
        + ["--format", "cron"],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    ).stdout
    line = next(x for x in printed.splitlines() if x.strip() and not x.startswith("#"))
    words = shlex.split(line)
    return words[words.index("&&") + 1 : words.index(">>")]


def site_clock(config: Config) -> Clock:
    outages = config.outages
    if outages is None:
        outages = max(1, round(config.days * len(config.regions) / 10))
    windows = plan_outages(config.seed, START, config.hours, config.regions, outages)
    return Clock(START, seed=config.seed, edit_share=config.edit_share, outages=windows)


def kill_plan(config: Config) -> list[int | None]:
    """For each run, after how many of its requests it is killed (None: not killed)."""
    rng = random.Random(f"{config.seed}:kills")
    plan: list[int | None] = []
    for run in range(config.hours):
        chance, early, late = rng.random(), rng.randint(5, 25), rng.randint(1, 15)
        if run in config.kill_at:
            plan.append(early)
        elif chance < config.kill_rate:
            plan.append(late)
        else:
            plan.append(None)
    return plan


def soak(config: Config) -> Figures:
    started = time.monotonic()
    site = SampleSite(config.articles, config.seed)
    clock = site_clock(config)
    site.set_clock(clock)
    plan = FaultPlan(config.fault_share, config.seed, SOAK_FAULTS, slow_seconds=0, retry_after=0)
    server = make_server(site, port=0, faults=plan if config.fault_share > 0 else None)
    recorder = Recorder(site)
    server.watch = recorder
    threading.Thread(target=server.serve_forever, name="sample-site", daemon=True).start()
    folder = config.folder
    db = folder / "archive.db"
    command = scheduled_command(config.regions, db)
    figures = Figures(days=config.days, regions=config.regions, seed=config.seed)
    run_hours: dict[int, int] = {}  #: crawl_runs.id -> simulated hour
    kills = kill_plan(config)
    figures.kills_planned = sum(k is not None for k in kills)
    killed_runs: list[tuple[int, set[str]]] = []  #: (hour, article keys sent but not archived)
    serve: subprocess.Popen[bytes] | None = None
    poller: Poller | None = None
    log = (folder / "crawl.log").open("ab")
    try:
        for hour in range(config.hours):
            now = START + timedelta(hours=hour)
            status, answer = server.control(f"/_control/clock?now={now.isoformat().replace('+', '%2B')}")
            if status != 200:
                raise RuntimeError(f"cannot move the site's clock: {answer}")
            argv = [*command, "--mirror", f"http://127.0.0.1:{server.port}", "--delay", "0"]
            argv += ["-s", f"ANTARA_NOW={now.isoformat()}"]
            log.write(f"--- run {hour} at {now.isoformat()}\n".encode())
            log.flush()
            process = subprocess.Popen(argv, cwd=folder, stdout=log, stderr=log, start_new_session=True)
            recorder.begin(hour, process.pid, kills[hour])
            try:
                code = process.wait(timeout=RUN_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                code = process.wait()
                figures.runs_failed.append(f"run {hour}: still running after {RUN_TIMEOUT:.0f}s, killed")
            recorder.end()
            figures.runs += 1
            if recorder.killed:
                figures.kills += 1
                killed_runs.append((hour, _not_archived(db, recorder.run_good)))
            elif code != 0:
                figures.runs_failed.append(f"run {hour}: exit {code}")
            for run_id in _new_runs(db, run_hours):
                run_hours[run_id] = hour
            if serve is None and code == 0 and not recorder.killed:  # as a user would: after a crawl ended
                serve, base = start_serve(db, folder)
                poller = Poller(base, db, config.regions[0], config.poll_every)
                poller.start()
            if poller is not None and (hour % 24 == 23 or hour == config.hours - 1):
                figures.stale_checks += 1
                problem = _stale(poller, db)
                if problem:
                    figures.stale_failed.append(f"run {hour}: {problem}")
    finally:
        log.close()
        if poller is not None:
            poller.stop()
        if serve is not None:
            serve.terminate()
            try:
                serve.wait(timeout=30)
            except subprocess.TimeoutExpired:
                serve.kill()
        server.shutdown()
        server.server_close()
    if poller is not None:
        figures.server_statuses = dict(poller.statuses)
        figures.server_requests = sum(poller.statuses.values())
        for seen, n in poller.statuses.items():
            if seen == "no answer":
                figures.server_unanswered += n
            elif seen.isdigit() and int(seen) >= 500:
                figures.server_5xx += n
            elif seen != "200":
                figures.server_other_errors += n
        figures.server_errors = poller.errors
    compare(site, clock, db, config, figures, run_hours, killed_runs, recorder)
    figures.wall_seconds = round(time.monotonic() - started, 1)
    return figures


def _connect(db: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    return conn


def _new_runs(db: Path, known: dict[int, int]) -> list[int]:
    if not db.exists():
        return []
    conn = _connect(db)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM crawl_runs WHERE id > ?", [max(known, default=0)])]
    except sqlite3.OperationalError:  # no ledger yet
        return []
    finally:
        conn.close()


def _not_archived(db: Path, keys: set[str]) -> set[str]:
    conn = _connect(db)
    try:
        missing = set()
        for key in keys:
            host, _, number = key.partition("/berita/")
            if conn.execute("SELECT 1 FROM articles WHERE site = ? AND article_id = ?", [host, int(number)]).fetchone():
                continue
            missing.add(key)
        return missing
    finally:
        conn.close()


def _stale(poller: Poller, db: Path) -> str | None:
    """None when the server shows the archive's row count within STALE_AFTER seconds, else what it showed."""
    conn = _connect(db)
    try:
        rows = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    finally:
        conn.close()
    deadline = time.monotonic() + STALE_AFTER
    shown = None
    while time.monotonic() < deadline:
        shown = poller.served_rows()
        if shown == rows:
            return None
        time.sleep(0.5)
    return f"served {shown} rows, the archive holds {rows}"


# ---------------------------------------------------------------------- the archive against the truth


def compare(
    site: SampleSite,
    clock: Clock,
    db: Path,
    config: Config,
    figures: Figures,
    run_hours: dict[int, int],
    killed_runs: list[tuple[int, set[str]]],
    recorder: Recorder,
) -> None:
    regions = config.regions
    end = site.now
    assert end is not None
    conn = _connect(db)
    try:
        rows = {(r["site"], r["article_id"]): dict(r) for r in conn.execute("SELECT * FROM articles")}
        doubled = conn.execute(
            "SELECT site, article_id, count(*) AS n FROM articles GROUP BY site, article_id HAVING n > 1"
        ).fetchall()
        versions: dict[str, list[sqlite3.Row]] = {}
        for row in conn.execute("SELECT * FROM article_versions ORDER BY article_url, version"):
            versions.setdefault(row["article_url"], []).append(row)
        figures.health_source, flagged_runs = _flags(conn, regions)
        figures.killed_ledger_wrong = _killed_ledgers(conn, [hour for hour, _ in killed_runs], run_hours)
    finally:
        conn.close()
    hosts = {BY_SLUG[r].host for r in regions}
    figures.published = sum(site.count(r) for r in regions)
    figures.archived = len(rows)
    figures.archived_in_regions = sum(1 for host, _ in rows if host in hosts)
    reachable = site.reachable(regions, pages=max(site.pages(r) for r in regions), max_hops=FOLLOW_DEPTH)
    expected = {(s.host, s.article_id): s for s in reachable.values() if s.fault is None}
    figures.expected = len(expected)
    figures.expected_in_regions = sum(1 for host, _ in expected if host in hosts)
    sent_to_killed = set().union(*(keys for _, keys in killed_runs)) if killed_runs else set()
    for key, spec in sorted(expected.items()):
        if key not in rows:
            figures.lost.append(spec.url)
            if f"{key[0]}/berita/{key[1]}" in sent_to_killed:
                figures.lost_after_kill.append(spec.url)
    # duplicates: one article twice, a row not at its canonical URL, a version row without a change
    figures.duplicates += [f"{s}/berita/{a}: {n} rows" for s, a, n in doubled]
    for (host, number), row in rows.items():
        truth = site.article(host, number)
        if truth is None:
            figures.duplicates.append(f"{row['url']}: no such article on the site")
        elif row["url"] != truth.url:
            figures.duplicates.append(f"{row['url']}: stored beside its canonical URL {truth.url}")
    current = {row["url"]: row["content_hash"] for row in rows.values()}
    for url, chain in versions.items():
        hashes = [v["content_hash"] for v in chain] + [current.get(url)]
        for n, version in enumerate(chain):
            if hashes[n] == hashes[n + 1]:
                figures.duplicates.append(f"{url}: version {version['version']} repeats the next")
    _edits(site, rows, versions, hosts, end, figures)
    _outages(clock, end, run_hours, flagged_runs, figures)
    figures.site_requests = recorder.requests
    figures.requests_per_new_article = round(recorder.requests / max(1, len(rows)), 2)
    in_flight = set().union(*(keys for _, keys in killed_runs)) if killed_runs else set()
    figures.extra_fetches = len(recorder.extra)
    for page, run in recorder.extra:
        if page in in_flight:
            figures.extra_in_flight += 1
        else:
            figures.extra_refetched.append(f"run {run}: {page}")


def _killed_ledgers(conn: sqlite3.Connection, hours: list[int], run_hours: dict[int, int]) -> list[str]:
    """Killed runs whose ledger says another number of new articles than they stored (the
    articles first seen at their simulated time: ANTARA_NOW stamps first_seen_at)."""
    wrong = []
    for hour in hours:
        ids = [run_id for run_id, h in run_hours.items() if h == hour]
        stamp = (START + timedelta(hours=hour)).isoformat()
        stored = conn.execute("SELECT count(*) FROM articles WHERE first_seen_at = ?", [stamp]).fetchone()[0]
        marks = ", ".join("?" for _ in ids)
        counted = conn.execute(f"SELECT sum(articles_new) FROM crawl_runs WHERE id IN ({marks})", ids).fetchone()[0]
        if (counted or 0) != stored:
            wrong.append(
                f"run {hour} (crawl_runs {','.join(map(str, ids)) or 'none'}): ledger {counted}, stored {stored}"
            )
    return wrong


def _edits(
    site: SampleSite,
    rows: dict[tuple[str, int], dict[str, Any]],
    versions: dict[str, list[sqlite3.Row]],
    hosts: set[str],
    end: datetime,
    figures: Figures,
) -> None:
    correction = W.CORRECTION.format(n=1)
    for host in sorted(hosts):
        region = next(r.slug for r in BY_SLUG.values() if r.host == host)
        for spec in site.articles_of(region):
            edited = site.edit_time(spec)
            if edited is None or edited > end:
                continue
            figures.edits_made += 1
            if datetime.fromisoformat(spec.published_at) + timedelta(days=1) > end:
                continue  # no revisit checkpoint after the correction yet
            row = rows.get((spec.host, spec.article_id))
            if row is None:
                continue  # counted as lost if it should be there
            figures.edits_due += 1
            if correction not in (row["body"] or ""):
                figures.edits_stale.append(spec.url)
            elif versions.get(row["url"]):
                figures.edits_versioned += 1
            else:
                figures.edits_seen_late += 1


def _flags(conn: sqlite3.Connection, regions: list[str]) -> tuple[str, dict[int, set[str]]]:
    """Which regions each run judged degraded: its per-site verdicts (crawl_run_regions.health).
    A run-wide reason that merely mentions a site (an error rate "most in kalsel") is no verdict."""
    flagged: dict[int, set[str]] = {}
    for run_id, region in conn.execute("SELECT run_id, region FROM crawl_run_regions WHERE health = 'degraded'"):
        if region in regions:
            flagged.setdefault(run_id, set()).add(region)
    return "crawl_run_regions.health", flagged


def _outages(
    clock: Clock, end: datetime, run_hours: dict[int, int], flagged_runs: dict[int, set[str]], figures: Figures
) -> None:
    per_hour: dict[int, set[str]] = {}
    for run_id, regions in flagged_runs.items():
        per_hour.setdefault(run_hours.get(run_id, -1), set()).update(regions)
    flagged = 0
    for outage in clock.outages:
        if outage.start > end:
            continue
        hours = _hours(outage, end)
        hit = any(outage.region in per_hour.get(h, set()) for h in hours)
        flagged += hit
        figures.outages.append({**outage.as_dict(), "runs": len(hours), "flagged": hit})
        figures.outage_site_days += (min(outage.end, end + timedelta(hours=1)) - outage.start).total_seconds() / 86400
    figures.outage_site_days = round(figures.outage_site_days, 2)
    figures.outages_flagged = flagged


def _hours(outage: Outage, end: datetime) -> list[int]:
    first = int((outage.start - START).total_seconds() // 3600)
    last = int((min(outage.end, end + timedelta(hours=1)) - START).total_seconds() // 3600)
    return list(range(first, last))


# ---------------------------------------------------------------------- report


def summary(f: Figures) -> str:
    flagged = "n/a" if f.outages_flagged is None else f"{f.outages_flagged} of {len(f.outages)}"
    per_site = ", ".join(
        f"{o['region']} {o['start'][5:13]}..{o['end'][5:13]} {o['kind']}: "
        + {True: "flagged", False: "NOT flagged", None: "n/a"}[o["flagged"]]
        for o in f.outages
    )
    lines = [
        f"Soak: {f.days:g} simulated days, regions {','.join(f.regions)}, seed {f.seed}, {f.wall_seconds:.0f}s wall",
        f"  runs {f.runs}, kills {f.kills} ({f.kills_planned} planned), runs failed {len(f.runs_failed)},"
        f" outages {len(f.outages)}"
        f" ({f.outage_site_days:g} site-days)",
        f"  articles published {f.published} in the crawled regions, {f.expected_in_regions} of them reachable"
        f" and whole, {f.archived_in_regions} archived; every host: {f.expected} expected, {f.archived} archived",
        f"  lost {len(f.lost)} ({len(f.lost_after_kill)} sent to a killed run), duplicates {len(f.duplicates)};"
        f" killed runs whose ledger miscounts what they stored: {len(f.killed_ledger_wrong)} of {f.kills}",
        f"  edits {f.edits_made} made, {f.edits_due} due for a revisit: {f.edits_versioned} produced a version row,"
        f" {f.edits_seen_late} first archived already corrected, {len(f.edits_stale)} stale",
        f"  outages flagged per site: {flagged} [{f.health_source}]" + (f": {per_site}" if per_site else ""),
        f"  server requests {f.server_requests}, 5xx {f.server_5xx}, unanswered {f.server_unanswered},"
        f" other errors {f.server_other_errors},"
        f" stale {len(f.stale_failed)} of {f.stale_checks} checks",
        f"  site requests {f.site_requests}, {f.requests_per_new_article} per new article",
        f"  extra fetches {f.extra_fetches}: {f.extra_in_flight} in flight at a kill,"
        f" {len(f.extra_refetched)} of articles already archived",
    ]
    for name, items in (
        ("lost", f.lost),
        ("duplicates", f.duplicates),
        ("stale edits", f.edits_stale),
        ("refetched", f.extra_refetched),
        ("killed runs' ledgers", f.killed_ledger_wrong),
        ("server errors", f.server_errors),
        ("server stale", f.stale_failed),
        ("runs failed", f.runs_failed),
    ):
        if items:
            lines.append(f"  {name} (first 5): " + "; ".join(items[:5]))
    lines.append("  result: " + ("; ".join(f.failures) or "ok"))
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=float, default=30.0, help="simulated days, one run per hour [30]")
    parser.add_argument("--regions", default="kalteng,kalsel,jatim", help="regions crawled [kalteng,kalsel,jatim]")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--kill-rate", type=float, default=0.05, help="share of runs killed with SIGKILL [0.05]")
    parser.add_argument("--kill-at", default="", metavar="RUN[,RUN]", help="runs (0-based) always killed, early")
    parser.add_argument("--fault-share", type=float, default=0.05, help="share of requests with a fault [0.05]")
    parser.add_argument("--edit-share", type=float, default=0.05, help="share of new articles corrected [0.05]")
    parser.add_argument("--outages", type=int, default=None, help="outage windows [one per region per 10 days]")
    parser.add_argument("--articles", type=int, default=35 * 12, help="articles the site starts with [420]")
    parser.add_argument("--folder", default=None, help="where the archive and logs go [a temporary folder]")
    parser.add_argument("--json", default=None, metavar="PATH", help="write the figures here")
    args = parser.parse_args(argv)
    if args.days <= 0 or not 0 <= args.kill_rate <= 1 or not 0 <= args.fault_share <= 1:
        parser.error("--days must be positive, --kill-rate and --fault-share between 0 and 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    regions = [r.slug for r in parse_regions(args.regions)]
    kill_at = {int(x) for x in args.kill_at.split(",") if x.strip()}
    with tempfile.TemporaryDirectory(prefix="antara-soak-") as scratch:
        folder = Path(args.folder or scratch).resolve()
        folder.mkdir(parents=True, exist_ok=True)
        config = Config(
            days=args.days,
            regions=regions,
            seed=args.seed,
            kill_rate=args.kill_rate,
            fault_share=args.fault_share,
            edit_share=args.edit_share,
            outages=args.outages,
            articles=args.articles,
            kill_at=kill_at,
            folder=folder,
        )
        figures = soak(config)
    print(summary(figures))
    if args.json:
        Path(args.json).write_text(json.dumps({**asdict(figures), "failures": figures.failures}, indent=2) + "\n")
    return 1 if figures.failures else 0


if __name__ == "__main__":
    sys.exit(main())
