"""Domain records and rules shared by every layer (no Scrapy import).

Items, regions, reasons, crawl options, what a crawl remembers, the archive lock.
"""
