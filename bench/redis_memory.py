"""Redis memory per million seen URLs (and the other per-URL keys of a distributed run).

Starts its own redis-server (Debian's, on a free loopback port, no persistence), then for
each structure fills one key with COUNT entries of real sizes and reads ``used_memory``
from INFO memory before and after:

- the seen-set as our FingerprintDupeFilter fills it: the 20-byte digests that
  ``crawler.request_fingerprinter`` (ArticleFingerprinter) gives for COUNT distinct article
  requests, SADD in pipelined batches (the filter does one SADD per request: same set);
- the same fingerprints as 40-character hex, what scrapy-redis's stock RFPDupeFilter stores;
- the hops hash and the targets hash of the crawl memory (4 Baca juga URLs per article);
- the request queue holding COUNT article requests, JSON-serialized as workers queue them;
- a Bloom filter bitmap sized for COUNT at a 1e-6 false-positive rate, and the 2^30-bit one
  scrapy-redis-bloomfilter allocates by default (SETBIT at the last offset).

    .venv/bin/python -m bench.redis_memory [--count 1000000]   # from the repository root
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
from scrapy import Request

os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.scrapy.settings")

from crawler.distributed import serializer  # noqa: E402
from crawler.domain.regions import REGIONS  # noqa: E402
from crawler.scrapy.fingerprint import ArticleFingerprinter  # noqa: E402

BATCH = 10_000


def start_redis(folder: str) -> tuple[subprocess.Popen[bytes], redis.Redis]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        ["/usr/bin/redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        + ["--dir", folder],
        stdout=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    for _ in range(200):
        try:
            client.ping()
            return process, client
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def article_urls(count: int) -> Iterator[str]:
    hosts = [r.host for r in REGIONS]
    for n in range(count):
        host = hosts[n % len(hosts)]
        yield f"https://{host}/berita/{4_000_000 + n}/pemprov-dorong-percepatan-pembangunan-daerah-{n % 97}"


def used(client: redis.Redis) -> int:
    return int(client.info("memory")["used_memory"])


def measure(client: redis.Redis, name: str, count: int, fill: Callable[[Any], None]) -> float:
    client.flushall()
    before = used(client)
    started = time.monotonic()
    fill(client)
    after = used(client)
    per = (after - before) / count
    print(
        f"{name:<52} {(after - before) / 2**20:9.1f} MiB  {per:7.1f} B/entry  ({time.monotonic() - started:.0f} s)",
        flush=True,
    )
    return per


def in_batches(client: redis.Redis, values: Iterator[Any], add: Callable[[Any, Any], None]) -> None:
    pipe = client.pipeline(transaction=False)
    for n, value in enumerate(values, 1):
        add(pipe, value)
        if n % BATCH == 0:
            pipe.execute()
    pipe.execute()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    count = parser.parse_args().count

    fingerprinter = ArticleFingerprinter()
    started = time.monotonic()
    prints = [fingerprinter.fingerprint(Request(url)) for url in article_urls(count)]
    print(f"{count:,} fingerprints by ArticleFingerprinter in {time.monotonic() - started:.0f} s", flush=True)
    spider_like = type("S", (), {"parse_article": lambda self, r, key: None, "on_error": lambda self, f: None})()
    sample = Request(
        next(article_urls(1)),
        callback=spider_like.parse_article,
        errback=spider_like.on_error,
        cb_kwargs={"key": ("kalteng.antaranews.com", 4000000)},
        priority=-1,
    )
    queued = serializer.dumps(sample.to_dict(spider=spider_like))

    folder = tempfile.mkdtemp(prefix="antara-redis-bench-")
    process, client = start_redis(folder)
    try:
        print(f"redis-server {client.info('server')['redis_version']}, {count:,} entries per structure")
        measure(
            client,
            "seen-set, 20-byte fingerprints (ours)",
            count,
            lambda c: in_batches(c, iter(prints), lambda p, v: p.sadd("s", v)),
        )
        measure(
            client,
            "seen-set, 40-char hex (scrapy-redis RFPDupeFilter)",
            count,
            lambda c: in_batches(c, (v.hex() for v in prints), lambda p, v: p.sadd("s", v)),
        )
        measure(
            client,
            "hops hash ('host/id' -> hops)",
            count,
            lambda c: in_batches(
                c, enumerate(article_urls(count)), lambda p, v: p.hset("h", f"x.antaranews.com/{4_000_000 + v[0]}", 1)
            ),
        )
        targets = json.dumps(list(article_urls(4)))
        measure(
            client,
            "targets hash (4 Baca juga URLs per article)",
            count,
            lambda c: in_batches(
                c, iter(range(count)), lambda p, n: p.hset("t", f"x.antaranews.com/{4_000_000 + n}", targets)
            ),
        )
        measure(
            client,
            f"request queue (JSON requests, {len(queued)} B each)",
            count,
            lambda c: in_batches(
                c,
                iter(range(count)),
                lambda p, n: p.zadd("q", {queued.replace(b"4000000", str(4_000_000 + n).encode()): -1}),
            ),
        )
        bits = math.ceil(-count * math.log(1e-6) / math.log(2) ** 2)
        measure(
            client,
            f"Bloom bitmap for {count:,} at p=1e-6 ({bits:,} bits, k=20)",
            count,
            lambda c: c.setbit("b", bits - 1, 1),
        )
        measure(
            client,
            "Bloom bitmap, scrapy-redis-bloomfilter default (2^30 bits)",
            count,
            lambda c: c.setbit("b", 2**30 - 1, 1),
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
