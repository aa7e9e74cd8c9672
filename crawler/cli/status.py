"""``antara status``: the last runs of an archive and their health, with an exit code for cron."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from archive import Archive, ArchiveError

#: Exit status of ``--fail-on-degraded`` when the last run that ended is not healthy.
DEGRADED_EXIT = 1


def _reasons(run: dict[str, Any]) -> list[str]:
    """The ``health_reasons`` JSON list of a crawl_runs or crawl_run_regions row."""
    try:
        reasons = json.loads(run.get("health_reasons") or "[]")
    except ValueError:
        return []
    return [str(r) for r in reasons] if isinstance(reasons, list) else []


def verdict(run: dict[str, Any]) -> str:
    """``ok``, ``degraded`` (a monitor failed, or the run failed), or ``unknown`` (no health recorded)."""
    if run.get("outcome") == "failed":
        return "degraded"
    return str(run.get("health") or "unknown")


def _line(run: dict[str, Any]) -> str:
    started = str(run.get("started_at") or "")[:19].replace("T", " ")
    return (
        f"{run['id']:>5}  {started:<19}  {str(run.get('mode') or ''):<11}  {str(run.get('outcome') or ''):<11}"
        f"  {run.get('articles_new') or 0:>5}  {run.get('articles_updated') or 0:>5}  {run.get('errors') or 0:>6}"
        f"  {verdict(run) if run.get('outcome') != 'running' else '-'}"
    )


@click.command()
@click.option("--db", default="archive.db", show_default=True, type=click.Path(dir_okay=False), help="Archive file.")
@click.option("--runs", type=click.IntRange(min=1), default=10, show_default=True, help="How many runs to show.")
@click.option(
    "--fail-on-degraded",
    is_flag=True,
    help=f"Exit with status {DEGRADED_EXIT} when the last run that ended is degraded or failed (for cron).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON lines instead of a table.")
def status(db: str, runs: int, fail_on_degraded: bool, as_json: bool) -> None:
    """Show the last crawl runs of an archive and whether each was healthy.

    A run is degraded when a monitor failed after it: too few articles, an error rate above
    the threshold, a finish reason other than "finished", or a site in trouble: gone dark (no
    list page or feed read), a list page or its feed failing, far fewer articles than in its
    recent runs, a field suddenly missing on many of its articles (its markup changed). The
    reasons name the site ("kalsel: went dark: ..."); --json adds each site's verdict.
    Reads the archive only.

    \b
    Examples:
      antara status --db archive.db
      antara status --db archive.db --fail-on-degraded || mail -s "antara crawl degraded" me@example.org
    """
    path = Path(db)
    if not path.exists():
        raise click.UsageError(f"archive {db} does not exist")
    try:
        with Archive(path, readonly=True) as archive:
            if "crawl_runs" not in archive.db.table_names():
                raise click.UsageError(f"{db} holds no crawl_runs table: not an antara archive")
            recent = archive.recent_runs(runs)
            sites = archive.site_verdicts([r["id"] for r in recent]) if as_json else {}
    except ArchiveError as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        for run in recent:
            judged = {
                region: {"health": site["health"], "health_reasons": _reasons(site)}
                for region, site in sites.get(run["id"], {}).items()
            }
            line = {**run, "health": verdict(run), "health_reasons": _reasons(run), "sites": judged}
            click.echo(json.dumps(line, sort_keys=True))
    elif not recent:
        click.echo(f"No crawl has run on {db} yet.")
    else:
        click.echo(
            f"{'run':>5}  {'started (UTC)':<19}  {'mode':<11}  {'outcome':<11}  {'new':>5}  {'upd.':>5}"
            f"  {'errors':>6}  health"
        )
        for run in recent:
            click.echo(_line(run))
            for reason in _reasons(run):
                click.echo(f"{'':7}- {reason}")
    if not fail_on_degraded:
        return
    ended = [r for r in recent if r.get("outcome") != "running"]
    if not ended:
        click.echo(f"antara: status: no run of {db} has ended yet", err=True)
        sys.exit(DEGRADED_EXIT)
    last = ended[0]
    if verdict(last) == "degraded":
        reasons = "; ".join(_reasons(last)) or f"outcome {last.get('outcome')}, health {verdict(last)}"
        click.echo(f"antara: status: run {last['id']} is {verdict(last)}: {reasons}", err=True)
        sys.exit(DEGRADED_EXIT)
