"""A local aiohttp.web feed server on 127.0.0.1: the shared feed files plus hostile endpoints."""

from __future__ import annotations

import asyncio
import hashlib
import re
import zlib
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Self

from aiohttp import web

from core.listen import listen

MiB = 1024 * 1024
_DECL = re.compile(rb'^\s*<\?xml[^>]*encoding=["\']([A-Za-z0-9_.-]+)["\']')


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


class FeedServer:
    """Serves ``feeds_dir`` at ``/f/<name>`` (with ETag/Last-Modified) and hostile endpoints."""

    def __init__(self, feeds_dir: Path | None = None, host: str = "127.0.0.1") -> None:
        """Prepare the routes; the server starts in ``__aenter__``."""
        self.feeds_dir = feeds_dir
        self.host = host
        self.port = 0
        self.hits: Counter[str] = Counter()
        self.dynamic: dict[str, bytes] = {}
        self.trickle_seconds = 60
        app = web.Application()
        app.router.add_get("/f/{name}", self._file)
        app.router.add_get("/dyn/{key}", self._dynamic)
        app.router.add_get("/bomb", self._bomb)
        app.router.add_get("/big", self._big)
        app.router.add_get("/trickle", self._trickle)
        app.router.add_get("/loop/{n}", self._loop)
        app.router.add_get("/redirect", self._redirect)
        app.router.add_get("/raw-redirect", self._raw_redirect)
        app.router.add_get("/html", self._html)
        app.router.add_get("/status/{code}", self._status)
        app.router.add_get("/slow/{n}", self._slow)
        self.active = 0
        self.max_active = 0
        self._runner = web.AppRunner(app, handle_signals=False, shutdown_timeout=1.0)

    def url(self, path: str) -> str:
        """Return the absolute URL of ``path`` on this server."""
        return f"http://{self.host}:{self.port}{path}"

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

    def _count(self, request: web.Request) -> None:
        self.hits[request.path] += 1

    @staticmethod
    def _conditional(request: web.Request, body: bytes, headers: dict[str, str]) -> web.Response:
        etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
        headers = {**headers, "ETag": etag, "Last-Modified": "Wed, 01 Jan 2020 00:00:00 GMT"}
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, headers=headers)

    async def _file(self, request: web.Request) -> web.Response:
        self._count(request)
        name = request.match_info["name"]
        assert self.feeds_dir is not None
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

    async def _dynamic(self, request: web.Request) -> web.Response:
        self._count(request)
        body = self.dynamic.get(request.match_info["key"])
        if body is None:
            raise web.HTTPNotFound()
        return self._conditional(request, body, {"Content-Type": "application/rss+xml"})

    async def _bomb(self, request: web.Request) -> web.StreamResponse:
        """512 MiB of zeros, gzip-compressed on the fly (about 0.5 MB on the wire)."""
        self._count(request)
        resp = web.StreamResponse(headers={
            "Content-Type": "application/rss+xml", "Content-Encoding": "gzip",
        })
        await resp.prepare(request)
        comp = zlib.compressobj(9, zlib.DEFLATED, 31)
        zeros = bytes(MiB)
        try:
            await resp.write(comp.compress(b"<?xml version='1.0'?><rss><channel><title>"))
            for _ in range(512):
                await resp.write(comp.compress(zeros))
                await asyncio.sleep(0)  # compressing is CPU work: let the client run too
            await resp.write(comp.flush())
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        return resp

    async def _big(self, request: web.Request) -> web.StreamResponse:
        """A 50 MB body streamed without Content-Length."""
        self._count(request)
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        chunk = b"<rss><channel><title>" + b"x" * (MiB - 21)
        try:
            for _ in range(50):
                await resp.write(chunk)
                await asyncio.sleep(0)
        except (ConnectionError, RuntimeError):
            pass
        return resp

    async def _trickle(self, request: web.Request) -> web.StreamResponse:
        """One byte per second."""
        self._count(request)
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        try:
            for i in range(self.trickle_seconds):
                await resp.write(b"<rss>"[i % 5: i % 5 + 1])
                await asyncio.sleep(1)
        except (ConnectionError, RuntimeError):
            pass
        return resp

    async def _loop(self, request: web.Request) -> web.Response:
        self._count(request)
        n = int(request.match_info["n"])
        raise web.HTTPFound(f"/loop/{(n + 1) % 3}")

    async def _redirect(self, request: web.Request) -> web.Response:
        self._count(request)
        raise web.HTTPFound(request.query["to"])

    async def _raw_redirect(self, request: web.Request) -> web.Response:
        """A 302 whose Location is sent as given, even when it is no valid URL."""
        self._count(request)
        return web.Response(status=302, headers={"Location": request.query["to"]})

    async def _html(self, request: web.Request) -> web.Response:
        self._count(request)
        page = ("<!doctype html><html><head><title>Welcome</title></head>"
                "<body><p>Hi</p></body></html>")
        return web.Response(text=page, content_type="text/html")

    async def _slow(self, request: web.Request) -> web.Response:
        """Answer after 0.2 s, recording how many requests were in progress at once."""
        self._count(request)
        self.active += 1
        self.max_active = max(self.max_active, self.active)
        try:
            await asyncio.sleep(0.2)
        finally:
            self.active -= 1
        return web.Response(text="<rss/>", content_type="application/rss+xml")

    async def _status(self, request: web.Request) -> web.Response:
        self._count(request)
        code = int(request.match_info["code"])
        return web.Response(status=code, headers={"Retry-After": "120"}, text="busy")
