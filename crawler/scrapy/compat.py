"""Every use of a private or undocumented name of Scrapy, Twisted or scrapy-redis, in one place.

The rest of the project uses only public APIs and imports what it needs beyond them from here.
Each use says why no public API does the job; :data:`PRIVATE_NAMES` lists every name taken
from a dependency, and ``tests/test_compat.py`` checks that each still exists (so an upgrade
fails there, naming the name, rather than in the middle of a crawl) and that no other module
reaches for one. ``pyproject.toml`` keeps Scrapy below the next minor version for as long as
this module needs it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scrapy.core.downloader.handlers.http11 import (
    # Scrapy's HTTP/1.1 client classes: the only way to see the bytes a server sent, before
    # Twisted parses them, is to subclass the protocol, its factory and the agent that builds
    # the Response. Scrapy offers no hook below the download handler.
    HTTP11DownloadHandler,
    _LenientHTTP11ClientFactory,
    _LenientHTTP11ClientProtocol,
    _ScrapyAgent,
)
from scrapy.exceptions import ResponseDataLossError

# the helpers HTTP11DownloadHandler.download_request uses, needed by its copy below
from scrapy.utils._download_handlers import get_dataloss_msg, wrap_twisted_exceptions
from scrapy.utils.defer import maybe_deferred_to_future

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.core.downloader import Downloader
    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from twisted.internet.defer import Deferred

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class PrivateName:
    """One name this module takes from a dependency that is not its public API."""

    #: distribution that provides it, as pip names it (its version goes in the test's message)
    distribution: str
    #: importable module, then the attribute path inside it: ``("pkg.mod", "Class.attr")``
    module: str
    path: str
    #: True when the last part is an attribute that instances get in ``__init__`` (not on the class)
    instance: bool = False


PRIVATE_NAMES: tuple[PrivateName, ...] = (
    PrivateName("scrapy", "scrapy.core.downloader.handlers.http11", "_LenientHTTP11ClientProtocol"),
    PrivateName("scrapy", "scrapy.core.downloader.handlers.http11", "_LenientHTTP11ClientFactory"),
    PrivateName("scrapy", "scrapy.core.downloader.handlers.http11", "_ScrapyAgent"),
    PrivateName("scrapy", "scrapy.core.downloader.handlers.http11", "_ScrapyAgent._cb_bodydone"),
    PrivateName("scrapy", "scrapy.utils._download_handlers", "get_dataloss_msg"),
    PrivateName("scrapy", "scrapy.utils._download_handlers", "wrap_twisted_exceptions"),
    PrivateName("scrapy", "scrapy.core.downloader.handlers.http11", "HTTP11DownloadHandler._pool", instance=True),
    PrivateName("scrapy", "scrapy.core.downloader.handlers.http11", "HTTP11DownloadHandler._contextFactory", True),
    PrivateName("scrapy", "scrapy.core.downloader.handlers.http11", "HTTP11DownloadHandler._bind_address", True),
    PrivateName("scrapy", "scrapy.core.downloader.handlers.http11", "HTTP11DownloadHandler._default_maxsize", True),
    PrivateName("scrapy", "scrapy.core.downloader.handlers.http11", "HTTP11DownloadHandler._default_warnsize", True),
    PrivateName("scrapy", "scrapy.core.downloader.handlers.http11", "HTTP11DownloadHandler._fail_on_dataloss", True),
    PrivateName(
        "scrapy", "scrapy.core.downloader.handlers.http11", "HTTP11DownloadHandler._fail_on_dataloss_warned", True
    ),
    PrivateName("scrapy", "scrapy.core.downloader.handlers.http11", "HTTP11DownloadHandler._crawler", True),
    PrivateName("scrapy", "scrapy.core.downloader.handlers.http11", "HTTP11DownloadHandler._tls_verbose_logging", True),
    PrivateName("Twisted", "twisted.web.client", "HTTPConnectionPool._factory"),
    PrivateName("Twisted", "twisted.web.client", "_HTTP11ClientFactory._quiescentCallback", instance=True),
    PrivateName("scrapy", "scrapy.core.engine", "ExecutionEngine._slot", instance=True),
    PrivateName("scrapy", "scrapy.core.engine", "_Slot.inprogress", instance=True),
    PrivateName("scrapy", "scrapy.core.engine", "_Slot.nextcall", instance=True),
    # not underscored, but undocumented: the downloader's slot table and a slot's delay
    PrivateName("scrapy", "scrapy.core.downloader", "Downloader.per_slot_settings", instance=True),
    PrivateName("scrapy", "scrapy.core.downloader", "Downloader.slots", instance=True),
    PrivateName("scrapy", "scrapy.core.downloader", "Slot.delay", instance=True),
    PrivateName("scrapy", "scrapy.core.downloader", "Slot.jitter", instance=True),
)


# --- WARC capture: the bytes as received (crawler.scrapy.capture) -----------------------------
#
# Scrapy parses status line and headers in Twisted's client and decompresses above the
# handler; nothing public hands out the bytes on the wire. So the connection's protocol
# keeps a copy of what it receives and the agent picks the copy up when the body is done.


class _TeeProtocol(_LenientHTTP11ClientProtocol):
    """Scrapy's HTTP/1.1 client protocol, also keeping every byte received for the current request."""

    _received: bytearray | None = None

    def request(self, request: Any) -> Deferred[Any]:
        received = self._received = bytearray()

        def keep(response: Any) -> Any:
            response._antara_received = received  # fills up as the body arrives
            return response

        return super().request(request).addCallback(keep)

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 (Twisted's name)
        if self._received is not None:
            self._received += data
        super().dataReceived(data)


class _TeeFactory(_LenientHTTP11ClientFactory):
    def buildProtocol(self, addr: Any) -> _TeeProtocol:  # noqa: N802 (Twisted's name)
        # Twisted's HTTP11ClientFactory builds its protocol with this private callback
        return _TeeProtocol(self._quiescentCallback)  # type: ignore[no-untyped-call]


class _TeeAgent(_ScrapyAgent):
    """Scrapy's per-request agent; ``received`` holds the response's bytes once it is complete."""

    received: bytes | None = None

    def _cb_bodydone(self, result: Any, url: str) -> Response:
        # the one step that sees both Twisted's response (our copy rides on it) and Scrapy's
        kept = getattr(result["txresponse"], "_antara_received", None)
        self.received = bytes(kept) if kept is not None else None
        return super()._cb_bodydone(result, url)


def install_tee(handler: HTTP11DownloadHandler) -> None:
    """Make ``handler``'s connections keep the bytes they receive (for :func:`tee_download`).

    Scrapy sets the connection pool's protocol factory the same way (Twisted's
    ``HTTPConnectionPool`` takes no factory argument).
    """
    handler._pool._factory = _TeeFactory


async def tee_download(
    handler: HTTP11DownloadHandler, request: Request, shown_url: str
) -> tuple[Response, bytes | None]:
    """What ``HTTP11DownloadHandler.download_request`` does (Scrapy 2.19), with the agent that
    keeps the bytes: the response, and every byte the server sent for it (None if not kept).
    ``shown_url`` is the URL a data-loss warning names (the real one, when ``request`` goes to a mirror).

    A copy, because the handler builds its agent inline, from the module's private class.
    """
    agent = _TeeAgent(
        contextFactory=handler._contextFactory,
        bindAddress=handler._bind_address,
        pool=handler._pool,
        maxsize=handler._default_maxsize,
        warnsize=handler._default_warnsize,
        fail_on_dataloss=handler._fail_on_dataloss,
        crawler=handler._crawler,
        tls_verbose_logging=handler._tls_verbose_logging,
    )
    try:
        with wrap_twisted_exceptions():
            response = await maybe_deferred_to_future(agent.download_request(request))
    except ResponseDataLossError:
        if not handler._fail_on_dataloss_warned:
            logger.warning(get_dataloss_msg(shown_url))
            handler._fail_on_dataloss_warned = True
        raise
    return response, agent.received


# --- the engine's in-progress set (crawler.distributed) ----------------------------------------
#
# Scrapy has no public signal for "this request's output is fully handled" (its callback's
# requests scheduled, its items through the pipelines); the engine's slot keeps exactly that
# set, and its ``nextcall`` is the only way to make the engine ask the scheduler now.


def in_progress(crawler: Crawler) -> set[Request] | None:
    """Requests the engine has taken and not finished: downloading, or their callback output
    still being scheduled and sent through the item pipelines. None when the engine has no
    open slot (``ExecutionEngine._slot.inprogress``)."""
    engine = crawler.engine
    slot = getattr(engine, "_slot", None) if engine is not None else None
    return getattr(slot, "inprogress", None)


def wake_engine(engine: ExecutionEngine | None) -> None:
    """Make an open engine ask its scheduler for requests now, not at its next heartbeat (5 s).

    ``engine.crawl(request)`` does the same but needs a request; this has none to give.
    """
    slot = getattr(engine, "_slot", None)
    if slot is not None:
        slot.nextcall.schedule()


# --- a download slot's delay (crawler.scrapy.robots) --------------------------------------------


def hold_slot_delay(downloader: Downloader, request: Request, delay: float) -> None:
    """Make the download slot of ``request`` wait exactly ``delay`` seconds between requests.

    Scrapy 2.19 has no call that sets one slot's delay during a crawl (``DOWNLOAD_SLOTS`` is
    read at start). This writes the downloader's attributes behind it; none has an underscore,
    none is documented API: ``per_slot_settings`` (the parsed ``DOWNLOAD_SLOTS``, read whenever
    a slot is made, and again when an idle one is remade), and a live slot's ``delay`` and
    ``jitter`` (AutoThrottle writes ``delay`` the same way).
    """
    key = downloader.get_slot_key(request)
    entry = downloader.per_slot_settings.get(key, {})
    if entry.get("delay") != delay or entry.get("jitter"):
        downloader.per_slot_settings[key] = {**entry, "delay": delay, "jitter": 0.0}
    slot = downloader.slots.get(key)
    if slot is not None and (slot.delay != delay or slot.jitter):
        slot.delay, slot.jitter = delay, 0.0
