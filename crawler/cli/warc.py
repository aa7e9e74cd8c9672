"""``antara show-capture``, ``antara reextract`` and ``antara cdx``: the archive's WARC files at work."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from archive import Archive, ArchiveError
from archive.warc import Capture, WarcError, read_capture, warc_files
from crawler.extraction.urls import parse_article_url


def warc_dir(db: str, given: str | None = None, archive: Archive | None = None) -> Path:
    """Where an archive's WARC files are: ``--warc-dir``, else where its crawls wrote them
    (``archive_meta.warc_dir``, if that folder still exists), else ``{db}.warc``."""
    if given:
        return Path(given)
    recorded = archive.meta("warc_dir") if archive is not None else None
    if recorded and Path(recorded).is_dir():
        return Path(recorded)
    return Path(f"{db}.warc")


def _open(db: str) -> Archive:
    if not Path(db).exists():
        raise click.UsageError(f"--db {db}: no such archive")
    try:
        return Archive(db, readonly=True)
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None


def _chosen_capture(archive: Archive, url: str) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(the capture to show, every capture of the page): for an archived article, the record its
    row was extracted from (the article may be named by any of its URLs); else the latest one."""
    ref = parse_article_url(url)
    row = None
    if ref is not None:
        found = archive.db.execute(
            "SELECT url, warc_record_id FROM articles WHERE site = ? AND article_id = ?", [ref.host, ref.article_id]
        ).fetchone()
        row = found if found else None
    listed = archive.captures_of(row[0] if row else url)
    if not listed and ref is not None:
        listed = archive.captures_of(ref.url)
    if row is not None and row[1]:
        chosen = archive.capture(row[1])
        if chosen is not None:
            return chosen, listed
    return (listed[-1] if listed else None), listed


def _read(folder: Path, row: dict[str, Any]) -> Capture:
    path = folder / row["warc_file"]
    if not path.exists():
        raise click.ClickException(f"WARC file {path} is missing (give its folder with --warc-dir)")
    try:
        return read_capture(path, row["warc_offset"])
    except WarcError as exc:
        raise click.ClickException(str(exc)) from None


@click.command("show-capture")
@click.argument("url")
@click.option("--db", default="archive.db", show_default=True, type=click.Path(dir_okay=False), help="Archive file.")
@click.option("--warc-dir", default=None, type=click.Path(file_okay=False), help="Folder of the WARC files.")
@click.option("--list", "list_all", is_flag=True, help="List every capture of the page instead.")
@click.option("--headers", "headers_only", is_flag=True, help="Status line and headers only.")
@click.option("--raw", is_flag=True, help="The HTTP response exactly as stored (bytes, still compressed if sent so).")
def show_capture(url: str, db: str, warc_dir: str | None, list_all: bool, headers_only: bool, raw: bool) -> None:
    """Print the captured HTTP response of URL from the archive's WARC files.

    For an archived article (named by any of its URLs) it is the response the row was
    extracted from; for any other page, its latest capture. The body is printed with its
    transfer and content codings undone; --raw writes the stored bytes instead.

    \b
    Examples:
      antara show-capture https://kalteng.antaranews.com/berita/612837/x --db archive.db
      antara show-capture https://kalteng.antaranews.com/terkini --list
      antara show-capture https://kalteng.antaranews.com/berita/612837/x --raw > response.http
    """
    archive = _open(db)
    try:
        folder = _warc_dir_checked(db, warc_dir, archive)
        chosen, listed = _chosen_capture(archive, url)
        if list_all:
            if not listed:
                raise click.ClickException(f"no capture of {url} in {db}")
            for row in listed:
                click.echo(
                    f"{row['fetched_at']}  {row['record_type']:<8} {row['status'] or '-':>3}  {row['payload_digest']}"
                    f"  {row['warc_file']}:{row['warc_offset']}+{row['warc_length']}  {row['url']}"
                )
            return
        if chosen is None:
            raise click.ClickException(f"no capture of {url} in {db} (was it crawled with WARC capture on?)")
        capture = _read(folder, chosen)
        note = ""
        if capture.record.record_type == "revisit":
            original = archive.capture(capture.record.refers_to or "")
            if original is None:
                raise click.ClickException(f"the revisit {capture.record.record_id} refers to an unknown record")
            capture = capture.with_payload_of(_read(folder, original))
            note = f"; payload from {original['warc_record_id']} of {original['fetched_at']} (identical)"
    finally:
        archive.close()
    out = sys.stdout.buffer
    if raw:
        out.write(capture.head + capture.payload)
        out.flush()
        return
    record = capture.record
    codings = [v for k in ("Transfer-Encoding", "Content-Encoding") if (v := _header(capture.payload_headers, k))]
    if codings and not headers_only:
        note += f"; body shown decoded ({', '.join(codings)})"
    click.echo(
        f"# {record.record_type} {record.record_id} {record.url}\n"
        f"# {record.file} offset {record.offset} length {record.length}, WARC-Date {record.date},"
        f" payload {record.payload_digest}{note}",
        err=True,
    )
    out.write(capture.head)
    if not headers_only:
        out.write(capture.body())
    out.flush()


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def _warc_dir_checked(db: str, given: str | None, archive: Archive) -> Path:
    folder = warc_dir(db, given, archive)
    if given and not folder.is_dir():
        raise click.UsageError(f"--warc-dir {given}: no such folder")
    return folder


def _files(db: str | None, warc: tuple[str, ...], warc_dir_option: str | None) -> list[Path]:
    """The WARC files named (files or folders), else every file of the archive's WARC folder."""
    found: list[Path] = []
    for name in warc:
        path = Path(name)
        if path.is_dir():
            found.extend(warc_files(path))
        elif path.is_file():
            found.append(path)
        else:
            raise click.UsageError(f"--warc {name}: no such file or folder")
    if warc:
        return found
    if db is None:
        raise click.UsageError("give WARC files with --warc, or the archive with --db")
    archive = _open(db) if Path(db).exists() else None
    try:
        folder = warc_dir(db, warc_dir_option, archive)
    finally:
        if archive is not None:
            archive.close()
    found = warc_files(folder)
    if not found:
        raise click.UsageError(f"no WARC files in {folder}")
    return found


@click.command()
@click.option("--warc", multiple=True, metavar="PATH", help="WARC file or folder; repeatable.")
@click.option("--db", required=True, type=click.Path(dir_okay=False), help="Archive to rebuild or update.")
@click.option("-q", "--quiet", is_flag=True, help="Only the summary.")
def reextract(warc: tuple[str, ...], db: str, quiet: bool) -> None:
    """Rebuild or update the articles of an archive from WARC files alone, without the network.

    Each response at an article URL is extracted again with this version's extraction code
    and stored as a crawl would have stored it then (times from the WARC records). Into a
    new file it rebuilds the archive; into an existing one, each row is re-derived from the
    record it names (no new version) and newer records are stored as new observations.
    The captures index is rebuilt too. WARC files must not be written meanwhile.

    \b
    Examples:
      antara reextract --warc archive.db.warc --db rebuilt.db
      antara reextract --warc archive.db.warc --db archive.db      # after an extractor update
    """
    paths = _files(None, warc, None) if warc else _files(db, (), None)
    from crawler.domain.lock import LockHeld, hold_lock
    from crawler.replay.reextract import reextract as run

    if Path(db).parent and not Path(db).resolve().parent.is_dir():
        raise click.UsageError(f"--db {db}: folder {Path(db).parent} does not exist")
    try:
        lock = hold_lock(db)
    except LockHeld as exc:
        raise click.ClickException(str(exc)) from None
    try:
        outcome = run(db, paths, progress=None if quiet else lambda line: click.echo(line, err=True))
    except (WarcError, ArchiveError) as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        lock.close()
    click.echo(f"{outcome.summary()} -> {db} (run {outcome.run_id})")


@click.command()
@click.option("--db", default=None, type=click.Path(dir_okay=False), help="Index this archive's WARC folder.")
@click.option("--warc", multiple=True, metavar="PATH", help="WARC file or folder to index instead; repeatable.")
@click.option("--warc-dir", default=None, type=click.Path(file_okay=False), help="The archive's WARC folder.")
@click.option("-o", "--output", default="-", show_default=True, help="CDXJ file to write; - for stdout.")
def cdx(db: str | None, warc: tuple[str, ...], warc_dir: str | None, output: str) -> None:
    """Write a sorted CDXJ index of WARC files, as pywb and other replay tools read it.

    \b
    Examples:
      antara cdx --db archive.db -o index.cdxj
      antara cdx --warc archive.db.warc/antara-20261128070938123-00000-host-4242.warc.gz
    """
    from archive.cdx import sorted_cdxj

    if db is None and not warc:
        db = "archive.db"
    paths = _files(db, warc, warc_dir)
    try:
        lines = sorted_cdxj(paths)
    except WarcError as exc:
        raise click.ClickException(str(exc)) from None
    text = "".join(f"{line}\n" for line in lines)
    if output == "-":
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
        click.echo(f"{len(lines)} captures from {len(paths)} WARC file(s) -> {output}", err=True)
