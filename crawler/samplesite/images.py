"""The sample site's image host: small deterministic PNGs at ``img.antaranews.com/cache/...``.

Every ``/cache/{W}x{H}/{YYYY}/{MM}/{file}`` path answers a tiny valid PNG whose colour follows
from the file name; only :data:`COLOURS` colours exist, so many articles' lead images carry
the same bytes under different URLs (what the crawl's payload-digest dedupe must notice).
Faults, when a test asks for them in :attr:`ImageHost.faults` (path -> kind): ``oversized``
answers a PNG of :data:`OVERSIZED_BYTES`, ``html`` answers an HTML page as the "image".
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from dataclasses import dataclass, field

#: the hosts the sample site serves images at
IMAGE_HOSTS = ("img.antaranews.com",)
#: how many distinct images exist: lead images share their bytes in this many groups
COLOURS = 5
#: bytes of the ``oversized`` fault's PNG (more than the 5 MB default cap lets through is not needed:
#: tests lower ``ANTARA_IMAGE_MAX_BYTES``)
OVERSIZED_BYTES = 256 * 1024
#: robots.txt of the image host: everything may be fetched
ROBOTS_TXT = "User-agent: *\nAllow: /\n"

_CACHE = re.compile(r"^/cache/\d{2,4}x\d{2,4}/\d{4}/\d{2}/[A-Za-z0-9_.-]+$")
_PNG = "image/png"
_HTML_IMAGE = b"<!DOCTYPE html><html><head><title>Not found</title></head><body><p>Gambar tidak ada</p></body></html>"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png(width: int, height: int, rgb: tuple[int, int, int], noise: bool = False) -> bytes:
    """A valid 8-bit RGB PNG of one colour (``noise``: pseudo-random pixels, so it does not compress)."""
    row = bytes(rgb) * width
    rows = []
    for y in range(height):
        if noise:
            row = hashlib.shake_256(f"row {y}".encode()).digest(width * 3)
        rows.append(b"\x00" + row)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + _chunk(b"IEND", b"")
    )


def colour_of(path: str) -> int:
    """Which of the :data:`COLOURS` images ``path`` shows (from its file name, size aside)."""
    name = path.rsplit("/", 1)[-1]
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:4], "big") % COLOURS


def image_bytes(colour: int) -> bytes:
    """The PNG of colour number ``colour`` (16x9 pixels, a few hundred bytes)."""
    rgb = ((colour * 53) % 256, (colour * 101 + 40) % 256, (colour * 197 + 90) % 256)
    return png(16, 9, rgb)


@dataclass
class ImageHost:
    """Answers the image host's paths: ``(status, content type, body)``."""

    #: path (e.g. ``/cache/800x533/2026/11/IMG_x.jpg``) -> ``oversized`` or ``html``
    faults: dict[str, str] = field(default_factory=dict)

    def get(self, path: str) -> tuple[int, str, bytes] | None:
        """The answer to ``path`` on the image host; None for a path it does not serve (a 404)."""
        if path == "/robots.txt":
            return 200, "text/plain; charset=utf-8", ROBOTS_TXT.encode()
        fault = self.faults.get(path)
        if fault == "html":
            return 200, "text/html; charset=utf-8", _HTML_IMAGE
        if fault == "oversized":
            side = int((OVERSIZED_BYTES / 3) ** 0.5) + 1
            return 200, _PNG, png(side, side, (0, 0, 0), noise=True)
        if not _CACHE.match(path):
            return None
        return 200, _PNG, image_bytes(colour_of(path))


def image_host_of(target: str) -> str | None:
    """The image host a mirror target ``/{host}{path}`` is for, or None."""
    host = target.lstrip("/").split("/", 1)[0].split("?", 1)[0].lower()
    return host if host in IMAGE_HOSTS else None
