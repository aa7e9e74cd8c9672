"""WACZ export end to end: real crawls of a sample site, the package checked by py-wacz's validator,
read back with warcio, and pages replayed by resolving their URL through the package's own CDXJ."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import surt

from archive.cdx import sorted_cdxj
from archive.wacz import WaczError, write_wacz
from archive.warc import Capture, iter_captures, payload_digest, read_capture, warc_files
from crawler.samplesite import SampleSite
from tests.conftest import crawl_sample, row_dicts, run_cli, serve_site

REGIONS = "kalteng,nasional"  # nasional (www) answers chunked and gzipped, kalteng gzipped with a length


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """Two crawls (the second writes revisits, and a new version of one edited article)."""
    folder = tmp_path_factory.mktemp("wacz")
    db = folder / "archive.db"
    with serve_site(SampleSite(articles=1500, seed=5), folder) as site:
        for n in range(2):
            result = crawl_sample(site, db, "--region", REGIONS, "--max-pages", "2", "--follow-depth", "1", "-q")
            assert result.returncode == 0, result.stderr[-3000:]
            if n == 0:
                edited = next(s for s in site.site.listed("kalteng", 1) if s.fault is None)
                site.site.edit(edited.host, edited.article_id)
    return {"db": db, "folder": Path(f"{db}.warc")}


class Package:
    """A written .wacz, unpacked into a folder for reading."""

    def __init__(self, path: Path, folder: Path) -> None:
        self.path = path
        self.folder = folder
        with zipfile.ZipFile(path) as package:
            self.infos = {info.filename: info for info in package.infolist()}
            package.extractall(folder)
        self.datapackage = json.loads((folder / "datapackage.json").read_bytes())
        lines = (folder / "pages/pages.jsonl").read_text(encoding="utf-8").splitlines()
        self.pages_header = json.loads(lines[0])
        self.pages = [json.loads(line) for line in lines[1:]]
        self.index = (folder / "indexes/index.cdx").read_text(encoding="utf-8").splitlines()
        self.warcs = sorted((folder / "archive").iterdir())

    def captures(self) -> list[Capture]:
        return [capture for path in self.warcs for capture in iter_captures(path)]

    def lookup(self, url: str) -> list[dict[str, Any]]:
        """The index entries of a URL, as a replay tool finds them: by SURT key, nearest time last."""
        key = surt.surt(url)
        return [
            json.loads(line.split(" ", 2)[2]) | {"ts": line.split(" ")[1]}
            for line in self.index
            if line.split(" ")[0] == key
        ]

    def replay(self, url: str, ts: str) -> Capture:
        """The capture a replay tool serves for ``url`` at ``ts``: the nearest entry, a revisit resolved by
        digest among the captures of the URL it refers to (``WARC-Refers-To-Target-URI``: the same URL, or an
        image or article fetched first under another)."""
        wanted = int("".join(ch for ch in ts if ch.isdigit())[:14])
        entry = min(self.lookup(url), key=lambda e: abs(int(e["ts"]) - wanted))
        capture = read_capture(self.folder / "archive" / entry["filename"], int(entry["offset"]))
        if capture.record.record_type == "revisit":
            target = dict(capture.warc_headers).get("WARC-Refers-To-Target-URI", url)
            original = next(
                e for e in self.lookup(target) if e["mime"] != "warc/revisit" and e.get("digest") == entry["digest"]
            )
            capture = capture.with_payload_of(
                read_capture(self.folder / "archive" / original["filename"], int(original["offset"]))
            )
        return capture


@pytest.fixture(scope="module")
def everything(crawled: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("everything") / "all.wacz"
    seen: list[tuple[int, int]] = []
    summary = write_wacz(crawled["db"], out, progress=lambda done, total: seen.append((done, total)))
    return {"summary": summary, "package": Package(out, out.parent / "unpacked"), "progress": seen}


#: py-wacz's validator; its ``wacz validate`` command exits 0 even on failure, so ask main() for its result
VALIDATE = "import sys; from wacz.main import main; sys.exit(main(['validate', '-f', sys.argv[1]]))"


def validate(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", VALIDATE, str(path)], capture_output=True, text=True, timeout=120)


def test_py_wacz_validates_the_package_and_rejects_a_tampered_copy(everything: dict[str, Any], tmp_path: Path) -> None:
    package: Package = everything["package"]
    result = validate(package.path)
    assert result.returncode == 0 and "Validation succeeded" in result.stdout, result.stdout + result.stderr
    # the same package with one byte of the page list changed: the datapackage hash no longer matches
    tampered = tmp_path / "tampered.wacz"
    with zipfile.ZipFile(package.path) as source, zipfile.ZipFile(tampered, "w") as copy:
        for info in source.infolist():
            data = source.read(info)
            copy.writestr(
                info, data.replace(b'"Articles"', b'"Articlez"') if info.filename == "pages/pages.jsonl" else data
            )
    result = validate(tampered)
    assert result.returncode == 1 and "Validation failed" in result.stdout and "succeeded" not in result.stdout


def test_layout_and_datapackage(everything: dict[str, Any]) -> None:
    package: Package = everything["package"]
    summary = everything["summary"]
    meta = package.datapackage
    assert meta["profile"] == "data-package" and meta["wacz_version"] == "1.1.1"
    assert meta["software"].startswith("antara-archive") and meta["title"] and meta["created"].endswith("Z")
    listed = {r["path"]: r for r in meta["resources"]}
    assert set(listed) == set(package.infos) - {"datapackage.json", "datapackage-digest.json"}
    assert {"pages/pages.jsonl", "indexes/index.cdx"} <= set(listed)
    for path, resource in listed.items():
        data = (package.folder / path).read_bytes()
        assert resource["bytes"] == len(data)
        assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
    digest = json.loads((package.folder / "datapackage-digest.json").read_bytes())
    assert digest["hash"] == "sha256:" + hashlib.sha256((package.folder / "datapackage.json").read_bytes()).hexdigest()
    warcs = [name for name in package.infos if name.startswith("archive/")]
    assert warcs == summary.warc_files and all(name.endswith(".warc.gz") for name in warcs)
    # WARC files are stored (replay tools read records by range), never recompressed
    assert all(package.infos[name].compress_type == zipfile.ZIP_STORED for name in warcs)
    assert summary.bytes == package.path.stat().st_size and summary.articles == len(package.pages)
    done, total = everything["progress"][-1]
    assert done == total == summary.warc_bytes


def test_pages_list_every_article_with_its_capture_time(crawled: dict[str, Any], everything: dict[str, Any]) -> None:
    package: Package = everything["package"]
    assert package.pages_header["format"] == "json-pages-1.0" and package.pages_header["id"]
    articles = row_dicts(
        crawled["db"],
        "SELECT c.url, a.title, c.fetched_at FROM articles a JOIN captures c ON c.warc_record_id = a.warc_record_id",
    )
    assert len(articles) == row_dicts(crawled["db"], "SELECT count(*) AS n FROM articles")[0]["n"] > 50
    assert sorted((p["url"], p["title"], p["ts"]) for p in package.pages) == sorted(
        (a["url"], a["title"], a["fetched_at"]) for a in articles
    )
    assert len({p["id"] for p in package.pages}) == len(package.pages)


def test_records_are_copied_byte_for_byte_with_valid_digests(
    crawled: dict[str, Any], everything: dict[str, Any]
) -> None:
    package: Package = everything["package"]
    captures = package.captures()
    by_id = {c.record.record_id: c for c in captures}
    assert len(captures) == everything["summary"].records == len(by_id)
    source = {r["warc_record_id"]: r for r in row_dicts(crawled["db"], "SELECT * FROM captures")}
    for capture in captures:
        row = source[capture.record.record_id]
        with open(crawled["folder"] / row["warc_file"], "rb") as original:
            original.seek(row["warc_offset"])
            expected = original.read(row["warc_length"])
        with open(package.folder / "archive" / capture.record.file, "rb") as copied:
            copied.seek(capture.record.offset)
            assert copied.read(capture.record.length) == expected
        if capture.record.record_type == "response":
            assert capture.record.payload_digest == payload_digest(capture.payload)
    # every article's own record is there, and each revisit's original response with it
    for article in row_dicts(crawled["db"], "SELECT warc_record_id FROM articles"):
        assert by_id[article["warc_record_id"]].record.record_type in ("response", "revisit")
    revisits = [c for c in captures if c.record.record_type == "revisit"]
    assert revisits, "the second crawl should have written revisits"
    assert all(c.record.refers_to in by_id for c in revisits)
    # requests come along with their responses; each packaged file's source warcinfo leads the way
    kinds = {c.record.record_type for c in captures}
    assert {"warcinfo", "response", "revisit", "request"} <= kinds
    assert all(next(iter_captures(path)).record.record_type == "warcinfo" for path in package.warcs)


def test_warcio_reads_the_packaged_files(everything: dict[str, Any]) -> None:
    package: Package = everything["package"]
    result = subprocess.run(
        [sys.executable, "-m", "warcio.cli", "check", *map(str, package.warcs)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_index_is_the_packaged_files_own_cdxj(everything: dict[str, Any]) -> None:
    package: Package = everything["package"]
    assert package.index == sorted_cdxj(package.warcs)  # what `antara cdx` (pywb's format) says of the files
    for line in package.index:
        entry = json.loads(line.split(" ", 2)[2])
        capture = read_capture(package.folder / "archive" / entry["filename"], int(entry["offset"]))
        assert capture.url == entry["url"] and capture.record.length == int(entry["length"])


def test_every_page_replays_through_the_index(crawled: dict[str, Any], everything: dict[str, Any]) -> None:
    """pywb is not installed (it pins redis 2.10, the crawler needs redis 8), so replay is done as it does it:
    find the page's URL in the CDXJ, take the capture nearest the page's time, resolve a revisit by digest."""
    package: Package = everything["package"]
    titles = {
        r["url"]: r["title"]
        for r in row_dicts(
            crawled["db"],
            "SELECT c.url, a.title FROM articles a JOIN captures c ON c.warc_record_id = a.warc_record_id",
        )
    }
    resolved_revisits = 0
    for page in package.pages:
        capture = package.replay(page["url"], page["ts"])
        assert capture.status == 200
        html = capture.body().decode("utf-8")
        assert titles[page["url"]] in html.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&")
        resolved_revisits += capture.record.record_type == "revisit"
    assert resolved_revisits > 0


def test_filters_choose_articles_by_region_and_local_date(crawled: dict[str, Any], tmp_path: Path) -> None:
    days = [
        r["day"]
        for r in row_dicts(
            crawled["db"],
            "SELECT DISTINCT substr(published_at, 1, 10) AS day FROM articles WHERE region = 'kalteng' ORDER BY day",
        )
    ]
    assert len(days) >= 2
    since, until = date.fromisoformat(days[-1]), date.fromisoformat(days[-1])
    out = tmp_path / "kalteng.wacz"
    summary = write_wacz(crawled["db"], out, regions=["kalteng"], since=since, until=until)
    package = Package(out, tmp_path / "unpacked")
    expected = row_dicts(
        crawled["db"],
        "SELECT a.url, c.url AS record_url FROM articles a JOIN captures c ON c.warc_record_id = a.warc_record_id"
        " WHERE a.region = 'kalteng' AND substr(a.published_at, 1, 10) BETWEEN ? AND ?",
        (days[-1], days[-1]),
    )
    assert 0 < len(expected) < len(row_dicts(crawled["db"], "SELECT url FROM articles WHERE region = 'kalteng'"))
    assert sorted(p["url"] for p in package.pages) == sorted(r["record_url"] for r in expected)
    assert summary.articles == len(expected) and summary.first_day == summary.last_day == days[-1]
    articles = {r["url"] for r in row_dicts(crawled["db"], "SELECT url FROM articles")}
    packaged = {c.url for c in package.captures() if c.record.record_type in ("response", "revisit")}
    assert packaged & articles == {r["url"] for r in expected} & packaged
    assert validate(out).returncode == 0


def test_a_small_file_size_splits_the_records_over_several_warcs(crawled: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "split.wacz"
    summary = write_wacz(crawled["db"], out, regions=["nasional"], max_warc_size=40_000)
    assert len(summary.warc_files) >= 3
    package = Package(out, tmp_path / "unpacked")
    assert package.index == sorted_cdxj(package.warcs)
    assert validate(out).returncode == 0


def test_a_missing_warc_file_is_named_and_nothing_is_written(crawled: dict[str, Any], tmp_path: Path) -> None:
    db = tmp_path / "archive.db"
    shutil.copy(crawled["db"], db)
    shutil.copytree(crawled["folder"], tmp_path / "archive.db.warc")
    gone = warc_files(tmp_path / "archive.db.warc")[-1]
    gone.unlink()
    conn = sqlite3.connect(db)  # the archive moved: it says where its WARC files are now
    with conn:
        conn.execute("UPDATE archive_meta SET value = ? WHERE key = 'warc_dir'", [str(tmp_path / "archive.db.warc")])
    conn.close()
    out = tmp_path / "out.wacz"
    said = f"WARC file {gone.name} is missing from {tmp_path / 'archive.db.warc'}"
    with pytest.raises(WaczError, match=re.escape(said)):
        write_wacz(db, out, warc_dir=tmp_path / "archive.db.warc")
    assert list(tmp_path.glob("out.wacz*")) == []
    result = run_cli("export", "--db", str(db), "--format", "wacz", "--output", str(out))
    assert result.returncode == 1
    assert (
        result.stderr.startswith(f"antara: error: WARC file {gone.name} is missing")
        and "Traceback" not in result.stderr
    )


def test_export_command_writes_a_wacz(crawled: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "kalteng.wacz"
    result = run_cli(
        "export", "--db", str(crawled["db"]), "--format", "wacz", "--region", "kalteng", "--output", str(out)
    )
    assert result.returncode == 0, result.stderr
    count = row_dicts(crawled["db"], "SELECT count(*) AS n FROM articles WHERE region = 'kalteng'")[0]["n"]
    assert f"Exported {count:,} articles" in result.stderr and str(out) in result.stderr
    package = Package(out, tmp_path / "unpacked")
    assert len(package.pages) == count
    result = run_cli("export", "--db", str(crawled["db"]), "--format", "wacz", "--query", "banjir", "-o", str(out))
    assert result.returncode == 2 and result.stderr.startswith("antara: error: --query does not apply to --format wacz")
