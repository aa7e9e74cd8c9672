"""The tags and "Baca juga" links of an article (``tags``, ``article_tags``, ``links``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from archive.connection import Connection, insert_sql


class Links(Connection):
    """Tags and links of articles."""

    def _forget_children(self, url: str) -> None:
        self.db.execute("DELETE FROM article_tags WHERE article_url = ?", [url])
        self.db.execute("DELETE FROM links WHERE source_url = ?", [url])

    def _write_tags(self, url: str, tags: list[str]) -> None:
        execute = self.db.conn.execute
        execute("DELETE FROM article_tags WHERE article_url = ?", [url])
        if tags:
            rows = [(url, self._tag_id(name)) for name in tags]
            self.db.conn.executemany("INSERT OR IGNORE INTO article_tags (article_url, tag_id) VALUES (?, ?)", rows)

    def _tag_id(self, name: str) -> int:
        """Id of the tag called ``name``, created if new (ids are kept in memory: tags are never deleted)."""
        tag_id = self._tag_ids.get(name)
        if tag_id is None:
            execute = self.db.conn.execute
            found = execute("SELECT id FROM tags WHERE name = ?", [name]).fetchone()
            tag_id = found[0] if found else execute("INSERT INTO tags (name) VALUES (?)", [name]).lastrowid
            assert tag_id is not None
            self._tag_ids[name] = tag_id
        return tag_id

    def _write_links(self, url: str, links: list[Mapping[str, Any]]) -> None:
        """Replace the links of ``url``; one row per target article, pointing at its archived URL if known."""
        self.db.execute("DELETE FROM links WHERE source_url = ?", [url])
        rows = []
        targets: set[tuple[str | None, int | None, str]] = set()
        for position, link in enumerate(links):
            target = str(link["url"])
            site, article_id = link.get("site"), link.get("article_id")
            kind = link.get("kind") or "baca_juga"
            key = (site, article_id, kind) if article_id is not None else (target, None, kind)
            if key in targets:
                continue
            targets.add(key)
            if site is not None and article_id is not None:
                known = self._find(site, article_id)
                if known is not None:
                    target = known[0]  # the slug the target's own page declares
            rows.append(
                {
                    "source_url": url,
                    "target_url": target,
                    "anchor_text": link.get("anchor_text"),
                    "kind": kind,
                    "target_site": site,
                    "target_article_id": article_id,
                    "position": position,
                }
            )
        if rows:
            sql = insert_sql("links", tuple(rows[0]), "OR IGNORE")
            self.db.conn.executemany(sql, [tuple(r.values()) for r in rows])

    def _retarget_links(self, site: str, article_id: int, url: str) -> None:
        """Point links written before this article was archived (maybe with another slug) at its URL."""
        self.db.execute(
            "UPDATE OR IGNORE links SET target_url = ?"
            " WHERE target_site = ? AND target_article_id = ? AND target_url != ?",
            [url, site, article_id, url],
        )

    def link_targets(self, site: str, article_id: int, kind: str = "baca_juga") -> list[str]:
        """Target URLs of the stored links of an article, in page order."""
        rows = self.db.execute(
            "SELECT l.target_url FROM links l JOIN articles a ON a.url = l.source_url"
            " WHERE a.site = ? AND a.article_id = ? AND l.kind = ? ORDER BY l.position",
            [site, article_id, kind],
        ).fetchall()
        return [r[0] for r in rows]
