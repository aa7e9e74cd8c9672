"""``antara schedule``: print cron and systemd timer units for an unattended incremental crawl."""

from __future__ import annotations

import re
import shlex
import sys
import zlib
from pathlib import Path

import click

from crawler.options import CrawlOptions, OptionError

_MINUTES = re.compile(r"^(\d+)m$")
_CRON_FIELD = re.compile(r"^[\d*/,\-]+$")


def _spread(seed: str, modulo: int) -> int:
    """A stable minute (or hour) derived from the archive path, so many archives don't all start at :00."""
    return zlib.crc32(seed.encode()) % modulo


def cron_spec(every: str, seed: str) -> str:
    """The five cron fields for ``hourly``, ``daily``, ``Nm`` (minutes) or a cron expression."""
    minute = _spread(seed, 60)
    if every == "hourly":
        return f"{minute} * * * *"
    if every == "daily":
        return f"{minute} 5 * * *"
    match = _MINUTES.match(every)
    if match:
        step = int(match.group(1))
        if not 1 <= step <= 59 or 60 % step:
            raise click.BadParameter(
                f"{every!r}: minutes must divide 60 (5m, 10m, 15m, 20m, 30m)", param_hint="'--every'"
            )
        return f"{minute % step}-59/{step} * * * *"
    fields = every.split()
    if len(fields) == 5 and all(_CRON_FIELD.match(f) for f in fields):
        return every
    raise click.BadParameter(
        f"{every!r} is not hourly, daily, a number of minutes like 15m, or a five-field cron expression",
        param_hint="'--every'",
    )


def on_calendar(every: str, seed: str) -> str:
    """systemd ``OnCalendar=`` for the same choices (a raw cron expression has no exact equivalent)."""
    minute = _spread(seed, 60)
    if every == "hourly":
        return f"*-*-* *:{minute:02d}:00"
    if every == "daily":
        return f"*-*-* 05:{minute:02d}:00"
    match = _MINUTES.match(every)
    if match:
        step = int(match.group(1))
        return f"*-*-* *:{minute % step:02d}/{step}:00"
    raise click.BadParameter(
        "systemd timers take hourly, daily or Nm; use --format cron for a cron expression", param_hint="'--every'"
    )


@click.command()
@click.option("--region", "regions", multiple=True, metavar="SLUG[,SLUG]", help="Region slug(s) to crawl.")
@click.option("--all-regions", is_flag=True, help="Every site in the registry.")
@click.option("--db", default="archive.db", show_default=True, type=click.Path(dir_okay=False), help="Archive file.")
@click.option("--every", default="hourly", show_default=True, help="hourly, daily, Nm (e.g. 15m) or a cron expression.")
@click.option("--format", "fmt", type=click.Choice(["cron", "systemd", "all"]), default="all", show_default=True)
@click.option("--name", default="antara-crawl", show_default=True, help="systemd unit name.")
@click.option("--log", "log_path", default=None, help="Log file for cron output [next to the archive].")
def schedule(
    regions: tuple[str, ...], all_regions: bool, db: str, every: str, fmt: str, name: str, log_path: str | None
) -> None:
    """Print ready-to-install cron and systemd timer units for an incremental crawl.

    The scheduled command is `antara crawl --incremental`: new articles, revisits of recent
    ones, and resumption of an interrupted run. Two runs never overlap: a crawl takes a lock
    on the archive, and a second start exits at once with status 75 and a one-line message.

    \b
    Examples:
      antara schedule --region kalteng,kalsel --db /srv/antara/archive.db --every hourly
      antara schedule --all-regions --db /srv/antara/archive.db --every 30m --format cron
      antara schedule --all-regions --db /srv/antara/archive.db --format systemd --name antara
    """
    try:
        options = CrawlOptions.parse(list(regions), None, 2, None, all_regions, "incremental")
    except OptionError as exc:
        raise click.UsageError(str(exc)) from None
    if not re.fullmatch(r"[A-Za-z0-9_.@-]+", name):
        raise click.BadParameter(f"{name!r} is not a usable unit name", param_hint="'--name'")
    archive = Path(db).expanduser().resolve()
    if not archive.parent.is_dir():
        raise click.BadParameter(f"folder {archive.parent} does not exist", param_hint="'--db'")
    region_arg = "--all-regions" if all_regions else f"--region {','.join(r.slug for r in options.regions)}"
    command = (
        f"{shlex.quote(sys.executable)} -m crawler crawl --incremental {region_arg} --db {shlex.quote(str(archive))} -q"
    )
    log = Path(log_path).expanduser().resolve() if log_path else archive.with_name("antara-crawl.log")
    seed = str(archive)
    if fmt in ("cron", "all"):
        click.echo(f"# crontab line (crontab -e): incremental crawl {every}; overlapping starts exit with status 75")
        folder, logfile = shlex.quote(str(archive.parent)), shlex.quote(str(log))
        click.echo(f"{cron_spec(every, seed)} cd {folder} && {command} >> {logfile} 2>&1")
    if fmt in ("systemd", "all"):
        calendar = on_calendar(every, seed)
        if fmt == "all":
            click.echo("")
        click.echo(f"# /etc/systemd/system/{name}.service")
        click.echo(
            "\n".join(
                [
                    "[Unit]",
                    f"Description=ANTARA archive: incremental crawl into {archive}",
                    "Wants=network-online.target",
                    "After=network-online.target",
                    "",
                    "[Service]",
                    "Type=oneshot",
                    f"WorkingDirectory={archive.parent}",
                    f"ExecStart={command}",
                    "# exit status 75: another crawl held the archive's lock; not a failure",
                    "SuccessExitStatus=75",
                    "Nice=10",
                    "",
                ]
            )
        )
        click.echo(f"# /etc/systemd/system/{name}.timer")
        click.echo(
            "\n".join(
                [
                    "[Unit]",
                    f"Description=Run {name}.service {every}",
                    "",
                    "[Timer]",
                    f"OnCalendar={calendar}",
                    "Persistent=true",
                    "RandomizedDelaySec=120",
                    "",
                    "[Install]",
                    "WantedBy=timers.target",
                ]
            )
        )
        click.echo(f"# then: systemctl daemon-reload && systemctl enable --now {name}.timer")
