"""WARC files beside the archive: write HTTP exchanges (WARC/1.1, one gzip member per record,
rotating, deduplicated by payload digest) and read them back. No Scrapy here."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import os
import re
import socket
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from warcio.archiveiterator import ArchiveIterator
from warcio.bufferedreaders import ChunkedDataReader
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders, StatusAndHeadersParser
from warcio.warcwriter import WARCWriter

from archive.durable import sync_later

WARC_VERSION = "1.1"
#: Size at which a WARC file is closed and the next one begun (bytes, compressed).
DEFAULT_MAX_SIZE = 1_000_000_000
SUFFIX = ".warc.gz"
REVISIT_PROFILE = "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest"

_HTTP = StatusAndHeadersParser(["HTTP/1.0", "HTTP/1.1"], verify=False)
_REQUEST = StatusAndHeadersParser([], verify=False)


class WarcError(Exception):
    """A WARC file cannot be read, or holds no record where one was expected."""


def payload_digest(payload: bytes) -> str:
    """``sha1:`` and the base32 SHA-1 of ``payload``, as WARC-Payload-Digest writes it."""
    return "sha1:" + base64.b32encode(hashlib.sha1(payload).digest()).decode("ascii")


def split_http(message: bytes) -> tuple[bytes, bytes]:
    """An HTTP message as received -> (status line and headers up to and including the blank line, payload)."""
    found = [(i, n) for i, n in ((message.find(b"\r\n\r\n"), 4), (message.find(b"\n\n"), 2)) if i >= 0]
    if not found:
        return message, b""
    end, size = min(found)
    return message[: end + size], message[end + size :]


def warc_date(when: datetime | None = None) -> str:
    """A WARC/1.1 WARC-Date: UTC with microseconds, e.g. ``2026-11-28T07:09:38.123456Z``."""
    when = (when or datetime.now(timezone.utc)).astimezone(timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def seen_at(warc_date: str) -> str:
    """A WARC-Date (``2026-11-28T07:09:38.123456Z``) as the archive's times: UTC ISO 8601 to the second."""
    when = datetime.fromisoformat(warc_date.replace("Z", "+00:00"))
    return when.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def timestamp14(warc_date: str) -> str:
    """A WARC-Date as the 14-digit timestamp of CDX indexes and Wayback URLs."""
    return re.sub(r"\D", "", warc_date)[:14]


class _ExactHeaders(StatusAndHeaders):  # type: ignore[misc]
    """Status line and headers parsed for warcio, written out as the bytes received, not re-serialised."""

    def __init__(self, parsed: StatusAndHeaders, received: bytes) -> None:
        super().__init__(parsed.statusline, parsed.headers, parsed.protocol)
        self.headers_buff = received

    def compute_headers_buffer(self, header_filter: Any = None) -> None:
        """Keep the received bytes (warcio would rebuild them from the parsed headers)."""


def _parse_head(head: bytes, request: bool = False) -> StatusAndHeaders:
    parser = _REQUEST if request else _HTTP
    return parser.parse(io.BytesIO(head))


def _mime(headers: StatusAndHeaders) -> str | None:
    value = headers.get_header("Content-Type")
    return value.split(";", 1)[0].strip().lower() or None if value else None


def _status(headers: StatusAndHeaders) -> int | None:
    code = headers.get_statuscode()
    return int(code) if code and code.isdigit() else None


@dataclass(frozen=True)
class Record:
    """One record of a WARC file, as the ``captures`` table indexes it."""

    record_type: str  #: ``response``, ``revisit``, ``request`` or ``warcinfo``
    record_id: str  #: WARC-Record-ID, ``<urn:uuid:...>``
    url: str | None  #: WARC-Target-URI (the real URL, never a mirror's); None for warcinfo
    date: str  #: WARC-Date, UTC with microseconds
    file: str  #: the WARC file's name (no folder)
    offset: int  #: where the record's gzip member starts in the file
    length: int  #: bytes of the gzip member
    status: int | None = None  #: HTTP status of a response or revisit
    payload_digest: str | None = None  #: ``sha1:BASE32`` of the payload as received
    mime: str | None = None  #: Content-Type of the response, without parameters
    refers_to: str | None = None  #: revisits: the record id of the response holding the payload

    def as_row(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "record_type": self.record_type,
            "fetched_at": self.date,
            "status": self.status,
            "payload_digest": self.payload_digest,
            "mime": self.mime,
            "warc_file": self.file,
            "warc_offset": self.offset,
            "warc_length": self.length,
            "warc_record_id": self.record_id,
            "refers_to": self.refers_to,
        }


@dataclass(frozen=True)
class Original:
    """An earlier response of the same URL with the same payload: what a revisit record refers to."""

    record_id: str
    url: str
    date: str


#: ``original(url, digest)`` finds an earlier response with that payload, or None
FindOriginal = Callable[[str, str], "Original | None"]


class WarcWriter:
    """Writes exchanges into ``folder``: gzip WARC/1.1 files named
    ``{prefix}-{UTC time to the millisecond}-{serial}-{host}-{pid}.warc.gz``, a ``warcinfo``
    record (``info``) at the start of each, a new file once one reaches ``max_size`` bytes.
    Names never collide between processes or machines writing the same folder."""

    def __init__(
        self,
        folder: str | Path,
        max_size: int = DEFAULT_MAX_SIZE,
        info: Mapping[str, Any] | None = None,
        prefix: str = "antara",
    ) -> None:
        self.folder = Path(folder)
        self.max_size = max_size
        self.info = dict(info or {})
        self.prefix = prefix
        self.host = re.sub(r"[^A-Za-z0-9.-]+", "-", socket.gethostname()) or "host"
        self.serial = 0
        self.files: list[str] = []  #: names of the files this writer made, in order
        self._out: IO[bytes] | None = None
        self._writer = WARCWriter(None, gzip=True, warc_version=WARC_VERSION)

    @property
    def current(self) -> str | None:
        return self.files[-1] if self._out is not None else None

    def write_exchange(
        self,
        url: str,
        request_head: bytes,
        response: bytes,
        original: FindOriginal | None = None,
        ip: str | None = None,
        truncated: str | None = None,
        date: str | None = None,
    ) -> list[Record]:
        """Write one response (bytes as received: status line, headers, payload) and its request.

        The response becomes a ``revisit`` record (identical-payload-digest profile, headers
        only) when ``original(url, digest)`` names an earlier response with the same
        non-empty payload. Returns the records written, the new file's warcinfo first when
        this exchange began a file; the response or revisit comes before its request.
        ``date`` (WARC-Date, see :func:`warc_date`) is when the request was sent; default now.
        """
        written: list[Record] = []
        if self._out is None or self._out.tell() >= self.max_size:
            written.append(self._open())
        head, payload = split_http(response)
        parsed = _parse_head(head)
        digest = payload_digest(payload)
        earlier = original(url, digest) if original is not None and payload else None
        date = date or warc_date()
        kind = "response" if earlier is None else "revisit"
        warc_headers = {"WARC-Type": kind, "WARC-Record-ID": _HTTP.make_warc_id(), "WARC-Target-URI": url}
        warc_headers["WARC-Date"] = date
        if ip:
            warc_headers["WARC-IP-Address"] = ip
        if truncated:
            warc_headers["WARC-Truncated"] = truncated
        if earlier is None:
            warc_headers["WARC-Payload-Digest"] = digest
            record = self._writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(payload),
                length=len(payload),
                http_headers=_ExactHeaders(parsed, head),
                warc_headers_dict=warc_headers,
            )
        else:
            warc_headers["WARC-Refers-To"] = earlier.record_id
            record = self._writer.create_revisit_record(
                url,
                digest,
                earlier.url,
                earlier.date,
                http_headers=_ExactHeaders(parsed, head),
                warc_headers_dict=warc_headers,
            )
        main = self._write(
            record,
            url,
            status=_status(parsed),
            payload_digest=digest,
            mime=_mime(parsed),
            refers_to=earlier.record_id if earlier else None,
        )
        request = self._writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            http_headers=_ExactHeaders(_parse_head(request_head, request=True), request_head),
            warc_headers_dict={
                "WARC-Type": "request",
                "WARC-Record-ID": _HTTP.make_warc_id(),
                "WARC-Target-URI": url,
                "WARC-Date": date,
                "WARC-Concurrent-To": main.record_id,
            },
        )
        written += [main, self._write(request, url)]
        return written

    def _open(self) -> Record:
        self.close()
        self.folder.mkdir(parents=True, exist_ok=True)
        while True:
            stamp = datetime.now(timezone.utc).strftime("%Y%m%d%H%M%S%f")[:17]
            name = f"{self.prefix}-{stamp}-{self.serial:05d}-{self.host}-{os.getpid()}{SUFFIX}"
            self.serial += 1
            try:
                self._out = open(self.folder / name, "xb")  # noqa: SIM115 (closed by close())
                break
            except FileExistsError:
                continue
        self.files.append(name)
        self._writer.out = self._out
        info = self._writer.create_warcinfo_record(name, {"format": f"WARC File Format {WARC_VERSION}", **self.info})
        return self._write(info, None)

    def _write(self, record: Any, url: str | None, **fields: Any) -> Record:
        assert self._out is not None
        start = self._out.tell()
        self._writer.write_record(record)
        headers = record.rec_headers
        return Record(
            record_type=record.rec_type,
            record_id=headers.get_header("WARC-Record-ID"),
            url=url,
            date=headers.get_header("WARC-Date"),
            file=self.files[-1],
            offset=start,
            length=self._out.tell() - start,
            **fields,
        )

    def sync(self) -> None:
        """Put every record written so far on the disk (flush and fsync): done before the
        archive commits rows that point at them."""
        self.flush()()

    def flush(self) -> Callable[[], None]:
        """Hand every record written so far to the operating system now, and return the call
        that puts them on the disk (fsync), which may run in another thread while this writer
        goes on writing (a file closed meanwhile was synced by :meth:`close`)."""
        if self._out is None:
            return sync_later(None)
        self._out.flush()
        return sync_later(os.dup(self._out.fileno()))

    def close(self) -> None:
        if self._out is not None:
            self.sync()
            self._out.close()
            self._out = None


# -- reading ----------------------------------------------------------------------------------
@dataclass
class Capture:
    """One HTTP response read back from a WARC record (a revisit once resolved carries its original's payload)."""

    record: Record
    head: bytes  #: status line and headers exactly as stored
    payload: bytes  #: the payload exactly as stored: still chunked or compressed if the server sent it so
    status_line: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    #: headers that describe ``payload`` (Transfer- and Content-Encoding): the original's, for a resolved revisit
    payload_headers: list[tuple[str, str]] = field(default_factory=list)
    warc_headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return self.record.url or ""

    @property
    def status(self) -> int | None:
        return self.record.status

    def header(self, name: str) -> str | None:
        return _get(self.headers, name)

    def warc_header(self, name: str) -> str | None:
        return _get(self.warc_headers, name)

    def body(self) -> bytes:
        """The payload with its transfer coding (chunked) and content codings (gzip, br, ...) undone."""
        return decode_payload(self.payload, self.payload_headers)

    def with_payload_of(self, original: Capture) -> Capture:
        """This revisit with the payload of the response it refers to."""
        return replace(self, payload=original.payload, payload_headers=original.payload_headers)


def _get(headers: Iterable[tuple[str, str]], name: str) -> str | None:
    lower = name.lower()
    for key, value in headers:
        if key.lower() == lower:
            return value
    return None


def _capture(record: Any, name: str, offset: int, length: int) -> Capture:
    """A warcio record read with ``no_record_parse`` (its block untouched) -> Capture."""
    warc = record.rec_headers
    kind = warc.get_header("WARC-Type")
    block = record.raw_stream.read()
    head, payload = split_http(block) if kind in ("response", "revisit", "request") else (b"", block)
    parsed = _parse_head(head, request=kind == "request") if head else StatusAndHeaders("", [])
    info = Record(
        record_type=kind,
        record_id=warc.get_header("WARC-Record-ID"),
        url=warc.get_header("WARC-Target-URI"),
        date=warc.get_header("WARC-Date"),
        file=name,
        offset=offset,
        length=length,
        status=_status(parsed) if kind in ("response", "revisit") else None,
        payload_digest=warc.get_header("WARC-Payload-Digest"),
        mime=_mime(parsed) if kind in ("response", "revisit") else None,
        refers_to=warc.get_header("WARC-Refers-To"),
    )
    headers = list(parsed.headers)
    return Capture(info, head, payload, parsed.statusline, headers, headers, list(warc.headers))


def iter_captures(path: str | Path) -> Iterator[Capture]:
    """Every record of a WARC file, in file order, with its offset and length."""
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            records = ArchiveIterator(stream, no_record_parse=True)
            for record in records:
                capture = _capture(record, path.name, 0, 0)
                offset, length = records.get_record_offset(), records.get_record_length()
                capture.record = replace(capture.record, offset=offset, length=length)
                yield capture
    except ArchiveLoadFailed as exc:
        raise WarcError(f"{path} is not a readable WARC file: {exc}") from exc


def read_capture(path: str | Path, offset: int) -> Capture:
    """The record starting at ``offset`` of a WARC file."""
    path = Path(path)
    try:
        with open(path, "rb") as stream:
            stream.seek(offset)
            records = ArchiveIterator(stream, no_record_parse=True)
            record = next(records, None)
            if record is None:
                raise WarcError(f"no WARC record at offset {offset} of {path}")
            capture = _capture(record, path.name, offset, 0)
            capture.record = replace(capture.record, length=records.get_record_length())
            return capture
    except ArchiveLoadFailed as exc:
        raise WarcError(f"no readable WARC record at offset {offset} of {path}: {exc}") from exc


def warc_files(folder: str | Path) -> list[Path]:
    """The WARC files of a folder, oldest first (names begin with their UTC time)."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.name.endswith((".warc.gz", ".warc")))


# -- payload decoding -------------------------------------------------------------------------
def decode_payload(payload: bytes, headers: Iterable[tuple[str, str]]) -> bytes:
    """Undo ``Transfer-Encoding: chunked`` and each ``Content-Encoding`` the crawler's HTTP stack
    undoes (gzip, deflate, br, zstd); an unknown coding leaves the bytes as they are."""
    headers = list(headers)
    if "chunked" in (_get(headers, "Transfer-Encoding") or "").lower():
        reader = ChunkedDataReader(io.BytesIO(payload))
        payload = b"".join(iter(lambda: reader.read(65536), b""))
    codings = [c.strip().lower() for c in (_get(headers, "Content-Encoding") or "").split(",") if c.strip()]
    for coding in reversed(codings):
        decoded = _decode(payload, coding)
        if decoded is None:
            break
        payload = decoded
    return payload


def _decode(data: bytes, coding: str) -> bytes | None:
    if coding in ("gzip", "x-gzip"):
        return gzip.decompress(data)
    if coding == "deflate":
        try:
            return zlib.decompress(data)
        except zlib.error:
            return zlib.decompress(data, -zlib.MAX_WBITS)  # raw deflate, as some servers send
    if coding == "br":
        import brotli

        return bytes(brotli.decompress(data))
    if coding == "zstd":
        try:
            from compression import zstd  # type: ignore[import-not-found]
        except ImportError:
            from backports import zstd  # type: ignore[no-redef]
        return bytes(zstd.decompress(data))
    if coding == "identity":
        return data
    return None
