"""A publishable dataset folder: the Parquet file, a README.md dataset card and SHA256SUMS."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archive.export import (
    ROW_GROUP_SIZE,
    ArchiveReader,
    Column,
    ExportError,
    ExportStats,
    Progress,
    Selection,
    parquet_columns,
    write_parquet,
)

DATA_FILE = "articles.parquet"
CARD_FILE = "README.md"
SUMS_FILE = "SHA256SUMS"

_PARQUET_TYPES = {
    "string": "string",
    "int": "int64",
    "float": "double",
    "timestamp": "timestamp[us, tz=UTC]",
    "list": "list<string>",
}


@dataclass(frozen=True)
class Provenance:
    """How the dataset was made, for its card."""

    tool: str  #: e.g. ``antara-archive 0.1.0``
    exported_at: str  #: ISO 8601 UTC
    command: str = ""  #: the command line that made it, if any


def export_dataset(
    reader: ArchiveReader,
    selection: Selection,
    folder: Path,
    provenance: Provenance,
    progress: Progress | None = None,
    replace: bool = False,
) -> ExportStats:
    """Write the selection as a dataset folder: ``articles.parquet``, ``README.md``, ``SHA256SUMS``.

    Everything is built in a temporary folder beside ``folder`` and moved in at the end. An
    existing ``folder`` is refused unless ``replace``; then only those three files are replaced.
    """
    if folder.exists() and not (replace and folder.is_dir()):
        raise ExportError(f"{folder} already exists")
    stats = ExportStats()
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", suffix=".partial", dir=folder.parent))
    umask = os.umask(0)
    os.umask(umask)
    work.chmod(0o777 & ~umask)  # mkdtemp makes it private; the published folder should not be
    try:
        source = reader.rows(selection)
        with closing(source):
            write_parquet(stats.tally(progress(source) if progress else source), work / DATA_FILE)
        card = render_card(reader, selection, stats, provenance, (work / DATA_FILE).stat().st_size)
        (work / CARD_FILE).write_text(card, encoding="utf-8")
        write_checksums(work, [DATA_FILE, CARD_FILE])
        if folder.exists():
            for name in (DATA_FILE, CARD_FILE, SUMS_FILE):
                os.replace(work / name, folder / name)
        else:
            os.rename(work, folder)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return stats


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def write_checksums(folder: Path, names: list[str]) -> None:
    """``SHA256SUMS`` in ``sha256sum`` format (``HASH  NAME``), checkable with ``sha256sum -c``."""
    lines = [f"{sha256_file(folder / name)}  {name}\n" for name in names]
    (folder / SUMS_FILE).write_text("".join(lines), encoding="utf-8")


def _md(text: Any) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _schema_table(cols: list[Column]) -> list[str]:
    lines = ["| column | type | meaning |", "|---|---|---|"]
    lines += [f"| `{c.name}` | `{_PARQUET_TYPES[c.kind]}` | {_md(c.doc)} |" for c in cols]
    return lines


def _region_table(stats: ExportStats, names: dict[str, str]) -> list[str]:
    lines = ["| region | name | articles |", "|---|---|---:|"]
    for slug, count in sorted(stats.regions.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"| `{slug}` | {_md(names.get(slug, ''))} | {count:,} |")
    lines.append(f"| **all** | | **{stats.count:,}** |")
    return lines


def _runs_table(runs: list[dict[str, Any]]) -> list[str]:
    if not runs:
        return ["No crawl run is recorded for these articles."]
    lines = [
        "| run | started (UTC) | finished (UTC) | outcome | regions | crawler version |",
        "|---:|---|---|---|---|---|",
    ]
    for run in runs:
        try:
            regions = ", ".join(json.loads(run.get("regions") or "[]"))
        except json.JSONDecodeError:
            regions = str(run.get("regions"))
        lines.append(
            f"| {run['id']} | {_md(run.get('started_at') or '')} | {_md(run.get('finished_at') or '')} "
            f"| {_md(run.get('outcome') or '')} | {_md(regions)} | {_md(run.get('crawler_version') or '')} |"
        )
    return lines


def render_card(
    reader: ArchiveReader, selection: Selection, stats: ExportStats, provenance: Provenance, data_size: int
) -> str:
    """The dataset card (Markdown with Hugging Face-style front matter)."""
    runs = reader.runs(stats.run_ids)
    versions = sorted({str(r["crawler_version"]) for r in runs if r.get("crawler_version")})
    dates = f"{stats.first_day} to {stats.last_day}" if stats.count else "none (no articles selected)"
    sites = len(stats.regions)
    lines = [
        "---",
        "language:",
        "- id",
        "license: other",
        "pretty_name: ANTARA news articles",
        "tags:",
        "- news",
        "- indonesia",
        "---",
        "",
        "# ANTARA news articles",
        "",
        f"{stats.count:,} news articles from {sites} site{'' if sites == 1 else 's'} of the ANTARA news agency "
        "(www.antaranews.com, the national site, and regional sites such as kalteng.antaranews.com), "
        f'published {dates} (each site\'s local date), with their tags and "Baca juga" (read also) links.',
        "",
        "## Source and licence",
        "",
        "Crawled from ANTARA's public web pages by [antara-archive]"
        "(https://github.com/antara-archive/antara-archive), which keeps one record per article.",
        "",
        "**The articles are © ANTARA (Perum LKBN ANTARA).** This dataset is an archive made for research "
        "use: it grants no licence to the texts, headlines or images it refers to. Check ANTARA's terms "
        "of use before you republish or redistribute any of it.",
        "",
        "## Files",
        "",
        "| file | |",
        "|---|---|",
        f"| `{DATA_FILE}` | {stats.count:,} rows, {data_size:,} bytes, Parquet (zstd), row groups of "
        f"{ROW_GROUP_SIZE:,} rows, ordered by `site` then `article_id` |",
        f"| `{CARD_FILE}` | this card |",
        f"| `{SUMS_FILE}` | SHA-256 of the two files above; check with `sha256sum -c {SUMS_FILE}` |",
        "",
        "```python",
        "import pyarrow.parquet as pq",
        "",
        f'articles = pq.read_table("{DATA_FILE}").to_pandas()',
        "```",
        "",
        "## Articles per region",
        "",
        *_region_table(stats, reader.region_names()),
        "",
        f"Publication dates: {dates}.",
        "",
        "## Schema",
        "",
        *_schema_table(parquet_columns()),
        "",
        "An Arrow timestamp column has one time zone, so `published_at` holds the instant in UTC and "
        "`published_at_local` keeps the time as the site printed it, with its offset (WIB +07:00, WITA "
        "+08:00, WIT +09:00). Null means the page had no such value.",
        "",
        "## How it was made",
        "",
        f"- Exported by {provenance.tool} (`antara export --format dataset`) at {provenance.exported_at}.",
        f"- Filters: {_md(selection.describe())}.",
    ]
    if provenance.command:
        lines.append(f"- Command: `{provenance.command}`")
    lines += [
        f"- Crawler version(s): {', '.join(versions) if versions else 'not recorded'}.",
        "- Crawl runs that last fetched these articles:",
        "",
        *_runs_table(runs),
        "",
    ]
    return "\n".join(lines)
