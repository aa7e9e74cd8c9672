"""antara-archive: crawl ANTARA news sites into a searchable SQLite archive."""

__version__ = "0.1.0"
