"""The SQLite archive of ANTARA articles: schema and writes over sqlite-utils, no Scrapy inside."""

from archive.store import Archive, ArchiveError, UpsertResult

__all__ = ["Archive", "ArchiveError", "UpsertResult"]
