"""Peak RSS and its growth over a big crawl of the sample site (politeness off, loopback).

Run from the project root: .venv/bin/python bench/crawl_memory.py [--articles 10000 30000 100000]
[--concurrency 8]

For each size N: serves ``SampleSite(articles=N)`` (``antara sample-site``, its own process) and runs
``antara crawl --all-regions --max-pages ALL --follow-depth 2 --delay 0`` into a fresh archive, so the crawl
walks every list page of every site and follows Baca juga links to the hidden articles: the whole
site. Samples the crawl's RSS (``/proc/PID/status``) with its progress lines (articles so far) every
second; prints the peak RSS (``ru_maxrss`` from ``os.wait4``), the RSS at a quarter and at the end of
the crawl, the growth per 1,000 articles between them, and the articles per second. The baseline is the
same crawl at the smallest N, in the same run. Target: under 400 MB at 100,000 articles, growth bounded.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
ROOT = Path(__file__).resolve().parent.parent
PROGRESS = re.compile(r"articles (\d+) new")


def start_site(articles: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", "sample-site", "--port", "0", "--articles", str(articles)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    found = re.search(r"http://127\.0\.0\.1:(\d+)", proc.stdout.readline())
    if not found:
        proc.terminate()
        raise SystemExit("the sample site did not start")
    return proc, f"http://127.0.0.1:{found.group(1)}"


def rss_mib(pid: int) -> float | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    found = re.search(r"VmRSS:\s+(\d+) kB", status)
    return int(found.group(1)) / 1024 if found else None


def crawl(site: str, articles: int, concurrency: int, folder: Path) -> dict[str, float]:
    from crawler.samplesite import SampleSite

    pages = max(SampleSite(articles=articles, seed=1).pages(r.slug) for r in SampleSite(1).regions)
    cmd = [sys.executable, "-m", "crawler", "crawl", "--all-regions", "--mirror", site, "--delay", "0"]
    cmd += ["--concurrency", str(concurrency), "--max-pages", str(pages), "--follow-depth", "2"]
    cmd += ["--db", str(folder / "a.db"), "--set", "ANTARA_PROGRESS_INTERVAL=1"]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    samples: list[tuple[int, float]] = []  # (articles so far, RSS MiB)
    tail: list[str] = []

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            tail.append(line)
            found = PROGRESS.search(line)
            rss = rss_mib(proc.pid)
            if found and rss is not None:
                samples.append((int(found.group(1)), rss))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.monotonic() - started
    reader.join(timeout=10)
    assert proc.stdout is not None
    summary = proc.stdout.read()
    if proc.returncode != 0:
        raise SystemExit(f"crawl failed ({proc.returncode}): {''.join(tail[-20:])}")
    archived = int(re.search(r"(\d+) articles new", summary).group(1))  # type: ignore[union-attr]
    quarter = next((s for s in samples if s[0] >= archived / 4), samples[0] if samples else (0, 0.0))
    last = samples[-1] if samples else (archived, 0.0)
    growth = (last[1] - quarter[1]) / max(1, last[0] - quarter[0]) * 1000
    return {
        "archived": archived,
        "peak": usage.ru_maxrss / 1024,
        "quarter": quarter[1],
        "end": last[1],
        "growth": growth,
        "rate": archived / seconds,
        "seconds": seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    print(f"{'site articles':>13s} {'archived':>9s} {'peak MiB':>9s} {'at 1/4':>7s} {'at end':>7s}"
          f" {'MiB/1k art.':>11s} {'art./s':>7s} {'peak/base':>9s}")  # fmt: skip
    base = None
    for n in sorted(args.articles):
        proc, site = start_site(n)
        try:
            with tempfile.TemporaryDirectory(prefix="antara-memory-bench-") as folder:
                r = crawl(site, n, args.concurrency, Path(folder))
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        base = base or r["peak"]
        print(
            f"{n:>13,} {r['archived']:>9,.0f} {r['peak']:>9.0f} {r['quarter']:>7.0f} {r['end']:>7.0f}"
            f" {r['growth']:>11.2f} {r['rate']:>7.0f} {r['peak'] / base:>9.2f}",
            flush=True,
        )


if __name__ == "__main__":
    main()
