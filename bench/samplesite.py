"""How fast a fresh sample site answers its first requests, big against small: the site builds
nothing up front, so a 100,000-article site answers page one, a deep article and its last list
page about as fast as a 1,000-article one.

Run from the project root:
.venv/bin/python bench/samplesite.py [--articles 1000 100000 1000000] [--repeat 7]

Each repeat builds a fresh site (``SampleSite(N)``) and its loopback server, then times, cold,
the requests ``tests/test_samplesite.py::test_big_site_answers_page_one_and_a_deep_article``
makes: jatim's ``/terkini``, one of the oldest articles of another region, the last list page
of jatim and the page after it (404). Prints the median and worst of those four requests per
size, and the ratio of the median to the baseline: the smallest size, measured in the same run.
Target: the biggest site under 2 s for the four requests.
"""

from __future__ import annotations

import argparse
import http.client
import statistics
import threading
import time

from crawler.samplesite import SampleSite, make_server

SEED = 11
TARGET_SECONDS = 2.0


def first_requests(articles: int) -> float:
    """Seconds for the four requests to a fresh site of ``articles`` articles (server start excluded)."""
    site = SampleSite(articles, SEED)
    server = make_server(site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)

    def get(host: str, path: str) -> int:
        conn.request("GET", f"/{host}{path}")
        response = conn.getresponse()
        response.read()
        return response.status

    try:
        started = time.perf_counter()
        deep = site.article_at(min(articles - 1, 17 * 35 + 9))
        last = site.pages("jatim")
        statuses = [
            get("jatim.antaranews.com", "/terkini"),
            get(deep.host, deep.path),
            get("jatim.antaranews.com", f"/terkini/{last}"),
            get("jatim.antaranews.com", f"/terkini/{last + 1}"),
        ]
        elapsed = time.perf_counter() - started
    finally:
        conn.close()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
    assert statuses == [200, 200, 200, 404], statuses
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, nargs="+", default=[1000, 100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    sizes = sorted(args.articles)
    first_requests(sizes[0])  # warm up imports and code paths, not measured
    runs: dict[int, list[float]] = {size: [] for size in sizes}
    for _ in range(args.repeat):  # sizes interleaved, so a burst of load hits them alike
        for size in sizes:
            runs[size].append(first_requests(size))
    baseline = statistics.median(runs[sizes[0]])
    print(f"{'articles':>10}  {'median ms':>10}  {'worst ms':>9}  {'x baseline':>10}")
    for size in sizes:
        median = statistics.median(runs[size])
        print(f"{size:>10,}  {median * 1000:>10.1f}  {max(runs[size]) * 1000:>9.1f}  {median / baseline:>10.2f}")
    biggest = statistics.median(runs[sizes[-1]])
    verdict = "met" if biggest < TARGET_SECONDS else "MISSED"
    print(f"target: {sizes[-1]:,} articles under {TARGET_SECONDS:.0f} s: {verdict} ({biggest:.3f} s median)")


if __name__ == "__main__":
    main()
