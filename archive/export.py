"""Export the archive: a streaming, filtered row source and JSONL, CSV and Parquet writers (no Scrapy)."""

from __future__ import annotations

import csv
import json
import os
import sqlite3
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from archive import schema

if TYPE_CHECKING:
    import pyarrow as pa

#: Rows fetched from SQLite at a time, and rows per Parquet row group: what bounds memory.
FETCH_SIZE = 500
ROW_GROUP_SIZE = 10_000

#: First characters that make a spreadsheet run a cell as a formula (OWASP, CSV injection).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
#: How list columns (tags, baca_juga) are joined in a CSV cell.
CSV_LIST_SEPARATOR = "; "

Record = dict[str, Any]
Progress = Callable[[Iterable[Record]], Iterable[Record]]


class ExportError(Exception):
    """The archive cannot be read or the selection cannot be run; the message says why."""


@dataclass(frozen=True)
class Column:
    """One exported column: its name, kind (string, int, float, timestamp, list) and meaning."""

    name: str
    kind: str
    doc: str


#: What the archive's columns mean (README, "Database schema"); unknown columns keep their SQLite type.
_DOCS: dict[str, tuple[str, str]] = {
    "url": ("string", "canonical URL: https, lowercase host, /berita/{id}/{slug}, no query, never AMP"),
    "site": ("string", "host, e.g. kalteng.antaranews.com"),
    "region": ("string", "region slug, nasional for www.antaranews.com"),
    "article_id": ("int", "the article's number on its site; (site, article_id) is unique"),
    "title": ("string", "headline"),
    "summary": ("string", "meta description, else the first paragraph cut to at most 200 characters"),
    "body": ("string", "plain text, paragraphs separated by one blank line, dateline kept"),
    "published_at": ("timestamp", "publication time, ISO 8601 with the site's local offset (WIB, WITA, WIT)"),
    "published_at_raw": ("string", "the date exactly as printed on the page"),
    "dateline": ("string", "city of the dateline"),
    "reporter": ("string", 'the "Pewarta" credit as printed'),
    "editor": ("string", 'the "Editor" credit'),
    "category": ("string", "section, e.g. Umum"),
    "tags": ("list", "tag names in page order"),
    "image_url": ("string", "lead image URL"),
    "image_caption": ("string", "lead image caption with its photo credit"),
    "word_count": ("int", "words in body"),
    "content_hash": ("string", "sha256 of title + blank line + body"),
    "template": ("string", "page template: old (regional) or new (national since ~2024)"),
    "first_seen_at": ("timestamp", "when the archive first stored the article (UTC)"),
    "last_seen_at": ("timestamp", "when a crawl last fetched the article (UTC)"),
    "last_run_id": ("int", "the crawl run (crawl_runs.id) that last fetched it"),
    "version": ("int", "1 when first stored, plus one each time the title or body changed"),
    "content_changed_at": ("timestamp", "when the title or body last changed, else when first stored (UTC)"),
    "etag": ("string", "the page's HTTP ETag when last fetched"),
    "last_modified": ("string", "the page's HTTP Last-Modified header when last fetched, as sent"),
    "story_id": (
        "int",
        "the story (stories.story_id): articles with near-duplicate bodies, across sites, share it; null until"
        " assigned",
    ),
}
_BACA_JUGA = Column("baca_juga", "list", 'target URLs of the article\'s "Baca juga" links, in body order')
_LOCAL = Column(
    "published_at_local",
    "string",
    "published_at as the archive stores it, ISO 8601 with the local offset (Parquet only)",
)
_SQLITE_KINDS = {int: "int", float: "float", str: "string"}


def columns() -> list[Column]:
    """The columns of JSONL and CSV exports: every ``articles`` column, then ``baca_juga`` after ``tags``."""
    out: list[Column] = []
    for name, kind in schema.ARTICLE_COLUMNS.items():
        known = _DOCS.get(name)
        if known is None:
            known = (_SQLITE_KINDS.get(kind, "string"), f"archive column {name} (see the archive schema)")
            if kind is str and name.endswith("_at"):
                known = ("string", f"archive column {name}, ISO 8601 text")
        out.append(Column(name, *known))
        if name == "tags":
            out.append(_BACA_JUGA)
    return out


def parquet_columns() -> list[Column]:
    """The columns of Parquet exports: :func:`columns` plus ``published_at_local`` after ``published_at``."""
    out: list[Column] = []
    for column in columns():
        if column.name == "published_at":
            out.append(Column("published_at", "timestamp", "publication time as an instant, stored in UTC"))
            out.append(_LOCAL)
        else:
            out.append(column)
    return out


# -- selection ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Selection:
    """Which articles to export. Dates are each article's local publication date; ``until`` is inclusive."""

    regions: tuple[str, ...] = ()
    since: date | None = None
    until: date | None = None
    query: str | None = None  #: an FTS5 expression over title and body, e.g. ``banjir OR longsor``
    #: one article per story (``articles.story_id``): the earliest selected member, which is the
    #: story's first article (``stories.first_url``) when it is selected; articles without a story stay
    dedupe: bool = False

    def where(self) -> tuple[str, list[Any]]:
        """SQL conditions on ``articles a`` and their parameters (values are always parameters)."""
        clauses, params = self._filters("a")
        if self.dedupe:
            # no selected member of the same story published before it (by instant, then URL:
            # julianday reads the offset), so one row per story
            others, more = self._filters("b")
            clauses.append(
                "(a.story_id IS NULL OR NOT EXISTS (SELECT 1 FROM articles b WHERE b.story_id = a.story_id"
                " AND (julianday(b.published_at) < julianday(a.published_at) OR (julianday(b.published_at)"
                " = julianday(a.published_at) AND b.url < a.url))" + "".join(f" AND {c}" for c in others) + "))"
            )
            params.extend(more)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _filters(self, alias: str) -> tuple[list[str], list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if self.regions:
            clauses.append(f"{alias}.region IN ({', '.join('?' for _ in self.regions)})")
            params.extend(self.regions)
        # published_at starts with its local date, so text comparison selects by local date.
        if self.since is not None:
            clauses.append(f"{alias}.published_at >= ?")
            params.append(self.since.isoformat())
        if self.until is not None and self.until < date.max:
            clauses.append(f"{alias}.published_at < ?")
            params.append((self.until + timedelta(days=1)).isoformat())
        if self.query is not None:
            clauses.append(f"{alias}.rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)")
            params.append(self.query)
        return clauses, params

    def describe(self) -> str:
        """The filters in words, e.g. ``regions kalteng, kalsel; since 2026-11-01; query "banjir"``."""
        parts = [f"regions {', '.join(self.regions)}" if self.regions else "all regions"]
        if self.since is not None:
            parts.append(f"since {self.since.isoformat()}")
        if self.until is not None:
            parts.append(f"until {self.until.isoformat()}")
        if self.query is not None:
            parts.append(f"query {json.dumps(self.query, ensure_ascii=False)}")
        if self.dedupe:
            parts.append("one article per story")
        return "; ".join(parts)


# -- reading --------------------------------------------------------------------------------


class ArchiveReader:
    """A read-only view of an archive file, one snapshot for everything read through it."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if self.path.is_dir():
            raise ExportError(f"archive {self.path} is a folder, not an archive file")
        if not self.path.is_file():
            raise ExportError(f"archive {self.path} does not exist")
        try:
            uri = self.path.resolve().as_uri() + "?mode=ro"
            self.conn = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
            self.conn.execute("BEGIN")  # a read transaction: one snapshot even while a crawl writes
            tables = {name for (name,) in self.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            present = {row[1] for row in self.conn.execute("PRAGMA table_info(articles)")}
        except sqlite3.DatabaseError as exc:
            raise ExportError(f"cannot read {self.path} as an archive: {exc}") from None
        if "articles" not in tables:
            self.close()
            raise ExportError(f"{self.path} is not an antara archive (it has no articles table)")
        self._tables = tables
        self._present = present

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def check(self, selection: Selection) -> None:
        """Raise :class:`ExportError` when ``selection`` cannot run (an invalid full-text query,
        or one article per story asked of an archive whose stories are not all assigned)."""
        if selection.dedupe:
            self._check_stories()
        if selection.query is None:
            return
        if not selection.query.strip():
            raise ExportError("the full-text query is empty")
        if "articles_fts" not in self._tables:
            raise ExportError(f"{self.path} has no full-text index (articles_fts) to run a query on")
        try:
            self.conn.execute(
                "SELECT rowid FROM articles_fts WHERE articles_fts MATCH ? LIMIT 1", [selection.query]
            ).fetchall()
        except sqlite3.OperationalError as exc:
            raise ExportError(
                f"invalid full-text query {selection.query!r} ({exc}); put words with punctuation in double"
                " quotes, e.g. '\"covid-19\"'"
            ) from None

    def _check_stories(self) -> None:
        unassigned = (
            "story_id" not in self._present
            or self.conn.execute("SELECT 1 FROM articles WHERE story_id IS NULL LIMIT 1").fetchone()
        )
        if unassigned:
            raise ExportError(
                f"{self.path} has articles without a story, so --dedupe cannot keep one per story;"
                f" run: antara stories --db {self.path}"
            )

    def count(self, selection: Selection) -> int:
        self.check(selection)
        where, params = selection.where()
        return int(self.conn.execute(f"SELECT count(*) FROM articles a{where}", params).fetchone()[0])

    def rows(self, selection: Selection, fetch_size: int = FETCH_SIZE) -> Generator[Record, None, None]:
        """One record per selected article, ordered by site then article_id, streamed from a cursor.

        Archive values as stored (``published_at`` ISO text with its offset), with ``tags`` and
        ``baca_juga`` as lists of strings.
        """
        self.check(selection)
        names = [c.name for c in columns()]
        selected = [f"a.{name}" if name in self._present else f"NULL AS {name}" for name in schema.ARTICLE_COLUMNS]
        baca_juga = (
            "(SELECT json_group_array(target_url) FROM (SELECT l.target_url FROM links l"
            " WHERE l.source_url = a.url AND l.kind = 'baca_juga' ORDER BY l.position))"
            if "links" in self._tables
            else "'[]'"
        )
        where, params = selection.where()
        sql = f"SELECT {', '.join(selected)}, {baca_juga} FROM articles a{where} ORDER BY a.site, a.article_id"
        order = [*schema.ARTICLE_COLUMNS, "baca_juga"]
        cursor = self.conn.execute(sql, params)
        try:
            while chunk := cursor.fetchmany(fetch_size):
                for values in chunk:
                    found = dict(zip(order, values, strict=True))
                    found["tags"] = _json_list(found["tags"], found["url"], "tags")
                    found["baca_juga"] = _json_list(found["baca_juga"], found["url"], "baca_juga")
                    yield {name: found[name] for name in names}
        finally:
            cursor.close()

    def region_names(self) -> dict[str, str]:
        if "regions" not in self._tables:
            return {}
        return {slug: name for slug, name in self.conn.execute("SELECT slug, name FROM regions")}

    def runs(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        """The ``crawl_runs`` rows with these ids, oldest first."""
        wanted = sorted(set(ids))
        if not wanted or "crawl_runs" not in self._tables:
            return []
        cursor = self.conn.execute(
            f"SELECT * FROM crawl_runs WHERE id IN ({', '.join('?' for _ in wanted)}) ORDER BY id", wanted
        )
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]


def _json_list(value: str | None, url: str, what: str) -> list[str]:
    if not value:
        return []
    try:
        items = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ExportError(f"{what} of {url} is not a JSON array: {exc}") from None
    return [str(item) for item in items]


# -- counting what was written --------------------------------------------------------------


@dataclass
class ExportStats:
    """What an export wrote: articles in all and per region, local date range, crawl runs covered."""

    count: int = 0
    regions: Counter[str] = field(default_factory=Counter)
    first_day: str | None = None
    last_day: str | None = None
    run_ids: set[int] = field(default_factory=set)

    def add(self, record: Record) -> None:
        self.count += 1
        self.regions[record["region"]] += 1
        day = str(record["published_at"])[:10]
        if self.first_day is None or day < self.first_day:
            self.first_day = day
        if self.last_day is None or day > self.last_day:
            self.last_day = day
        if record.get("last_run_id") is not None:
            self.run_ids.add(int(record["last_run_id"]))

    def tally(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            self.add(record)
            yield record


# -- writers --------------------------------------------------------------------------------


def neutralise(text: str) -> str:
    """Prefix ``'`` to text a spreadsheet would run as a formula (starts with = + - @ tab or CR)."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def csv_cell(value: Any) -> str:
    """A CSV cell: empty for null, lists joined with ``; ``, formula-looking text neutralised."""
    if value is None:
        return ""
    if isinstance(value, list):
        return neutralise(CSV_LIST_SEPARATOR.join(value))
    if isinstance(value, str):
        return neutralise(value)
    return str(value)


def write_jsonl(records: Iterable[Record], stream: IO[str]) -> None:
    """One JSON object per line, UTF-8 as is (no ``\\u`` escapes), tags and baca_juga as arrays."""
    for record in records:
        stream.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")))
        stream.write("\n")


def write_csv(records: Iterable[Record], stream: IO[str]) -> None:
    """A header row, then one row per article; RFC 4180 quoting and CRLF line ends (``csv`` module)."""
    names = [c.name for c in columns()]
    writer = csv.writer(stream, lineterminator="\r\n")
    writer.writerow(names)
    for record in records:
        writer.writerow([csv_cell(record[name]) for name in names])


def parquet_schema() -> pa.Schema:
    """The typed Parquet schema, each field described in its metadata."""
    import pyarrow as pa

    types = {
        "string": pa.string(),
        "int": pa.int64(),
        "float": pa.float64(),
        "timestamp": pa.timestamp("us", tz="UTC"),
        "list": pa.list_(pa.string()),
    }
    fields = [
        pa.field(c.name, types[c.kind], nullable=c.name != "url", metadata={"description": c.doc})
        for c in parquet_columns()
    ]
    return pa.schema(fields, metadata={"producer": "antara-archive export"})


def write_parquet(
    records: Iterable[Record], where: str | Path | IO[bytes], row_group_size: int = ROW_GROUP_SIZE
) -> None:
    """Parquet (zstd), one row group per ``row_group_size`` rows: memory holds one row group at most.

    Values are gathered column by column (no list of records is kept) and each column's Python
    list is dropped as soon as its Arrow array is built.
    """
    import pyarrow.parquet as pq

    target = parquet_schema()
    sink = str(where) if isinstance(where, Path) else where
    with pq.ParquetWriter(sink, target, compression="zstd") as writer:
        group = _ColumnBuffer(target)
        for record in records:
            group.append(record)
            if group.rows >= row_group_size:
                writer.write_table(group.take(), row_group_size=row_group_size)
        if group.rows:
            writer.write_table(group.take(), row_group_size=row_group_size)


class _ColumnBuffer:
    """Records gathered as one Python list per Parquet column, taken out as an Arrow table."""

    def __init__(self, target: pa.Schema) -> None:
        self.target = target
        self.rows = 0
        self.data: dict[str, list[Any]] = {name: [] for name in target.names}
        self.instants = {c.name for c in parquet_columns() if c.kind == "timestamp"}

    def append(self, record: Record) -> None:
        for name, values in self.data.items():
            if name == "published_at_local":
                values.append(record["published_at"])
            elif name in self.instants:
                values.append(_instant(record[name], name, record["url"]))
            else:
                values.append(record[name])
        self.rows += 1

    def take(self) -> pa.Table:
        import pyarrow as pa

        arrays = []
        for field_ in self.target:
            arrays.append(pa.array(self.data[field_.name], type=field_.type))
            self.data[field_.name] = []
        self.rows = 0
        return pa.Table.from_arrays(arrays, schema=self.target)


def _instant(value: str | None, name: str, url: str) -> datetime | None:
    """An ISO 8601 text with offset as an aware datetime (Arrow stores it as UTC)."""
    if value is None:
        return None
    try:
        when = datetime.fromisoformat(value)
    except ValueError:
        raise ExportError(f"{name} of {url} is not an ISO 8601 time: {value!r}") from None
    if when.tzinfo is None:
        raise ExportError(f"{name} of {url} has no UTC offset: {value!r}")
    return when.astimezone(timezone.utc)


FILE_FORMATS = ("jsonl", "csv", "parquet")


def export_file(
    reader: ArchiveReader,
    selection: Selection,
    fmt: str,
    output: Path | IO[bytes],
    progress: Progress | None = None,
) -> ExportStats:
    """Stream the selection to ``output`` (a path, or a binary stream such as stdout) as ``fmt``.

    A path is written to a temporary file beside it and renamed into place at the end, so an
    interrupted export never leaves half a file under the final name.
    """
    if fmt not in FILE_FORMATS:
        raise ValueError(f"unknown export format {fmt!r}")
    stats = ExportStats()
    source = reader.rows(selection)
    records = stats.tally(progress(source) if progress else source)
    if not isinstance(output, Path):
        with closing(source):
            _write(records, fmt, output)
        return stats
    partial = output.with_name(f".{output.name}.{os.getpid()}.partial")
    try:
        with closing(source):
            if fmt == "parquet":
                write_parquet(records, partial)
            else:
                with open(partial, "wb") as sink:
                    _write(records, fmt, sink)
        os.replace(partial, output)
    finally:
        partial.unlink(missing_ok=True)
    return stats


def _write(records: Iterable[Record], fmt: str, sink: IO[bytes]) -> None:
    if fmt == "parquet":
        write_parquet(records, sink)
        return
    import io

    text = io.TextIOWrapper(sink, encoding="utf-8", newline="", write_through=False)
    try:
        if fmt == "jsonl":
            write_jsonl(records, text)
        else:
            write_csv(records, text)
        text.flush()
    finally:
        text.detach()  # leave the binary stream open for its owner
