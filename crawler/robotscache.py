"""robots.txt kept on disk: answers cached for a day, and the last good copy of each host kept for good."""

from __future__ import annotations

import logging
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from scrapy.extensions.httpcache import DummyPolicy
from scrapy.utils.httpobj import urlparse_cached

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.http import Response

logger = logging.getLogger(__name__)


class RobotsTxtOnlyPolicy(DummyPolicy):
    """Scrapy's HttpCacheMiddleware with this policy serves robots.txt from a disk cache.

    Scheduled runs come every hour; fetching every host's robots.txt each time would be
    most of a quiet run's requests. RFC 9309 lets crawlers keep robots.txt for up to
    24 hours (``HTTPCACHE_EXPIRATION_SECS``); server errors and 429 (which mean "could not be
    read", not an answer) are never cached.
    """

    def should_cache_request(self, request: Request) -> bool:
        return urlparse_cached(request).path == "/robots.txt" and super().should_cache_request(request)

    def should_cache_response(self, response: Response, request: Request) -> bool:
        readable = response.status < 500 and response.status != 429
        return readable and super().should_cache_response(response, request)


#: characters kept as they are in a kept copy's file name (a host, perhaps with a port)
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]")


class KeptCopies:
    """The robots.txt last read from each host, one file per host, never expired.

    RFC 9309 2.4: when robots.txt cannot be read (5xx, network error), a crawler may go on
    with a cached copy, and otherwise must assume it is disallowed everywhere. The day-long
    HTTP cache forgets its copy after 24 hours; this one stays until a newer answer replaces
    it. A host whose robots.txt was missing (4xx) is kept as an empty file: no rules.
    """

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def path(self, host: str) -> Path:
        return self.folder / f"{_UNSAFE.sub('_', host.lower())}.robots.txt"

    def save(self, host: str, body: bytes) -> None:
        """Keep ``body`` as ``host``'s robots.txt; a disk that refuses is logged, not fatal."""
        target = self.path(host)
        partial = target.with_name(target.name + ".partial")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(body)
            partial.replace(target)  # atomic: a kill leaves the old copy or the new one
        except OSError as exc:
            logger.warning("Could not keep the robots.txt of %s in %s: %s", host, self.folder, exc)

    def load(self, host: str) -> tuple[bytes, datetime] | None:
        """``host``'s kept robots.txt and when it was read (UTC), or None when none is kept."""
        target = self.path(host)
        try:
            return target.read_bytes(), datetime.fromtimestamp(target.stat().st_mtime, timezone.utc)
        except FileNotFoundError:
            return None
        except OSError as exc:
            logger.warning("Could not read the kept robots.txt of %s: %s", host, exc)
            return None
