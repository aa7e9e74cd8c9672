"""``antara schedule``: print cron and systemd timer units for an unattended incremental crawl."""

from __future__ import annotations

import re
import shlex
import sys
import zlib
from pathlib import Path

import click

from crawler.domain.options import CrawlOptions, OptionError

_MINUTES = re.compile(r"^(\d+)m$")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
#: the five cron fields: name, lowest and highest value, names allowed for the values (crontab(5))
CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {name: i for i, name in enumerate(_MONTHS, start=1)}),
    ("day of week", 0, 7, {name: i for i, name in enumerate(_DAYS)}),  # 0 and 7 are Sunday
)
_ITEM = re.compile(r"^(?P<range>\*|(?P<low>[0-9a-z]+)(?:-(?P<high>[0-9a-z]+))?)(?:/(?P<step>[0-9]+))?$")


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
    if len(fields) != 5:
        raise click.BadParameter(
            f"{every!r} is not hourly, daily, a number of minutes like 15m, or a five-field cron expression",
            param_hint="'--every'",
        )
    for value, (label, low, high, names) in zip(fields, CRON_FIELDS, strict=True):
        problem = cron_field_error(value, low, high, names)
        if problem:
            raise click.BadParameter(f"{every!r}: {label} field {value!r}: {problem}", param_hint="'--every'")
    return " ".join(fields)


def cron_field_error(value: str, low: int, high: int, names: dict[str, int]) -> str | None:
    """Why ``value`` is not a valid cron field with values ``low``..``high`` (and ``names``), or None.

    A field is a comma-separated list of ``*``, ``N`` or ``N-M``, each of the two last
    optionally followed by ``/STEP`` (``*/15``, ``0-30/10``); month and weekday values may
    be names (``jan``, ``mon-fri``), as crontab(5) allows.
    """

    def number(text: str) -> int | str:
        if text.isdigit():
            n = int(text)
            return n if low <= n <= high else f"{n} is outside {low}-{high}"
        if text in names:
            return names[text]
        return f"{text!r} is not a number{' or a name such as ' + next(iter(names)) if names else ''}"

    for item in value.lower().split(","):
        if not item:
            return "an empty item in the list"
        match = _ITEM.match(item)
        if not match:
            return f"{item!r} is not *, N, N-M or one of them with /STEP"
        if match["low"] is not None:
            first = number(match["low"])
            if isinstance(first, str):
                return first
            if match["high"] is not None:
                last = number(match["high"])
                if isinstance(last, str):
                    return last
                if last < first:
                    return f"the range {item!r} runs backwards"
            elif match["step"] is not None:
                return f"{item!r}: a step follows * or a range (*/STEP, N-M/STEP)"
        if match["step"] is not None and not 1 <= int(match["step"]) <= high - low + 1:
            return f"the step in {item!r} must be 1 to {high - low + 1}"
    return None


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
@click.option(
    "--with-images/--no-images",
    "images",
    default=True,
    show_default=True,
    help="Whether the scheduled crawls fetch each new article's lead image.",
)
def schedule(
    regions: tuple[str, ...],
    all_regions: bool,
    db: str,
    every: str,
    fmt: str,
    name: str,
    log_path: str | None,
    images: bool,
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
    # The units may be meant for another machine: the archive's folder need not exist here.
    archive = Path(db).expanduser().resolve()
    region_arg = "--all-regions" if all_regions else f"--region {','.join(r.slug for r in options.regions)}"
    command = (
        f"{shlex.quote(sys.executable)} -m crawler crawl --incremental {region_arg} --db {shlex.quote(str(archive))} -q"
    )
    command += " --with-images" if images else " --no-images"  # explicit: the unit says what it stores
    log = Path(log_path).expanduser().resolve() if log_path else archive.with_name("antara-crawl.log")
    seed = str(archive)
    # a bad --every fails before anything is printed
    spec = cron_spec(every, seed)
    calendar = on_calendar(every, seed) if fmt in ("systemd", "all") else ""
    if fmt in ("cron", "all"):
        click.echo(f"# crontab line (crontab -e): incremental crawl {every}; overlapping starts exit with status 75")
        folder, logfile = shlex.quote(str(archive.parent)), shlex.quote(str(log))
        click.echo(f"{spec} cd {folder} && {command} >> {logfile} 2>&1")
    if fmt in ("systemd", "all"):
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
