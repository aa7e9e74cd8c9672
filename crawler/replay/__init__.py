"""Offline work on the archive's WARC files: articles rebuilt with the current extractor.

No network, no Scrapy HTTP client, no redis.
"""
