"""Shim for ``scrapyd-deploy``, which builds the project egg with ``python setup.py bdist_egg``.

All metadata, the packages and the ``scrapy`` entry point (``settings = crawler.scrapy.settings``) are
in pyproject.toml; without this file scrapyd-deploy would write its own setup.py here.
"""

from setuptools import setup

setup()
