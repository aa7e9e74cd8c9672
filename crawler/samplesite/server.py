"""Serve a :class:`SampleSite` over HTTP on loopback, in the mirror layout ``/{host}{path}?{query}``."""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import IO, Any
from urllib.parse import parse_qs, urlsplit

from crawler.samplesite import clock as C
from crawler.samplesite import faults as F
from crawler.samplesite import render
from crawler.samplesite.model import ArticleSpec, SampleSite
from crawler.samplesite.routes import HTML, REMOVAL_KINDS, Page, Router

#: Like a CDN in front of the live sites, pages are gzipped for clients that accept it, and the
#: national host's are sent chunked, so captures hold the bytes in the codings a server uses.
CHUNKED_HOST = "www.antaranews.com"
CHUNK = 4096


@dataclass(frozen=True)
class Served:
    """One request the site answered, as a watcher (``SampleSiteServer.watch``) sees it."""

    method: str
    target: str  #: ``/{host}{path}?{query}`` as received
    status: int  #: the status sent (an outage that refused the connection: 0)
    fault: str | None  #: the fault or outage served (``outage_http_503``, ``outage_refused``), or None
    conditional: bool  #: the request carried If-None-Match or If-Modified-Since (a revisit)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    server_version = "SampleAntara/1.0"
    wbufsize = 1 << 16  # headers and body leave in one write: no Nagle/delayed-ACK stalls on keep-alive
    server: SampleSiteServer

    def do_GET(self) -> None:
        if self.path.startswith("/_control/"):
            self._send_json(*self.server.control_get(self.path))
            return
        self._answer(with_body=True)

    def do_HEAD(self) -> None:
        self._answer(with_body=False)

    def do_POST(self) -> None:
        """``/_control/publish?count=N``, ``/_control/edit?url=URL``, ``/_control/clock?now=ISO``: change the site."""
        self._send_json(*self.server.control(self.path))

    def _send_json(self, status: int, answer: dict[str, Any]) -> None:
        body = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.server.log_request_line(self.command, self.path, status)

    @property
    def conditional(self) -> bool:
        return bool(self.headers.get("If-None-Match") or self.headers.get("If-Modified-Since"))

    def _answer(self, with_body: bool) -> None:
        if self.server.arrivals is not None:
            self.server.arrivals.append((time.monotonic(), self.path))
        if self._outage(with_body):
            return
        if self._removed_redirect(with_body):
            return
        page = self.server.page(self.path)
        if self.server.faults is not None and self._fault(page, with_body):
            return
        etag = f'"{hashlib.sha1(page.body).hexdigest()[:20]}"' if page.status == 200 else None
        if etag is not None and etag in (self.headers.get("If-None-Match") or ""):
            self.send_response(304)
            self.send_header("ETag", etag)
            self.send_header("Content-Length", "0")
            self.end_headers()
            self.server.log_request_line(self.command, self.path, 304, conditional=True)
            return
        body = page.body
        gzipped = page.status == 200 and "gzip" in (self.headers.get("Accept-Encoding") or "")
        gzipped = gzipped and not page.content_type.startswith("image/")  # image servers send images as they are
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
        self.server.log_request_line(self.command, self.path, page.status, conditional=self.conditional)

    # -- simulated clock -------------------------------------------------------------------
    def _outage(self, with_body: bool) -> bool:
        """Answer for a host the clock has taken down (every path fails); True when it did."""
        outage = self.server.site.outage(self.path.lstrip("/").split("/", 1)[0].split("?", 1)[0])
        if outage is None:
            return False
        fault = f"outage_{outage.kind}"
        if outage.kind == "refused":  # no answer at all: the connection closes
            self.server.log_request_line(self.command, self.path, 0, fault, self.conditional)
            self.close_connection = True
            return True
        self.server.log_request_line(self.command, self.path, 503, fault, self.conditional)
        self._send(503, HTML, render.SERVER_ERROR_HTML.encode() if with_body else b"")
        return True

    # -- removed articles ------------------------------------------------------------------
    def _removed_redirect(self, with_body: bool) -> bool:
        """A removed article of kind ``redirect`` answers 301 to its site's ``/terkini``; True when it did."""
        if self.server.router.removal(self.path) != "redirect":
            return False
        host = self.path.lstrip("/").split("/", 1)[0]
        self._send(
            301,
            HTML,
            b"<html><body>Moved</body></html>" if with_body else b"",
            headers={"Location": f"https://{host}/terkini"},
        )
        self.server.log_request_line(self.command, self.path, 301, conditional=self.conditional)
        return True

    # -- fault mode ------------------------------------------------------------------------
    def _fault(self, page: Page, with_body: bool) -> bool:
        """Answer with a fault when the plan draws one for this request; True when it did."""
        server = self.server
        if f"{F.LOOP_PARAM}=" in urlsplit(self.path).query:  # a hop of a redirect loop: loop on
            server.log_request_line(self.command, self.path, 302)
            self._redirect(self._loop_target(), with_body)
            return True
        spec = server.router.article_spec(self.path)
        article_ok = page.status == 200 and spec is not None and spec.fault is None
        kind = server.draw(self.command, self.path, article_ok, page.status, self.conditional)
        if kind is None:
            return False
        if kind == "slow":
            time.sleep(server.faults.slow_seconds if server.faults else 0)
            self._send(page.status, page.content_type, page.body if with_body else b"")
        elif kind == "drop":
            self._send(page.status, page.content_type, page.body[: len(page.body) // 2], declared=len(page.body))
            self.close_connection = True
        elif kind in ("http_429", "http_503"):
            status = int(kind[5:])
            headers = {"Retry-After": str(server.faults.retry_after)} if status == 429 and server.faults else {}
            self._send(status, HTML, render.SERVER_ERROR_HTML.encode() if with_body else b"", headers=headers)
        elif kind == "redirect_loop":
            self._redirect(self._loop_target(), with_body)
        elif kind == "offsite_redirect":
            host, _, path = self.path.lstrip("/").partition("/")
            targets = F.offsite_targets(host, "/" + path.split("?", 1)[0], server.port)
            self._redirect(targets[len(self.path) % len(targets)], with_body)
        elif kind == "empty":
            self._send(200, page.content_type, b"")
        elif kind == "huge":
            self._send_huge(page, with_body)
        else:
            assert spec is not None
            self._send(200, *self._damaged(kind, spec))
        return True

    def _damaged(self, kind: str, spec: ArticleSpec) -> tuple[str, bytes]:
        """Content type and body of an article page with a content fault."""
        site, amp = self.server.site, "/amp/" in self.path
        if kind == "bad_date":
            return HTML, render.article(site, F.bad_date(spec), amp=amp).encode()
        if kind == "hostile_links":
            return HTML, render.article(site, F.hostile_links(spec, self.server.port), amp=amp).encode()
        html = render.article(site, spec, amp=amp).encode()
        if kind == "no_container":
            return HTML, F.without_container(html)
        if kind == "invalid_utf8":
            return HTML, F.with_invalid_utf8(html)
        return f"text/html; charset={F.LEGACY_CHARSET}", F.in_legacy_encoding(html)

    def _loop_target(self) -> str:
        """The next hop of a redirect loop: the same page, one more hop in the query."""
        parts = urlsplit(self.path)
        hops = int((parse_qs(parts.query).get(F.LOOP_PARAM) or ["0"])[0] or 0)
        host, _, path = parts.path.lstrip("/").partition("/")
        return f"https://{host}/{path}?{F.LOOP_PARAM}={(hops + 1) % 2}"

    def _redirect(self, location: str, with_body: bool) -> None:
        self._send(302, HTML, b"<html><body>Moved</body></html>" if with_body else b"", headers={"Location": location})

    def _send_huge(self, page: Page, with_body: bool) -> None:
        size = self.server.faults.huge_bytes if self.server.faults else 0
        self._send(200, page.content_type, b"", declared=size)
        if not with_body:
            return
        chunk = b"<!-- " + b"x" * (64 * 1024 - 9) + b" -->"
        sent = 0
        try:
            while sent < size:
                piece = chunk[: size - sent]
                self.wfile.write(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _send(
        self,
        status: int,
        content_type: str,
        body: bytes,
        declared: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if declared is None else declared))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        try:
            self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):  # the crawler gave up first (timeout)
            self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the optional request log replaces the default stderr lines."""


class SampleSiteServer(ThreadingHTTPServer):
    """A threading HTTP server for one sample site; ``port`` is the bound port (useful with port 0)."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(
        self,
        site: SampleSite,
        host: str = "127.0.0.1",
        port: int = 0,
        log_path: str | None = None,
        faults: F.FaultPlan | None = None,
    ) -> None:
        # set before binding: a failed bind calls server_close(), which uses them
        self._log: IO[str] | None = None
        self._log_lock = threading.Lock()
        super().__init__((host, port), _Handler)
        self.site = site
        #: fault mode (None: every page is answered as the truth says)
        self.faults = faults
        #: fault mode: every request answered, in arrival order
        self.answers: list[F.Answer] = []
        self._attempts: Counter[str] = Counter()
        self._host = host
        self.router = Router(site)
        #: robots.txt answers that replace the site's own, by host (a 500, a 404, other rules)
        self.robots: dict[str, Page] = {}
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None
        #: called with every answered request, in the handler's thread, as it is logged
        self.watch: Callable[[Served], None] | None = None
        #: set it to a list to record each GET/HEAD as it arrives, ``(time.monotonic(), target)``,
        #: before it is answered (politeness tests measure the spacing of requests per host)
        self.arrivals: list[tuple[float, str]] | None = None

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

    def page(self, target: str) -> Page:
        """The answer to ``target``: a robots.txt set in :attr:`robots`, else the site's own page."""
        host, _, rest = target.split("?", 1)[0].lstrip("/").partition("/")
        if rest == "robots.txt" and host in self.robots:
            return self.robots[host]
        return self.router.get(target)

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
            if parts.path == "/_control/clock":
                return self._move_clock(query.get("now", [""])[0])
            if parts.path in ("/_control/remove", "/_control/restore"):
                return self._remove_or_restore(parts.path, query)
        return 404, {"error": "unknown control path"}

    def _remove_or_restore(self, path: str, query: dict[str, list[str]]) -> tuple[int, dict[str, object]]:
        """``/_control/remove?url=URL&kind=404|410|soft_404|redirect``: take an article down
        (every URL of it, AMP included); ``/_control/restore?url=URL``: put it back as it was."""
        url = query.get("url", [""])[0]
        spec = self.site.article_by_url(url)
        if spec is None:
            return 404, {"error": f"no article at {url!r}"}
        key = (spec.host, spec.article_id)
        if path == "/_control/restore":
            return 200, {"restored": spec.url, "was": self.router.removed.pop(key, None)}
        kind = query.get("kind", ["404"])[0]
        if kind not in REMOVAL_KINDS:
            return 400, {"error": f"kind must be one of {', '.join(REMOVAL_KINDS)}"}
        self.router.removed[key] = kind
        return 200, {"removed": spec.url, "kind": kind}

    def _with_removals(self, truth: dict[str, Any]) -> dict[str, Any]:
        """``truth`` with ``removed`` (the kind) on each removed article (absent otherwise: output as before)."""
        for rows in truth["articles"].values():
            for row in rows:
                kind = self.router.removed.get((row["url"].split("/")[2], row["article_id"]))
                if kind is not None:
                    row["removed"] = kind
        return truth

    def _move_clock(self, now: str) -> tuple[int, dict[str, object]]:
        """``/_control/clock?now=ISO``: move the simulated clock (the site must have one)."""
        if self.site.clock is None:
            return 409, {"error": "the site has no clock (antara sample-site --clock START)"}
        try:
            self.site.set_now(C.parse_time(now))
        except ValueError as exc:
            return 400, {"error": str(exc)}
        return 200, {"now": now, "articles": self.site.articles}

    def control_get(self, target: str) -> tuple[int, dict[str, object]]:
        """``GET /_control/truth[?region=SLUG,SLUG]``: what the site holds now (see ``clock.truth``)."""
        parts = urlsplit(target)
        if parts.path != "/_control/truth":
            return 404, {"error": "unknown control path"}
        wanted = [s for s in ",".join(parse_qs(parts.query).get("region", [])).split(",") if s]
        try:
            with self._log_lock:
                return 200, self._with_removals(C.truth(self.site, wanted or None))
        except KeyError as exc:
            return 400, {"error": str(exc.args[0])}

    def log_request_line(
        self, method: str, target: str, status: int, fault: str | None = None, conditional: bool = False
    ) -> None:
        """Append ``METHOD /{host}{path}?query STATUS [fault=KIND]`` to the request log, if there is one,
        and tell the watcher, if there is one."""
        if self.watch is not None:
            self.watch(Served(method, target, status, fault, conditional))
        if self._log is None:
            return
        with self._log_lock:
            self._log.write(f"{method} {target} {status}{f' fault={fault}' if fault else ''}\n")
            self._log.flush()

    def draw(self, method: str, target: str, article_ok: bool, status: int, conditional: bool = False) -> str | None:
        """Fault mode: the fault for this request (None: answer normally), recorded in :attr:`answers`.

        A fault is logged here, before it is served, so a slow answer shows up at once.
        """
        assert self.faults is not None
        key, kind = F.resource(target)
        with self._log_lock:
            attempt = self._attempts[key]
            self._attempts[key] += 1
        fault = self.faults.pick(key, kind, attempt, article_ok)
        sent = F.STATUS.get(fault, status) if fault else status
        with self._log_lock:
            self.answers.append(F.Answer(key, kind, target, attempt, fault, sent, time.monotonic()))
        if fault is not None:
            self.log_request_line(method, target, sent, fault, conditional)
        return fault

    def server_close(self) -> None:
        super().server_close()
        with self._log_lock:
            if self._log is not None:
                self._log.close()
                self._log = None


def make_server(
    site: SampleSite,
    host: str = "127.0.0.1",
    port: int = 0,
    log_path: str | None = None,
    faults: F.FaultPlan | None = None,
) -> SampleSiteServer:
    """A bound server for ``site``; run ``serve_forever()`` (e.g. in a thread), stop with ``shutdown()``.

    ``faults`` turns fault mode on (see :mod:`crawler.samplesite.faults`).
    """
    return SampleSiteServer(site, host, port, log_path, faults)


def serve(
    port: int,
    articles: int,
    seed: int,
    host: str = "127.0.0.1",
    log_path: str | None = None,
    faults: F.FaultPlan | None = None,
    clock: C.Clock | None = None,
    republish: bool = False,
    english_links: bool = False,
) -> None:
    """Serve a sample site until interrupted, after printing where."""
    site = SampleSite(articles, seed, republish=republish, english_links=english_links)
    site.set_clock(clock)
    server = make_server(site, host, port, log_path, faults)
    mode = f", faults on {faults.share:.0%} of requests (seed {faults.seed})" if faults else ""
    if clock is not None:
        mode += f", clock at {clock.start.isoformat()} (POST /_control/clock?now=ISO moves it)"
    if republish:
        mode += ", stories republished across sites"
    if english_links:
        mode += ", Indonesian articles linking to English ones"
    print(
        f"Serving sample ANTARA site ({articles} articles, seed {seed}{mode}) on http://{host}:{server.port}/{{host}}/...",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
