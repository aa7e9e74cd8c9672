"""Scrapy settings shared by ``antara crawl`` and ``scrapy crawl antara``."""

from __future__ import annotations

from crawler import __version__

BOT_NAME = "antara-archive"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

# -- project settings (prefixed) ----------------------------------------------------------
#: SQLite file the archive pipeline writes; empty disables the pipeline.
ARCHIVE_DB = "archive.db"
#: Seconds a write waits for another program's lock on the archive before the crawl stops.
ARCHIVE_BUSY_TIMEOUT = 30.0
#: Largest size of the archive in SQLite pages (4 KiB each); 0 is no limit. A write past it
#: stops the crawl as a full disk does (and is how the tests make a disk full).
ARCHIVE_MAX_PAGES = 0
# -- run health (crawler.scrapy.monitors): when a run is stored as degraded --------------------
#: full and backfill runs that store fewer articles than this are degraded
ANTARA_HEALTH_MIN_ARTICLES = 1
#: the same for incremental runs (a quiet hour finds nothing new, legitimately)
ANTARA_HEALTH_MIN_ARTICLES_INCREMENTAL = 0
#: a larger share of the run's pages ending in crawl_errors is degraded
ANTARA_HEALTH_MAX_ERROR_RATE = 0.2
#: a field missing on this much larger a share of a site's articles than in its earlier runs is degraded
ANTARA_HEALTH_FIELD_DROP = 0.5
#: fields are judged only when the run, and the site's earlier runs together, parsed this many of its articles
ANTARA_HEALTH_FIELD_MIN_ARTICLES = 20
#: a site that stores fewer than this share of the median of its recent runs (same mode) is degraded
ANTARA_HEALTH_SITE_DROP = 0.25
#: ... judged only when that median is at least this many articles
ANTARA_HEALTH_SITE_MIN_BASELINE = 10
#: how many of a site's earlier finished runs make its baseline (articles, field coverage)
ANTARA_HEALTH_SITE_RUNS = 5
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
#: Write every HTTP exchange into WARC files and index them in the ``captures`` table (docs/warc.md).
ANTARA_WARC = True
#: Folder of the WARC files; empty means ``{ARCHIVE_DB}.warc`` beside the archive (a distributed
#: worker, which has no archive, captures only when this is set).
ANTARA_WARC_DIR = ""
#: A WARC file is closed, and the next one begun, once it holds this many bytes (gzip).
ANTARA_WARC_MAX_SIZE = 1_000_000_000
#: The pipeline commits its pending items and WARC index rows in one transaction (a group) once
#: half this many items wait, or once the oldest has waited ANTARA_COMMIT_SECONDS, and at close;
#: never more than this many items are uncommitted, which is all a killed crawl can lose (their
#: articles stay in the frontier and are fetched again).
ANTARA_COMMIT_ITEMS = 50
ANTARA_COMMIT_SECONDS = 0.25

# -- lead images (docs/crawling.md, "Lead images") ----------------------------------------------
#: Hosts a lead image may be fetched from (only by an image request: no page of theirs is crawled).
ANTARA_IMAGE_HOSTS = ["img.antaranews.com", "cdn.antaranews.com"]
#: A lead image larger than this many bytes is not fetched (crawl_errors ``image_too_large``).
ANTARA_IMAGE_MAX_BYTES = 5 * 1024 * 1024

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
#: One request rate per host for the whole run, shared by every worker through Redis: requests
#: to a host are at least max(DOWNLOAD_DELAY, its robots.txt Crawl-delay) seconds apart.
ANTARA_SHARED_POLITENESS = True

# -- politeness ----------------------------------------------------------------------------
USER_AGENT = f"antara-archive/{__version__} (+{ANTARA_CONTACT_URL})"
#: obeyed as RFC 9309 says (crawler.scrapy.robots): an unreadable robots.txt (5xx, network error) disallows
#: everything unless an earlier copy is kept; its Crawl-delay spaces the host's requests
ROBOTSTXT_OBEY = True
#: the longest Crawl-delay obeyed, in seconds, by one process and by the workers' shared limiter
ANTARA_CRAWL_DELAY_MAX = 60.0
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 1
#: Scrapy starts this many workers for the output of every response (its default, 100, costs
#: more CPU than the crawl's parsing); the pipeline is synchronous, so more would not help
CONCURRENT_ITEMS = 8
#: Scrapy parses a callback's source (inspect, ast) to warn of a generator that returns a value, again
#: each time its weak cache lost the bound method (one response in ten here); ours are tested, and
#: the check cost 0.4 s of the 14 s of CPU of a 3,000-article crawl (bench/crawl.py)
WARN_ON_GENERATOR_RETURN_VALUE = False
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
#: every page that fails for good is a crawl_errors row, so giving up is not worth an ERROR line
RETRY_GIVE_UP_LOG_LEVEL = "INFO"
#: seconds before the first retry of a page, doubled for each further one (crawler.scrapy.retry)
ANTARA_RETRY_BACKOFF = 1.0
#: the longest backoff wait
ANTARA_RETRY_BACKOFF_MAX = 30.0
#: the longest wait a Retry-After header gets; longer asks wait this long
ANTARA_RETRY_AFTER_MAX = 60.0
#: a redirect chain longer than this is a loop, recorded as redirect_loop
REDIRECT_MAX_TIMES = 5
DOWNLOAD_MAXSIZE = 16 * 1024 * 1024
DOWNLOAD_WARNSIZE = 4 * 1024 * 1024
COOKIES_ENABLED = False
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False  # no listening port: a crawl is controlled by signals and the lock only

# -- components ----------------------------------------------------------------------------
DOWNLOAD_HANDLERS = {  # mirror rewriting and WARC capture, below every middleware
    "http": "crawler.scrapy.capture.CaptureDownloadHandler",
    "https": "crawler.scrapy.capture.CaptureDownloadHandler",
}
REQUEST_FINGERPRINTER_CLASS = "crawler.scrapy.fingerprint.ArticleFingerprinter"
DOWNLOADER_MIDDLEWARES = {
    # before RobotsTxtMiddleware (100) and RedirectMiddleware (600), so redirects are checked too
    "crawler.scrapy.middlewares.AntaraOnlyMiddleware": 50,
    # Scrapy's allows everything when robots.txt answers 5xx; this one disallows (RFC 9309), see crawler.scrapy.robots
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "crawler.scrapy.robots.RobotsMiddleware": 100,
    # Scrapy's own, replaced where they are: retries that wait, redirects that never vanish
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "crawler.scrapy.retry.BackoffRetryMiddleware": 550,
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "crawler.scrapy.redirects.AntaraRedirectMiddleware": 600,
}
ITEM_PIPELINES = {
    "crawler.scrapy.pipelines.ArchivePipeline": 300,
}
EXTENSIONS = {
    "crawler.scrapy.progress.Progress": 500,
}
# With ANTARA_DISTRIBUTED, swaps in the scrapy-redis scheduler, the Redis item pipeline and the
# worker extension (crawler/distributed/addon.py); does nothing otherwise.
ADDONS = {
    "crawler.distributed.addon.DistributedAddon": 0,
}
#: Print progress lines to stderr (``antara crawl`` turns this on).
ANTARA_PROGRESS = False

# robots.txt is kept for a day (RFC 9309's limit) so hourly runs don't refetch it; nothing else is cached.
# The last good copy of each host stays in {HTTPCACHE_DIR}/last-good/ for when robots.txt can't be read.
HTTPCACHE_ENABLED = True
HTTPCACHE_POLICY = "crawler.scrapy.robotscache.RobotsTxtOnlyPolicy"
HTTPCACHE_STORAGE = "crawler.scrapy.robotscache.AtomicFileCacheStorage"  # one file per answer, replaced atomically
HTTPCACHE_EXPIRATION_SECS = 24 * 3600
HTTPCACHE_DIR = "robots-cache"  # antara crawl puts it next to the archive: {db}.robots-cache

LOG_LEVEL = "INFO"
FEED_EXPORT_ENCODING = "utf-8"
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
