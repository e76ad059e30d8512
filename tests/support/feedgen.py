"""A local RSS feed server (aiohttp.web on 127.0.0.1) for end-to-end tests and benchmarks.

Feeds are filled from Python (``add``), served newest first as RSS 2.0 with an ETag (a repeat
poll of an unchanged feed gets 304), and the server remembers when each item's link was first
served: the moment the pipeline could first have seen it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import shutil
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape

import yaml
from aiohttp import web

from core.config_files import default_config_dir
from core.listen import listen


@dataclass(frozen=True)
class FeedItem:
    """One feed entry."""

    guid: str
    title: str
    text: str
    link: str
    published: datetime
    lang: str = "en"


@dataclass
class _Feed:
    title: str
    items: list[FeedItem]
    version: int = 0
    body: bytes = b""


def rss(title: str, link: str, items: Iterable[FeedItem]) -> bytes:
    """Render an RSS 2.0 document (items in the order given)."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>',
        f"<title>{escape(title)}</title><link>{escape(link)}</link>",
        f"<description>{escape(title)}</description>",
    ]
    for item in items:
        parts.append(
            f"<item><title>{escape(item.title)}</title><link>{escape(item.link)}</link>"
            f'<guid isPermaLink="false">{escape(item.guid)}</guid>'
            f"<pubDate>{format_datetime(item.published)}</pubDate>"
            f"<description>{escape(item.text)}</description></item>"
        )
    parts.append("</channel></rss>\n")
    return "".join(parts).encode("utf-8")


class FeedServer:
    """Async context manager serving ``/feeds/<id>.xml``; see the module docstring."""

    def __init__(self, *, max_items: int = 200) -> None:
        self.max_items = max_items
        self.feeds: dict[str, _Feed] = {}
        # link -> time.time() when a response first carried it.
        self.served: dict[str, float] = {}
        self.requests = 0
        self.not_modified = 0
        # feed id -> seconds to stall before answering (a slow site; lets a test kill mid-poll).
        self.stall: dict[str, float] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> FeedServer:
        app = web.Application()
        app.router.add_get("/feeds/{feed_id}.xml", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        self.url = f"http://127.0.0.1:{await listen(self._runner, '127.0.0.1')}"
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def feed_url(self, feed_id: str) -> str:
        """The URL the poller should fetch for ``feed_id``."""
        return f"{self.url}/feeds/{feed_id}.xml"

    def add_feed(self, feed_id: str, title: str = "") -> None:
        """Create an empty feed (idempotent)."""
        self.feeds.setdefault(feed_id, _Feed(title or feed_id, []))

    def add(self, feed_id: str, *items: FeedItem) -> None:
        """Publish ``items`` on ``feed_id`` (newest first from now on)."""
        feed = self.feeds.setdefault(feed_id, _Feed(feed_id, []))
        feed.items[:0] = reversed(items)
        # Items beyond the window drop out of the feed, as on a real site.
        del feed.items[self.max_items :]
        feed.version += 1
        feed.body = b""

    async def _handle(self, request: web.Request) -> web.Response:
        self.requests += 1
        feed_id = request.match_info["feed_id"]
        if self.stall.get(feed_id):
            await asyncio.sleep(self.stall[feed_id])
        feed = self.feeds.get(feed_id)
        if feed is None:
            return web.Response(status=404, text="no such feed")
        etag = f'"{feed.version}"'
        if request.headers.get("If-None-Match") == etag:
            self.not_modified += 1
            return web.Response(status=304, headers={"ETag": etag})
        if not feed.body:
            feed.body = rss(feed.title, self.url, feed.items)
        now = time.time()
        for item in feed.items:
            if item.link in self.served:
                break  # newest first: everything older was served already
            self.served[item.link] = now
        return web.Response(
            body=feed.body, content_type="application/rss+xml", charset="utf-8",
            headers={"ETag": etag},
        )


def dev_items(path: Path, *, every: int = 1, offset: int = 0) -> list[dict[str, Any]]:
    """Rows of ``dev.jsonl`` (id, lang, source, title, text, label), every ``every``-th one."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    return rows[offset::every]


def outlet_of(source: str) -> str:
    """A short feed id for a dev item's ``source`` URL."""
    host = source.split("//", 1)[-1].split("/", 1)[0].removeprefix("www.")
    slug = "".join(c if c.isalnum() else "-" for c in host.lower()).strip("-")[:40] or "feed"
    return f"{slug}-{hashlib.blake2b(source.encode(), digest_size=3).hexdigest()}"


def item_from_row(row: Mapping[str, Any], outlet: str, *, copy: int = 0) -> FeedItem:
    """A feed item for a dev row; ``copy`` > 0 makes another outlet's copy of the same report."""
    suffix = f"-c{copy}" if copy else ""
    published = datetime.now(UTC).replace(microsecond=0)
    return FeedItem(
        guid=f"{row['id']}{suffix}",
        title=str(row["title"]),
        text=str(row.get("text") or ""),
        link=f"https://{outlet}.example/news/{row['id']}{suffix}",
        published=published,
        lang=str(row.get("lang") or ""),
    )


def write_config(
    config_dir: Path, feeds: list[dict[str, Any]], settings: Mapping[str, Any] | None = None
) -> None:
    """Copy the packaged config to ``config_dir``, write ``feeds.yaml``, merge ``settings``."""
    shutil.copytree(default_config_dir(), config_dir, ignore=shutil.ignore_patterns("__*"))
    (config_dir / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}, sort_keys=False))
    path = config_dir / "settings.yaml"
    current: dict[str, Any] = yaml.safe_load(path.read_text()) or {}
    for key, value in (settings or {}).items():
        if isinstance(value, Mapping) and isinstance(current.get(key), dict):
            current[key] = {**current[key], **value}
        else:
            current[key] = value
    path.write_text(yaml.safe_dump(current, sort_keys=False))
