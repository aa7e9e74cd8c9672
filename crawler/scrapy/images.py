"""Lead images: which hosts may serve them, what counts as one, and which are archived already."""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from crawler.domain.items import CrawlError
from crawler.domain.reasons import Reason

if TYPE_CHECKING:
    from scrapy.http import Response
    from scrapy.settings import BaseSettings

#: ``request.meta`` key marking a lead-image request: only such a request may reach an image host
IMAGE_META = "antara_image"
#: Content types archived as lead images (parameters such as ``; charset`` are ignored)
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/webp", "image/gif"})


def image_hosts(settings: BaseSettings) -> frozenset[str]:
    """``ANTARA_IMAGE_HOSTS``, lowercase (a list, or a comma-separated string from ``-s``)."""
    return frozenset(h.strip().lower().rstrip(".") for h in settings.getlist("ANTARA_IMAGE_HOSTS") if h.strip())


@lru_cache(maxsize=4096)
def _image_host_of(url: str) -> str | None:
    """The lowercase host of an http(s) URL without userinfo on the default port; None otherwise."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or parts.username or parts.password or port not in (None, 80, 443):
        return None
    return (parts.hostname or "").lower().rstrip(".") or None


def on_image_host(url: str, hosts: Iterable[str]) -> bool:
    """True when ``url`` is plain http(s) on one of ``hosts`` (no userinfo, no odd port)."""
    host = _image_host_of(url)
    return host is not None and host in hosts


def content_type(response: Response) -> str:
    """The response's media type, lowercase, without parameters ('' when it has none)."""
    raw = response.headers.get(b"Content-Type") or b""
    return raw.decode("latin-1").split(";", 1)[0].strip().lower()


def image_problem(response: Response, max_bytes: int, referer: str | None) -> CrawlError | None:
    """Why a 2xx answer to a lead-image request is no image to keep, or None when it is one."""
    kind = content_type(response)
    if kind not in IMAGE_TYPES:
        shown = kind or "no Content-Type"
        return CrawlError(
            response.url,
            Reason.IMAGE_NOT_AN_IMAGE,
            response.status,
            f"the lead image URL answered {shown}, not one of {', '.join(sorted(IMAGE_TYPES))}",
            referer,
        )
    if not response.body:
        return CrawlError(response.url, Reason.EMPTY_PAGE, response.status, "the lead image answered no bytes", referer)
    if max_bytes and len(response.body) > max_bytes:  # a server that sent more than it declared
        return too_large(response.url, max_bytes, referer, response.status)
    return None


def too_large(url: str, max_bytes: int, referer: str | None, status: int | None = None) -> CrawlError:
    """The error of a lead image over ``ANTARA_IMAGE_MAX_BYTES``."""
    return CrawlError(
        url,
        Reason.IMAGE_TOO_LARGE,
        status,
        f"the lead image is larger than ANTARA_IMAGE_MAX_BYTES ({max_bytes} bytes): not archived",
        referer,
    )
