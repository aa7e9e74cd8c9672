"""Peak RSS and RSS over a whole-site crawl: ``antara crawl`` against the bare Scrapy spider, interleaved.

Run from the project root:

    .venv/bin/python bench/crawl_memory.py [--articles 10000 30000 100000] [--repeat 2]
        [--big 100000] [--big-repeat 1] [--concurrency 8] [--budget SECONDS]

For each size N: serves ``SampleSite(articles=N)`` (``antara sample-site --log FILE``, its own
process) and runs, in turn, each in a child process of its own (A, B, A, B, ...; REPEAT rounds, or
BIG-REPEAT rounds from N >= BIG on):

- the bare spider, ``bench/baseline_spider.py`` (plain Scrapy, imports nothing of this project);
- ours, ``antara crawl --all-regions --mirror SITE --delay 0 --concurrency C -q`` into a fresh archive
  (WARC capture on, as by default).

Both with ``--max-pages`` = every list page of the biggest site and ``--follow-depth 2``: the whole
site. As in ``bench/crawl.py``, the articles ours stored must be the bare spider's, article for
article, or the bench stops (exit 1).

While a child runs, every INTERVAL seconds: its ``VmRSS`` and ``VmHWM`` (``/proc/PID/status``) and
the article pages the site has served it so far (``GET .../berita/...`` answered 200 in the site's
request log: the same measure of progress for both sides, taken outside both). Per run: the peak RSS
(``ru_maxrss`` from ``os.wait4``: the child's VmHWM at exit), the RSS at 25, 50, 75 and 100% of
the article pages served (100%: the last sample before the child exits), the growth in MiB per
1,000 articles from the 25% sample to the 100% one, and the articles per second. Printed per size
and side: the medians over the rounds, and ours over bare as the median (range) of the per-round
ratios (the growth as ours minus bare: near zero, a ratio means nothing).

``--budget SECONDS`` stops starting new runs once the bench has run that long (the rounds done
are reported, and the sizes skipped named). The machine's load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = Path(__file__).resolve().parent
# bench/incremental.py would shadow the ``incremental`` package Twisted imports
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
_spec = importlib.util.spec_from_file_location("bench_crawl", BENCH / "crawl.py")
assert _spec is not None and _spec.loader is not None
bench_crawl = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = bench_crawl  # dataclasses look their module up there
_spec.loader.exec_module(bench_crawl)

BARE, OURS = bench_crawl.BARE, bench_crawl.OURS
QUARTERS = (0.25, 0.5, 0.75, 1.0)
ARTICLE_SERVED = re.compile(rb"^GET /[^/ ]+/(?:amp/)?berita/\d+\S* 200\b", re.MULTILINE)
CHILD_TIMEOUT = 3 * 3600.0


@dataclass
class Sample:
    seconds: float
    served: int  #: article pages the site has served this run so far
    rss: float  #: MiB
    hwm: float  #: MiB


@dataclass
class MemoryRun:
    """One crawl's memory figures."""

    articles: int
    peak: float  #: MiB, ru_maxrss
    seconds: float  #: crawl time, as the crawl measures it
    wall: float
    samples: list[Sample] = field(repr=False)
    keys: set[tuple[str, int]] = field(repr=False)

    @property
    def rate(self) -> float:
        return self.articles / self.seconds if self.seconds else 0.0

    def at(self, fraction: float) -> Sample:
        """The first sample with ``fraction`` of the article pages served (1.0: the last sample)."""
        total = self.samples[-1].served
        if fraction >= 1.0:
            return self.samples[-1]
        return next(s for s in self.samples if s.served >= fraction * total)

    @property
    def growth(self) -> float:
        """MiB per 1,000 articles, from the 25% sample to the last one."""
        first, last = self.at(0.25), self.at(1.0)
        total = self.samples[-1].served or 1
        articles = (last.served - first.served) / total * self.articles
        return (last.rss - first.rss) / articles * 1000 if articles else 0.0


def start_site(articles: int, log: Path) -> tuple[subprocess.Popen[str], str]:
    cmd = [sys.executable, "-m", "crawler", "sample-site", "--port", "0", "--articles", str(articles)]
    proc = subprocess.Popen([*cmd, "--log", str(log)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    if not found:
        proc.terminate()
        raise SystemExit(f"the sample site did not start: {line!r}")
    return proc, f"http://127.0.0.1:{found.group(1)}"


def status_mib(pid: int) -> tuple[float, float] | None:
    """(VmRSS, VmHWM) of ``pid`` in MiB, or None once it is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    rss, hwm = re.search(r"VmRSS:\s+(\d+) kB", text), re.search(r"VmHWM:\s+(\d+) kB", text)
    if not rss or not hwm:  # a zombie has no memory lines
        return None
    return int(rss.group(1)) / 1024, int(hwm.group(1)) / 1024


class LogTail:
    """Counts the article pages served, reading the site's request log from where the run began."""

    def __init__(self, log: Path) -> None:
        self.file = log.open("rb")
        self.file.seek(0, os.SEEK_END)
        self.rest = b""
        self.served = 0

    def read(self) -> int:
        chunk = self.rest + self.file.read()
        cut = chunk.rfind(b"\n") + 1
        self.served += len(ARTICLE_SERVED.findall(chunk[:cut]))
        self.rest = chunk[cut:]
        return self.served

    def close(self) -> None:
        self.file.close()


def sampled(cmd: list[str], folder: Path, name: str, log: Path, interval: float) -> tuple[float, float, list[Sample]]:
    """Run ``cmd`` to its end, sampling it; (wall seconds, peak MiB, samples). A failure stops the bench."""
    tail = LogTail(log)
    samples: list[Sample] = []
    out, err = folder / f"{name}.out", folder / f"{name}.err"
    with out.open("w") as stdout, err.open("w") as stderr:
        started = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=stdout, stderr=stderr)
        while True:
            memory = status_mib(proc.pid)
            served = tail.read()
            if memory is not None:
                samples.append(Sample(time.monotonic() - started, served, *memory))
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > CHILD_TIMEOUT:
                proc.kill()
                raise SystemExit(f"{name} ran for more than {CHILD_TIMEOUT:.0f}s: {shlex.join(cmd)}")
            time.sleep(interval)
        wall = time.monotonic() - started
    time.sleep(0.2)  # the site may still be writing the last lines
    tail.read()
    tail.close()
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"{name} exited with {code}: {shlex.join(cmd)}\n{err.read_text()[-3000:]}")
    if not samples:
        raise SystemExit(f"{name}: no sample taken")
    return wall, usage.ru_maxrss / 1024, samples


def run_bare(site: str, options: list[str], folder: Path, log: Path, interval: float) -> MemoryRun:
    keys_file = folder / "bare-keys.txt"
    cmd = [sys.executable, str(bench_crawl.BASELINE), "--mirror", site, *options, "--keys", str(keys_file)]
    wall, peak, samples = sampled(cmd, folder, "bare", log, interval)
    got = json.loads((folder / "bare.out").read_text().strip().splitlines()[-1])
    if got["finish_reason"] != "finished":
        raise SystemExit(f"the bare spider ended with {got['finish_reason']!r}")
    keys = {(host, int(i)) for host, i in (line.split() for line in keys_file.read_text().splitlines() if line)}
    return MemoryRun(int(got["articles"]), peak, float(got["seconds"]), wall, samples, keys)


def run_ours(site: str, options: list[str], folder: Path, log: Path, interval: float) -> MemoryRun:
    import sqlite3

    db = folder / "ours.db"
    cmd = [sys.executable, "-m", "crawler", "crawl", "--all-regions", "--mirror", site, "--delay", "0"]
    cmd += [*options, "--db", str(db), "-q"]
    wall, peak, samples = sampled(cmd, folder, "ours", log, interval)
    conn = sqlite3.connect(db)
    keys = {(s, int(i)) for s, i in conn.execute("SELECT site, article_id FROM articles")}
    (elapsed,) = conn.execute("SELECT elapsed_seconds FROM crawl_runs ORDER BY id DESC").fetchone()
    conn.close()
    return MemoryRun(len(keys), peak, float(elapsed), wall, samples, keys)


def ratio(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def report(size: int, runs: dict[str, list[MemoryRun]]) -> None:
    med = statistics.median
    rounds = min(len(runs[BARE]), len(runs[OURS]))
    print(f"\nsample site of {size:,} articles, {rounds} interleaved round(s), medians; load {os.getloadavg()[0]:.1f}")
    print(
        f"{'side':22s} {'articles':>8s} {'peak MiB':>8s} {'@25%':>6s} {'@50%':>6s} {'@75%':>6s} {'@100%':>6s}"
        f" {'MiB/1k art':>10s} {'art/s':>6s} {'wall s':>7s}"
    )
    for name in (BARE, OURS):
        got = runs[name][:rounds]
        quarters = " ".join(f"{med(r.at(q).rss for r in got):6.0f}" for q in QUARTERS)
        print(
            f"{name:22s} {got[0].articles:8d} {med(r.peak for r in got):8.0f} {quarters}"
            f" {med(r.growth for r in got):10.2f} {med(r.rate for r in got):6.1f} {med(r.wall for r in got):7.0f}"
        )
    pairs = list(zip(runs[OURS][:rounds], runs[BARE][:rounds], strict=True))
    print(
        f"ours / bare: peak {ratio([o.peak / b.peak for o, b in pairs])},"
        f" RSS at 100% {ratio([o.at(1.0).rss / b.at(1.0).rss for o, b in pairs])},"
        f" rate {ratio([o.rate / b.rate for o, b in pairs])};"
        f" growth ours - bare {med(o.growth - b.growth for o, b in pairs):+.2f} MiB per 1,000 articles",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[10_000, 30_000, 100_000], help="site sizes")
    parser.add_argument("--repeat", type=int, default=2, help="interleaved rounds per size [2]")
    parser.add_argument("--big", type=int, default=100_000, help="sizes from this one on run BIG_REPEAT rounds")
    parser.add_argument("--big-repeat", type=int, default=1, help="rounds at the big sizes [1]")
    parser.add_argument("--concurrency", type=int, default=8, help="parallel requests per site [8]")
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between samples [0.5]")
    parser.add_argument("--budget", type=float, default=0, help="start no run after this many seconds [0: none]")
    args = parser.parse_args()
    from crawler.samplesite import SampleSite

    bench_crawl.check_baseline()
    began = time.monotonic()
    skipped: list[str] = []
    for size in sorted(args.articles):
        truth = SampleSite(articles=size, seed=1)
        pages = max(truth.pages(r.slug) for r in truth.regions)
        options = ["--max-pages", str(pages), "--follow-depth", "2", "--concurrency", str(args.concurrency)]
        runs: dict[str, list[MemoryRun]] = {BARE: [], OURS: []}
        with tempfile.TemporaryDirectory(prefix="antara-memory-bench-") as name:
            folder, log = Path(name), Path(name) / "requests.log"
            log.touch()
            site_proc, site = start_site(size, log)
            try:
                for round_ in range(1, (args.big_repeat if size >= args.big else args.repeat) + 1):
                    if args.budget and time.monotonic() - began > args.budget:
                        skipped.append(f"{size:,} round {round_}")
                        continue
                    for side, run in ((BARE, run_bare), (OURS, run_ours)):
                        got = run(site, options, folder, log, args.interval)
                        runs[side].append(got)
                        print(
                            f"  {size:,} round {round_}, {side}: {got.articles} articles, peak {got.peak:.0f} MiB,"
                            f" RSS {' '.join(f'{got.at(q).rss:.0f}' for q in QUARTERS)},"
                            f" {got.growth:+.2f} MiB/1k, {got.rate:.1f} art/s, wall {got.wall:.0f}s,"
                            f" load {os.getloadavg()[0]:.1f}",
                            file=sys.stderr,
                            flush=True,
                        )
                        if side == OURS:
                            bench_crawl.compare(bench_crawl.Side(OURS, ()), got, runs[BARE][-1])
            finally:
                site_proc.terminate()
                site_proc.wait(timeout=30)
        if runs[BARE] and runs[OURS]:
            report(size, runs)
    if skipped:
        print(f"\nnot run (over the {args.budget:.0f}s budget): {', '.join(skipped)}")


if __name__ == "__main__":
    main()
