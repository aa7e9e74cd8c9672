"""The documentation tells the truth about the code: commands parse, modules and settings exist.

Rules the docs follow (docs/development.md, "Commands in the docs"): every line of a fenced
code block tagged ``sh``, ``bash``, ``shell``, ``console`` or untagged that runs ``antara``
(``antara``, ``.venv/bin/antara``, any ``.../antara``, ``python -m crawler``) is parsed by the
real click command without running it. Blocks tagged ``text`` (output, diagrams, synopses with
placeholders) are never parsed.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
import sqlite_utils

from archive import schema
from crawler.cli.main import cli

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PARSED_BLOCKS = {"", "sh", "bash", "shell", "console"}
CONTROL = {"&&", "||", "|", ";", "&", "(", ")"}
REGENERATE = ".venv/bin/python scripts/cli-reference > docs/cli.md"


@dataclass(frozen=True)
class DocCommand:
    """One ``antara`` invocation found in a doc: where, the line as written, its arguments."""

    where: str  # file:line
    line: str
    args: tuple[str, ...]
    error: str = ""  # why the line could not be split into words, if it could not


def _blocks(path: Path) -> list[tuple[str, int, list[str]]]:
    """Fenced code blocks of ``path``: (info string, line number of the first line, lines)."""
    out: list[tuple[str, int, list[str]]] = []
    info: str | None = None
    start = 0
    body: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if info is None and stripped.startswith("```"):
            info, start, body = stripped[3:].strip().lower(), number + 1, []
        elif info is not None and stripped.startswith("```"):
            out.append((info, start, body))
            info = None
        elif info is not None:
            body.append(line)
    return out


def _logical_lines(start: int, lines: list[str]) -> list[tuple[int, str]]:
    """Lines with backslash continuations joined, each with the number of its first line."""
    out: list[tuple[int, str]] = []
    pending = ""
    first = start
    for number, line in enumerate(lines, start):
        if not pending:
            first = number
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        out.append((first, pending + line))
        pending = ""
    if pending:
        out.append((first, pending))
    return out


#: shell redirections (``> file``, ``>> file``, ``2>&1``, ``< file``), dropped before splitting
REDIRECTION = re.compile(r"(?<![\w=-])\d?(?:>>|>|<)(?:&\d|\s*[^\s|&;]+)")
PLACEHOLDER = re.compile(r"<[A-Za-z_][\w-]*>")


def _antara_args(words: list[str]) -> list[str] | None:
    """The arguments after the program if ``words`` runs ``antara``, else None."""
    while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=\S*", words[0]):  # FOO=bar antara ...
        words = words[1:]
    if not words:
        return None
    program = words[0].rsplit("/", 1)[-1]
    if program == "antara":
        return words[1:]
    if re.fullmatch(r"python3?(\.\d+)?", program) and words[1:3] == ["-m", "crawler"]:
        return words[3:]
    return None


def doc_commands(paths: list[Path] = DOCS, root: Path = ROOT) -> list[DocCommand]:
    found: list[DocCommand] = []
    for path in paths:
        name = path.relative_to(root).as_posix()
        for info, start, lines in _blocks(path):
            if info not in PARSED_BLOCKS:
                continue
            for number, line in _logical_lines(start, lines):
                text = line.strip().removeprefix("$ ")
                if "antara" not in text and "-m crawler" not in text:
                    continue
                lexer = shlex.shlex(REDIRECTION.sub(" ", text), posix=True, punctuation_chars="|&;()")
                lexer.whitespace_split = True
                lexer.commenters = "#"
                try:
                    words = list(lexer)
                except ValueError as exc:  # an unclosed quote
                    found.append(DocCommand(f"{name}:{number}", text, (), error=str(exc)))
                    continue
                segment: list[str] = []
                for word in [*words, ";"]:
                    if word not in CONTROL:
                        segment.append(word)
                        continue
                    args = _antara_args(segment)
                    if args is not None:
                        found.append(DocCommand(f"{name}:{number}", text, tuple(args)))
                    segment = []
    return found


def parse_without_running(args: tuple[str, ...]) -> None:
    """Parse ``antara ARGS`` with the real click group and subcommand; raise click.UsageError if wrong."""
    group_ctx = cli.make_context("antara", [], resilient_parsing=True)  # no args: no "missing command"
    group_ctx.resilient_parsing = False  # from here on, an unknown command is an error
    argv = list(args)
    if not argv or argv[0].startswith("-"):  # antara --version, antara --help
        try:
            cli.make_context("antara", argv)
        except click.exceptions.Exit:
            pass
        return
    name, command, rest = cli.resolve_command(group_ctx, argv)
    assert command is not None and name is not None
    try:
        command.make_context(name, rest, parent=group_ctx)
    except click.exceptions.Exit:  # --help
        pass


COMMANDS = doc_commands()


def test_the_docs_name_commands() -> None:
    """The collector finds the commands the docs are known to show (it cannot silently find none)."""
    wheres = {c.where.split(":")[0] for c in COMMANDS}
    assert {"README.md", "docs/crawling.md", "docs/distributed.md", "docs/export.md", "docs/warc.md"} <= wheres
    assert any(c.args[:1] == ("crawl",) and "--demo" in c.args for c in COMMANDS if c.where.startswith("README"))


@pytest.mark.parametrize("command", COMMANDS, ids=[c.where for c in COMMANDS])
def test_every_documented_command_parses(command: DocCommand) -> None:
    assert not command.error, f"{command.where}: `{command.line}` is not a shell line: {command.error}"
    assert not PLACEHOLDER.search(command.line), (
        f"{command.where}: `{command.line}` has a placeholder; write a real value, or move it to a ```text block"
    )
    try:
        parse_without_running(command.args)
    except click.UsageError as exc:
        pytest.fail(f"{command.where}: `{command.line}` does not parse: {exc.format_message()}", pytrace=False)


@pytest.mark.parametrize(
    "text",
    [
        "```sh\nantara crawl --region kalteng --no-such-option\n```\n",
        "```sh\n.venv/bin/antara frobnicate --db archive.db\n```\n",
        "```\ncd /srv && /srv/.venv/bin/python3 -m crawler crawl --log-level LOUD >> log 2>&1\n```\n",
        "```bash\nantara export --format xml \\\n  --output x.xml\n```\n",
    ],
)
def test_a_command_the_code_does_not_have_fails(tmp_path: Path, text: str) -> None:
    """The checker itself: a removed option, command, bad value or choice is caught."""
    doc = tmp_path / "doc.md"
    doc.write_text(text, encoding="utf-8")
    (command,) = doc_commands([doc], root=tmp_path)
    with pytest.raises(click.UsageError):
        parse_without_running(command.args)


def test_text_blocks_and_other_programs_are_not_parsed(tmp_path: Path) -> None:
    doc = tmp_path / "doc.md"
    doc.write_text(
        "```text\nantara show-capture URL [--list]\n```\n\n```sh\ncurl http://x/antara/schedule.json\n```\n",
        encoding="utf-8",
    )
    assert doc_commands([doc], root=tmp_path) == []


# -- option tables name real options ----------------------------------------------------------

OPTION = re.compile(r"(?<![\w-])(--?[a-z][a-z-]*)")
COMMAND_NAMED = re.compile(r"`antara ([a-z][a-z-]*)")


def option_tables() -> list[tuple[str, str, list[str]]]:
    """Rows of the ``| option | ...`` tables: (file:line, command named last before the table, options)."""
    rows: list[tuple[str, str, list[str]]] = []
    for path in DOCS:
        command = ""
        in_table = False
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if line.startswith("| option |"):
                in_table = True
                continue
            if in_table and line.startswith("|"):
                if not line.startswith("|---"):
                    cell = line.split("|")[1]
                    rows.append((f"{path.relative_to(ROOT)}:{number}", command, OPTION.findall(cell)))
                continue
            in_table = False
            command = (COMMAND_NAMED.findall(line) or [command])[-1]
    return rows


def test_option_tables_name_real_options() -> None:
    rows = option_tables()
    assert {where.split(":")[0] for where, _, _ in rows} >= {"docs/crawling.md", "docs/export.md", "docs/serve.md"}
    wrong = []
    for where, name, options in rows:
        command = cli.get_command(click.Context(cli), name)
        assert command is not None, f"{where}: the table follows `antara {name}`, which is no command"
        known = {opt for param in command.params for opt in [*param.opts, *param.secondary_opts]}
        wrong += [f"{where}: antara {name} {option}" for option in options if option not in known]
    assert not wrong, f"options the commands do not have: {wrong}"


# -- README: the two commands at the top ------------------------------------------------------


def _readme_sh_blocks() -> list[str]:
    return ["\n".join(lines) for info, _, lines in _blocks(ROOT / "README.md") if info == "sh"]


def test_readme_first_command_installs_and_crawls_the_demo() -> None:
    first = _readme_sh_blocks()[0]
    assert first.startswith(
        "python3 -m venv .venv && .venv/bin/pip install -q -c requirements/lock.txt -e . && .venv/bin/antara crawl "
    )
    assert "--demo" in first.split()


def test_readme_second_command_is_what_ci_runs() -> None:
    ci = [
        line for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines() if "python -m pytest" in line
    ]
    assert len(ci) == 1, ci
    assert ci[0] == _readme_sh_blocks()[1] + " || status=$?", "README's test command and .ci/run differ"


# -- docs/cli.md is generated ---------------------------------------------------------------


def _cli_reference() -> str:
    loader = importlib.machinery.SourceFileLoader("cli_reference", str(ROOT / "scripts" / "cli-reference"))
    spec = importlib.util.spec_from_loader("cli_reference", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return str(module.reference())


def test_cli_reference_is_fresh() -> None:
    expected = _cli_reference()
    assert "## `antara crawl`" in expected
    assert "| `kalteng` | Kalimantan Tengah | `kalteng.antaranews.com` |" in expected
    current = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert current == expected, f"docs/cli.md is stale: run `{REGENERATE}`"


def test_cli_reference_covers_every_command() -> None:
    text = _cli_reference()
    for name in cli.list_commands(click.Context(cli)):
        assert f"## `antara {name}`" in text, name


# -- docs/architecture.md names every module, and only real ones -----------------------------

MODULE_PATH = re.compile(r"\b(?:crawler|spiders|archive)/[\w/]*\w\.py\b")


def test_architecture_names_every_module() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    named = set(MODULE_PATH.findall(text))
    modules = {
        path.relative_to(ROOT).as_posix()
        for package in ("crawler", "spiders", "archive")
        for path in (ROOT / package).rglob("*.py")
        if path.name != "__init__.py" and "__pycache__" not in path.parts
    }
    missing = sorted(modules - named)
    extra = sorted(p for p in named if not (ROOT / p).is_file())
    assert not missing and not extra, (
        "docs/architecture.md is out of date:\n"
        f"  modules missing from it: {missing}\n"
        f"  paths named in it that do not exist: {extra}"
    )


# -- docs/settings.md names real settings, and all of them ---------------------------------

SETTING_NAME = re.compile(r"`([A-Z][A-Z0-9_]*\*?)`")


def _first_cells(path: Path) -> set[str]:
    names: set[str] = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("| `"):
            names.update(SETTING_NAME.findall(line.split("|")[1]))
    return names


def _source() -> str:
    files = [p for d in ("crawler", "spiders", "archive", "tests", "scripts") for p in (ROOT / d).rglob("*")]
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in files
        if p.is_file() and (p.suffix == ".py" or p.parent.name == "scripts") and "__pycache__" not in p.parts
    )


def _name_pattern(name: str) -> str:
    """``NAME`` as a whole word; ``PREFIX_*`` as any name that starts with it."""
    if name.endswith("*"):
        return r"\b" + re.escape(name[:-1])
    return r"\b" + re.escape(name) + r"\b"


def test_every_documented_setting_is_in_the_code() -> None:
    names = _first_cells(ROOT / "docs" / "settings.md")
    assert {"ARCHIVE_DB", "ANTARA_MIRROR", "SCRAPY_SETTINGS_MODULE"} <= names
    source = _source()
    absent = sorted(n for n in names if not re.search(_name_pattern(n), source))
    assert not absent, f"docs/settings.md names settings the code does not have: {absent}"


def test_every_setting_of_the_settings_module_is_documented() -> None:
    names = _first_cells(ROOT / "docs" / "settings.md")
    text = (ROOT / "crawler" / "scrapy" / "settings.py").read_text(encoding="utf-8")
    defined = set(re.findall(r"^([A-Z][A-Z0-9_]*) = ", text, flags=re.M))
    undocumented = sorted(n for n in defined if n not in names)
    assert not undocumented, f"settings missing from docs/settings.md: {undocumented}"


# -- docs/schema.md describes every table and column the code creates ------------------------


def _schema_sections() -> dict[str, str]:
    """Each table named in a ``## `table` `` heading of docs/schema.md -> its section's text."""
    text = (ROOT / "docs" / "schema.md").read_text(encoding="utf-8")
    sections: dict[str, str] = {}
    for chunk in re.split(r"^## ", text, flags=re.M)[1:]:
        heading = chunk.split("\n", 1)[0].split(":")[0]
        for table in re.findall(r"`(\w+)`", heading):
            sections[table] = chunk
    return sections


def test_schema_doc_matches_the_archive() -> None:
    db = sqlite_utils.Database(memory=True)
    schema.apply(db)
    sections = _schema_sections()
    tables = {t for t in db.table_names() if not t.startswith("articles_fts")}
    assert sorted(tables - set(sections)) == [], "tables missing from docs/schema.md"
    assert sorted(set(sections) - tables) == [], "docs/schema.md names tables the archive does not have"
    missing = [
        f"{table}.{column}"
        for table in sorted(tables)
        for column in db.table(table).columns_dict
        if not re.search(rf"\b{re.escape(column)}\b", sections[table])
    ]
    assert not missing, f"columns missing from docs/schema.md: {missing}"
    assert f"`schema_version` ({schema.SCHEMA_VERSION})" in sections["archive_meta"]


# -- links between the docs --------------------------------------------------------------------

LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_relative_links_point_to_files() -> None:
    broken = []
    for path in DOCS:
        for target in LINK.findall(path.read_text(encoding="utf-8")):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            if not (path.parent / target.split("#")[0]).exists():
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert not broken, broken
