"""Serve a :class:`SampleSite` over HTTP on loopback, in the mirror layout ``/{host}{path}?{query}``."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO
from urllib.parse import parse_qs, urlsplit

from crawler.samplesite.model import SampleSite
from crawler.samplesite.routes import Router

#: Like a CDN in front of the live sites, pages are gzipped for clients that accept it, and the
#: national host's are sent chunked, so captures hold the bytes in the codings a server uses.
CHUNKED_HOST = "www.antaranews.com"
CHUNK = 4096


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "SampleAntara/1.0"
    wbufsize = 1 << 16  # headers and body leave in one write: no Nagle/delayed-ACK stalls on keep-alive
    server: SampleSiteServer

    def do_GET(self) -> None:
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_POST(self) -> None:
        """``/_control/publish?count=N`` and ``/_control/edit?url=URL``: change the site while it runs."""
        status, answer = self.server.control(self.path)
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.log_request_line(self.command, self.path, status)

    def _answer(self, with_body: bool) -> None:
        page = self.server.router.get(self.path)
        etag = f'"{hashlib.sha1(page.body).hexdigest()[:20]}"' if page.status == 200 else None
        if etag is not None and etag in (self.headers.get("If-None-Match") or ""):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.server.log_request_line(self.command, self.path, 304)
            return
        body = page.body
        gzipped = page.status == 200 and "gzip" in (self.headers.get("Accept-Encoding") or "")
        if gzipped:
            body = gzip.compress(body, mtime=0)  # no timestamp: the same page is the same bytes
        chunked = self.path.startswith(f"/{CHUNKED_HOST}/")
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Vary", "Accept-Encoding")
        self.send_header("Transfer-Encoding" if chunked else "Content-Length", "chunked" if chunked else str(len(body)))
        if etag is not None:
            self.send_header("ETag", etag)
        self.end_headers()
        if with_body and chunked:
            for start in range(0, len(body), CHUNK):
                piece = body[start : start + CHUNK]
                self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            self.wfile.write(b"0\r\n\r\n")
        elif with_body:
            self.wfile.write(body)
        self.server.log_request_line(self.command, self.path, page.status)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the optional request log replaces the default stderr lines."""


class SampleSiteServer(ThreadingHTTPServer):
    """A threading HTTP server for one sample site; ``port`` is the bound port (useful with port 0)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, site: SampleSite, host: str = "127.0.0.1", port: int = 0, log_path: str | None = None) -> None:
        super().__init__((host, port), _Handler)
        self.site = site
        self._host = host
        self.router = Router(site)
        self._log: IO[str] | None = open(log_path, "a", encoding="utf-8") if log_path else None
        self._log_lock = threading.Lock()

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up mid-answer (a crawler killed on purpose) is not worth a traceback."""
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]

    def control(self, target: str) -> tuple[int, dict[str, object]]:
        """Apply a control request; returns the HTTP status and a JSON answer."""
        parts = urlsplit(target)
        query = parse_qs(parts.query)
        with self._log_lock:
            if parts.path == "/_control/publish":
                try:
                    count = int(query.get("count", ["1"])[0])
                except ValueError:
                    return 400, {"error": "count must be a whole number"}
                specs = self.site.publish(max(0, count))
                return 200, {"published": [spec.url for spec in specs]}
            if parts.path == "/_control/edit":
                url = query.get("url", [""])[0]
                spec = self.site.article_by_url(url)
                if spec is None:
                    return 404, {"error": f"no article at {url!r}"}
                edited = self.site.edit(spec.host, spec.article_id)
                return 200, {"edited": edited.url, "revision": self.site.revision(spec.host, spec.article_id)}
        return 404, {"error": "unknown control path"}

    def log_request_line(self, method: str, target: str, status: int) -> None:
        """Append ``METHOD /{host}{path}?query STATUS`` to the request log, if there is one."""
        if self._log is None:
            return
        with self._log_lock:
            self._log.write(f"{method} {target} {status}\n")
            self._log.flush()

    def server_close(self) -> None:
        super().server_close()
        with self._log_lock:
            if self._log is not None:
                self._log.close()
                self._log = None


def make_server(
    site: SampleSite, host: str = "127.0.0.1", port: int = 0, log_path: str | None = None
) -> SampleSiteServer:
    """A bound server for ``site``; run ``serve_forever()`` (e.g. in a thread), stop with ``shutdown()``."""
    return SampleSiteServer(site, host, port, log_path)


def serve(port: int, articles: int, seed: int, host: str = "127.0.0.1", log_path: str | None = None) -> None:
    """Serve a sample site until interrupted, after printing where."""
    server = make_server(SampleSite(articles, seed), host, port, log_path)
    print(
        f"Serving sample ANTARA site ({articles} articles, seed {seed}) on http://{host}:{server.port}/{{host}}/...",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
