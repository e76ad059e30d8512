"""The feed server's hostile endpoints: what a broken or malicious site sends a poller.

A gzip bomb, an endless body, a one-byte-a-second trickle, redirect loops, redirects to
anywhere, an HTML page, any status code and a slow answer that counts concurrent requests.
Their sleeps are the behaviour under test (a slow site), not waits.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import Counter
from collections.abc import Iterable

from aiohttp import web

MiB = 1024 * 1024


class HostileEndpoints:
    """Handlers for ``/bomb``, ``/big``, ``/trickle``, ``/stall``, ``/loop/<n>``, ``/html``..."""

    def __init__(self) -> None:
        """Start the request counters."""
        # Requests per path, every route of the server included.
        self.hits: Counter[str] = Counter()
        self.trickle_seconds = 60
        self.active = 0
        self.max_active = 0

    def add_hostile_routes(self, router: web.UrlDispatcher) -> None:
        """Register every hostile endpoint on ``router``."""
        router.add_get("/bomb", self._bomb)
        router.add_get("/big", self._big)
        router.add_get("/trickle", self._trickle)
        router.add_get("/loop/{n}", self._loop)
        router.add_get("/redirect", self._redirect)
        router.add_get("/raw-redirect", self._raw_redirect)
        router.add_get("/html", self._html)
        router.add_get("/status/{code}", self._status)
        router.add_get("/slow/{n}", self._slow)
        router.add_get("/silent", self._silent)
        router.add_get("/stall", self._stall)

    def _count(self, request: web.Request) -> None:
        self.hits[request.path] += 1

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

    async def _drip(
        self, request: web.Request, pieces: Iterable[tuple[bytes, float]]
    ) -> web.StreamResponse:
        """Stream an RSS body without Content-Length: each piece, then its pause in seconds."""
        self._count(request)
        resp = web.StreamResponse(headers={"Content-Type": "application/rss+xml"})
        resp.enable_chunked_encoding()
        await resp.prepare(request)
        try:
            for piece, pause in pieces:
                await resp.write(piece)
                # The slow site itself (or a yield, at 0): the client's bounds must win.
                await asyncio.sleep(pause)
        except (ConnectionError, RuntimeError):
            pass  # the client hung up, as it should
        return resp

    async def _big(self, request: web.Request) -> web.StreamResponse:
        """A 50 MB body streamed without Content-Length."""
        chunk = b"<rss><channel><title>" + b"x" * (MiB - 21)
        return await self._drip(request, ((chunk, 0) for _ in range(50)))

    async def _trickle(self, request: web.Request) -> web.StreamResponse:
        """One byte per second (``trickle_seconds`` of them)."""
        return await self._drip(
            request, ((b"<rss>"[i % 5: i % 5 + 1], 1) for i in range(self.trickle_seconds)))

    async def _silent(self, request: web.Request) -> web.StreamResponse:
        """No response head at all: the request is read, then nothing (up to a minute)."""
        self._count(request)
        await asyncio.sleep(60)  # a hung backend: the client's read bound must win
        return web.Response(status=504)

    async def _stall(self, request: web.Request) -> web.StreamResponse:
        """The head and the start of a feed, then silence (up to a minute)."""
        return await self._drip(
            request, [(b"<?xml version='1.0'?><rss><channel><title>Stalled", 60)])

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
            # Long enough that a poller without a per-host limit would overlap its requests.
            await asyncio.sleep(0.2)
        finally:
            self.active -= 1
        return web.Response(text="<rss/>", content_type="application/rss+xml")

    async def _status(self, request: web.Request) -> web.Response:
        self._count(request)
        code = int(request.match_info["code"])
        return web.Response(status=code, headers={"Retry-After": "120"}, text="busy")
