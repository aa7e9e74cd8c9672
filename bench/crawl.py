"""End to end: ``antara crawl`` against a bare Scrapy spider that imports nothing of this project, interleaved.

Run from the project root:

    .venv/bin/python bench/crawl.py [--articles 5000] [--repeat 3] [--max-pages 3] [--follow-depth 2]
        [--concurrency C] [-s NAME=VALUE ...] [--candidate NAME='-s X=Y' ...] [--load-seconds 10]

Starts the sample site (``antara sample-site --articles N``) in its own process, then REPEAT rounds,
each running in turn, every one in a child process of its own:

- the bare spider, ``bench/baseline_spider.py``: plain Scrapy with the settings of ``antara crawl
  --delay 0`` written out, the same list pages, articles and Baca juga links to the same depth, each
  article's title, body and date parsed with Scrapy's selectors, nothing stored;
- ours, ``antara crawl --all-regions --mirror SITE --delay 0 [--concurrency C] --max-pages P
  --follow-depth D -q [-s NAME=VALUE ...]`` into a fresh archive (WARC capture on, as by default);
- each candidate: ours with the candidate's options added (``--candidate items8='-s
  CONCURRENT_ITEMS=8'``; any ``antara crawl`` option, e.g. ``--no-warc``).

The ``-s`` settings go to ours and to every candidate. Each run's figures: articles (the bare
spider's pages parsed as articles; ours' rows in ``articles``), the rate (articles over the run's
crawl time: Scrapy's ``elapsed_time_seconds`` for the bare spider, ``crawl_runs.elapsed_seconds``
for ours), the child's wall time and its CPU time (user + system, from ``os.wait4``). The article
counts must match the bare spider's, article for article: a run that differs stops the bench
(exit 1) with both counts and the articles found by one side only.

Prints, per side, the medians over the rounds and the ratios to the bare spider (and, for a
candidate, to ours) as the median of the per-round ratios with their range: rounds are
interleaved so that the load of a shared machine weighs on both sides of a ratio alike. Then
measures the sample site alone (``wrk`` if installed, else a small threaded client) for
LOAD_SECONDS (0 skips it), so the site's ceiling is known next to the crawl rates.
"""

from __future__ import annotations

import argparse
import ast
import http.client
import importlib.util
import json
import os
import re
import shlex
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = Path(__file__).resolve().parent / "baseline_spider.py"
# bench/incremental.py would shadow the ``incremental`` package Twisted imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
CHILD_TIMEOUT = 1800.0
BARE = "bare Scrapy spider"
OURS = "antara crawl (ours)"


@dataclass
class Run:
    """One crawl's figures."""

    articles: int
    seconds: float  #: crawl time, as the crawl itself measures it
    wall: float  #: the child process, start to exit
    cpu: float  #: user + system CPU seconds of the child process
    keys: set[tuple[str, int]] = field(repr=False)  #: the articles, (host, id)

    @property
    def rate(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0


@dataclass(frozen=True)
class Side:
    name: str
    options: tuple[str, ...]  #: antara crawl options beyond the common ones (empty for the bare spider)
    bare: bool = False


def start_site(articles: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "sample-site", "--port", "0", "--articles", str(articles)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not found:
        proc.terminate()
        raise SystemExit(f"the sample site did not start: {line!r}")
    return proc, f"http://127.0.0.1:{found.group(1)}"


def check_baseline() -> None:
    """The bare spider imports nothing of this project, and its own table of sites is the project's."""
    tree = ast.parse(BASELINE.read_text(), str(BASELINE))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""] if not node.level else ["(relative import)"]
        else:
            continue
        borrowed = [n for n in names if n.split(".")[0] in ("crawler", "spiders", "archive", "(relative import)")]
        if borrowed:
            raise SystemExit(f"bench/baseline_spider.py:{node.lineno} imports from this project: {borrowed}")
    from crawler.domain.regions import HOST_ALIASES, REGIONS

    spec = importlib.util.spec_from_file_location("baseline_spider", BASELINE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    theirs = dict(module.SITES)
    ours = {r.host: r.zone for r in REGIONS}
    if list(theirs.items()) != list(ours.items()) or module.ALIASES != HOST_ALIASES:
        raise SystemExit("bench/baseline_spider.py: SITES or ALIASES differ from crawler.domain.regions")


def run_child(cmd: list[str], folder: Path, name: str) -> tuple[float, float, str]:
    """Run ``cmd`` to its end; (wall seconds, CPU seconds, stdout). A failure stops the bench."""
    out, err = folder / f"{name}.out", folder / f"{name}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=stdout, stderr=stderr)
        deadline = started + CHILD_TIMEOUT
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
                raise SystemExit(f"{name} ran for more than {CHILD_TIMEOUT:.0f}s: {shlex.join(cmd)}")
            time.sleep(0.05)
        wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{name} exited with {proc.returncode}: {shlex.join(cmd)}\n{err.read_text()[-3000:]}")
    return wall, usage.ru_utime + usage.ru_stime, out.read_text()


def common_options(args: argparse.Namespace) -> list[str]:
    options = ["--max-pages", str(args.max_pages), "--follow-depth", str(args.follow_depth)]
    return options + (["--concurrency", str(args.concurrency)] if args.concurrency else [])


def bare(site: str, args: argparse.Namespace, folder: Path) -> Run:
    keys_file = folder / "bare-keys.txt"
    cmd = [sys.executable, str(BASELINE), "--mirror", site, *common_options(args), "--keys", str(keys_file)]
    wall, cpu, out = run_child(cmd, folder, "bare")
    got = json.loads(out.strip().splitlines()[-1])
    if got["finish_reason"] != "finished":
        raise SystemExit(f"the bare spider ended with {got['finish_reason']!r}: {(folder / 'bare.err').read_text()}")
    keys = {
        (host, int(article_id))
        for host, article_id in (line.split() for line in keys_file.read_text().split("\n") if line)
    }
    return Run(int(got["articles"]), float(got["seconds"]), wall, cpu, keys)


def ours(site: str, args: argparse.Namespace, folder: Path, side: Side) -> Run:
    db = folder / "ours.db"
    cmd = [sys.executable, "-m", "crawler", "crawl", "--all-regions", "--mirror", site, "--delay", "0"]
    cmd += [*common_options(args), "--db", str(db), "-q"]
    cmd += [word for pair in args.settings for word in ("-s", pair)] + list(side.options)
    wall, cpu, _ = run_child(cmd, folder, "ours")
    with sqlite3.connect(db) as conn:
        keys = {(site_, int(article_id)) for site_, article_id in conn.execute("SELECT site, article_id FROM articles")}
        elapsed, new = conn.execute("SELECT elapsed_seconds, articles_new FROM crawl_runs ORDER BY id DESC").fetchone()
    conn.close()
    if new != len(keys):
        raise SystemExit(f"{side.name}: crawl_runs says {new} articles new, the articles table holds {len(keys)}")
    return Run(len(keys), float(elapsed), wall, cpu, keys)


def compare(side: Side, run: Run, base: Run) -> None:
    """Stop the bench, loudly, when a side did not archive exactly the bare spider's articles."""
    if run.keys == base.keys:
        return
    only_ours, only_bare = sorted(run.keys - base.keys), sorted(base.keys - run.keys)
    print(
        f"ARTICLE COUNTS DIFFER: {side.name} stored {run.articles} articles, the bare spider parsed {base.articles}\n"
        f"  only in {side.name} ({len(only_ours)}): {only_ours[:10]}\n"
        f"  only in the bare spider ({len(only_bare)}): {only_bare[:10]}",
        file=sys.stderr,
    )
    raise SystemExit(1)


def load(site: str, articles: int, seconds: float, folder: Path) -> tuple[str, float]:
    """Requests per second the sample site answers alone, over distinct article pages."""
    from crawler.samplesite import SampleSite

    truth = SampleSite(articles=articles, seed=1)
    specs = [truth.article_at(k) for k in range(0, articles, max(1, articles // 5000))]
    paths = [f"/{spec.host}{spec.path}" for spec in specs]
    if shutil.which("wrk"):
        listing = folder / "paths.txt"
        listing.write_text("\n".join(paths) + "\n")
        script = folder / "paths.lua"
        script.write_text(
            f'local paths = {{}}\nfor line in io.lines("{listing}") do paths[#paths + 1] = line end\n'
            "local i = 0\n"
            "request = function()\n  i = i % #paths + 1\n  return wrk.format('GET', paths[i])\nend\n"
        )
        out = subprocess.run(
            ["wrk", "-t1", "-c8", f"-d{int(seconds)}s", "-s", str(script), site],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        ).stdout
        found = re.search(r"Requests/sec:\s*([\d.]+)", out)
        return "wrk -t1 -c8", float(found.group(1)) if found else 0.0
    host, port = site.removeprefix("http://").split(":")
    counts = [0] * 8
    stop = time.monotonic() + seconds

    def client(n: int) -> None:
        conn = http.client.HTTPConnection(host, int(port), timeout=30)
        while time.monotonic() < stop:
            conn.request("GET", paths[(n + counts[n] * 8) % len(paths)])
            conn.getresponse().read()
            counts[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return "python, 8 keep-alive threads", sum(counts) / seconds


def ratio(runs: list[Run], bases: list[Run], figure: str) -> str:
    """Median of the per-round ratios of ``figure``, with their range."""
    values = [getattr(r, figure) / getattr(b, figure) for r, b in zip(runs, bases, strict=True)]
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def report(args: argparse.Namespace, sides: list[Side], runs: dict[str, list[Run]], site_rate: str) -> None:
    base = runs[BARE]
    settings = "".join(f" -s {pair}" for pair in args.settings)
    print(
        f"sample site of {args.articles} articles; all 35 sites, {args.max_pages} list pages each, follow depth "
        f"{args.follow_depth}, delay 0, {args.concurrency or 1} request(s) at a time per site{settings}; "
        f"{args.repeat} interleaved rounds; medians, and ratios as the median (range) of the per-round ratios"
    )
    for side in sides[2:]:
        print(f"{side.name} = ours + {shlex.join(side.options)}")
    print(
        f"{'side':22s} {'articles':>8s} {'art/s':>7s} {'wall s':>7s} {'CPU s':>7s}"
        f"  {'rate x bare':17s} {'wall x bare':17s} {'CPU x bare':17s}"
    )
    med = statistics.median
    for side in sides:
        got = runs[side.name]
        print(
            f"{side.name:22s} {got[0].articles:8d} {med(r.rate for r in got):7.1f} {med(r.wall for r in got):7.1f}"
            f" {med(r.cpu for r in got):7.1f}  {ratio(got, base, 'rate'):17s} {ratio(got, base, 'wall'):17s}"
            f" {ratio(got, base, 'cpu'):17s}"
        )
    for side in sides[2:]:
        got, plain = runs[side.name], runs[OURS]
        print(
            f"{side.name} against ours: rate {ratio(got, plain, 'rate')}, wall {ratio(got, plain, 'wall')},"
            f" CPU {ratio(got, plain, 'cpu')}"
        )
    if site_rate:
        print(site_rate)


def parse_candidate(text: str) -> Side:
    name, sep, options = text.partition("=")
    if not sep or not name.strip() or not options.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME='OPTIONS', e.g. items8='-s CONCURRENT_ITEMS=8'")
    return Side(name.strip(), tuple(shlex.split(options)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=5000, help="sample-site size [5000]")
    parser.add_argument("--repeat", type=int, default=3, help="interleaved rounds [3]")
    parser.add_argument("--max-pages", type=int, default=3, help="list pages per site [3, as antara crawl]")
    parser.add_argument("--follow-depth", type=int, default=2, help="Baca juga hops [2, as antara crawl]")
    parser.add_argument("--concurrency", type=int, default=None, help="parallel requests per site [1, as antara crawl]")
    parser.add_argument(
        "-s",
        "--set",
        dest="settings",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a Scrapy setting for ours and every candidate (antara crawl -s)",
    )
    parser.add_argument(
        "--candidate",
        type=parse_candidate,
        action="append",
        default=[],
        metavar="NAME='OPTIONS'",
        help="also run ours with these antara crawl options, e.g. items8='-s CONCURRENT_ITEMS=8'",
    )
    parser.add_argument("--load-seconds", type=float, default=10, help="sample site alone under load [10; 0 skips]")
    args = parser.parse_args()
    sides = [Side(BARE, (), bare=True), Side(OURS, ()), *args.candidate]
    if len({s.name for s in sides}) != len(sides):
        parser.error("candidate names must differ from each other and from the bare spider and ours")
    check_baseline()
    proc, site = start_site(args.articles)
    runs: dict[str, list[Run]] = {s.name: [] for s in sides}
    site_rate = ""
    try:
        for round_ in range(1, args.repeat + 1):
            for side in sides:
                with tempfile.TemporaryDirectory(prefix="antara-crawl-bench-") as folder:
                    got = bare(site, args, Path(folder)) if side.bare else ours(site, args, Path(folder), side)
                runs[side.name].append(got)
                print(
                    f"  round {round_}, {side.name}: {got.articles} articles, {got.rate:.1f}/s over {got.seconds:.1f}s,"
                    f" wall {got.wall:.1f}s, CPU {got.cpu:.1f}s",
                    file=sys.stderr,
                )
                if not side.bare:
                    compare(side, got, runs[BARE][-1])
        if args.load_seconds > 0:
            with tempfile.TemporaryDirectory(prefix="antara-load-") as folder:
                tool, rate = load(site, args.articles, args.load_seconds, Path(folder))
            site_rate = f"sample site alone: {rate:.1f} article pages/s ({tool}, {args.load_seconds:.0f}s)"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    report(args, sides, runs, site_rate)


if __name__ == "__main__":
    main()
