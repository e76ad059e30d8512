"""The one local feed server (aiohttp.web on 127.0.0.1) for tests and benches.

It serves three kinds of feed, each with conditional GET (a repeat poll of an unchanged feed
gets 304):

- item feeds at ``/feeds/<id>.xml``, filled from Python (``add``) and rendered newest first as
  RSS 2.0; the server notes when each item's link was first served (``served``): the moment
  the pipeline could first have seen it, where the benches' latency starts;
- raw bodies at ``/dyn/<key>``, set byte for byte in ``dynamic``;
- the files of ``feeds_dir`` at ``/f/<name>``, with the Content-Type a web server would send;

plus the hostile endpoints of ``testkit.hostile``. ``hits`` counts requests per path.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from types import TracebackType
from typing import Self
from xml.sax.saxutils import escape

from aiohttp import web

from core.listen import listen
from testkit.hostile import HostileEndpoints

_DECL = re.compile(rb'^\s*<\?xml[^>]*encoding=["\']([A-Za-z0-9_.-]+)["\']')


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
class ItemFeed:
    """An item feed's entries (newest first) and its rendering, cached per version."""

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


def content_type_for(name: str, body: bytes) -> str:
    """Return the Content-Type a typical web server would send for a feed file."""
    if name.endswith(".html"):
        return "text/html; charset=utf-8"
    kind = "application/atom+xml" if name.endswith(".atom") else "application/rss+xml"
    if "windows-1251" in name:
        return "text/xml; charset=windows-1251"  # HTTP charset must be honoured
    if "iso-8859-1" in name and name.startswith("news_"):
        return f"{kind}; charset=ISO-8859-1"
    match = _DECL.match(body)
    if match and match.group(1).lower() == b"utf-8":
        return f"{kind}; charset=utf-8"
    return kind  # no charset: the XML declaration or BOM decides


class FeedServer(HostileEndpoints):
    """Async context manager serving item feeds, raw bodies and files; see the module doc."""

    def __init__(
        self, feeds_dir: Path | None = None, host: str = "127.0.0.1", *, max_items: int = 200
    ) -> None:
        """Prepare the routes; the server starts listening in ``__aenter__``."""
        super().__init__()
        self.feeds_dir = feeds_dir
        self.host = host
        self.port = 0
        self.max_items = max_items
        self.feeds: dict[str, ItemFeed] = {}
        self.dynamic: dict[str, bytes] = {}
        # Keys of ``dynamic`` served as a server without validators does (no ETag or
        # Last-Modified, never 304): only the body's bytes tell that nothing changed.
        self.no_validators: set[str] = set()
        # link -> time.time() when a response first carried it.
        self.served: dict[str, float] = {}
        self.not_modified = 0
        # item feed id -> seconds to stall before answering (a slow site; lets a test kill
        # a poller mid-poll).
        self.stall: dict[str, float] = {}
        # item feed id -> the client ports that fetched it (testkit.procnet tells whose).
        self.client_ports: dict[str, set[int]] = {}
        app = web.Application()
        app.router.add_get("/feeds/{feed_id}.xml", self._item_feed)
        app.router.add_get("/dyn/{key}", self._dynamic)
        app.router.add_get("/f/{name}", self._file)
        self.add_hostile_routes(app.router)
        # No access log: a bench polls hundreds of feeds a second.
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )

    async def __aenter__(self) -> Self:
        """Start listening on a free port of ``host``."""
        await self._runner.setup()
        self.port = await listen(self._runner, self.host)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        await self._runner.cleanup()

    def url(self, path: str = "") -> str:
        """Return the absolute URL of ``path`` on this server (its root by default)."""
        return f"http://{self.host}:{self.port}{path}"

    def feed_url(self, feed_id: str) -> str:
        """The URL the poller should fetch for item feed ``feed_id``."""
        return self.url(f"/feeds/{feed_id}.xml")

    @property
    def requests(self) -> int:
        """Requests answered (or being answered) so far, over every route."""
        return sum(self.hits.values())

    def add_feed(self, feed_id: str, title: str = "") -> None:
        """Create an empty item feed (idempotent)."""
        self.feeds.setdefault(feed_id, ItemFeed(title or feed_id, []))

    def add(self, feed_id: str, *items: FeedItem) -> None:
        """Publish ``items`` on item feed ``feed_id`` (newest first from now on)."""
        feed = self.feeds.setdefault(feed_id, ItemFeed(feed_id, []))
        feed.items[:0] = reversed(items)
        # Items beyond the window drop out of the feed, as on a real site.
        del feed.items[self.max_items :]
        feed.version += 1
        feed.body = b""

    def _unchanged(self, request: web.Request, etag: str) -> web.Response | None:
        """A 304 when the client already holds ``etag``, else None."""
        if request.headers.get("If-None-Match") != etag:
            return None
        self.not_modified += 1
        return web.Response(status=304, headers={"ETag": etag})

    def _conditional(
        self, request: web.Request, body: bytes, headers: dict[str, str]
    ) -> web.Response:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        unchanged = self._unchanged(request, etag)
        if unchanged is not None:
            return unchanged
        headers = {**headers, "ETag": etag, "Last-Modified": "Wed, 01 Jan 2020 00:00:00 GMT"}
        return web.Response(body=body, headers=headers)

    async def _item_feed(self, request: web.Request) -> web.Response:
        self._count(request)
        feed_id = request.match_info["feed_id"]
        peer = request.transport.get_extra_info("peername") if request.transport else None
        if peer:
            self.client_ports.setdefault(feed_id, set()).add(int(peer[1]))
        if self.stall.get(feed_id):
            await asyncio.sleep(self.stall[feed_id])  # the slow site under test, not a wait
        feed = self.feeds.get(feed_id)
        if feed is None:
            return web.Response(status=404, text="no such feed")
        # The version, not a hash: checked before rendering, so a 304 costs nothing.
        etag = f'"{feed.version}"'
        unchanged = self._unchanged(request, etag)
        if unchanged is not None:
            return unchanged
        if not feed.body:
            feed.body = rss(feed.title, self.url(), feed.items)
        now = time.time()
        for item in feed.items:
            if item.link in self.served:
                break  # newest first: everything older was served already
            self.served[item.link] = now
        return web.Response(
            body=feed.body, content_type="application/rss+xml", charset="utf-8",
            headers={"ETag": etag},
        )

    async def _dynamic(self, request: web.Request) -> web.Response:
        self._count(request)
        body = self.dynamic.get(request.match_info["key"])
        if body is None:
            raise web.HTTPNotFound()
        if request.match_info["key"] in self.no_validators:
            return web.Response(body=body, content_type="application/rss+xml")
        return self._conditional(request, body, {"Content-Type": "application/rss+xml"})

    async def _file(self, request: web.Request) -> web.Response:
        self._count(request)
        name = request.match_info["name"]
        if self.feeds_dir is None:
            raise web.HTTPNotFound(text="this server has no feeds_dir")
        path = self.feeds_dir / name
        if "/" in name or not path.is_file():
            raise web.HTTPNotFound()
        body = path.read_bytes()
        headers: dict[str, str] = {}
        if name.endswith(".gz"):
            # Served gzip-encoded, as a server with precompressed files does.
            headers["Content-Encoding"] = "gzip"
            plain = zlib.decompress(body, 47)
            headers["Content-Type"] = content_type_for(name[:-3], plain)
        else:
            headers["Content-Type"] = content_type_for(name, body)
        return self._conditional(request, body, headers)
