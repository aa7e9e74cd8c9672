"""The Scrapy components: settings, download handlers, middlewares, pipelines and extensions.

Every private name of Scrapy, Twisted or scrapy-redis that the project needs is kept in
``crawler.scrapy.compat``.
"""
