"""``antara stories``: give every article of an existing archive its story (near-duplicates across sites)."""

from __future__ import annotations

import sqlite3
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from archive import Archive, ArchiveError
from archive.stories import clear_stories, pending, update_stories
from crawler.domain.lock import LockHeld, hold_lock

if TYPE_CHECKING:
    from tqdm import tqdm


def _check(path: Path) -> None:
    """Refuse what is not an antara archive before opening it for writing (which would create one)."""
    if not path.exists():
        raise click.UsageError(f"archive {path} does not exist")
    if path.is_dir():
        raise click.UsageError(f"archive {path} is a folder, not an archive file")
    try:
        conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
        try:
            tables = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise click.UsageError(f"cannot read {path} as an archive: {exc}") from None
    if "articles" not in tables:
        raise click.UsageError(f"{path} is not an antara archive (it has no articles table)")


def _bar(total: int) -> tqdm[None] | None:
    """A tqdm bar on stderr when it is a terminal (cleared when done), else none."""
    if not sys.stderr.isatty():
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit=" articles", file=sys.stderr, leave=False, dynamic_ncols=True)


@click.command()
@click.option(
    "--db", default="archive.db", show_default=True, type=click.Path(dir_okay=False), help="Archive SQLite file."
)
@click.option("--rebuild", is_flag=True, help="Forget every assignment and assign all articles again.")
def stories(db: str, rebuild: bool) -> None:
    """Group the archive's articles into stories: an article republished by other sites (new
    dateline, trimmed or added paragraph, new headline) is one story with it.

    Crawls, backfills, ingesters and reextract assign the stories of what they stored at
    their end; this command does it for an existing archive (one upgraded from schema 5 has
    none yet), or from scratch with --rebuild. One write transaction: interrupted, nothing
    changes. Refused while a crawl writes the archive. See docs/schema.md.

    \b
    Examples:
      antara stories --db archive.db
      antara stories --db archive.db --rebuild
    """
    path = Path(db)
    _check(path)
    started = time.monotonic()
    try:
        lock = hold_lock(path)  # not while a crawl writes it: one long transaction would stall the crawl
    except LockHeld as exc:
        raise click.ClickException(str(exc)) from None
    try:
        with Archive(path) as archive:
            with archive.transaction("story assignment"):
                forgotten = clear_stories(archive.db) if rebuild else 0
                bar = _bar(len(pending(archive.db)))
                try:
                    update = update_stories(archive.db, progress=bar.update if bar is not None else None)
                finally:
                    if bar is not None:
                        bar.close()
            (stories_count, multi) = archive.db.execute(
                "SELECT count(*), coalesce(sum(member_count > 1), 0) FROM stories"
            ).fetchone()
    except ArchiveError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        lock.close()
    again = f" (rebuilt: {forgotten:,} assignments forgotten)" if rebuild else ""
    click.echo(
        f"{update.summary().capitalize()}{again}; the archive holds {stories_count:,} stories,"
        f" {multi:,} of them published by more than one article, in {time.monotonic() - started:.1f}s"
    )
