"""robots.txt kept on disk: answers cached for a day, and the last good copy of each host kept for good."""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.extensions.httpcache import DummyPolicy
from scrapy.http import Headers
from scrapy.responsetypes import responsetypes
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.project import data_path

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

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


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` beside ``path`` under a name of this process's own, then move it into place:
    a reader (another worker sharing the folder) sees the old file or the new one, never a part,
    and two writers never write into one file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.partial")
    try:
        partial.write_bytes(data)
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)


class AtomicFileCacheStorage:
    """An ``HTTPCACHE_STORAGE`` that writes each answer as one file, atomically.

    Scrapy's ``FilesystemCacheStorage`` writes an entry as six files in place, so a process
    reading while another writes (workers sharing one cache folder, a run started while another
    is killed mid-write) can read half an entry: a truncated pickle (a logged traceback) or,
    worse, a robots.txt body cut short, whose missing lines disallow nothing. Here an entry is
    one JSON file written beside its place and moved there with ``os.replace``: a reader sees
    the old entry or the new one, never a part. It implements the storage interface Scrapy
    documents (``open_spider``, ``close_spider``, ``retrieve_response``, ``store_response``).
    """

    def __init__(self, settings: BaseSettings) -> None:
        self.folder = Path(data_path(settings["HTTPCACHE_DIR"]))
        self.expiration_secs = settings.getint("HTTPCACHE_EXPIRATION_SECS")

    def open_spider(self, spider: Spider) -> None:
        self._fingerprint = spider.crawler.request_fingerprinter.fingerprint  # type: ignore[union-attr]

    def close_spider(self, spider: Spider) -> None:
        pass

    def path(self, spider: Spider, request: Request) -> Path:
        key = self._fingerprint(request).hex()
        return self.folder / spider.name / key[:2] / f"{key}.json"

    def retrieve_response(self, spider: Spider, request: Request) -> Response | None:
        path = self.path(spider, request)
        try:
            if 0 < self.expiration_secs < time.time() - path.stat().st_mtime:
                return None
            entry: dict[str, Any] = json.loads(path.read_bytes())
            headers = Headers({k.encode("latin-1"): [v.encode("latin-1") for v in vs] for k, vs in entry["headers"]})
            body = base64.b64decode(entry["body"])
            url, status = str(entry["url"]), int(entry["status"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:  # unreadable: a miss, fetched again
            logger.warning("robots.txt cache entry %s is unreadable (%s); fetching it again", path, exc)
            return None
        request.meta["cache_timestamp"] = entry.get("timestamp")
        cls = responsetypes.from_args(headers=headers, url=url, body=body)
        return cls(url=url, status=status, headers=headers, body=body, request=request)

    def store_response(self, spider: Spider, request: Request, response: Response) -> None:
        path = self.path(spider, request)
        entry = {
            "url": response.url,
            "status": response.status,
            "headers": [[k.decode("latin-1"), [v.decode("latin-1") for v in vs]] for k, vs in response.headers.items()],
            "body": base64.b64encode(response.body).decode("ascii"),
            "timestamp": time.time(),
        }
        try:
            write_atomically(path, json.dumps(entry).encode("utf-8"))
        except OSError as exc:  # a full or read-only disk costs a fetch next time, not the crawl
            logger.warning("cannot keep robots.txt of %s in %s: %s", response.url, self.folder, exc)


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
        try:
            write_atomically(self.path(host), body)
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
