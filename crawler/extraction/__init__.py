"""Pure extraction: from (html, url) to records, with no Scrapy import."""

from __future__ import annotations

from crawler.extraction.article import ExtractionError, extract_article
from crawler.extraction.dates import DateError, parse_date, to_iso
from crawler.extraction.listing import extract_feed, extract_listing

#: Version of the extraction rules, stored with every row (``articles.extractor_version``). Bump it
#: whenever a change makes ``extract_article`` return something else for some page; then
#: ``antara reextract`` brings the archive up to date from its WARC files, without fetching again.
EXTRACTOR_VERSION = "2"

__all__ = [
    "EXTRACTOR_VERSION",
    "DateError",
    "ExtractionError",
    "extract_article",
    "extract_feed",
    "extract_listing",
    "parse_date",
    "to_iso",
]
