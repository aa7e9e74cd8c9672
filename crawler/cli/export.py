"""``antara export``: stream a selection of the archive to JSONL, CSV, Parquet or a dataset folder."""

from __future__ import annotations

import os
import re
import shlex
import sys
import time
from collections.abc import Iterable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO

import click

from archive.export import ArchiveReader, ExportError, ExportStats, Progress, Record, Selection, export_file
from crawler import __version__
from crawler.domain.regions import UnknownRegion, parse_regions

FORMATS = ("jsonl", "csv", "parquet", "dataset", "wacz")


def _day(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    text = text.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise click.UsageError(f"{option} {text!r} is not a date: use YYYY-MM-DD (the site's local date)")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise click.UsageError(f"{option} {text!r} is not a real date ({exc})") from None


def _selection(
    regions: tuple[str, ...], since: str | None, until: str | None, query: str | None, dedupe: bool = False
) -> Selection:
    try:
        chosen = tuple(r.slug for r in parse_regions(regions))
    except UnknownRegion as exc:
        raise click.UsageError(str(exc)) from None
    first, last = _day(since, "--since"), _day(until, "--until")
    if first is not None and last is not None and last < first:
        raise click.UsageError(f"--until {last} is before --since {first}")
    return Selection(chosen, first, last, query, dedupe)


def _check_output(output: str, fmt: str, force: bool) -> Path | None:
    """The output path (None for stdout), refusing what cannot or should not be written."""
    if output == "-":
        if fmt not in ("jsonl", "csv"):
            raise click.UsageError(f"--output - (stdout) works for jsonl and csv only; give a path for {fmt}")
        return None
    path = Path(output)
    if not path.parent.is_dir():
        raise click.UsageError(f"--output {output}: folder {path.parent} does not exist")
    if fmt == "dataset":
        if path.exists() and not path.is_dir():
            raise click.UsageError(f"--output {output} is a file; a dataset is a folder")
        if path.exists() and not force:
            raise click.UsageError(f"--output {output} already exists; pass --force to replace its dataset files")
    elif path.is_dir():
        raise click.UsageError(f"--output {output} is a folder; give a file name for {fmt}")
    return path


def _progress(total: int) -> Progress:
    """A tqdm bar on stderr, cleared when done; 80x24 where the terminal reports no size (tqdm would hide)."""
    from tqdm import tqdm

    size = os.get_terminal_size(sys.stderr.fileno())
    sized = size.columns > 0 and size.lines > 0

    def wrap(records: Iterable[Record]) -> Iterable[Record]:
        return tqdm(
            records,
            total=total,
            unit=" articles",
            file=sys.stderr,
            leave=False,
            dynamic_ncols=sized,
            ncols=None if sized else 80,
            nrows=None if sized else 24,
        )

    return wrap


def _summary(stats: ExportStats, where: str, seconds: float) -> str:
    top = [slug for slug, _ in stats.regions.most_common()]
    regions = ", ".join(top[:5]) + (f" and {len(top) - 5} more" if len(top) > 5 else "")
    if stats.count:
        span = f"{regions}; published {stats.first_day} to {stats.last_day}"
    else:
        span = "nothing matched"
    return f"Exported {stats.count:,} articles ({span}) to {where} in {seconds:.1f}s"


@click.command("export")
@click.option(
    "--db", default="archive.db", show_default=True, type=click.Path(dir_okay=False), help="Archive SQLite file."
)
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="Output format.")
@click.option(
    "--region", "regions", multiple=True, metavar="SLUG[,SLUG]", help="Region slug(s); repeatable, comma-separated."
)
@click.option("--since", default=None, metavar="DATE", help="Published on or after this local date (YYYY-MM-DD).")
@click.option("--until", default=None, metavar="DATE", help="Published on or before this local date (YYYY-MM-DD).")
@click.option("--query", default=None, metavar="FTS", help="Full-text query over title and body (SQLite FTS5).")
@click.option("-o", "--output", required=True, metavar="PATH", help="File, dataset folder, or - for stdout.")
@click.option("--force", is_flag=True, help="Replace the dataset files in an existing --output folder.")
@click.option(
    "--dedupe",
    is_flag=True,
    help="One article per story (a story republished by several sites): its earliest selected article.",
)
def export(
    db: str,
    fmt: str,
    regions: tuple[str, ...],
    since: str | None,
    until: str | None,
    query: str | None,
    output: str,
    force: bool,
    dedupe: bool,
) -> None:
    """Export articles with their tags and "Baca juga" links as JSONL, CSV, Parquet or a dataset folder,
    or their captured pages as a WACZ web archive (ReplayWeb.page, pywb).

    Streams the archive, so memory stays flat however many articles it holds.

    \b
    Examples:
      antara export --format jsonl --output - | head -1
      antara export --format csv --region kalteng,kalsel --since 2026-11-01 --output kalimantan.csv
      antara export --format parquet --query 'banjir OR longsor' --output banjir.parquet
      antara export --format jsonl --dedupe --since 2026-11-01 --output stories.jsonl
      antara export --format dataset --until 2026-11-30 --output antara-2026-11
      antara export --format wacz --region kalteng --since 2026-11-01 --output kalteng.wacz
    """
    selection = _selection(regions, since, until, query, dedupe)
    target = _check_output(output, fmt, force)
    if fmt == "wacz":
        assert target is not None
        _wacz(db, selection, target)
        return
    started = time.monotonic()
    try:
        reader = ArchiveReader(db)
    except ExportError as exc:
        raise click.UsageError(str(exc)) from None
    with reader:
        try:
            reader.check(selection)
            progress = _progress(reader.count(selection)) if sys.stderr.isatty() else None
        except ExportError as exc:
            raise click.UsageError(str(exc)) from None
        stats = _run(reader, selection, fmt, target, progress, force)
    where = str(target) if target is not None else "stdout"
    click.echo(_summary(stats, where, time.monotonic() - started), err=True)


def _run(
    reader: ArchiveReader, selection: Selection, fmt: str, target: Path | None, progress: Progress | None, force: bool
) -> ExportStats:
    try:
        if fmt == "dataset":
            assert target is not None
            return _dataset(reader, selection, target, progress, force)
        sink: Path | IO[bytes] = target if target is not None else sys.stdout.buffer
        stats = export_file(reader, selection, fmt, sink, progress)
        if target is None:
            sys.stdout.buffer.flush()
        return stats
    except BrokenPipeError:
        # The reader of stdout went away (e.g. `| head`): stop quietly, as other filters do.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(1)
    except ExportError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        where = exc.filename or (target if target is not None else "stdout")
        raise click.ClickException(f"cannot write {where}: {exc.strerror or exc}") from None


def _dataset(
    reader: ArchiveReader, selection: Selection, folder: Path, progress: Progress | None, force: bool
) -> ExportStats:
    from archive.dataset import Provenance, export_dataset

    provenance = Provenance(
        tool=f"antara-archive {__version__}",
        exported_at=datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
        command=_command(selection, folder),
    )
    return export_dataset(reader, selection, folder, provenance, progress, replace=force)


def _command(selection: Selection, folder: Path) -> str:
    """The export command for the card, without local paths other than the folder's name."""
    words = ["antara", "export", "--format", "dataset"]
    if selection.regions:
        words += ["--region", ",".join(selection.regions)]
    if selection.since is not None:
        words += ["--since", selection.since.isoformat()]
    if selection.until is not None:
        words += ["--until", selection.until.isoformat()]
    if selection.query is not None:
        words += ["--query", selection.query]
    if selection.dedupe:
        words.append("--dedupe")
    words += ["--output", folder.name]
    return shlex.join(words)


def _wacz(db: str, selection: Selection, target: Path) -> None:
    """The selected articles' WARC records as a WACZ package (docs/export.md, "WACZ")."""
    from archive.wacz import WaczError, write_wacz

    if selection.query is not None:
        raise click.UsageError("--query does not apply to --format wacz (choose by --region, --since, --until)")
    if selection.dedupe:
        raise click.UsageError("--dedupe does not apply to --format wacz (it packs every selected capture)")
    bar = None
    if sys.stderr.isatty():
        from tqdm import tqdm

        bar = tqdm(total=0, unit="B", unit_scale=True, file=sys.stderr, leave=False)

    def progress(done: int, total: int) -> None:
        assert bar is not None
        bar.total = total
        bar.update(done - bar.n)

    try:
        summary = write_wacz(
            db,
            target,
            selection.regions,
            selection.since,
            selection.until,
            progress if bar is not None else None,
            software=f"antara-archive {__version__}",
        )
    except WaczError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"cannot write {exc.filename or target}: {exc.strerror or exc}") from None
    finally:
        if bar is not None:
            bar.close()
    span = f"published {summary.first_day} to {summary.last_day}"
    skipped = f"; {summary.without_capture:,} without a WARC record left out" if summary.without_capture else ""
    click.echo(
        f"Exported {summary.articles:,} articles ({span}{skipped}) to {target} in {summary.seconds:.1f}s:"
        f" {summary.records:,} WARC records, {summary.bytes:,} bytes",
        err=True,
    )
