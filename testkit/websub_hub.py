"""A local WebSub hub (aiohttp.web on 127.0.0.1) that also serves the feed it distributes.

The feed (``/feed.xml``, RSS 2.0 with conditional GET) names the hub and itself with
``atom:link rel="hub"`` and ``rel="self"``. The hub (``/hub``) takes form-encoded
``subscribe``/``unsubscribe`` requests, answers 202 and verifies intent with a GET carrying
``hub.challenge`` to the callback; a subscription is kept only when the challenge is echoed,
for the lease it grants (at most ``max_lease_s``). :meth:`WebSubHub.publish` adds items and
POSTs the whole feed to every subscriber whose lease runs, signed ``X-Hub-Signature:
sha256=<HMAC>`` with its secret. ``down`` makes the hub answer 503, ``feed_down`` the feed.
Feed and hub share one origin, as a publisher's own hub does; ``names_hub`` and
``names_self`` make the feed name another hub or topic instead (a publisher that moved), and
:meth:`WebSubHub.another_hub` is a second hub at ``/hub/<name>`` on the same origin.
An ``unsubscribe`` is verified like a subscribe and, once confirmed, ends the subscription.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from types import TracebackType
from typing import Self
from xml.sax.saxutils import quoteattr

import aiohttp
from aiohttp import web

from core.listen import listen
from testkit.feeds import FeedItem, rss


@dataclass
class HubSubscription:
    """One verified subscription the hub holds."""

    topic: str
    callback: str
    secret: str
    expires: float


class WebSubHub:
    """Async context manager: a feed and its hub on one local server (see the module doc)."""

    def __init__(self, host: str = "127.0.0.1", *, max_lease_s: int = 864_000) -> None:
        """Prepare the routes; the server listens in ``__aenter__``."""
        self.host = host
        self.port = 0
        self.max_lease_s = max_lease_s
        self.items: list[FeedItem] = []
        self.version = 0
        self.down = False
        self.feed_down = False
        self.names_hub: str | None = None  # the hub the feed names (None: this one)
        self.names_self: str | None = None  # the topic the feed names (None: feed_url)
        self.subscriptions: dict[tuple[str, str], HubSubscription] = {}
        self.requests: list[dict[str, str]] = []  # every form POSTed to the hub
        self.verified: list[tuple[str, str, bool]] = []  # (mode, callback, confirmed)
        self.unsubscribed: list[tuple[str, str]] = []  # (topic, callback) confirmed
        self.deliveries: list[tuple[str, int]] = []  # (callback, status) of each push
        self.feed_fetches = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._path = "/hub"
        self._home: WebSubHub | None = None  # the hub whose server this one's requests reach
        self._others: dict[str, WebSubHub] = {}
        app = web.Application()
        app.router.add_get("/feed.xml", self._feed)
        app.router.add_post("/hub", self._hub)
        app.router.add_post("/hub/{name}", self._other_hub)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False,
                                     shutdown_timeout=1.0)

    def another_hub(self, name: str) -> WebSubHub:
        """A second hub, at ``/hub/<name>`` of this server; enter it after this one."""
        other = WebSubHub(self.host, max_lease_s=self.max_lease_s)
        other._path, other._home = f"/hub/{name}", self
        self._others[name] = other
        return other

    async def __aenter__(self) -> Self:
        """Start listening on a free port of ``host`` (a second hub uses its home's)."""
        self._session = aiohttp.ClientSession()
        if self._home is not None:
            self.port = self._home.port
            return self
        await self._runner.setup()
        self.port = await listen(self._runner, self.host)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop verifying, stop serving."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
        if self._home is None:
            await self._runner.cleanup()

    @property
    def feed_url(self) -> str:
        """The topic: the feed's URL, as its rel=self says."""
        return f"http://{self.host}:{self.port}/feed.xml"

    @property
    def hub_url(self) -> str:
        """The hub's URL, as the feed's rel=hub says (unless ``names_hub``)."""
        return f"http://{self.host}:{self.port}{self._path}"

    @property
    def topic(self) -> str:
        """The topic the feed names as rel=self: ``names_self``, else its own URL."""
        return self.names_self or self.feed_url

    def body(self) -> bytes:
        """The feed document now: its items newest first, with the hub and self links."""
        links = (f"<atom:link rel=\"hub\" href={quoteattr(self.names_hub or self.hub_url)}/>"
                 f"<atom:link rel=\"self\" href={quoteattr(self.topic)}/>")
        doc = rss("Hub-backed feed", self.feed_url, self.items)
        return doc.replace(b'<rss version="2.0"><channel>',
                           b'<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">'
                           b"<channel>" + links.encode(), 1)

    def live(self, topic: str | None = None) -> list[HubSubscription]:
        """The subscriptions whose lease still runs (of ``topic``, or all)."""
        now = time.time()
        return [s for s in self.subscriptions.values()
                if s.expires > now and topic in (None, s.topic)]

    async def publish(self, *items: FeedItem) -> list[int]:
        """Add ``items`` to the feed and push it to every live subscriber; return statuses."""
        self.items[:0] = reversed(items)
        self.version += 1
        body = self.body()
        statuses = []
        for sub in self.live(self.topic):
            signature = hmac.new(sub.secret.encode(), body, hashlib.sha256).hexdigest()
            statuses.append(await self.post(sub.callback, body, f"sha256={signature}"))
        return statuses

    async def post(
        self, callback: str, body: bytes, signature: str | None, *, topic: str | None = None,
    ) -> int:
        """POST ``body`` of ``topic`` (default: the feed's) to ``callback``; return the status."""
        assert self._session is not None
        headers = {"Content-Type": "application/rss+xml",
                   "Link": f'<{self.hub_url}>; rel="hub", <{topic or self.topic}>; rel="self"'}
        if signature is not None:
            headers["X-Hub-Signature"] = signature
        async with self._session.post(callback, data=body, headers=headers) as resp:
            self.deliveries.append((callback, resp.status))
            return resp.status

    async def _feed(self, request: web.Request) -> web.Response:
        self.feed_fetches += 1
        if self.feed_down:
            return web.Response(status=503, text="feed down")
        # The links are part of the document: naming another hub or topic changes it too.
        names = hashlib.sha256(f"{self.names_hub} {self.names_self}".encode()).hexdigest()
        etag = f'"{self.version}-{names[:8]}"'
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=self.body(), content_type="application/rss+xml",
                            charset="utf-8", headers={"ETag": etag})

    async def _other_hub(self, request: web.Request) -> web.Response:
        other = self._others.get(request.match_info["name"])
        if other is None:
            return web.Response(status=404, text="no such hub")
        return await other._hub(request)

    async def _hub(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.requests.append(form)
        if self.down:
            return web.Response(status=503, text="hub down")
        mode, callback = form.get("hub.mode", ""), form.get("hub.callback", "")
        if mode not in ("subscribe", "unsubscribe") or not callback or not form.get("hub.topic"):
            return web.Response(status=400, text="bad request")
        task = asyncio.create_task(self._verify(form))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return web.Response(status=202)

    async def _verify(self, form: dict[str, str]) -> None:
        """Verify intent at the callback; keep or drop the subscription accordingly."""
        assert self._session is not None
        mode, topic, callback = form["hub.mode"], form["hub.topic"], form["hub.callback"]
        asked = form.get("hub.lease_seconds", "")
        lease = min(int(asked) if asked.isdigit() else self.max_lease_s, self.max_lease_s)
        challenge = secrets.token_hex(8)
        params = {"hub.mode": mode, "hub.topic": topic, "hub.challenge": challenge}
        if mode == "subscribe":
            params["hub.lease_seconds"] = str(lease)
        try:
            async with self._session.get(callback, params=params) as resp:
                ok = 200 <= resp.status < 300 and (await resp.text()) == challenge
        except (aiohttp.ClientError, OSError):
            ok = False  # an unreachable callback verifies nothing
        self.verified.append((mode, callback, ok))
        if ok and mode == "subscribe":
            self.subscriptions[(topic, callback)] = HubSubscription(
                topic, callback, form.get("hub.secret", ""), time.time() + lease)
        elif ok:
            self.subscriptions.pop((topic, callback), None)
            self.unsubscribed.append((topic, callback))
