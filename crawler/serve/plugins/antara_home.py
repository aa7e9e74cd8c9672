"""Datasette plugin of antara-archive: the home page's data, the crawl health page, the licence footer.

- ``extra_template_vars``: for ``index.html`` a few bounded queries (sites with their counts and
  newest dates, the latest articles, articles per day of the last 90 days by region group, drawn
  as an inline SVG; the counts and the chart are kept until the archive gains an article or a
  run) and the canned queries; for every page the top-level metadata as
  ``antara_site``, so the footer carries the licence on query, row and error pages too.
- ``register_routes``: ``/health``, recent runs with their health, each site's latest status and
  the errors of the recent runs by reason.

Like ``antara_archive.py`` it acts only on the database named in the ``antara-archive`` plugin
configuration of the metadata.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, timedelta
from typing import Any, NamedTuple

import markupsafe
from datasette import Response, hookimpl
from datasette.utils import tilde_encode

PLUGIN = "antara-archive"
CHART_DAYS = 90
LATEST = 15
RECENT_RUNS = 20

#: The 35 sites in a few groups for the chart, each with a colour of the Okabe-Ito palette
#: (distinguishable with the common colour-vision deficiencies), in legend order.
REGION_GROUPS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("National", "#000000", ("nasional", "kl")),
    (
        "Sumatra",
        "#E69F00",
        ("aceh", "sumut", "sumbar", "riau", "kepri", "jambi", "bengkulu", "sumsel", "babel", "lampung"),
    ),
    ("Java", "#56B4E9", ("banten", "megapolitan", "jabar", "jateng", "jogja", "jatim")),
    ("Kalimantan", "#009E73", ("kalbar", "kalteng", "kalsel", "kaltim", "kaltara")),
    ("Sulawesi", "#0072B2", ("manado", "gorontalo", "sulteng", "sultra", "makassar")),
    ("Bali & Nusa Tenggara", "#D55E00", ("bali", "mataram", "kupang")),
    ("Maluku & Papua", "#CC79A7", ("ambon", "papua", "papuabarat", "papuatengah")),
)
OTHER_GROUP = ("Other", "#999999")
GROUP_OF: dict[str, str] = {slug: name for name, _, slugs in REGION_GROUPS for slug in slugs}


def _database(datasette: Any) -> str | None:
    config = datasette.plugin_config(PLUGIN) or {}
    name = config.get("database")
    return name if isinstance(name, str) and name in datasette.databases else None


ZONE_NAMES = {"+07:00": "WIB", "+08:00": "WITA", "+09:00": "WIT"}


def local_time(published_at: str) -> str:
    """``2026-11-27T12:00:00+08:00`` as ``2026-11-27 12:00 WITA`` (the site's local time and zone)."""
    text = f"{published_at[:10]} {published_at[11:16]}"
    zone = ZONE_NAMES.get(published_at[19:25], published_at[19:25])
    return f"{text} {zone}".strip()


def group_of(region: str) -> str:
    return GROUP_OF.get(region, OTHER_GROUP[0])


# -- home page -----------------------------------------------------------------------------------

SITES_SQL = """
select r.slug, r.name, r.host, r.time_zone,
  (select count(*) from articles a where a.region = r.slug) as articles,
  (select max(a.published_at) from articles a where a.region = r.slug) as newest
from regions r
order by articles desc, r.slug
"""

LATEST_SQL = """
select url, title, published_at, region, site
from articles
order by published_at desc
limit :limit
"""

# ``region in (select slug from regions)`` lets SQLite read only the (region, published_at)
# index: one range per site, no table rows.
PER_DAY_SQL = """
select substr(published_at, 1, 10) as day, region, count(*) as n
from articles
where region in (select slug from regions) and published_at >= :since
group by day, region
"""


class Chart(NamedTuple):  # not a dataclass: Datasette loads this file outside sys.modules
    svg: markupsafe.Markup
    first: str
    last: str
    total: int
    legend: list[dict[str, Any]]


def chart_svg(counts: dict[str, dict[str, int]], last: date, days: int = CHART_DAYS) -> Chart:
    """A stacked bar chart, one bar per local day (``YYYY-MM-DD`` -> group -> articles), as inline SVG."""
    width, height, left, right, top, bottom = 900, 260, 48, 8, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    day_list = [last - timedelta(days=days - 1 - k) for k in range(days)]
    groups = [(name, colour) for name, colour, _ in REGION_GROUPS]
    if any(group == OTHER_GROUP[0] for per_day in counts.values() for group in per_day):
        groups.append(OTHER_GROUP)
    totals = [sum(counts.get(d.isoformat(), {}).values()) for d in day_list]
    peak = max(totals, default=0)
    step = _nice_step(peak)
    y_max = max(step * -(-peak // step), step)
    bar_w = plot_w / days
    parts: list[str] = []
    esc = markupsafe.escape
    for k in range(0, y_max + 1, step):  # horizontal grid lines and their labels
        y = top + plot_h - plot_h * k / y_max
        parts.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{k:,}</text>')
    for i, d in enumerate(day_list):
        per_group = counts.get(d.isoformat(), {})
        x = left + i * bar_w
        y = top + plot_h
        detail = ", ".join(f"{name} {per_group[name]:,}" for name, _ in groups if per_group.get(name))
        rects = []
        for name, colour in groups:
            n = per_group.get(name, 0)
            if not n:
                continue
            h = plot_h * n / y_max
            y -= h
            rects.append(
                f'<rect x="{x:.2f}" y="{y:.2f}" width="{max(bar_w - 1, 1):.2f}" height="{h:.2f}" fill="{colour}"/>'
            )
        label = f"{d.isoformat()}: {totals[i]:,} article{'' if totals[i] == 1 else 's'}" + (
            f" ({detail})" if detail else ""
        )
        parts.append(f"<g><title>{esc(label)}</title>{''.join(rects)}</g>")
        if d.day in (1, 15):  # day ticks: dates, never hours
            parts.append(
                f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top + plot_h}" y2="{top + plot_h + 4}" class="axis"/>'
                f'<text x="{x:.1f}" y="{height - 8}" text-anchor="middle">{d.day} {d.strftime("%b")}</text>'
            )
    parts.append(f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" class="axis"/>')
    first_s, last_s = day_list[0].isoformat(), day_list[-1].isoformat()
    total = sum(totals)
    desc = f"Articles published per day from {first_s} to {last_s}, stacked by region group; {total:,} in all."
    svg = markupsafe.Markup(
        f'<svg class="antara-chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title chart-desc"'
        f' preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="chart-title">Articles per day, last {days} days</title><desc id="chart-desc">{esc(desc)}</desc>'
        f"{''.join(parts)}</svg>"
    )
    legend = [
        {
            "name": name,
            "colour": colour,
            "articles": sum(per_day.get(name, 0) for per_day in counts.values()),
        }
        for name, colour in groups
    ]
    return Chart(svg, first_s, last_s, total, legend)


def _nice_step(peak: int) -> int:
    """A round grid step giving about four lines up to ``peak``."""
    if peak <= 4:
        return 1
    raw = peak / 4
    magnitude = 10 ** (len(str(int(raw))) - 1)
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * magnitude:
            return multiple * magnitude
    return 10 * magnitude


# What the counts and the chart depend on, read in O(1): a new article raises max(rowid), a
# crawl adds a run (whose articles may have changed dates). Unchanged key: reuse the last result.
STATE_SQL = (
    "select (select max(rowid) from articles), (select max(id) from crawl_runs), (select count(*) from regions),"
    " (select max(published_at) from articles)"
)
_cache: dict[tuple[str, str], tuple[tuple[Any, ...], list[dict[str, Any]], Any]] = {}


class _NoRows(NamedTuple):
    rows: list[Any]


async def _no_rows() -> _NoRows:
    return _NoRows([])


async def _sites_and_chart(datasette: Any, database: str) -> tuple[list[dict[str, Any]], Chart | None]:
    """Every site with its article count and newest date, and the chart: recomputed when the archive grew."""
    db = datasette.get_database(database)
    state = tuple((await db.execute(STATE_SQL)).rows[0])
    key = (database, db.path or "")
    cached = _cache.get(key)
    if cached is not None and cached[0] == state:
        return cached[1], cached[2]
    newest = state[-1]
    since = None
    if newest:
        last = date.fromisoformat(newest[:10])
        since = (last - timedelta(days=CHART_DAYS - 1)).isoformat()
    # two index reads at once: SQLite runs them on two of Datasette's connections in parallel
    site_rows, day_rows = await asyncio.gather(
        db.execute(SITES_SQL), db.execute(PER_DAY_SQL, {"since": since}) if since else _no_rows()
    )
    sites = [dict(r) for r in site_rows.rows]
    chart = None
    if since:
        counts: dict[str, dict[str, int]] = {}
        for row in day_rows.rows:
            per_group = counts.setdefault(row["day"], {})
            group = group_of(row["region"])
            per_group[group] = per_group.get(group, 0) + row["n"]
        chart = chart_svg(counts, last)
    _cache[key] = (state, sites, chart)
    return sites, chart


async def home_vars(datasette: Any, database: str, request: Any) -> dict[str, Any]:
    db = datasette.get_database(database)
    sites, chart = await _sites_and_chart(datasette, database)
    latest = [dict(r) for r in (await db.execute(LATEST_SQL, {"limit": LATEST})).rows]
    for article in latest:
        article["path"] = datasette.urls.row(database, "articles", tilde_encode(article["url"]))
        article["local"] = local_time(article["published_at"])
    queries = await datasette.get_canned_queries(database, request.actor if request else None)
    return {
        "antara_home": {
            "database": database,
            "sites": [s for s in sites if s["articles"]],
            "empty_sites": [s for s in sites if not s["articles"]],
            "total": sum(s["articles"] for s in sites),
            "latest": latest,
            "chart": chart,
            "groups": [
                {"name": name, "colour": colour, "regions": ", ".join(slugs)} for name, colour, slugs in REGION_GROUPS
            ],
            "queries": list(queries.values()),
        }
    }


@hookimpl
def extra_template_vars(template: str, database: str | None, request: Any, datasette: Any) -> Any:
    ours = _database(datasette)

    async def inner() -> dict[str, Any]:
        values: dict[str, Any] = {"antara_site": _site(datasette), "antara_database": ours}
        if template == "index.html" and ours is not None:
            values.update(await home_vars(datasette, ours, request))
        return values

    return inner


def _site(datasette: Any) -> dict[str, Any]:
    """The top-level metadata the footer shows (licence, source, about)."""
    keys = ("title", "license", "license_url", "source", "source_url", "about", "about_url")
    return {key: datasette.metadata(key) for key in keys}


@hookimpl
def prepare_jinja2_environment(env: Any, datasette: Any) -> None:
    # error pages render without extra_template_vars: give their footer the same metadata
    env.globals["antara_site_metadata"] = lambda: _site(datasette)


# -- crawl health ----------------------------------------------------------------------------------

RUNS_SQL = """
select id, started_at, finished_at, mode, outcome, regions, articles_new, articles_updated, errors,
  health, health_reasons
from crawl_runs
order by id desc
limit :limit
"""

# each site's latest judged run (health is NULL for sites a run only reached by links)
SITES_HEALTH_SQL = """
select c.region, r.name, c.run_id, c.health, c.health_reasons, c.articles_new, c.errors, cr.started_at
from crawl_run_regions c
join (
  select region, max(run_id) as run_id from crawl_run_regions where health is not null group by region
) latest on latest.region = c.region and latest.run_id = c.run_id
left join regions r on r.slug = c.region
left join crawl_runs cr on cr.id = c.run_id
order by c.health = 'ok', c.region
"""

ERRORS_SQL = """
select reason, count(*) as pages, count(distinct run_id) as runs, max(run_id) as last_run
from crawl_errors
where run_id >= :first_run
group by reason
order by pages desc, reason
"""


def reasons_list(value: Any) -> list[str]:
    """A JSON list of sentences (``health_reasons``) as a list; anything else as one sentence."""
    if not value:
        return []
    try:
        parsed = json.loads(value)
    except (TypeError, ValueError):
        return [str(value)]
    if isinstance(parsed, list):
        return [str(item) for item in parsed]
    return [str(parsed)]


async def health_page(datasette: Any, request: Any) -> Response:
    database = _database(datasette)
    if database is None:
        return Response.text("No archive is served", status=404)
    db = datasette.get_database(database)
    tables = set(await db.table_names())
    runs: list[dict[str, Any]] = []
    sites: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    if "crawl_runs" in tables:
        runs = [dict(r) for r in (await db.execute(RUNS_SQL, {"limit": RECENT_RUNS})).rows]
    for run in runs:
        run["reasons"] = reasons_list(run["health_reasons"])
        run["region_list"] = ", ".join(reasons_list(run["regions"]))
    if "crawl_run_regions" in tables:
        sites = [dict(r) for r in (await db.execute(SITES_HEALTH_SQL)).rows]
    for site in sites:
        site["reasons"] = reasons_list(site["health_reasons"])
    if "crawl_errors" in tables and runs:
        first_run = min(run["id"] for run in runs)
        errors = [dict(r) for r in (await db.execute(ERRORS_SQL, {"first_run": first_run})).rows]
    context = {
        "database": database,
        "runs": runs,
        "sites": sites,
        "degraded": [s for s in sites if s["health"] != "ok"],
        "errors": errors,
        "first_run": min((run["id"] for run in runs), default=None),
    }
    html = await datasette.render_template("antara_health.html", context, request=request, view_name="health")
    return Response.html(html)


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/health$", health_page)]
