"""``Request.meta`` keys shared between layers (a crawl writes them, ``antara reextract`` reads them)."""

from __future__ import annotations

#: ``request.meta`` key under which the capture handler leaves the :class:`~crawler.domain.items.WarcRef`
#: of the response (:mod:`crawler.scrapy.capture`)
CAPTURE_META = "antara_capture"
