"""WACZ 1.1.1 packages of archived articles: their WARC records copied byte for byte, a CDXJ index,
a page list and a hashed datapackage, as ReplayWeb.page and pywb open them. No Scrapy here."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
import zipfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import IO, Any

from archive.cdx import cdxj_line
from archive.export import Selection
from archive.warc import DEFAULT_MAX_SIZE, Record

WACZ_VERSION = "1.1.1"
#: Bytes copied per read when a record is large.
CHUNK = 1 << 20
#: Where the WARC files, the index and the page list go inside the package.
INDEX_PATH = "indexes/index.cdx"
PAGES_PATH = "pages/pages.jsonl"

#: ``progress(bytes_copied, bytes_total)``: called as the WARC records are copied
Progress = Callable[[int, int], None]


class WaczError(Exception):
    """The package cannot be written (archive unreadable, a WARC file missing); the message says why."""


@dataclass
class WaczSummary:
    """What a package holds."""

    path: Path
    articles: int = 0  #: articles listed in pages.jsonl
    records: int = 0  #: WARC records copied (warcinfo, responses, revisits, requests)
    warc_files: list[str] = field(default_factory=list)  #: the packaged WARC files, ``archive/...``
    sources: int = 0  #: the archive's WARC files the records came from
    warc_bytes: int = 0  #: bytes of the packaged WARC files
    bytes: int = 0  #: size of the .wacz file
    without_capture: int = 0  #: selected articles left out: no WARC record of theirs is indexed
    first_day: str | None = None  #: earliest local publication date of the listed articles
    last_day: str | None = None
    seconds: float = 0.0


def write_wacz(
    db_path: str | Path,
    out_path: str | Path,
    regions: Iterable[str] | None = None,
    since: date | None = None,
    until: date | None = None,
    progress: Progress | None = None,
    warc_dir: str | Path | None = None,
    max_warc_size: int = DEFAULT_MAX_SIZE,
    title: str | None = None,
    software: str = "antara-archive",
) -> WaczSummary:
    """Write the articles of the archive at ``db_path`` chosen by region slugs and local publication
    dates (``until`` inclusive) as a WACZ package at ``out_path``.

    For each article: every WARC record of its URL (and of the URL its row was extracted from),
    responses, revisits and requests, plus the response each revisit refers to; each source WARC
    file's ``warcinfo`` record comes before its records. Records are copied byte for byte into
    ``archive/*.warc.gz`` (stored, a new file past ``max_warc_size``), in source order. Articles
    with no indexed record are left out and counted. The WARC folder is ``warc_dir``, else where
    the crawls wrote (``archive_meta.warc_dir``), else ``{db}.warc``. Nothing is written at
    ``out_path`` unless the whole package is.
    """
    started = time.monotonic()
    out = Path(out_path)
    selection = Selection(tuple(regions or ()), since, until)
    summary = WaczSummary(out)
    with closing(_connect(Path(db_path))) as conn:
        folder = _warc_folder(conn, Path(db_path), warc_dir)
        summary.without_capture = _choose(conn, selection)
        summary.articles = conn.execute("SELECT count(*) FROM temp.chosen").fetchone()[0]
        if summary.articles == 0:
            found = summary.without_capture
            raise WaczError(
                f"no article to package ({selection.describe()}): "
                + (f"none of the {found} matching articles has a WARC record" if found else "none matches")
            )
        total = _check_sources(conn, folder)
        summary.sources = conn.execute("SELECT count(DISTINCT warc_file) FROM temp.picked").fetchone()[0]
        created = datetime.now(timezone.utc).replace(microsecond=0)
        partial = out.with_name(out.name + ".part")
        try:
            with zipfile.ZipFile(partial, "w", allowZip64=True) as package:
                resources = [_write_pages(package, conn, summary)]
                stamp = created.strftime("%Y%m%d%H%M%S")
                resources += _write_warcs(conn, folder, package, stamp, max_warc_size, total, progress, summary)
                resources.append(_write_index(package, conn))
                datapackage = _datapackage(resources, created, title or _title(selection), software)
                package.writestr(_entry("datapackage.json", zipfile.ZIP_DEFLATED), datapackage)
                digest = {"path": "datapackage.json", "hash": "sha256:" + hashlib.sha256(datapackage).hexdigest()}
                package.writestr(_entry("datapackage-digest.json", zipfile.ZIP_DEFLATED), _json_bytes(digest))
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    summary.bytes = out.stat().st_size
    summary.seconds = time.monotonic() - started
    return summary


# -- choosing --------------------------------------------------------------------------------


def _connect(db: Path) -> sqlite3.Connection:
    """A read-only snapshot of the archive (temporary tables live in SQLite's temp store)."""
    if not db.is_file():
        raise WaczError(f"archive {db} does not exist")
    try:
        conn = sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None)
        conn.execute("BEGIN")
        tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError as exc:
        raise WaczError(f"cannot read {db} as an archive: {exc}") from None
    for table, why in (
        ("articles", "an antara archive"),
        ("captures", "indexed WARC records (crawled with --no-warc?)"),
    ):
        if table not in tables:
            conn.close()
            raise WaczError(f"{db} has no {table} table: it is not {why}")
    return conn


def _warc_folder(conn: sqlite3.Connection, db: Path, given: str | Path | None) -> Path:
    if given is not None:
        return Path(given)
    tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if "archive_meta" in tables:
        row = conn.execute("SELECT value FROM archive_meta WHERE key = 'warc_dir'").fetchone()
        if row and row[0] and Path(row[0]).is_dir():
            return Path(row[0])
    return Path(f"{db}.warc")


def _choose(conn: sqlite3.Connection, selection: Selection) -> int:
    """Fill ``temp.chosen`` (articles with a record) and ``temp.picked`` (captures ids to copy);
    return how many selected articles have no indexed record."""
    where, params = selection.where()
    conn.execute(
        "CREATE TEMP TABLE chosen (url TEXT PRIMARY KEY, site TEXT, article_id INTEGER, title TEXT,"
        " published_at TEXT, record_url TEXT, ts TEXT, record_id TEXT)"
    )
    conn.execute(
        "INSERT INTO temp.chosen SELECT a.url, a.site, a.article_id, a.title, a.published_at,"
        " (SELECT c.url FROM captures c WHERE c.warc_record_id = a.warc_record_id),"
        " (SELECT c.fetched_at FROM captures c WHERE c.warc_record_id = a.warc_record_id),"
        f" a.warc_record_id FROM articles a{where}",
        params,
    )
    missing = conn.execute("DELETE FROM temp.chosen WHERE record_url IS NULL").rowcount
    conn.execute("CREATE TEMP TABLE picked (id INTEGER PRIMARY KEY, warc_file TEXT, warc_offset INTEGER)")
    pick = "INSERT OR IGNORE INTO temp.picked SELECT c.id, c.warc_file, c.warc_offset FROM captures c"
    conn.execute(f"{pick} WHERE c.url IN (SELECT url FROM temp.chosen UNION SELECT record_url FROM temp.chosen)")
    # the responses revisits refer to (another URL for an image or an article under another slug), with their
    # request records
    conn.execute(f"{pick} JOIN captures r ON r.refers_to = c.warc_record_id WHERE r.id IN (SELECT id FROM temp.picked)")
    conn.execute(
        f"{pick} JOIN captures o ON o.url = c.url AND o.fetched_at = c.fetched_at AND o.warc_file = c.warc_file"
        " WHERE c.record_type = 'request' AND o.id IN (SELECT id FROM temp.picked)"
    )
    # each source file's warcinfo record, written before its other records
    conn.execute(
        f"{pick} WHERE c.record_type = 'warcinfo' AND c.warc_file IN (SELECT DISTINCT warc_file FROM temp.picked)"
    )
    conn.execute("CREATE INDEX temp.picked_order ON picked (warc_file, warc_offset)")
    return int(missing)


def _check_sources(conn: sqlite3.Connection, folder: Path) -> int:
    """Bytes to copy; raise :class:`WaczError` for a source WARC file that is missing or too short."""
    total = 0
    for name, records, end, size in conn.execute(
        "SELECT c.warc_file, count(*), max(c.warc_offset + c.warc_length), sum(c.warc_length)"
        " FROM captures c JOIN temp.picked p ON p.id = c.id GROUP BY c.warc_file ORDER BY c.warc_file"
    ):
        path = folder / name
        if not path.is_file():
            raise WaczError(
                f"WARC file {name} is missing from {folder}: it holds {records} records of the selected articles"
                " (give the folder that holds it with --warc-dir, or restore the file)"
            )
        if path.stat().st_size < end:
            raise WaczError(
                f"WARC file {path} is shorter ({path.stat().st_size:,} bytes) than its records need ({end:,})"
            )
        total += int(size)
    return total


# -- writing ---------------------------------------------------------------------------------


@dataclass
class _Resource:
    path: str
    sha256: str
    bytes: int


class _Hashed:
    """A zip entry being written, with the SHA-256 and size of what went in."""

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        self.hash = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes) -> None:
        self.stream.write(data)
        self.hash.update(data)
        self.size += len(data)

    def resource(self, path: str) -> _Resource:
        return _Resource(path, self.hash.hexdigest(), self.size)


def _entry(name: str, compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, datetime.now(timezone.utc).timetuple()[:6])
    info.compress_type = compression
    return info


def _json_bytes(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8")


def _write_pages(package: zipfile.ZipFile, conn: sqlite3.Connection, summary: WaczSummary) -> _Resource:
    """``pages/pages.jsonl``: a header, then each article: the URL and time of the capture its row came from
    (the URL as fetched, which replays; it can differ from the canonical one, e.g. in its slug), its title."""
    with package.open(_entry(PAGES_PATH, zipfile.ZIP_DEFLATED), "w", force_zip64=True) as stream:
        out = _Hashed(stream)
        out.write(json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "Articles"}).encode() + b"\n")
        rows = conn.execute(
            "SELECT record_url, ts, title, published_at, record_id FROM temp.chosen ORDER BY site, article_id"
        )
        for url, ts, title, published_at, record_id in rows:
            page = {"id": _page_id(record_id, url), "url": url, "ts": ts, "title": title}
            out.write(json.dumps(page, ensure_ascii=False).encode("utf-8") + b"\n")
            day = str(published_at)[:10]
            summary.first_day = day if summary.first_day is None else min(summary.first_day, day)
            summary.last_day = day if summary.last_day is None else max(summary.last_day, day)
        return out.resource(PAGES_PATH)


def _page_id(record_id: str | None, url: str) -> str:
    """The record's uuid (unique per capture), else a hash of the URL."""
    if record_id and record_id.startswith("<urn:uuid:"):
        return record_id.removeprefix("<urn:uuid:").removesuffix(">")
    return hashlib.sha1(url.encode("utf-8")).hexdigest()


def _picked(conn: sqlite3.Connection) -> Iterator[sqlite3.Row]:
    cursor = conn.execute(
        "SELECT c.* FROM temp.picked p JOIN captures c ON c.id = p.id ORDER BY p.warc_file, p.warc_offset"
    )
    cursor.row_factory = sqlite3.Row
    try:
        yield from cursor
    finally:
        cursor.close()


def _write_warcs(
    conn: sqlite3.Connection,
    folder: Path,
    package: zipfile.ZipFile,
    stamp: str,
    max_size: int,
    total: int,
    progress: Progress | None,
    summary: WaczSummary,
) -> list[_Resource]:
    """Copy the picked records into ``archive/antara-{stamp}-{n}.warc.gz`` files; index them in ``temp.cdx``."""
    conn.execute("CREATE TEMP TABLE cdx (line TEXT)")
    source_name: str | None = None
    source: IO[bytes] | None = None
    source_path = folder
    entry: IO[bytes] | None = None
    out: _Hashed | None = None
    name = ""
    lines: list[tuple[str]] = []
    copied = 0

    resources: list[_Resource] = []

    def finish() -> None:
        assert entry is not None and out is not None
        entry.close()
        summary.warc_files.append(name)
        summary.warc_bytes += out.size
        resources.append(out.resource(name))

    try:
        for row in _picked(conn):
            if row["warc_file"] != source_name:
                if source is not None:
                    source.close()
                source_name = row["warc_file"]
                source_path = folder / row["warc_file"]
                try:
                    source = open(source_path, "rb")  # noqa: SIM115 (closed when the next file opens)
                except OSError as exc:
                    raise WaczError(f"cannot read WARC file {source_path}: {exc.strerror or exc}") from None
            if out is None or (out.size >= max_size and row["record_type"] != "request"):
                if out is not None:
                    finish()
                name = f"archive/antara-{stamp}-{len(summary.warc_files):05d}.warc.gz"
                entry = package.open(_entry(name, zipfile.ZIP_STORED), "w", force_zip64=True)
                out = _Hashed(entry)
            assert source is not None
            offset = out.size
            _copy(source, source_path, row["warc_offset"], row["warc_length"], out)
            summary.records += 1
            line = cdxj_line(_record(row, name.removeprefix("archive/"), offset))
            if line is not None:
                lines.append((line,))
                if len(lines) >= 1000:
                    _flush(conn, lines)
            copied += row["warc_length"]
            if progress is not None:
                progress(copied, total)
        _flush(conn, lines)
        if out is not None:
            finish()
    finally:
        if source is not None:
            source.close()
        if entry is not None:
            entry.close()
    return resources


def _flush(conn: sqlite3.Connection, lines: list[tuple[str]]) -> None:
    """Keep index lines in the temp store (sorted there later), so memory does not grow with the package."""
    conn.executemany("INSERT INTO temp.cdx (line) VALUES (?)", lines)
    lines.clear()


def _copy(source: IO[bytes], path: Path, offset: int, length: int, out: _Hashed) -> None:
    source.seek(offset)
    head = source.read(min(length, CHUNK))
    if not head.startswith(b"\x1f\x8b"):
        raise WaczError(
            f"no gzip WARC record at offset {offset} of {path}: the file does not match the archive's captures index"
        )
    out.write(head)
    left = length - len(head)
    while left > 0:
        chunk = source.read(min(left, CHUNK))
        if not chunk:
            raise WaczError(f"WARC file {path} ends inside the record at offset {offset}")
        out.write(chunk)
        left -= len(chunk)


def _record(row: sqlite3.Row, file: str, offset: int) -> Record:
    """A captures row as the record it indexes, at its place in the packaged file."""
    return Record(
        record_type=row["record_type"],
        record_id=row["warc_record_id"],
        url=row["url"],
        date=row["fetched_at"],
        file=file,
        offset=offset,
        length=row["warc_length"],
        status=row["status"],
        payload_digest=row["payload_digest"],
        mime=row["mime"],
        refers_to=row["refers_to"],
    )


def _write_index(package: zipfile.ZipFile, conn: sqlite3.Connection) -> _Resource:
    """``indexes/index.cdx``: the CDXJ lines in byte order (SQLite's BINARY collation compares bytes)."""
    with package.open(_entry(INDEX_PATH, zipfile.ZIP_DEFLATED), "w", force_zip64=True) as stream:
        out = _Hashed(stream)
        cursor = conn.execute("SELECT line FROM temp.cdx ORDER BY line")
        while chunk := cursor.fetchmany(1000):
            out.write("".join(f"{line}\n" for (line,) in chunk).encode("utf-8"))
        return out.resource(INDEX_PATH)


def _title(selection: Selection) -> str:
    return f"ANTARA news articles ({selection.describe()})"


def _datapackage(resources: list[_Resource], created: datetime, title: str, software: str) -> bytes:
    package = {
        "profile": "data-package",
        "wacz_version": WACZ_VERSION,
        "title": title,
        "created": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "software": software,
        "resources": [
            {"name": Path(r.path).name.lower(), "path": r.path, "hash": f"sha256:{r.sha256}", "bytes": r.bytes}
            for r in resources
        ],
    }
    return _json_bytes(package)
