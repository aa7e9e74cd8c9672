"""Scrapy settings shared by ``antara crawl`` and ``scrapy crawl antara``."""

from __future__ import annotations

from crawler import __version__

BOT_NAME = "antara-archive"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# -- project settings (prefixed) ----------------------------------------------------------
#: SQLite file the archive pipeline writes; empty disables the pipeline.
ARCHIVE_DB = "archive.db"
#: Base URL of a mirror (e.g. the sample site) that serves ``{ANTARA_MIRROR}/{host}{path}``.
ANTARA_MIRROR = ""
#: Where site owners can read about this crawler and reach its maintainers.
ANTARA_CONTACT_URL = "https://github.com/antara-archive/antara-archive"
#: Seconds between progress lines printed by ``antara crawl`` (0 disables them).
ANTARA_PROGRESS_INTERVAL = 5.0
#: Set by ``antara crawl``, which takes the archive lock itself; otherwise the pipeline takes it.
ANTARA_LOCK_HELD = False
#: Pretend the time is this ISO 8601 instant when deciding revisits and stamping rows (tests, replays).
ANTARA_NOW = ""

# -- distributed crawling (docs/distributed.md) -----------------------------------------------
#: Be one worker of a distributed run: queue and seen-set in Redis (REDIS_URL), items pushed to
#: Redis for `antara ingest`, no SQLite written. Set by `antara crawl --distributed`.
ANTARA_DISTRIBUTED = False
#: scrapy-redis's connection setting, e.g. redis://127.0.0.1:6379/0
REDIS_URL = ""
#: Seconds a worker's heartbeat lives; a worker silent that long is dead and its requests are retaken.
ANTARA_WORKER_TTL = 30.0
#: Seconds between a worker's checks: finished requests, work in the shared queue.
ANTARA_WORKER_TICK = 0.5
#: Seconds a worker waits with nothing queued or in flight anywhere before it closes.
ANTARA_IDLE_CLOSE = 5.0

# -- politeness ----------------------------------------------------------------------------
USER_AGENT = f"antara-archive/{__version__} (+{ANTARA_CONTACT_URL})"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
DOWNLOAD_DELAY = 1.0
DOWNLOAD_DELAY_JITTER = 0.5  # each delay is 0.5x to 1.5x DOWNLOAD_DELAY
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 30
RETRY_ENABLED = True
RETRY_TIMES = 2
RETRY_HTTP_CODES = [500, 502, 503, 504, 522, 524, 408, 429]
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening port: a crawl is controlled by signals and the lock only

# -- components ----------------------------------------------------------------------------
DOWNLOAD_HANDLERS = {
    "http": "crawler.mirror.MirrorDownloadHandler",
    "https": "crawler.mirror.MirrorDownloadHandler",
}
REQUEST_FINGERPRINTER_CLASS = "crawler.fingerprint.ArticleFingerprinter"
DOWNLOADER_MIDDLEWARES = {
    # before RobotsTxtMiddleware (100) and RedirectMiddleware (600), so redirects are checked too
    "crawler.middlewares.AntaraOnlyMiddleware": 50,
}
ITEM_PIPELINES = {
    "crawler.pipelines.ArchivePipeline": 300,
}
EXTENSIONS = {
    "crawler.progress.Progress": 500,
}
# With ANTARA_DISTRIBUTED, swaps in the scrapy-redis scheduler, the Redis item pipeline and the
# worker extension (crawler/distributed/addon.py); does nothing otherwise.
ADDONS = {
    "crawler.distributed.addon.DistributedAddon": 0,
}
#: Print progress lines to stderr (``antara crawl`` turns this on).
ANTARA_PROGRESS = False

# robots.txt is kept for a day (RFC 9309's limit) so hourly runs don't refetch it; nothing else is cached.
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "crawler.robotscache.RobotsTxtOnlyPolicy"
HTTPCACHE_EXPIRATION_SECS = 24 * 3600
HTTPCACHE_DIR = "robots-cache"  # antara crawl puts it next to the archive: {db}.robots-cache

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
