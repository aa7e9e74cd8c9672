"""One crawl at a time per archive: an advisory lock file beside the database."""

from __future__ import annotations

import fcntl
import os
from datetime import datetime, timezone
from pathlib import Path
from typing import IO


class LockHeld(RuntimeError):
    """Another crawl already writes this archive."""


def lock_path(db: str | Path) -> Path:
    return Path(f"{db}.lock")


def hold_lock(db: str | Path) -> IO[str]:
    """Take the archive's lock or raise :class:`LockHeld` naming the holder.

    The lock is ``flock`` on ``{db}.lock``: the kernel releases it when the process ends,
    however it ends (even ``kill -9``), so a stale file never blocks the next run.
    Close the returned file to release it.
    """
    path = lock_path(db)
    handle = open(path, "a+", encoding="utf-8")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        holder = handle.read().strip() or "unknown process"
        handle.close()
        raise LockHeld(f"another crawl is already writing {db} ({holder}); this one exits without crawling") from None
    handle.seek(0)
    handle.truncate()
    started = datetime.now(timezone.utc).replace(microsecond=0).isoformat()
    handle.write(f"pid {os.getpid()}, started {started}")
    handle.flush()
    return handle
