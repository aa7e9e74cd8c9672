"""The ``antara`` command line: one group, a subcommand per capability, all registered here."""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from crawler import __version__
from crawler.cli.crawl import backfill, crawl
from crawler.cli.distributed import ingest, seed
from crawler.cli.export import export
from crawler.cli.samplesite import sample_site
from crawler.cli.schedule import schedule
from crawler.cli.serve import serve
from crawler.cli.status import status
from crawler.cli.stories import stories
from crawler.cli.warc import cdx, reextract, show_capture


class AntaraGroup(click.Group):
    """A click group whose user errors are one line on stderr and exit code 2, never a traceback."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.UsageError as exc:
            click.echo(f"antara: error: {exc.format_message()}", err=True)
            sys.exit(2)
        except click.ClickException as exc:
            click.echo(f"antara: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("antara: interrupted", err=True)
            sys.exit(130)
        sys.exit(code if isinstance(code, int) else 0)


#: Every subcommand of ``antara`` (its --help lists them alphabetically).
COMMANDS = (
    crawl,
    backfill,
    sample_site,
    export,
    serve,
    schedule,
    show_capture,
    reextract,
    cdx,
    status,
    stories,
    seed,
    ingest,
)


@click.group(cls=AntaraGroup, commands=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="antara")
def cli() -> None:
    """Crawl ANTARA news sites into a searchable SQLite archive."""


def main() -> None:
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "crawler.scrapy.settings")
    cli(prog_name="antara")
