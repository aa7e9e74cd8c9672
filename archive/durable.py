"""Putting written bytes on the disk from another thread: the group commit's fsyncs."""

from __future__ import annotations

import os
from collections.abc import Callable

__all__ = ["sync_later"]


def sync_later(fd: int | None) -> Callable[[], None]:
    """The call that fsyncs ``fd`` and closes it (a descriptor of its own, opened or duplicated
    for this), to run in another thread while the writer goes on writing; one that does nothing
    when ``fd`` is None (nothing was written)."""
    if fd is None:
        return _nothing

    def sync() -> None:
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    return sync


def _nothing() -> None:
    """Nothing to sync."""
