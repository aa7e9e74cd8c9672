"""WARC capture end to end: real crawls of a sample site, real WARC files, warcio's own checker,
re-extraction with no server running, CDXJ, and the show-capture command."""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest
import surt

from archive.warc import Capture, iter_captures, read_capture, warc_files
from crawler.domain.items import Article
from crawler.extraction import EXTRACTOR_VERSION
from crawler.extraction.urls import parse_article_url
from crawler.replay.reextract import response_from_capture
from crawler.samplesite import SampleSite
from crawler.scrapy.capture import same_payload_prefixes
from crawler.scrapy.pages import article_from_response
from crawler.scrapy.storage import Group
from tests.conftest import RunningSite, crawl_sample, row_dicts, rows, run_cli, serve_site

REGIONS = "kalteng,nasional"  # nasional (www) answers chunked and gzipped, kalteng gzipped with a length
WARCIO = [sys.executable, "-m", "warcio.cli"]


def records(folder: Path) -> list[Capture]:
    return [capture for path in warc_files(folder) for capture in iter_captures(path)]


def crawl(site: RunningSite, db: Path, *args: str) -> list[str]:
    """Crawl, and return the URLs the server answered (real form, https://host/path)."""
    mark = site.mark()
    result = crawl_sample(site, db, "--region", REGIONS, "--max-pages", "2", "--follow-depth", "1", "-q", *args)
    assert result.returncode == 0, result.stderr[-3000:]
    return ["https:/" + line.split()[1] for line in site.requests()[mark:]]


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """Two crawls of a site of our own (one article edited in between); the server is gone afterwards."""
    folder = tmp_path_factory.mktemp("warc")
    db = folder / "archive.db"
    with serve_site(SampleSite(articles=1500, seed=5), folder) as site:
        first = crawl(site, db)
        edited = next(s for s in site.site.listed("kalteng", 1) if s.fault is None)
        site.site.edit(edited.host, edited.article_id)
        second = crawl(site, db)
    yield {"db": db, "folder": Path(f"{db}.warc"), "first": first, "second": second, "edited": edited}


@pytest.mark.slow
def test_every_response_is_captured_under_its_real_url(crawled: dict[str, Any]) -> None:
    runs = {r["id"]: r for r in row_dicts(crawled["db"], "SELECT * FROM crawl_runs")}
    first_run = min(runs)
    captured = Counter(
        r["url"]
        for r in row_dicts(
            crawled["db"],
            "SELECT url FROM captures WHERE run_id = ? AND record_type IN ('response', 'revisit')",
            (first_run,),
        )
    )
    assert captured == Counter(crawled["first"]), "one response record per answer the server gave"
    requests = Counter(
        r["url"] for r in row_dicts(crawled["db"], "SELECT url FROM captures WHERE record_type = 'request'")
    )
    assert requests == Counter(crawled["first"] + crawled["second"])
    assert any(url.endswith("/robots.txt") for url in captured) and any("/terkini" in url for url in captured)
    in_files = records(crawled["folder"])
    assert {c.record.record_id for c in in_files} == {
        r["warc_record_id"] for r in row_dicts(crawled["db"], "SELECT warc_record_id FROM captures")
    }
    for capture in in_files:
        assert capture.record.url is None or capture.record.url.startswith("https://"), capture.record.url
        assert b"127.0.0.1" not in capture.head, "never the mirror's URL or host"
        if capture.record.record_type == "request":
            host = capture.record.url.split("/")[2]
            assert f"\r\nHost: {host}\r\n".encode() in capture.head


@pytest.mark.slow
def test_warcio_check_and_index_pass(crawled: dict[str, Any]) -> None:
    files = [str(p) for p in warc_files(crawled["folder"])]
    assert len(files) == 2  # one per crawl
    check = subprocess.run([*WARCIO, "check", "-v", *files], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout[-3000:]
    assert "digest pass" in check.stdout and "failed" not in check.stdout
    index = subprocess.run([*WARCIO, "index", *files], capture_output=True, text=True, timeout=120)
    assert index.returncode == 0, index.stderr
    types = Counter(json.loads(line)["warc-type"] for line in index.stdout.splitlines())
    assert types["warcinfo"] == 2 and types["request"] == types["response"] + types["revisit"]


@pytest.mark.slow
def test_payload_digests_verify_and_bytes_are_as_sent(crawled: dict[str, Any]) -> None:
    by_id = {c.record.record_id: c for c in records(crawled["folder"])}
    indexed = {r["warc_record_id"]: r for r in row_dicts(crawled["db"], "SELECT * FROM captures")}
    seen_codings = set()
    for capture in by_id.values():
        record = capture.record
        if record.record_type not in ("response", "revisit"):
            continue
        assert indexed[record.record_id]["payload_digest"] == record.payload_digest
        if record.record_type == "revisit":
            original = by_id[record.refers_to or ""]
            assert original.record.payload_digest == record.payload_digest
            # the original is named by its own URL: the revisit's, or the same article under another slug
            assert dict(capture.warc_headers)["WARC-Refers-To-Target-URI"] == original.url
            same, other = parse_article_url(record.url), parse_article_url(original.url)
            article = (same.host, same.article_id) if same else None
            assert original.url == record.url or (other is not None and article == (other.host, other.article_id))
            continue
        digest = "sha1:" + base64.b32encode(hashlib.sha1(capture.payload).digest()).decode()
        assert digest == record.payload_digest
        if record.status == 200 and capture.header(
            "Content-Type",
        ).startswith("text/html"):
            coding = (capture.header("Content-Encoding"), capture.header("Transfer-Encoding"))
            seen_codings.add(coding)
            assert capture.payload != capture.body() and capture.body().lstrip().startswith(b"<!DOCTYPE html>")
    # stored as received: still gzipped, and the national host's still chunked
    assert seen_codings == {("gzip", None), ("gzip", "chunked")}


def _as_row(article: Article) -> dict[str, Any]:
    row = asdict(article)
    row["tags"] = json.dumps(row["tags"], ensure_ascii=False)
    row.pop("links")
    return row


@pytest.mark.slow
def test_rows_point_at_records_that_reextract_to_the_same_row(crawled: dict[str, Any]) -> None:
    articles = row_dicts(crawled["db"], "SELECT * FROM articles")
    assert articles and all(a["warc_record_id"] for a in articles)
    for row in articles:
        capture = read_capture(crawled["folder"] / row["warc_file"], row["warc_offset"])
        assert capture.record.record_id == row["warc_record_id"]
        assert capture.record.length == row["warc_length"]
        fetched = parse_article_url(capture.url)  # the URL fetched may carry another slug than the page declares
        assert fetched is not None and (fetched.host, fetched.article_id) == (row["site"], row["article_id"])
        assert row["extractor_version"] == EXTRACTOR_VERSION
        if capture.record.record_type == "revisit":
            found = row_dicts(
                crawled["db"], "SELECT * FROM captures WHERE warc_record_id = ?", (capture.record.refers_to,)
            )
            capture = capture.with_payload_of(
                read_capture(crawled["folder"] / found[0]["warc_file"], found[0]["warc_offset"])
            )
        article = article_from_response(response_from_capture(capture))
        assert isinstance(article, Article)
        assert {k: row[k] for k in _as_row(article)} == _as_row(article)
        assert row["etag"] == capture.header("ETag")


@pytest.mark.slow
def test_a_second_crawl_writes_revisits_not_copies(crawled: dict[str, Any]) -> None:
    first, second = row_dicts(crawled["db"], "SELECT * FROM crawl_runs ORDER BY id")
    edited = crawled["edited"]
    refetched = [
        c
        for c in row_dicts(
            crawled["db"],
            "SELECT * FROM captures WHERE run_id = ? AND record_type IN ('response', 'revisit') AND status = 200",
            (second["id"],),
        )
        if parse_article_url(c["url"]) is not None
    ]
    assert len(refetched) >= second["articles_unchanged"] + second["articles_updated"] > 30
    for capture in refetched:
        ref = parse_article_url(capture["url"])
        if (ref.host, ref.article_id) == (edited.host, edited.article_id):
            assert capture["record_type"] == "response", "a changed page is stored again"
        else:
            assert capture["record_type"] == "revisit", capture["url"]
            original = row_dicts(
                crawled["db"], "SELECT * FROM captures WHERE warc_record_id = ?", (capture["refers_to"],)
            )
            assert original[0]["run_id"] == first["id"] and original[0]["payload_digest"] == capture["payload_digest"]
    assert second["warc_revisits"] >= len(refetched) - 1
    assert second["warc_bytes"] < first["warc_bytes"] / 2
    # provenance follows the latest capture; the edited article's first text keeps the record it came from
    version = row_dicts(crawled["db"], "SELECT * FROM article_versions WHERE article_url = ?", (edited.url,))[0]
    old = read_capture(crawled["folder"] / version["warc_file"], version["warc_offset"])
    assert old.record.record_id == version["warc_record_id"] and old.record.date < second["started_at"] + "Z"
    assert version["title"].encode() in old.body() or version["title"] in old.body().decode()


def test_an_article_fetched_under_another_slug_is_a_revisit_of_its_first_capture() -> None:
    """A list and a Baca juga line may link one article with two slugs; which a crawl fetches first
    depends on timing, so the same bytes under the other slug are a revisit, not a second copy."""
    url = "https://kalteng.antaranews.com/berita/383310/polres-kuala-kapuas-matangkan-penanganan"
    other = url + "-inflasi"
    hosts = frozenset({"img.antaranews.com"})
    prefixes = same_payload_prefixes(other, hosts)
    assert "https://kalteng.antaranews.com/berita/383310/" in prefixes
    assert same_payload_prefixes("https://kalteng.antaranews.com/terkini", hosts) == [], "list pages change"
    assert same_payload_prefixes("https://img.antaranews.com/a.jpg", hosts) == [
        "https://img.antaranews.com/",
        "http://img.antaranews.com/",
    ]
    group = Group()
    group.add_captures(
        [
            {
                "record_type": "response",
                "url": url,
                "payload_digest": "sha1:X",
                "warc_record_id": "<a>",
                "fetched_at": "t",
            }
        ]
    )
    found = group.earlier_payload("sha1:X", prefixes)
    assert found is not None and found["record_id"] == "<a>" and found["url"] == url
    assert group.earlier_payload("sha1:Y", prefixes) is None, "changed bytes are a new response"
    elsewhere = same_payload_prefixes("https://kalteng.antaranews.com/berita/38331/x", hosts)
    assert group.earlier_payload("sha1:X", elsewhere) is None, "another article's id, even one its prefix"


def _comparable(db: Path) -> dict[str, Any]:
    articles = {
        r["url"]: {k: v for k, v in r.items() if k != "last_run_id"} for r in row_dicts(db, "SELECT * FROM articles")
    }
    tags = sorted(
        (r["article_url"], r["name"])
        for r in row_dicts(db, "SELECT a.article_url, t.name FROM article_tags a JOIN tags t ON t.id = a.tag_id")
    )
    links = row_dicts(db, "SELECT * FROM links ORDER BY source_url, position")
    versions = row_dicts(db, "SELECT * FROM article_versions ORDER BY article_url, version")
    return {"articles": articles, "tags": tags, "links": links, "versions": versions}


@pytest.mark.slow
def test_reextract_into_an_empty_archive_reproduces_it(crawled: dict[str, Any], tmp_path: Path) -> None:
    rebuilt = tmp_path / "rebuilt.db"
    result = run_cli("reextract", "--warc", str(crawled["folder"]), "--db", str(rebuilt), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    assert " 1 updated" in result.stdout and "-> " in result.stdout
    original, again = _comparable(crawled["db"]), _comparable(rebuilt)
    assert again["articles"].keys() == original["articles"].keys()
    for url, row in original["articles"].items():
        assert again["articles"][url] == row, url
    assert again["tags"] == original["tags"] and again["links"] == original["links"]
    assert again["versions"] == original["versions"] and len(again["versions"]) == 1
    assert (
        row_dicts(rebuilt, "SELECT count(*) AS n FROM captures")[0]["n"]
        == row_dicts(crawled["db"], "SELECT count(*) AS n FROM captures")[0]["n"]
    )
    run = row_dicts(rebuilt, "SELECT * FROM crawl_runs")[0]
    assert run["mode"] == "reextract" and run["requests"] == 0 and run["articles_new"] == len(original["articles"])


@pytest.mark.slow
def test_reextract_refreshes_rows_in_place(crawled: dict[str, Any], tmp_path: Path) -> None:
    db = tmp_path / "copy.db"
    shutil.copy(crawled["db"], db)
    target = row_dicts(db, "SELECT url, title, version, last_seen_at FROM articles ORDER BY url LIMIT 1")[0]
    conn = sqlite3.connect(db)
    with conn:  # what an older, worse extractor might have stored
        conn.execute("UPDATE articles SET title = 'garbled', extractor_version = '0' WHERE url = ?", (target["url"],))
        conn.execute("UPDATE article_versions SET body = 'garbled'")
    conn.close()
    result = run_cli("reextract", "--warc", str(crawled["folder"]), "--db", str(db), "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    articles = len(row_dicts(db, "SELECT url FROM articles"))
    assert "0 articles new, 0 updated, 0 unchanged" in result.stdout
    assert f"{articles} refreshed from their own capture, 1 earlier versions refreshed" in result.stdout
    after = _comparable(db)
    before = _comparable(crawled["db"])
    assert after["articles"] == before["articles"] and after["versions"] == before["versions"]


@pytest.mark.slow
def test_rotation_at_a_small_size_gives_several_valid_files(sample_site: RunningSite, tmp_path: Path) -> None:
    db = tmp_path / "rotated.db"
    limit = 15_000
    result = crawl_sample(
        sample_site, db, "--region", "kalteng", "--max-pages", "1", "--follow-depth", "0", "-q",
        "-s", f"ANTARA_WARC_MAX_SIZE={limit}",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    files = warc_files(Path(f"{db}.warc"))
    assert len(files) >= 3 and len({f.name for f in files}) == len(files)
    check = subprocess.run([*WARCIO, "check", *map(str, files)], capture_output=True, text=True, timeout=120)
    assert check.returncode == 0, check.stdout[-3000:]
    for path in files:
        found = list(iter_captures(path))
        assert [c.record.record_type for c in found].count("warcinfo") == 1 and found[
            0
        ].record.record_type == "warcinfo"
        info = found[0].payload.decode()
        assert (
            "software: antara-archive/" in info
            and "antara-settings:" in info
            and f'"ANTARA_WARC_MAX_SIZE": {limit}' in info
        )
        last = max(c.record.offset for c in found if c.record.record_type in ("response", "revisit"))
        assert last < limit, "no exchange begins in a file that reached the limit"
    assert sum(1 for r in row_dicts(db, "SELECT * FROM captures WHERE record_type = 'warcinfo'")) == len(files)


@pytest.mark.slow
def test_cdx_index_is_sorted_and_points_at_the_records(crawled: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "index.cdxj"
    result = run_cli("cdx", "--db", str(crawled["db"]), "-o", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines == sorted(lines, key=lambda line: line.encode())
    [count] = rows(crawled["db"], "SELECT count(*) FROM captures WHERE record_type IN ('response', 'revisit')")
    assert len(lines) == count[0]
    for line in lines:
        key, stamp, fields = line.split(" ", 2)
        entry = json.loads(fields)
        assert key == surt.surt(entry["url"]) and len(stamp) == 14
        capture = read_capture(crawled["folder"] / entry["filename"], int(entry["offset"]))
        assert capture.url == entry["url"] and capture.record.length == int(entry["length"])
        assert capture.record.payload_digest == "sha1:" + entry["digest"]
        assert entry["mime"] == ("warc/revisit" if capture.record.record_type == "revisit" else capture.record.mime)


@pytest.mark.slow
def test_show_capture_prints_the_response(crawled: dict[str, Any]) -> None:
    row = row_dicts(crawled["db"], "SELECT * FROM articles WHERE site = 'www.antaranews.com' LIMIT 1")[0]
    ref = parse_article_url(row["url"])
    assert ref is not None
    variant = f"http://{ref.host}/amp/berita/{ref.article_id}/another-slug"
    shown = run_cli("show-capture", variant, "--db", str(crawled["db"]))
    assert shown.returncode == 0, shown.stderr
    head, _, body = shown.stdout.partition("\n\n")  # text mode: CRLF read as LF
    assert head.startswith("HTTP/1.1 200") and "Transfer-Encoding: chunked" in head
    assert row["title"] in body and row["warc_record_id"] in shown.stderr
    raw = subprocess.run(
        [sys.executable, "-m", "crawler", "show-capture", row["url"], "--db", str(crawled["db"]), "--raw"],
        capture_output=True,
        timeout=60,
    )
    capture = read_capture(crawled["folder"] / row["warc_file"], row["warc_offset"])
    assert raw.returncode == 0 and raw.stdout.startswith(capture.head)
    listed = run_cli("show-capture", row["url"], "--db", str(crawled["db"]), "--list")
    assert listed.returncode == 0 and len(listed.stdout.splitlines()) == 2  # one per crawl
    missing = run_cli("show-capture", "https://kalteng.antaranews.com/berita/1/never", "--db", str(crawled["db"]))
    assert missing.returncode == 1 and missing.stderr.startswith("antara: error: no capture of")


@pytest.mark.slow
def test_no_warc_turns_capture_off(sample_site: RunningSite, tmp_path: Path) -> None:
    db = tmp_path / "plain.db"
    result = crawl_sample(
        sample_site, db, "--region", "kalteng", "--max-pages", "1", "--follow-depth", "0", "--no-warc"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert not Path(f"{db}.warc").exists()
    assert row_dicts(db, "SELECT count(*) AS n FROM captures")[0]["n"] == 0
    stored = row_dicts(db, "SELECT warc_record_id, extractor_version FROM articles")
    assert stored and all(r["warc_record_id"] is None and r["extractor_version"] == EXTRACTOR_VERSION for r in stored)
