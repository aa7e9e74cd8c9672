"""A deterministic synthetic ANTARA network served on loopback, for tests, demos and benchmarks.

``SampleSite`` is the truth (what every page holds), ``make_server``/``serve`` put it on HTTP in the
mirror layout ``http://127.0.0.1:PORT/{host}{path}?{query}``. No Scrapy import.
"""

from __future__ import annotations

from crawler.samplesite.model import ArticleSpec, SampleSite
from crawler.samplesite.server import make_server, serve

__all__ = ["ArticleSpec", "SampleSite", "make_server", "serve"]
