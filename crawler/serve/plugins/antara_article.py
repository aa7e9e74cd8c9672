"""Datasette plugin of antara-archive: the article page's extra parts, and the archived page replayed.

- ``extra_template_vars`` gives ``row-archive-articles.html`` an ``antara_article`` dict: the
  local publication time with its zone, the tags, the article's Baca juga links (to our
  article pages where the target is archived, else to the original), the archived articles
  whose Baca juga point to it, its earlier versions with a word-level diff of what changed,
  and whether its captured page can be replayed. Every query reads by an index: the links
  primary key (source_url, ...), the links (target_site, target_article_id) index, the
  article_versions primary key (article_url, version), the articles (site, article_id) one.
- ``register_routes`` adds ``/archive/articles/<key>/as-archived``: the HTML body of the
  WARC record the row was extracted from, served under a Content-Security-Policy that runs
  no script and loads nothing (``sandbox``, ``default-src 'none'``), for the page's
  ``<iframe sandbox>``. The route takes the article's key, never a file name: the WARC file
  comes from the row, must be a plain file name of the archive's WARC folder, and is only read.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import markupsafe
from datasette import hookimpl
from datasette.utils import tilde_encode, urlsafe_components
from datasette.utils.asgi import Response

from crawler.serve.plugins.antara_archive import ours

#: zone names of the offsets ANTARA's sites print (Indonesia's three time zones)
ZONES = {"+07:00": "WIB", "+08:00": "WITA", "+09:00": "WIT"}
MAX_LINKED_FROM = 100
MAX_DIFFED_VERSIONS = 20
#: token pairs beyond which two texts are shown whole, removed then added (difflib under 0.1 s)
MAX_DIFF_WORK = 1_000_000

#: what the replayed page may do: nothing but show its markup and inline styles. ``sandbox``
#: gives it an opaque origin and no scripts, forms, popups or top navigation even when the
#: URL is opened on its own, outside the article page's ``<iframe sandbox>``.
REPLAY_CSP = (
    "sandbox; default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:;"
    " script-src 'none'; object-src 'none'; frame-src 'none'; connect-src 'none'; form-action 'none';"
    " base-uri 'none'; frame-ancestors 'self'"
)
REPLAY_HEADERS = {
    "Content-Security-Policy": REPLAY_CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, max-age=300",
}
#: put before anything else in the captured ``<head>``: every link of the page opens a new
#: window, which the sandbox (no ``allow-popups``) refuses, so a click on a link to the live
#: site stays in the archive and sends nothing
BASE_TAG = b'<base target="_blank">'
_HEAD = re.compile(rb"<head(?:\s[^>]*)?>", re.IGNORECASE)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


# -- dates and tags ---------------------------------------------------------------------------------


def local_time(published_at: str | None) -> dict[str, str] | None:
    """``2026-11-26T20:43:00+07:00`` -> its local date, time, zone (WIB) and UTC offset, as printed."""
    try:
        when = datetime.fromisoformat(published_at or "")
    except ValueError:
        return None
    if when.tzinfo is None:
        return {"date": f"{when:%A} {when.day} {when:%B %Y}", "time": f"{when:%H:%M}", "zone": "", "offset": ""}
    offset = when.isoformat()[-6:]
    return {
        "date": f"{when:%A} {when.day} {when:%B %Y}",
        "time": f"{when:%H:%M}",
        "zone": ZONES.get(offset, f"UTC{offset}"),
        "offset": f"UTC{offset}",
    }


def tag_names(tags: str | None) -> list[str]:
    """The JSON array of ``articles.tags`` as names (an unreadable value gives none)."""
    try:
        parsed = json.loads(tags or "[]")
    except ValueError:
        return []
    return [t for t in parsed if isinstance(t, str) and t.strip()] if isinstance(parsed, list) else []


# -- diffs ------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\s+|[^\s]+")


def diff_words(old: str, new: str) -> markupsafe.Markup:
    """``new`` with the words removed from ``old`` in ``<del>`` and the words added in ``<ins>``; escaped."""
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    if len(a) * len(b) > MAX_DIFF_WORK:  # the matcher is quadratic: whole texts past this size
        return markupsafe.Markup("<del>{}</del><ins>{}</ins>").format(old, new)
    out: list[markupsafe.Markup] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(markupsafe.escape("".join(b[j1:j2])))
            continue
        if i2 > i1:
            out.append(markupsafe.Markup("<del>{}</del>").format("".join(a[i1:i2])))
        if j2 > j1:
            out.append(markupsafe.Markup("<ins>{}</ins>").format("".join(b[j1:j2])))
    return markupsafe.Markup("").join(out)


def _paragraphs(body: str | None) -> list[str]:
    return [p.strip() for p in (body or "").split("\n\n") if p.strip()]


def diff_body(old: str | None, new: str | None) -> list[dict[str, Any]]:
    """The changed paragraphs of ``new`` against ``old``: ``{"html": ...}`` items, word-level
    within a changed paragraph, and ``{"unchanged": n}`` for each run of unchanged ones."""
    a, b = _paragraphs(old), _paragraphs(new)
    parts: list[dict[str, Any]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append({"unchanged": i2 - i1})
        elif op == "replace" and i2 - i1 == j2 - j1:
            parts += [{"html": diff_words(x, y)} for x, y in zip(a[i1:i2], b[j1:j2], strict=True)]
        elif op == "replace":
            parts.append({"html": diff_words("\n\n".join(a[i1:i2]), "\n\n".join(b[j1:j2]))})
        elif op == "delete":
            parts += [{"html": markupsafe.Markup("<del>{}</del>").format(x)} for x in a[i1:i2]]
        else:
            parts += [{"html": markupsafe.Markup("<ins>{}</ins>").format(y)} for y in b[j1:j2]]
    return parts


def version_changes(versions: list[dict[str, Any]], current: dict[str, Any]) -> list[dict[str, Any]]:
    """For each version after the first, what changed from the one before it; newest first.

    ``versions``: the earlier texts (article_versions rows, oldest first); ``current``: the
    article row, the latest version."""
    texts = [*versions, {**current, "fetched_at": current.get("content_changed_at") or current.get("last_seen_at")}]
    changes = []
    for before, after in zip(texts, texts[1:], strict=False):
        title_changed = (before.get("title") or "") != (after.get("title") or "")
        changes.append(
            {
                "from_version": before.get("version"),
                "to_version": after.get("version"),
                "fetched_at": before.get("fetched_at"),
                "changed_at": before.get("superseded_at") or after.get("fetched_at"),
                "title": diff_words(before.get("title") or "", after.get("title") or "") if title_changed else None,
                "body": diff_body(before.get("body"), after.get("body")),
            }
        )
    return changes[::-1]


# -- the article page's extra parts -----------------------------------------------------------------

ARTICLE_SQL = (
    "select url, site, article_id, region, published_at, tags, title, body, version, last_seen_at,"
    " content_changed_at, warc_file, warc_offset, warc_record_id from articles where url = :url"
)
BACA_JUGA_SQL = (
    "select l.position, l.anchor_text, l.target_url, t.url as archived_url, t.title as archived_title,"
    " t.published_at as archived_published_at"
    " from links l left join articles t on t.site = l.target_site and t.article_id = l.target_article_id"
    " where l.source_url = :url and l.kind = 'baca_juga' order by l.position, l.target_url"
)
LINKED_FROM_SQL = (
    "select s.url, s.title, s.published_at, s.region, l.anchor_text"
    " from links l join articles s on s.url = l.source_url"
    " where l.target_site = :site and l.target_article_id = :article_id and l.kind = 'baca_juga'"
    f" order by s.published_at desc, s.url limit {MAX_LINKED_FROM + 1}"
)
VERSIONS_SQL = (
    "select version, fetched_at, superseded_at, title, body from article_versions"
    f" where article_url = :url order by version desc limit {MAX_DIFFED_VERSIONS}"
)


@hookimpl
def extra_template_vars(view_name: str, database: str | None, table: str | None, request: Any, datasette: Any) -> Any:
    if view_name != "row" or table != "articles" or request is None or not ours(datasette, database):
        return None
    assert database is not None

    async def article_vars() -> dict[str, Any]:
        pks = urlsafe_components(request.url_vars.get("pks", ""))
        if len(pks) != 1:
            return {}
        return {"antara_article": await article_extras(datasette, database, pks[0])}

    return article_vars


async def article_extras(datasette: Any, database: str, url: str) -> dict[str, Any] | None:
    db = datasette.get_database(database)
    found = (await db.execute(ARTICLE_SQL, {"url": url})).rows
    if not found:
        return None
    article = dict(found[0])

    def page(target: str) -> str:
        return str(datasette.urls.row(database, "articles", tilde_encode(target)))

    baca_juga = []
    for row in (await db.execute(BACA_JUGA_SQL, {"url": url})).rows:
        archived = row["archived_url"]
        baca_juga.append(
            {
                "title": row["archived_title"] or row["anchor_text"] or row["target_url"],
                "href": page(archived) if archived else row["target_url"],
                "archived": bool(archived),
                "original": row["target_url"],
                "published_at": row["archived_published_at"],
            }
        )
    incoming = (await db.execute(LINKED_FROM_SQL, {"site": article["site"], "article_id": article["article_id"]})).rows
    linked_from = [
        {"title": r["title"], "href": page(r["url"]), "published_at": r["published_at"], "region": r["region"]}
        for r in incoming[:MAX_LINKED_FROM]
    ]
    versions = [dict(r) for r in (await db.execute(VERSIONS_SQL, {"url": url})).rows][::-1]
    table_url = datasette.urls.table(database, "articles")
    return {
        "local_time": local_time(article["published_at"]),
        "tags": [
            {"name": t, "href": f"{table_url}?{urlencode({'tags__arraycontains': t})}"}
            for t in tag_names(article["tags"])
        ],
        "baca_juga": baca_juga,
        "linked_from": linked_from,
        "linked_from_more": len(incoming) > MAX_LINKED_FROM,
        "versions": version_changes(versions, article) if versions else [],
        "capture": await capture_state(datasette, database, article),
        "replay_url": f"{page(url)}/as-archived",
        "removal": await removal_state(db, url),
    }


# -- removals ---------------------------------------------------------------------------------------

REMOVAL_SQL = "select removed_at, removed_status from articles where url = :url"
REMOVAL_HISTORY_SQL = (
    "select seen_at, event, status, kind, location from article_removals where article_url = :url order by seen_at, id"
)


def removal_date(seen_at: str | None) -> str:
    """``2026-12-09T07:00:00+00:00`` -> ``9 December 2026`` (UTC, as the archive records it)."""
    try:
        when = datetime.fromisoformat(seen_at or "")
    except ValueError:
        return seen_at or ""
    return f"{when.day} {when:%B %Y}"


async def removal_state(db: Any, url: str) -> dict[str, Any] | None:
    """What the site did to the article since it was archived: ``{"removed": bool, "notice",
    "history": [...]}`` (its ``article_removals`` events, oldest first); None when it never left."""
    if not await db.table_exists("article_removals"):  # an archive of a schema before version 6
        return None
    history = [dict(r) for r in (await db.execute(REMOVAL_HISTORY_SQL, {"url": url})).rows]
    if not history:
        return None
    state = dict((await db.execute(REMOVAL_SQL, {"url": url})).rows[0])
    for event in history:
        what = "Removed from the site" if event["event"] == "removed" else "Back on the site"
        kind = f" ({event['kind']})" if event["event"] == "removed" else ""
        to = f", redirected to {event['location']}" if event.get("location") else ""
        event["text"] = f"{what} on {removal_date(event['seen_at'])}{kind}{to}"
    last = history[-1]
    if state["removed_at"]:
        notice = f"Removed from the site on {removal_date(state['removed_at'])} ({state['removed_status']})"
    else:
        notice = f"Removed from the site, restored on {removal_date(last['seen_at'])}"
    return {"removed": bool(state["removed_at"]), "notice": notice, "history": history}


# -- the captured page ------------------------------------------------------------------------------


class NoCapture(Exception):
    """The article has no readable captured HTML page (the message says why)."""


async def warc_folder(datasette: Any, database: str) -> Path | None:
    """Where the archive's WARC files are: ``archive_meta.warc_dir`` if that folder exists, else
    ``{db}.warc`` beside the archive (as ``antara show-capture`` finds them)."""
    db = datasette.get_database(database)
    if not db.path:
        return None
    try:
        rows = (await db.execute("select value from archive_meta where key = 'warc_dir'")).rows
    except Exception:  # an archive made before archive_meta existed
        rows = []
    recorded = rows[0]["value"] if rows else None
    if recorded and Path(recorded).is_dir():
        return Path(recorded)
    return Path(f"{db.path}.warc")


def warc_path(folder: Path, name: str | None) -> Path:
    """The WARC file ``name`` of ``folder``: a plain file name, never a path out of the folder."""
    if not name or Path(name).name != name or name in (".", "..") or not name.endswith((".warc.gz", ".warc")):
        raise NoCapture("its WARC file name is not one this server reads")
    path = folder / name
    if not path.is_file():
        raise NoCapture(f"its WARC file {name} is not in this server's WARC folder")
    return path


async def _capture_rows(datasette: Any, database: str, article: dict[str, Any]) -> tuple[dict[str, Any], Path]:
    """The capture row to read for ``article`` (a revisit's original for its payload) and its folder."""
    if not article.get("warc_record_id") or not article.get("warc_file"):
        raise NoCapture("it was archived without a WARC capture")
    folder = await warc_folder(datasette, database)
    if folder is None:
        raise NoCapture("this server has no WARC folder")
    db = datasette.get_database(database)
    record = {"warc_file": article["warc_file"], "warc_offset": article["warc_offset"], "record_type": "response"}
    rows = (
        await db.execute(
            "select record_type, refers_to, warc_file, warc_offset from captures where warc_record_id = :id",
            {"id": article["warc_record_id"]},
        )
    ).rows
    if rows and rows[0]["record_type"] == "revisit":
        original = (
            await db.execute(
                "select record_type, warc_file, warc_offset from captures where warc_record_id = :id",
                {"id": rows[0]["refers_to"] or ""},
            )
        ).rows
        if not original:
            raise NoCapture("its capture is a revisit of a record this archive does not list")
        record = dict(original[0])
    return record, folder


async def capture_state(datasette: Any, database: str, article: dict[str, Any]) -> dict[str, Any]:
    """``{"available": bool, "reason": str}`` for the article page, without reading the WARC file."""
    try:
        record, folder = await _capture_rows(datasette, database, article)
        warc_path(folder, record["warc_file"])
    except NoCapture as exc:
        return {"available": False, "reason": str(exc)}
    return {"available": True, "reason": ""}


def read_html(path: Path, offset: int) -> tuple[bytes, str]:
    """The decoded HTML body of the response at ``offset`` of ``path``, and its charset."""
    from archive.warc import WarcError, read_capture

    try:
        capture = read_capture(path, int(offset))
    except (WarcError, OSError, ValueError) as exc:
        raise NoCapture(f"its WARC record cannot be read: {exc}") from None
    content_type = (capture.header("Content-Type") or "text/html").lower()
    if capture.record.record_type != "response" or not content_type.startswith(_HTML_TYPES):
        raise NoCapture("its WARC record is not an HTML response")
    match = re.search(r"charset=([\w.:-]+)", content_type)
    charset = match.group(1) if match else "utf-8"
    return capture.body(), charset


def with_base(body: bytes) -> bytes:
    """The page with :data:`BASE_TAG` first in its ``<head>`` (or first of all if it has none)."""
    head = _HEAD.search(body, 0, 65536)
    if head is None:
        return BASE_TAG + body
    return body[: head.end()] + BASE_TAG + body[head.end() :]


def _not_found(reason: str) -> Response:
    text = f"No archived page to show: {reason}.\n"
    return Response.text(text, status=404, headers=dict(REPLAY_HEADERS))


async def requested_article(request: Any, datasette: Any, sql: str) -> tuple[str, dict[str, Any]] | str:
    """The database and the row ``sql`` (given ``:url``) answers for the article a route's URL
    names (``/<database>/articles/<pk>/...``), or why there is none."""
    database = request.url_vars["database"]
    if not ours(datasette, database):
        return "no such archive"
    pks = urlsafe_components(request.url_vars["pks"])
    if len(pks) != 1:
        return "no such article"
    found = (await datasette.get_database(database).execute(sql, {"url": pks[0]})).rows
    if not found:
        return "no such article"
    return database, dict(found[0])


async def replay(request: Any, datasette: Any) -> Response:
    found = await requested_article(request, datasette, ARTICLE_SQL)
    if isinstance(found, str):
        return _not_found(found)
    database, row = found
    try:
        record, folder = await _capture_rows(datasette, database, row)
        path = warc_path(folder, record["warc_file"])
        body, charset = await asyncio.get_running_loop().run_in_executor(None, read_html, path, record["warc_offset"])
    except NoCapture as exc:
        return _not_found(f"this article has no captured page ({exc})")
    headers = dict(REPLAY_HEADERS)
    return Response(with_base(body), status=200, headers=headers, content_type=f"text/html; charset={charset}")


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/(?P<database>[^/.]+)/articles/(?P<pks>[^/.]+)/as-archived$", replay)]


# -- the story: the same article published by other sites -------------------------------------------

MAX_STORY_MEMBERS = 100
STORY_SQL = (
    "select a.story_id, s.first_url, s.member_count from articles a join stories s on s.story_id = a.story_id"
    " where a.url = :url"
)
STORY_MEMBERS_SQL = (
    "select url, site, region, title, published_at from articles where story_id = :story_id and url != :url"
    f" order by julianday(published_at), url limit {MAX_STORY_MEMBERS + 1}"
)


@hookimpl(specname="extra_template_vars")
def story_template_vars(view_name: str, database: str | None, table: str | None, request: Any, datasette: Any) -> Any:
    """``antara_story`` for the article page: the other archived articles of its story."""
    if view_name != "row" or table != "articles" or request is None or not ours(datasette, database):
        return None
    assert database is not None

    async def story_vars() -> dict[str, Any]:
        pks = urlsafe_components(request.url_vars.get("pks", ""))
        if len(pks) != 1:
            return {}
        return {"antara_story": await story_members(datasette, database, pks[0])}

    return story_vars


async def story_members(datasette: Any, database: str, url: str) -> dict[str, Any] | None:
    """The story of ``url`` and its other members, earliest first (reads by the story_id index);
    None when it has no story yet or is alone in it."""
    import sqlite3

    db = datasette.get_database(database)
    try:
        found = (await db.execute(STORY_SQL, {"url": url})).rows
    except sqlite3.OperationalError:  # an archive made before the stories tables existed (schema 5)
        return None
    if not found or found[0]["member_count"] < 2:
        return None
    story = dict(found[0])
    rows = (await db.execute(STORY_MEMBERS_SQL, {"story_id": story["story_id"], "url": url})).rows
    members = [
        {
            "title": r["title"],
            "site": r["site"],
            "region": r["region"],
            "published_at": r["published_at"],
            "href": str(datasette.urls.row(database, "articles", tilde_encode(r["url"]))),
            "first": r["url"] == story["first_url"],
        }
        for r in rows[:MAX_STORY_MEMBERS]
    ]
    return {
        "story_id": story["story_id"],
        "member_count": story["member_count"],
        "first": url == story["first_url"],
        "members": members,
        "more": len(rows) > MAX_STORY_MEMBERS,
        "href": f"{datasette.urls.table(database, 'articles')}?{urlencode({'story_id': story['story_id']})}",
    }
