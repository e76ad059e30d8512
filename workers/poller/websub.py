"""WebSub subscriptions of the poller: subscribe where a feed names a hub, renew, fall back.

The poller tells :meth:`WebSub.observe` about every changed feed body; a feed that
advertises a hub (websub_links.py) is subscribed to with a fresh secret and the callback
``{public_base_url}/websub/{feed id}``. The hub verifies that intent at the callback
(websub_server.py), which makes the subscription live until its lease ends. A live feed is
still polled, at ``websub.fallback_poll_s`` (:meth:`WebSub.hold`), so a lost push costs at
most that; a subscription that fails, is denied or runs out puts the feed back on its
normal polling at once and is retried with backoff. Leases are renewed well before they
end. Every state is in Redis (websub_store.py), so any poller process can answer the hub.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Coroutine
from types import TracebackType
from typing import Any, Self

import aiohttp
from redis.asyncio import Redis
from yarl import URL

from core import keys
from core.feeds import FeedConfig
from core.tuning import WebSubSettings
from core.urlguard import GuardedResolver, check_hop
from workers.poller.fetch import FetchLimits, FetchResult, origin_of
from workers.poller.poller import Poller
from workers.poller.websub_links import Discovery, discover
from workers.poller.websub_metrics import WebSubMetrics
from workers.poller.websub_store import (
    Subscription,
    delete_subscription,
    load_subscriptions,
    save_subscription,
    subscribed_feeds,
    update_if_request,
    update_subscription,
)

log = logging.getLogger(__name__)
_MAX_RETRY_S = 86_400.0
_LOCK_S = 30
_UNLOCK = ("if redis.call('GET', KEYS[1]) == ARGV[1] then "
           "return redis.call('DEL', KEYS[1]) end return 0")


def renew_at(sub: Subscription) -> float:
    """When to renew a verified lease: a day ahead of its end, at most half of it ahead."""
    lease = max(sub.lease_s, sub.expires - sub.verified_at, 0.0)
    return sub.expires - min(lease * 0.5, max(lease * 0.1, 3600.0))


class WebSub:
    """Discovers hubs, keeps each feed's subscription, and holds back polls of pushed feeds."""

    def __init__(
        self, redis: Redis, poller: Poller, settings: WebSubSettings, base_url: str,
        limits: FetchLimits, *, metrics: WebSubMetrics | None = None, owner: str = "",
    ) -> None:
        """Wire to ``poller`` (whose feeds, parser and queue it uses); enter before use."""
        self.redis = redis
        self.poller = poller
        self.settings = settings
        self.base_url = base_url.rstrip("/")
        self.limits = limits
        self.metrics = metrics
        self.owner = owner or secrets.token_hex(6)
        # What this process saw a feed advertise: a Discovery, or None for "no hub".
        self.found: dict[str, Discovery | None] = {}
        self.live: dict[str, float] = {}  # feed id -> lease end, for the poll hold
        self._wake = asyncio.Event()
        self._sessions: dict[bool, aiohttp.ClientSession] = {}
        self.port = 0  # of the callback server, once it listens

    def retry_delay(self, failures: int) -> float:
        """Seconds before another try after ``failures`` failures in a row (doubling)."""
        return min(self.settings.retry_s * 2.0 ** max(failures - 1, 0), _MAX_RETRY_S)

    def callback_url(self, feed_id: str) -> str:
        """The callback the hub verifies and pushes to for ``feed_id``."""
        return f"{self.base_url}/websub/{feed_id}"

    async def __aenter__(self) -> Self:
        """Open the HTTP sessions for hubs: a guarded one, and one for a feed's own origin."""
        for trusted in (False, True):
            resolver = None if trusted else GuardedResolver()
            self._sessions[trusted] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=resolver, limit=20),
                timeout=aiohttp.ClientTimeout(total=self.limits.total_s,
                                              sock_connect=self.limits.connect_s),
                headers={"User-Agent": self.limits.user_agent},
                trust_env=False, cookie_jar=aiohttp.DummyCookieJar(),
            )
        self.poller.on_body = self.observe
        self.poller.hold = self.hold
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Unhook from the poller and close the sessions."""
        self.poller.on_body = None
        self.poller.hold = None
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()

    def observe(self, feed: FeedConfig, res: FetchResult) -> None:
        """Note the hub a freshly fetched body advertises (cheap: the poll path calls it)."""
        found = discover(res.body, res.headers.get("link"), res.url)
        if feed.id not in self.found or self.found[feed.id] != found:
            self.found[feed.id] = found
            self._wake.set()

    def hold(self, feed_id: str, next_poll: float) -> float:
        """Return when to poll ``feed_id`` next: no sooner than the fallback while pushed."""
        now = time.time()
        if self.live.get(feed_id, 0.0) > now:
            return max(next_poll, now + self.settings.fallback_poll_s)
        return next_poll

    def set_live(self, feed_id: str, expires: float) -> None:
        """Mark ``feed_id`` pushed until ``expires``, or back on normal polling."""
        if expires > time.time():
            self.live[feed_id] = expires
            return
        # Held while it was live (whether or not the lease has run out by now).
        was = self.live.pop(feed_id, None) is not None
        if was and feed_id in self.poller.feeds and feed_id not in self.poller.in_flight:
            # Its next poll may be a whole fallback away: poll it now, then as usual.
            self.poller.queue.schedule(feed_id, time.time())

    async def run(self, stop: asyncio.Event) -> None:
        """Check every subscription each ``check_s`` (sooner after a discovery) until stopped."""
        while not stop.is_set():
            try:
                await self.check()
            except Exception as exc:  # one bad round must not end WebSub for the process
                log.warning("WebSub check failed, retrying next round: %s", exc)
            self._wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waiters, timeout=self.settings.check_s,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def check(self) -> None:
        """One round: subscribe, renew, retry or drop each feed's subscription as it needs."""
        stored = await subscribed_feeds(self.redis)
        fids = sorted(stored | {fid for fid, d in self.found.items() if d is not None})
        subs = await load_subscriptions(self.redis, fids) if fids else {}
        slots = asyncio.Semaphore(8)  # a slow hub must not hold up every other feed

        async def one(fid: str) -> None:
            async with slots:
                try:
                    await self._check_one(fid, subs[fid] if fid in stored else None)
                except (aiohttp.ClientError, OSError) as exc:
                    log.info("WebSub: feed %s: %s", fid, exc)

        await asyncio.gather(*(one(fid) for fid in fids))
        states: dict[str, int] = {}
        for sub in subs.values():
            states[sub.state] = states.get(sub.state, 0) + 1
        if self.metrics:
            for state in ("pending", "verified", "failed", "denied", "unsubscribing"):
                self.metrics.subscriptions.labels(state).set(states.get(state, 0))

    async def _check_one(self, fid: str, sub: Subscription | None) -> None:
        now = time.time()
        self.set_live(fid, sub.expires if sub is not None and sub.live(now) else 0.0)
        feed = self.poller.feeds.get(fid)
        # Not fetched by this process since it started: the stored hub and topic stand.
        found = self.found[fid] if fid in self.found else (
            Discovery(sub.hub, sub.topic) if sub is not None else None)
        if sub is None:
            if feed is not None and found is not None:
                await self._locked(fid, self._subscribe(feed, found, None))
            return
        if feed is None or found is None:
            # The feed was removed, or its body no longer names a hub.
            if not self.poller.feeds:
                return  # before the first feed load: nothing is known to be gone
            if sub.state in ("pending", "verified"):
                await self._locked(fid, self._unsubscribe(fid, sub))
            elif sub.state != "unsubscribing" or now > float(sub.requested_at or 0) + \
                    self.settings.verify_timeout_s:
                await delete_subscription(self.redis, fid)
            return
        if (found.hub, found.topic) != (sub.hub, sub.topic):
            await self._locked(fid, self._subscribe(feed, found, None))
        elif sub.state == "pending":
            if now > float(sub.requested_at or 0) + self.settings.verify_timeout_s:
                await self._fail(fid, sub, "the hub did not verify the subscription in time")
        elif sub.state in ("failed", "denied", "unsubscribing") and now >= sub.retry_at:
            await self._locked(fid, self._subscribe(feed, found, sub))
        elif sub.state == "verified" and not sub.live(now):
            log.info("WebSub: feed %s: lease ended; polling it as usual and subscribing again",
                     fid)
            await self._locked(fid, self._subscribe(feed, found, sub))
        elif sub.state == "verified" and now >= max(renew_at(sub), sub.retry_at):
            await self._locked(fid, self._subscribe(feed, found, sub, renew=True))

    async def _locked(self, fid: str, action: Coroutine[Any, Any, None]) -> None:
        """Run ``action`` only when no other process acts on ``fid`` now."""
        lock = keys.websub_lock(fid)
        if not await self.redis.set(lock, self.owner, nx=True, ex=_LOCK_S):
            action.close()
            return
        try:
            await action
        finally:
            await self.redis.eval(_UNLOCK, 1, lock, self.owner)

    async def _subscribe(
        self, feed: FeedConfig, found: Discovery, old: Subscription | None, *,
        renew: bool = False,
    ) -> None:
        """Ask the hub for a subscription (a renewal keeps the secret and the live state)."""
        requested = f"{time.time():.6f}"
        kept = old if old is not None and (old.hub, old.topic) == (found.hub, found.topic) \
            else None
        # A new hub or topic gets a new secret; a retry or a renewal keeps the one it had.
        secret = kept.secret if kept is not None and kept.secret else secrets.token_hex(24)
        failures = kept.failures if kept is not None else 0
        # A hub on a trusted feed's own origin is the operator's; any other is guarded like
        # a feed added at run time (no private addresses, checked at connect time too).
        trusted = feed.trusted and origin_of(URL(found.hub)) == origin_of(URL(feed.url))
        if renew:
            await update_subscription(self.redis, feed.id, requested_at=requested)
        else:
            await save_subscription(self.redis, feed.id, Subscription(
                hub=found.hub, topic=found.topic, state="pending", requested_at=requested,
                secret=secret, failures=failures, trusted=int(trusted)))
        error = await self._post(trusted, found.hub, {
            "hub.mode": "subscribe", "hub.topic": found.topic,
            "hub.callback": self.callback_url(feed.id),
            "hub.lease_seconds": str(self.settings.lease_s),
            "hub.secret": secret,
        })
        if error is None:
            log.info("WebSub: feed %s: %s at %s", feed.id,
                     "renewal asked" if renew else "subscription asked", found.hub)
            if renew:  # not again while the hub may still be verifying it
                await update_if_request(self.redis, feed.id, requested,
                                        retry_at=time.time() + self.settings.verify_timeout_s)
            return
        if renew:
            # Still live until its lease ends: try again later, keep the fallback polling.
            retry = time.time() + min(self.settings.retry_s, self.settings.check_s * 10)
            await update_if_request(self.redis, feed.id, requested, last_error=error[:300],
                                    retry_at=retry)
            log.info("WebSub: feed %s: renewal failed (%s)", feed.id, error)
            return
        await self._fail(feed.id, Subscription(requested_at=requested, failures=failures), error)

    async def _fail(self, fid: str, sub: Subscription, error: str) -> None:
        """Record a failed request: normal polling now, another try after a backoff."""
        failures = sub.failures + 1
        delay = self.retry_delay(failures)
        done = await update_if_request(
            self.redis, fid, sub.requested_at, state="failed", failures=failures,
            retry_at=time.time() + delay, last_error=error[:300])
        if done:
            log.warning("WebSub: feed %s: subscription failed (%s); polling as usual, "
                        "next try in %.0f s", fid, error, delay)
            self.set_live(fid, 0.0)

    async def _unsubscribe(self, fid: str, sub: Subscription) -> None:
        """Tell the hub we no longer want ``fid``; forgotten once confirmed or timed out."""
        requested = f"{time.time():.6f}"
        await update_subscription(self.redis, fid, state="unsubscribing",
                                  requested_at=requested, retry_at=0.0)
        self.set_live(fid, 0.0)
        error = await self._post(bool(sub.trusted), sub.hub, {
            "hub.mode": "unsubscribe", "hub.topic": sub.topic,
            "hub.callback": self.callback_url(fid)})
        if error is not None:
            # Nothing to wait for: a push still coming is answered 410 Gone.
            log.info("WebSub: feed %s: unsubscribing failed (%s); forgotten", fid, error)
            await delete_subscription(self.redis, fid)

    async def _post(self, trusted: bool, hub: str, data: dict[str, str]) -> str | None:
        """POST a form to ``hub``; return None on 2xx, else why it failed."""
        try:
            url = check_hop(hub, trusted=trusted)
            async with self._sessions[trusted].post(url, data=data,
                                                    allow_redirects=False) as resp:
                if 200 <= resp.status < 300:
                    return None
                text = (await resp.content.read(200)).decode("utf-8", "replace")
                return f"hub answered HTTP {resp.status}: {text.strip()}"
        except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
            return f"cannot reach hub {hub}: {type(exc).__name__}: {exc}"
