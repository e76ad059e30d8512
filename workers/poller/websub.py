"""WebSub subscriptions of the poller: subscribe where a feed names a hub, renew, fall back.

The poller tells :meth:`WebSub.observe` about every changed feed body; a feed that
advertises a hub (websub_links.py) is subscribed to with a fresh secret and the callback
``{public_base_url}/websub/{feed id}``. The hub verifies that intent at the callback
(websub_server.py), which makes the subscription live until its lease ends. A live feed is
still polled, at ``websub.fallback_poll_s`` (:meth:`WebSub.hold`), so a lost push costs at
most that; a subscription that fails, is denied or runs out puts the feed back on its
normal polling at once and is retried with backoff. Leases are renewed well before they
end. A feed that names another hub or topic moves (subscribed at the new one, unsubscribed at
the old one: websub_requests.py); one removed, deactivated or no longer naming a hub is
unsubscribed. Every state is in Redis (core/websub_state.py, websub_store.py), so any
poller process can answer the hub.
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

from core import keys
from core.feeds import FeedConfig
from core.stopping import raise_if_cancelled
from core.tuning import WebSubSettings
from core.websub_state import KINDS, Subscription, load_subscriptions, subscribed_feeds
from workers.poller.fetch import FetchLimits, FetchResult
from workers.poller.poller import Poller
from workers.poller.websub_links import Discovery, discover
from workers.poller.websub_metrics import WebSubMetrics
from workers.poller.websub_requests import HubRequests
from workers.poller.websub_store import clear_old, delete_subscription

log = logging.getLogger(__name__)
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
        self.deactivated: set[str] = set()  # as of the last check: never polled at once
        self.hubs = HubRequests(redis, settings, limits, self.callback_url, self.set_live)
        self._wake = asyncio.Event()
        self.port = 0  # of the callback server, once it listens

    def retry_delay(self, failures: int) -> float:
        """Seconds before another try after ``failures`` failures in a row (doubling)."""
        return self.hubs.retry_delay(failures)

    def callback_url(self, feed_id: str) -> str:
        """The callback the hub verifies and pushes to for ``feed_id``."""
        return f"{self.base_url}/websub/{feed_id}"

    async def __aenter__(self) -> Self:
        """Open the HTTP sessions for hubs and hook into the poller."""
        self.hubs.open()
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
        await self.hubs.close()

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
        if self.live.pop(feed_id, None) is not None:
            # Its next poll may be a whole fallback away: poll it now, then as usual.
            self.poll_now(feed_id)

    def poll_now(self, feed_id: str) -> None:
        """Put ``feed_id`` first on the poller's queue, unless it is polled right now or off."""
        if feed_id in self.poller.feeds and feed_id not in self.poller.in_flight \
                and feed_id not in self.deactivated:
            self.poller.poll_soon(feed_id)

    async def run(self, stop: asyncio.Event) -> None:
        """Check every subscription each ``check_s`` (sooner after a discovery) until stopped."""
        while not stop.is_set():
            try:
                await self.check()
            except Exception as exc:  # one bad round must not end WebSub for the process
                raise_if_cancelled(exc)
                log.warning("WebSub check failed, retrying next round: %s", exc)
            # A round can end normally with the task cancelled (a hub POST that took the
            # cancellation for its own timeout): that is a stop too, not another round.
            raise_if_cancelled()
            self._wake.clear()
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            try:
                await asyncio.wait(waiters, timeout=self.settings.check_s,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()

    async def check(self) -> None:
        """One round: subscribe, renew, move, retry or drop each feed's subscription."""
        stored = await subscribed_feeds(self.redis)
        fids = sorted(stored | {fid for fid, d in self.found.items() if d is not None})
        subs = await load_subscriptions(self.redis, fids) if fids else {}
        self.deactivated = await self._deactivated(fids)
        slots = asyncio.Semaphore(8)  # a slow hub must not hold up every other feed

        async def one(fid: str) -> None:
            async with slots:
                try:
                    await self._check_one(fid, subs[fid] if fid in stored else None)
                except (aiohttp.ClientError, OSError) as exc:
                    log.info("WebSub: feed %s: %s", fid, exc)

        await asyncio.gather(*(one(fid) for fid in fids))
        if self.metrics:
            await self._count()

    async def _deactivated(self, fids: list[str]) -> set[str]:
        """Return which of ``fids`` the poller has deactivated (see poller.py)."""
        if not fids:
            return set()
        pipe = self.redis.pipeline(transaction=False)
        for fid in fids:
            pipe.hget(keys.feed_state(fid), "deactivated")
        marks = await pipe.execute()
        return {fid for fid, mark in zip(fids, marks, strict=True) if mark == "1"}

    async def _count(self) -> None:
        """Set the subscriptions gauge from what is stored now (after this round's changes)."""
        assert self.metrics is not None
        fids = sorted(await subscribed_feeds(self.redis))
        now = time.time()
        counts = dict.fromkeys(KINDS, 0)
        for sub in (await load_subscriptions(self.redis, fids) if fids else {}).values():
            if sub.hub:
                kind = sub.kind(now)
                counts[kind] = counts.get(kind, 0) + 1
        for kind, count in counts.items():
            self.metrics.subscriptions.labels(kind).set(count)

    async def _check_one(self, fid: str, sub: Subscription | None) -> None:
        now = time.time()
        self.set_live(fid, sub.expires if sub is not None and sub.live(now) else 0.0)
        feed = None if fid in self.deactivated else self.poller.feeds.get(fid)
        # Not fetched by this process since it started: the stored hub and topic stand.
        found = self.found[fid] if fid in self.found else (
            Discovery(sub.hub, sub.topic) if sub is not None else None)
        if sub is None:
            if feed is not None and found is not None:
                await self._locked(fid, self.hubs.subscribe(feed, found, None))
            return
        if sub.old_topic and now > sub.old_asked + self.settings.verify_timeout_s \
                and await clear_old(self.redis, fid, sub.old_topic):
            log.info("WebSub: feed %s: old hub %s did not confirm the unsubscribe in time; "
                         "its pushes are answered 410 Gone", fid, sub.old_hub)
        if feed is None or found is None:
            # The feed was removed or deactivated, or its body no longer names a hub.
            if not self.poller.feeds:
                return  # before the first feed load: nothing is known to be gone
            if sub.state in ("pending", "verified"):
                why = "deactivated" if fid in self.deactivated else \
                    "removed" if fid not in self.poller.feeds else "names no hub"
                log.info("WebSub: feed %s %s: unsubscribing at %s", fid, why, sub.hub)
                await self._locked(fid, self.hubs.unsubscribe(fid, sub))
            elif sub.state != "unsubscribing" or now > float(sub.requested_at or 0) + \
                    self.settings.verify_timeout_s:
                await delete_subscription(self.redis, fid)
            return
        if (found.hub, found.topic) != (sub.hub, sub.topic):
            await self._locked(fid, self.hubs.subscribe(feed, found, sub))
        elif sub.state == "pending":
            if now > float(sub.requested_at or 0) + self.settings.verify_timeout_s:
                await self.hubs.fail(fid, sub, "the hub did not verify the subscription in time")
        elif sub.state in ("failed", "denied", "unsubscribing") and now >= sub.retry_at:
            await self._locked(fid, self.hubs.subscribe(feed, found, sub))
        elif sub.state == "verified" and not sub.live(now):
            log.info("WebSub: feed %s: lease ended; polling it as usual and subscribing again",
                     fid)
            await self._locked(fid, self.hubs.subscribe(feed, found, sub))
        elif sub.state == "verified" and now >= max(renew_at(sub), sub.retry_at):
            await self._locked(fid, self.hubs.subscribe(feed, found, sub, renew=True))

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
