"""Distributed crawling: workers share a scrapy-redis request queue and seen-set in Redis, push
their items to a Redis list, and one ``antara ingest`` process writes them to the archive.

See docs/distributed.md for the moving parts and why each exists.
"""
