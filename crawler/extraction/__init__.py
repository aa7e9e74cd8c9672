"""Pure extraction: from (html, url) to records, with no Scrapy import."""

from __future__ import annotations

from crawler.extraction.article import ExtractionError, extract_article
from crawler.extraction.dates import DateError, parse_date, to_iso
from crawler.extraction.listing import extract_feed, extract_listing

__all__ = [
    "DateError",
    "ExtractionError",
    "extract_article",
    "extract_feed",
    "extract_listing",
    "parse_date",
    "to_iso",
]
