"""Peak memory of ``antara export`` at 100,000 articles against 1,000, for every format.

Run from the project root: .venv/bin/python bench/export_memory.py [--articles 100000] [--baseline 1000]
[--middle 20000] [--repeat 3] [--workdir DIR]

Builds archives from the sample site's truth (``SampleSite(articles=ARTICLES)`` records written through
``archive.Archive.upsert_many``, no HTTP, ~0.5 ms an article): its first BASELINE, MIDDLE and ARTICLES
articles. Then runs the real CLI (``python -m crawler export``) once per format, archive and repeat, each
in its own subprocess, and prints the median peak RSS per size and the ratio ARTICLES/BASELINE.

Peak RSS is the child's ``ru_maxrss`` from ``os.wait4``: the figure ``resource.getrusage(RUSAGE_CHILDREN)``
gives, but for that one child (RUSAGE_CHILDREN keeps the maximum over every child waited for, so it
cannot tell runs apart). With ``--workdir`` the archives are kept there and reused by the next run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from archive import Archive
from crawler import __version__
from crawler.domain.regions import REGIONS
from crawler.samplesite import SampleSite
from crawler.samplesite.records import article_record

ROOT = Path(__file__).resolve().parent.parent
FORMATS = ("jsonl", "csv", "parquet", "dataset")


def build(path: Path, site: SampleSite, count: int) -> float:
    """Write the first ``count`` articles of ``site`` into a new archive at ``path``; seconds taken."""
    started = time.monotonic()
    with Archive(path) as archive:
        archive.sync_regions(r.as_row() for r in REGIONS)
        run = archive.start_run({"bench": "export_memory", "articles": count}, [r.slug for r in REGIONS], __version__)
        archive.upsert_many((article_record(site.article_at(k)) for k in range(count)), run)
        archive.finish_run(run, "finished", "finished", {"articles_new": count})
    return time.monotonic() - started


def archive_of(workdir: Path, site: SampleSite, count: int) -> Path:
    path = workdir / f"archive-{count}.db"
    ready = workdir / f"archive-{count}.ready"
    if path.exists() and ready.exists():
        print(f"reusing {path}", file=sys.stderr)
        return path
    path.unlink(missing_ok=True)
    seconds = build(path, site, count)
    ready.write_text(f"{seconds:.1f}\n")
    print(f"built {path} ({count:,} articles) in {seconds:.0f}s", file=sys.stderr)
    return path


def peak_rss(args: list[str]) -> tuple[float, float]:
    """Run ``python -m crawler ARGS``; its peak RSS in MiB (Linux reports KiB) and wall seconds."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "crawler", *args], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert proc.stderr is not None
    errors = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"antara {' '.join(args)} failed: {errors.decode()[-2000:]}")
    return usage.ru_maxrss / 1024, time.monotonic() - started


def export_rss(db: Path, fmt: str, out: Path, repeat: int) -> tuple[float, float, int]:
    """Median peak RSS (MiB), median seconds and output size in bytes of ``repeat`` exports."""
    rss, secs = [], []
    for _ in range(repeat):
        target = out / f"{db.stem}.{fmt}"
        args = ["export", "--db", str(db), "--format", fmt, "--output", str(target)]
        if fmt == "dataset":
            args.append("--force")
        peak, seconds = peak_rss(args)
        rss.append(peak)
        secs.append(seconds)
    files = [target] if target.is_file() else list(target.iterdir())
    return statistics.median(rss), statistics.median(secs), sum(f.stat().st_size for f in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=100_000, help="the big archive")
    parser.add_argument("--baseline", type=int, default=1_000, help="the small archive the ratio is against")
    parser.add_argument("--middle", type=int, default=20_000, help="a size in between (0: none)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workdir", type=Path, default=None, help="keep (and reuse) the archives here")
    args = parser.parse_args()
    sizes = sorted({args.baseline, args.articles} | ({args.middle} if args.middle else set()))
    with tempfile.TemporaryDirectory(prefix="antara-export-bench-") as scratch:
        workdir = args.workdir or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        site = SampleSite(articles=max(sizes), seed=1)
        archives = {n: archive_of(workdir, site, n) for n in sizes}
        out = Path(scratch) / "out"
        out.mkdir()
        floor, _ = peak_rss(["--version"])
        print(f"antara export, peak RSS in MiB, median of {args.repeat} runs; python -m crawler --version: {floor:.0f}")
        heads = "".join(f"{n:>10,}" for n in sizes)
        print(f"{'format':<8}{heads}  ratio {sizes[-1]:,}/{sizes[0]:,}  seconds at {sizes[-1]:,}  output MiB")
        for fmt in FORMATS:
            results = {n: export_rss(db, fmt, out, args.repeat) for n, db in archives.items()}
            peaks = "".join(f"{results[n][0]:>10.0f}" for n in sizes)
            _, secs, size = results[sizes[-1]]
            ratio = results[sizes[-1]][0] / results[sizes[0]][0]
            print(f"{fmt:<8}{peaks}  {ratio:>17.2f}  {secs:>16.1f}  {size / 2**20:>10.0f}", flush=True)


if __name__ == "__main__":
    main()
