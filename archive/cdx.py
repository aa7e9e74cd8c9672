"""CDXJ index of WARC files, in the format pywb reads (``urlkey timestamp {json}``, sorted)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import surt

from archive.warc import Record, iter_captures, timestamp14


def cdxj_lines(paths: Iterable[str | Path]) -> Iterator[str]:
    """One line per response and revisit record (as pywb's own indexer writes them), unsorted.

    ``filename`` is the WARC file's name, so the index works for a replay collection that
    holds the files in its archive folder.
    """
    for path in paths:
        for capture in iter_captures(path):
            line = cdxj_line(capture.record)
            if line is not None:
                yield line


def cdxj_line(record: Record) -> str | None:
    """The CDXJ line of one record, None for records replay tools do not index (request, warcinfo)."""
    if record.record_type not in ("response", "revisit") or not record.url:
        return None
    fields: dict[str, object] = {"url": record.url}
    if record.record_type == "revisit":
        fields["mime"] = "warc/revisit"  # pywb resolves the payload through the digest
    else:
        fields["mime"] = record.mime or "unk"
        if record.status is not None:
            fields["status"] = str(record.status)
    if record.payload_digest:
        fields["digest"] = record.payload_digest.removeprefix("sha1:")
    fields.update(length=str(record.length), offset=str(record.offset), filename=record.file)
    return f"{surt.surt(record.url)} {timestamp14(record.date)} {json.dumps(fields)}"


def sorted_cdxj(paths: Iterable[str | Path]) -> list[str]:
    """The sorted CDXJ lines of ``paths`` (byte order, as replay tools binary-search them)."""
    return sorted(cdxj_lines(paths), key=lambda line: line.encode("utf-8"))
