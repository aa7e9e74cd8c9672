"""Download handler that writes every HTTP exchange into the archive's WARC files, bytes as received.

Scrapy hands middlewares a response whose headers were parsed (names re-capitalised, repeated
ones grouped, the reason phrase dropped) and, above ``HttpCompressionMiddleware``, whose body
was decompressed. So the capture happens below all of them, inside the HTTP/1.1 client: the
connection's protocol keeps a copy of every byte the server sent for the current request
(status line, headers and payload, still chunked or compressed if it came so), and this
handler writes that copy, under the real URL, once the response is complete.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import socket
from importlib.metadata import version
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import scrapy
from redis.exceptions import RedisError
from scrapy.utils.defer import deferred_from_coro

from archive import ArchiveError
from archive.warc import DEFAULT_MAX_SIZE, Original, WarcWriter, warc_date
from crawler import __version__
from crawler.domain.items import CaptureIndexed, WarcRef
from crawler.domain.meta import CAPTURE_META
from crawler.extraction.urls import parse_article_url
from crawler.scrapy.compat import install_tee, tee_download
from crawler.scrapy.images import image_hosts, on_image_host
from crawler.scrapy.mirror import MirrorDownloadHandler
from crawler.scrapy.pipelines import group_of
from crawler.scrapy.storage import Group

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

#: settings named in each WARC file's warcinfo record
_INFO_SETTINGS = (
    "USER_AGENT",
    "ROBOTSTXT_OBEY",
    "DOWNLOAD_DELAY",
    "CONCURRENT_REQUESTS_PER_DOMAIN",
    "AUTOTHROTTLE_ENABLED",
    "DOWNLOAD_TIMEOUT",
    "RETRY_TIMES",
    "ANTARA_MIRROR",
    "ANTARA_WARC_MAX_SIZE",
)


def request_head(request: Request) -> bytes:
    """The request line and headers Scrapy hands to Twisted, with the real host and path (never a mirror's)."""
    parts = urlsplit(request.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"{request.method} {target} HTTP/1.1".encode("latin-1")]
    for name, values in request.headers.items():
        lines.extend(name + b": " + value for value in values)
    lines.append(b"Host: " + parts.netloc.encode("idna"))  # Twisted's Agent adds it last
    return b"\r\n".join(lines) + b"\r\n\r\n"


class WarcCapture:
    """Writes exchanges into WARC files (``ANTARA_WARC_DIR``, by default ``{ARCHIVE_DB}.warc``)
    and indexes every record in the archive's ``captures`` table, in the archive pipeline's next
    group commit (the file is synced first, see :class:`crawler.scrapy.storage.Group`).

    In a distributed worker (``ANTARA_DISTRIBUTED``, no archive) the files go to
    ``ANTARA_WARC_DIR``, which capture then needs, and the index rows of each exchange are
    pushed to the ingester as a :class:`CaptureIndexed` message instead; a worker writes no
    revisit records (it cannot look up earlier captures).
    """

    def __init__(self, crawler: Crawler, db: str, folder: str, max_size: int, distributed: bool = False) -> None:
        self.crawler = crawler
        self.db = db
        self.folder = folder
        self.max_size = max_size
        self.distributed = distributed
        self.writer: WarcWriter | None = None
        #: the archive pipeline's write group: the index rows are committed with it (None in a worker)
        self.group: Group | None = None
        self.failed = False
        self.sequence = itertools.count(1)
        #: lead-image hosts: an image whose bytes were captured under another URL becomes a revisit of it
        self.image_hosts = image_hosts(crawler.settings)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcCapture | None:
        """None when capture is off (``ANTARA_WARC`` false), there is no archive to index it in,
        or a distributed worker was given no ``ANTARA_WARC_DIR``."""
        settings = crawler.settings
        max_size = settings.getint("ANTARA_WARC_MAX_SIZE") or DEFAULT_MAX_SIZE
        if not settings.getbool("ANTARA_WARC"):
            return None
        if settings.getbool("ANTARA_DISTRIBUTED"):
            folder = settings.get("ANTARA_WARC_DIR")
            if not folder:
                logger.warning("WARC capture is off in this worker: give it --warc-dir DIR (ANTARA_WARC_DIR)")
                return None
            return cls(crawler, "", folder, max_size, distributed=True)
        db = settings.get("ARCHIVE_DB")
        if not db:
            return None
        return cls(crawler, db, settings.get("ANTARA_WARC_DIR") or f"{db}.warc", max_size)

    def _run(self) -> int | str | None:
        """The run the records belong to: the archive's crawl_runs id, or a distributed run's key."""
        if self.distributed:
            from crawler.distributed.worker import worker_of

            worker = worker_of(self.crawler)
            return worker.run.id if worker.run else None
        assert self.crawler.stats is not None
        run_id: int | None = self.crawler.stats.get_value("archive/run_id")
        return run_id

    def record(self, request: Request, response: Response, received: bytes, started: str, mirrored: bool) -> None:
        """Write the exchange (sent at ``started``, a WARC-Date) and leave its :class:`WarcRef` in ``request.meta``."""
        stats = self.crawler.stats
        assert stats is not None
        run_id = self._run()
        if not self.distributed:
            self.group = group_of(self.crawler)
            if self.group is None:  # the archive was not opened (another crawl holds it) or is closed
                return
        if run_id is None or self.failed:  # the archive was not opened (another crawl holds it)
            return
        truncated = "disconnect" if {"partial", "dataloss"} & set(response.flags) else None
        ip = str(response.ip_address) if response.ip_address is not None and not mirrored else None
        try:
            writer = self._open(run_id)
            records = writer.write_exchange(
                response.url, request_head(request), received, self._original, ip, truncated, started
            )
            rows = [r.as_row() for r in records]
            if self.group is not None:  # committed with the pipeline's next group, after writer.sync()
                self.group.add_captures(rows)
            else:
                self._push(rows, str(run_id))
        except (OSError, ArchiveError, RedisError) as exc:
            self._fail(f"cannot write WARC records for {response.url}: {exc}")
            return
        main = next(r for r in records if r.record_type in ("response", "revisit"))
        request.meta[CAPTURE_META] = WarcRef(main.file, main.offset, main.length, main.record_id, main.date)
        stats.inc_value("warc/records", len(records))
        stats.inc_value("warc/bytes", sum(r.length for r in records))
        if main.record_type == "revisit":
            stats.inc_value("warc/revisits")

    def _push(self, rows: list[dict[str, Any]], run: str) -> None:
        """Hand the index rows to the ingester, before the request is acknowledged (like items)."""
        from crawler.distributed import keys
        from crawler.distributed.messages import encode
        from crawler.distributed.worker import worker_of

        worker = worker_of(self.crawler)
        message = encode(CaptureIndexed(rows), run, f"{worker.id}/warc/{next(self.sequence)}")
        worker.server.lpush(keys.ITEMS, message)

    def _original(self, url: str, digest: str) -> Original | None:
        if self.group is None:  # a distributed worker: no index to look in
            return None
        found = self.group.earlier_response(url, digest)
        if found is None:
            prefixes = same_payload_prefixes(url, self.image_hosts)
            found = self.group.earlier_payload(digest, prefixes) if prefixes else None
        return Original(found["record_id"], found["url"], found["date"]) if found else None

    def _open(self, run_id: int | str) -> WarcWriter:
        if self.writer is None:
            self.writer = WarcWriter(self.folder, self.max_size, self._info(run_id))
            if self.group is not None:
                if self.group.archive is not None:
                    self.group.archive.set_meta("warc_dir", os.path.abspath(self.folder))
                self.group.before_commit.append(self.writer.flush)
        return self.writer

    def _info(self, run_id: int | str) -> dict[str, Any]:
        """The warcinfo fields: who wrote the file, how, and for which run."""
        settings = self.crawler.settings
        spider = self.crawler.spider
        return {
            "software": f"antara-archive/{__version__} (Scrapy {scrapy.__version__}, warcio {version('warcio')})",
            "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
            "hostname": socket.gethostname(),
            "operator": settings.get("ANTARA_CONTACT_URL"),
            "http-header-user-agent": settings.get("USER_AGENT"),
            "robots": "obey" if settings.getbool("ROBOTSTXT_OBEY") else "ignore",
            "isPartOf": os.path.basename(self.db) if self.db else f"distributed run {run_id}",
            "description": (
                f"ANTARA news crawl, run {run_id} of {os.path.basename(self.db)}"
                if self.db
                else f"ANTARA news crawl, distributed run {run_id} (worker pid {os.getpid()})"
            ),
            "antara-run-id": run_id,
            "antara-arguments": json.dumps(getattr(spider, "run_arguments", {}), sort_keys=True),
            "antara-settings": json.dumps(
                {**{k: settings.get(k) for k in _INFO_SETTINGS}, "ANTARA_WARC_MAX_SIZE": self.max_size},
                sort_keys=True,
                default=str,
            ),
        }

    def _fail(self, message: str) -> None:
        """A capture that cannot be written stops the crawl, like an archive that cannot be written."""
        self.failed = True
        logger.error("%s; stopping the crawl", message)
        assert self.crawler.stats is not None
        self.crawler.stats.set_value("archive/fatal", message)
        engine = self.crawler.engine
        if engine is not None:
            deferred_from_coro(engine.close_spider_async(reason="archive_error"))

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.writer = self.group = None


class CaptureDownloadHandler(MirrorDownloadHandler):
    """The project's HTTP(S) handler: mirror rewriting (see :mod:`crawler.scrapy.mirror`) plus WARC capture.

    With capture off (``ANTARA_WARC`` false, or no ``ARCHIVE_DB``) it is the mirror handler alone.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.capture = WarcCapture.from_crawler(crawler)
        if self.capture is not None:
            install_tee(self)

    async def download_request(self, request: Request) -> Response:
        if self.capture is None:
            return await super().download_request(request)
        sent = self.outgoing(request)
        started = warc_date()
        response, received = await tee_download(self, sent, request.url)
        response = self.incoming(request, sent, response)
        if received is not None:
            self.capture.record(request, response, received, started, mirrored=sent is not request)
        return response

    async def close(self) -> None:
        await super().close()
        if self.capture is not None:
            self.capture.close()


def same_payload_prefixes(url: str, image_hosts: frozenset[str]) -> list[str]:
    """Where the same bytes under another URL make this response a revisit: any URL of the image
    hosts for an image; for an article page, the same article under another slug (a list and a
    Baca juga line may link one article with two slugs, and which one a crawl fetches first
    depends on timing)."""
    if on_image_host(url, image_hosts):
        return [f"{scheme}://{host}/" for host in image_hosts for scheme in ("https", "http")]
    ref = parse_article_url(url)
    if ref is None:
        return []
    section = ref.region.article_section
    return [
        f"{scheme}://{host}/{section}/{ref.article_id}/"
        for host in {ref.host, urlsplit(url).hostname or ref.host}
        for scheme in ("https", "http")
    ]
