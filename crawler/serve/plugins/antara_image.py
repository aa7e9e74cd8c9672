"""Datasette plugin of antara-archive: an article's lead image, served from the archive's WARC files.

- ``register_routes`` adds ``/archive/articles/<key>/image``: the bytes of the latest capture
  of the row's ``image_url`` (a revisit read through the response it refers to), with the
  stored image content type, under a Content-Security-Policy that allows nothing and
  ``X-Content-Type-Options: nosniff``. Only ``image/jpeg|png|webp|gif`` answers with status
  200 are served; nothing is ever asked of the live site. The route takes the article's key;
  the WARC file comes from the ``captures`` row and must be a plain file name of the
  archive's WARC folder (as for the ``as-archived`` replay).
- ``extra_template_vars`` gives ``row-archive-articles.html`` an ``antara_image`` dict:
  ``{"available": bool, "src": route URL}``, read from the captures (url, fetched_at) index.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from datasette import hookimpl
from datasette.utils import tilde_encode, urlsafe_components
from datasette.utils.asgi import Response

from crawler.serve.plugins.antara_archive import ours
from crawler.serve.plugins.antara_article import NoCapture, requested_article, warc_folder, warc_path

#: the content types served as images (the crawler archives no other as a lead image)
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")
IMAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; sandbox",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, max-age=3600",
    "Cross-Origin-Resource-Policy": "same-origin",
}
IMAGE_URL_SQL = "select image_url from articles where url = :url"
#: the latest capture of the image URL with status 200 (a revisit names its response in refers_to)
IMAGE_CAPTURE_SQL = (
    "select record_type, refers_to, warc_file, warc_offset, mime from captures"
    " where url = :url and record_type in ('response', 'revisit') and status = 200"
    " order by fetched_at desc, id desc limit 1"
)
ORIGINAL_SQL = "select warc_file, warc_offset from captures where warc_record_id = :id and record_type = 'response'"


async def image_capture(datasette: Any, database: str, image_url: str | None) -> dict[str, Any] | None:
    """The captures row of ``image_url`` to show, with ``original`` (the response holding the bytes)."""
    if not image_url:
        return None
    db = datasette.get_database(database)
    rows = (await db.execute(IMAGE_CAPTURE_SQL, {"url": image_url})).rows
    if not rows or (rows[0]["mime"] or "").split(";")[0].strip().lower() not in IMAGE_TYPES:
        return None
    row = dict(rows[0])
    row["original"] = {"warc_file": row["warc_file"], "warc_offset": row["warc_offset"]}
    if row["record_type"] == "revisit":
        original = (await db.execute(ORIGINAL_SQL, {"id": row["refers_to"] or ""})).rows
        if not original:
            return None
        row["original"] = dict(original[0])
    return row


def read_image(record: Path, offset: int, original: Path, original_offset: int) -> tuple[bytes, str]:
    """The decoded bytes and stored content type of the image capture (``original`` holds the payload)."""
    from archive.warc import WarcError, read_capture

    try:
        capture = read_capture(record, int(offset))
        if (record, int(offset)) != (original, int(original_offset)):
            capture = capture.with_payload_of(read_capture(original, int(original_offset)))
        body = capture.body()
    except (WarcError, OSError, ValueError, EOFError) as exc:
        raise NoCapture(f"its WARC record cannot be read: {exc}") from None
    kind = (capture.header("Content-Type") or "").split(";")[0].strip().lower()
    if kind not in IMAGE_TYPES:
        raise NoCapture("its WARC record is not an image")
    return body, kind


def _not_found(reason: str) -> Response:
    return Response.text(f"No archived image to show: {reason}.\n", status=404, headers=dict(IMAGE_HEADERS))


async def lead_image(request: Any, datasette: Any) -> Response:
    found = await requested_article(request, datasette, IMAGE_URL_SQL)
    if isinstance(found, str):
        return _not_found(found)
    database, article = found
    row = await image_capture(datasette, database, article["image_url"])
    folder = await warc_folder(datasette, database)
    if row is None or folder is None:
        return _not_found("the lead image of this article was not archived")
    try:
        record = warc_path(folder, row["warc_file"])
        original = warc_path(folder, row["original"]["warc_file"])
        body, kind = await asyncio.get_running_loop().run_in_executor(
            None, read_image, record, row["warc_offset"], original, row["original"]["warc_offset"]
        )
    except NoCapture as exc:
        return _not_found(f"the lead image cannot be read ({exc})")
    return Response(body, status=200, headers=dict(IMAGE_HEADERS), content_type=kind)


@hookimpl
def extra_template_vars(view_name: str, database: str | None, table: str | None, request: Any, datasette: Any) -> Any:
    if view_name != "row" or table != "articles" or request is None or not ours(datasette, database):
        return None
    assert database is not None

    async def image_vars() -> dict[str, Any]:
        pks = urlsafe_components(request.url_vars.get("pks", ""))
        if len(pks) != 1:
            return {}
        db = datasette.get_database(database)
        found = (await db.execute(IMAGE_URL_SQL, {"url": pks[0]})).rows
        if not found:
            return {}
        row = await image_capture(datasette, database, found[0]["image_url"])
        page = str(datasette.urls.row(database, "articles", tilde_encode(pks[0])))
        return {"antara_image": {"available": row is not None, "src": f"{page}/image"}}

    return image_vars


@hookimpl
def register_routes() -> list[tuple[str, Any]]:
    return [(r"^/(?P<database>[^/.]+)/articles/(?P<pks>[^/.]+)/image$", lead_image)]
