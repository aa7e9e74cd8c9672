"""Pure extraction: from (html, url) to records, with no Scrapy import."""
