"""Throughput of a distributed crawl with 1 and 2 workers against the sample site, on loopback.

Starts its own redis-server and an ``antara sample-site`` process, then per configuration
and repetition: a fresh Redis database and archive, ``antara seed``, one ``antara ingest``,
N ``antara crawl --distributed`` workers (politeness off: ``--delay 0``), and waits for all
to exit. Throughput is pages fetched (summed over workers) over the run's
``crawl_runs.elapsed_seconds`` (from the seed until the ingester closed the run, so it
includes starting the workers, their last idle wait and draining the items): end to end, an
archive complete. The single-process ``antara crawl`` of the same workload is the reference.

    .venv/bin/python -m bench.distributed [--runs 3] [--articles 20000]   # from the repository root

``--politeness`` measures something else: the spacing of requests per host, as the sample site
sees them arrive, with 3 workers at ``--delay 0.2`` (``--concurrency 4``), with the shared
per-host limiter in Redis and without it (``-s ANTARA_SHARED_POLITENESS=0``, each worker then
keeping only its own Scrapy slot per host):

    .venv/bin/python -m bench.distributed --politeness [--workers 3] [--delay 0.2]
"""

from __future__ import annotations

import argparse
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
WORKLOAD = ("--all-regions", "--max-pages", "2", "--follow-depth", "1")
FAST = ("--delay", "0", "--concurrency", "8", "-q")
POLITENESS_WORKLOAD = ("--region", "kalteng,kalsel", "--max-pages", "4", "--follow-depth", "0")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cli(*args: str, **kwargs: object) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "SCRAPY_SETTINGS_MODULE"}
    return subprocess.Popen(
        [sys.executable, "-m", "crawler", *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        **kwargs,  # type: ignore[arg-type]
    )


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a live process used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_cpu(process: subprocess.Popen[bytes], timeout: float) -> float:
    """Wait for ``process`` and return the CPU seconds it used (from wait4's rusage)."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            process.returncode = os.waitstatus_to_exitcode(status)
            if process.returncode != 0:
                raise RuntimeError(f"{process.args} exited with {process.returncode}")
            return float(usage.ru_utime + usage.ru_stime)
        if time.monotonic() > deadline:
            raise RuntimeError(f"{process.args} still running")
        time.sleep(0.05)


#: CPU seconds per role, summed over the runs of one configuration
CPU: dict[str, dict[str, float]] = {}


def run_row(db: Path) -> tuple[int, float, int]:
    conn = sqlite3.connect(db)
    try:
        pages, elapsed, new = conn.execute(
            "SELECT pages_fetched, elapsed_seconds, articles_new FROM crawl_runs ORDER BY id DESC"
        ).fetchone()
    finally:
        conn.close()
    return int(pages), float(elapsed), int(new)


def worker(redis_url: str, mirror: str, folder: Path, *args: str) -> subprocess.Popen[bytes]:
    """One distributed worker of the seeded run, closing half a second after the work runs out."""
    return cli(
        "crawl", "--distributed", "--redis", redis_url, "--mirror", mirror, *args,
        "-s", "ANTARA_IDLE_CLOSE=0.5", "-s", f"HTTPCACHE_DIR={folder / 'robots-cache'}",
    )  # fmt: skip


def distributed_run(
    redis_url: str, client: redis.Redis, mirror: str, workers: int, folder: Path, others: dict[str, int]
) -> tuple[int, float, int]:
    client.flushall()
    before = {name: cpu_of(pid) for name, pid in others.items()}
    db = folder / f"distributed-{workers}-{time.monotonic_ns()}.db"
    ingester = cli("ingest", "--redis", redis_url, "--db", str(db), "-q")
    if cli("seed", "--redis", redis_url, *WORKLOAD).wait(timeout=120) != 0:
        raise RuntimeError("seed failed")
    crew = [worker(redis_url, mirror, folder, *FAST) for _ in range(workers)]
    cpu = CPU.setdefault(f"{workers} worker{'s' if workers > 1 else ''}", {})
    cpu["workers"] = cpu.get("workers", 0.0) + sum(wait_cpu(p, 900) for p in crew)
    cpu["ingester"] = cpu.get("ingester", 0.0) + wait_cpu(ingester, 900)
    for name, pid in others.items():
        cpu[name] = cpu.get(name, 0.0) + cpu_of(pid) - before[name]
    return run_row(db)


def local_run(mirror: str, folder: Path, others: dict[str, int]) -> tuple[int, float, int]:
    db = folder / f"local-{time.monotonic_ns()}.db"
    before = {name: cpu_of(pid) for name, pid in others.items()}
    cpu = CPU.setdefault("single process", {})
    cpu["crawl"] = cpu.get("crawl", 0.0) + wait_cpu(
        cli("crawl", *WORKLOAD, "--db", str(db), "--mirror", mirror, *FAST), 900
    )
    for name, pid in others.items():
        cpu[name] = cpu.get(name, 0.0) + cpu_of(pid) - before[name]
    return run_row(db)


def politeness_run(redis_url: str, client: redis.Redis, workers: int, delay: float, shared: bool, folder: Path) -> None:
    """One run of ``workers`` workers on two hosts; prints each host's request spacing."""
    from crawler.samplesite import SampleSite, make_server

    client.flushall()
    server = make_server(SampleSite(3000, 7), port=0)
    server.arrivals = arrivals = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        if cli("seed", "--redis", redis_url, *POLITENESS_WORKLOAD).wait(timeout=120) != 0:
            raise RuntimeError("seed failed")
        crew = [
            worker(
                redis_url,
                server.base_url,
                folder,
                "--delay",
                str(delay),
                "--concurrency",
                "4",
                "-q",
                "-s",
                f"ANTARA_SHARED_POLITENESS={int(shared)}",
            )  # fmt: skip
            for _ in range(workers)
        ]
        for process in crew:
            wait_cpu(process, 300)
    finally:
        server.shutdown()
        server.server_close()
    times: dict[str, list[float]] = defaultdict(list)
    for when, target in sorted(arrivals):
        times[target.lstrip("/").split("/", 1)[0]].append(when)
    label = "shared limiter" if shared else "per-worker slots only"
    for host, seen in sorted(times.items()):
        if len(seen) < 3:
            continue
        gaps = sorted(b - a for a, b in zip(seen, seen[1:], strict=False))
        under = sum(1 for g in gaps if g < 0.9 * delay)
        print(
            f"{label:<22} {host:<23} {len(seen):3d} requests, {(len(seen) - 1) / (seen[-1] - seen[0]):5.2f}/s;"
            f" gap min {gaps[0]:.3f}s, median {statistics.median(gaps):.3f}s;"
            f" {under} of {len(gaps)} under 0.9 x {delay}s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--articles", type=int, default=20000)
    parser.add_argument("--politeness", action="store_true", help="measure per-host request spacing instead")
    parser.add_argument("--workers", type=int, default=3, help="workers of a --politeness run")
    parser.add_argument("--delay", type=float, default=0.2, help="DOWNLOAD_DELAY of a --politeness run")
    args = parser.parse_args()
    if args.politeness:
        politeness(args.workers, args.delay)
        return
    folder = Path(tempfile.mkdtemp(prefix="antara-distributed-bench-"))
    redis_port, site_port = free_port(), free_port()
    server = subprocess.Popen(
        ["/usr/bin/redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    site = cli("sample-site", "--port", str(site_port), "--articles", str(args.articles))
    redis_url, mirror = f"redis://127.0.0.1:{redis_port}/0", f"http://127.0.0.1:{site_port}"
    client = redis.Redis(port=redis_port)
    try:
        time.sleep(2)
        client.ping()
        others = {"sample site": site.pid, "redis": server.pid}
        print(f"workload: {' '.join(WORKLOAD)}; sample site {args.articles} articles; {os.cpu_count()} CPUs")
        print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
        results: dict[str, list[tuple[int, float, int]]] = {"single process": [], "1 worker": [], "2 workers": []}
        for _ in range(args.runs):
            results["single process"].append(local_run(mirror, folder, others))
            results["1 worker"].append(distributed_run(redis_url, client, mirror, 1, folder, others))
            results["2 workers"].append(distributed_run(redis_url, client, mirror, 2, folder, others))
        base = None
        for name, runs in results.items():
            rate = statistics.median(pages / elapsed for pages, elapsed, _ in runs)
            base = base or rate
            pages, _, new = runs[0]
            print(
                f"{name:<15} {rate:6.1f} pages/s (median of {len(runs)}; {pages} pages, {new} articles;"
                f" elapsed {', '.join(f'{e:.1f}' for _, e, _ in runs)} s) x{rate / base:.2f}"
            )
            used = ", ".join(f"{role} {seconds / len(runs):.1f}" for role, seconds in CPU[name].items())
            print(f"{'':<15} CPU seconds per run: {used}")
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
    finally:
        site.terminate()
        server.terminate()
        site.wait(timeout=10)
        server.wait(timeout=10)


def politeness(workers: int, delay: float) -> None:
    folder = Path(tempfile.mkdtemp(prefix="antara-politeness-bench-"))
    port = free_port()
    server = subprocess.Popen(
        ["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        time.sleep(1)
        client.ping()
        print(f"{workers} workers, --delay {delay}, --concurrency 4; {' '.join(POLITENESS_WORKLOAD)}")
        print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
        for shared in (True, False):
            politeness_run(f"redis://127.0.0.1:{port}/0", client, workers, delay, shared, folder)
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    main()
