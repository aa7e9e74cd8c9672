"""Archive: the front of the archive library, one class over the modules of each table group.

The methods live by concern: :mod:`archive.connection` (opening, schema version, transactions),
:mod:`archive.runs`, :mod:`archive.articles`, :mod:`archive.links`, :mod:`archive.frontier`
and :mod:`archive.captures`.
"""

from __future__ import annotations

from archive.articles import Articles, Outcome, UpsertResult
from archive.captures import Captures
from archive.connection import checkpoint
from archive.coverage import coverage_counts, parse_coverage
from archive.errors import ArchiveError
from archive.removals import Removals
from archive.runs import Runs
from archive.times import utc_now

__all__ = [
    "Archive",
    "ArchiveError",
    "Outcome",
    "UpsertResult",
    "checkpoint",
    "coverage_counts",
    "parse_coverage",
    "utc_now",
]


class Archive(Runs, Articles, Captures, Removals):
    """A SQLite archive file. Every write method is one transaction (``Database.atomic()``):
    all of it is stored or none of it, whatever kills the process in between.

    ``timeout``: seconds a write waits for another program's write lock before failing with
    :class:`ArchiveError` (``locked``). ``max_pages``: the most database pages this connection
    lets the file grow to (``PRAGMA max_page_count``); past it a write fails as if the disk
    were full (``full``). Either failure rolls the whole write back.

    A second writer connection beside a live one (the WARC capture beside the pipeline)
    passes ``create=False``: a schema change on one connection makes the next statement
    of the other fail with "no such table" (seen with SQLite 3.40).

    Opening checks the schema version the file records (see :mod:`archive.migrations`): a new
    file gets every table, an older one is upgraded in one transaction (``create=True``), a
    current one is not written to, a newer one is refused with :class:`ArchiveError`.
    """
