"""The subscriber's requests to hubs: subscribe, renew, unsubscribe and move, each in Redis.

Every request is written to the feed's subscription (websub_store.py) before it is sent,
so the hub's verification of intent, which may come back before our POST returns, finds
what it verifies. A feed that moves to another hub or topic is subscribed there and
unsubscribed at the old one; the old one's name stays on the record (``old_hub``,
``old_topic``) until that hub verifies the unsubscribe or the verification timeout passes.
An unsubscribe that fails is logged and forgotten: it never holds up the new subscription,
and a push the old hub still sends is answered 410 Gone (websub_server.py).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

import aiohttp
from redis.asyncio import Redis
from yarl import URL

from core.feeds import FeedConfig
from core.stopping import raise_if_cancelled
from core.tuning import WebSubSettings
from core.urlguard import GuardedResolver, check_hop
from core.websub_state import Subscription
from workers.poller.fetch import FetchLimits, origin_of
from workers.poller.websub_links import Discovery
from workers.poller.websub_store import (
    clear_old,
    delete_subscription,
    save_subscription,
    update_if_request,
    update_subscription,
)

log = logging.getLogger(__name__)
_MAX_RETRY_S = 86_400.0
# States in which a hub may hold (or be about to hold) a subscription of ours.
_HELD = ("pending", "verified")


def _record(
    found: Discovery, stored: Subscription | None, *, requested: str, secret: str,
    failures: int, trusted: bool,
) -> Subscription:
    """A new pending request for ``found``, naming the subscription it moves away from."""
    sub = Subscription(hub=found.hub, topic=found.topic, state="pending", secret=secret,
                       requested_at=requested, failures=failures, trusted=int(trusted))
    if stored is None:
        return sub
    if (stored.hub, stored.topic) != (found.hub, found.topic) and \
            stored.state in (*_HELD, "unsubscribing"):
        sub.old_hub, sub.old_topic = stored.hub, stored.topic
        # An unsubscribe already asked (a dropped feed named a hub again) keeps its clock.
        sub.old_asked = time.time() if stored.state in _HELD else \
            float(stored.requested_at or 0)
    else:  # a retry: an earlier move may still be waiting for its old hub
        sub.old_hub, sub.old_topic, sub.old_asked = \
            stored.old_hub, stored.old_topic, stored.old_asked
    return sub


class HubRequests:
    """Sends the subscriber's requests to hubs and records each in the feed's subscription."""

    def __init__(
        self, redis: Redis, settings: WebSubSettings, limits: FetchLimits,
        callback_url: Callable[[str], str], set_live: Callable[[str, float], None],
    ) -> None:
        """Record in ``redis``; tell the poll hold about live changes through ``set_live``."""
        self.redis = redis
        self.settings = settings
        self.limits = limits
        self.callback_url = callback_url
        self.set_live = set_live
        self._sessions: dict[bool, aiohttp.ClientSession] = {}

    def open(self) -> None:
        """Open the HTTP sessions: a guarded one, and one for a trusted feed's own origin."""
        for trusted in (False, True):
            resolver = None if trusted else GuardedResolver()
            self._sessions[trusted] = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(resolver=resolver, limit=20),
                timeout=aiohttp.ClientTimeout(total=self.limits.total_s,
                                              sock_connect=self.limits.connect_s),
                headers={"User-Agent": self.limits.user_agent},
                trust_env=False, cookie_jar=aiohttp.DummyCookieJar(),
            )

    async def close(self) -> None:
        """Close the HTTP sessions."""
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()

    def retry_delay(self, failures: int) -> float:
        """Seconds before another try after ``failures`` failures in a row (doubling)."""
        return min(self.settings.retry_s * 2.0 ** max(failures - 1, 0), _MAX_RETRY_S)

    async def subscribe(
        self, feed: FeedConfig, found: Discovery, stored: Subscription | None, *,
        renew: bool = False,
    ) -> None:
        """Ask the hub for a subscription; a move also unsubscribes the old hub and topic."""
        requested = f"{time.time():.6f}"
        kept = stored if stored is not None and (stored.hub, stored.topic) == \
            (found.hub, found.topic) else None
        # A new hub or topic gets a new secret; a retry or a renewal keeps the one it had.
        secret = kept.secret if kept is not None and kept.secret else secrets.token_hex(24)
        failures = kept.failures if kept is not None else 0
        # A hub on a trusted feed's own origin is the operator's; any other is guarded like
        # a feed added at run time (no private addresses, checked at connect time too).
        trusted = feed.trusted and origin_of(URL(found.hub)) == origin_of(URL(feed.url))
        moved = stored is not None and kept is None and stored.state in _HELD
        if renew:
            await update_subscription(self.redis, feed.id, requested_at=requested)
        else:
            await save_subscription(self.redis, feed.id, _record(
                found, stored, requested=requested, secret=secret, failures=failures,
                trusted=trusted))
        if moved:
            # Polled as usual until the new hub verifies (which may be before the POST ends).
            self.set_live(feed.id, 0.0)
        error = await self.post(trusted, found.hub, {
            "hub.mode": "subscribe", "hub.topic": found.topic,
            "hub.callback": self.callback_url(feed.id),
            "hub.lease_seconds": str(self.settings.lease_s),
            "hub.secret": secret,
        })
        if moved and stored is not None:
            log.info("WebSub: feed %s moved from %s (%s) to %s (%s)", feed.id, stored.hub,
                     stored.topic, found.hub, found.topic)
            await self.unsubscribe_old(feed.id, stored)
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
        await self.fail(feed.id, Subscription(requested_at=requested, failures=failures), error)

    async def fail(self, fid: str, sub: Subscription, error: str) -> None:
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

    async def unsubscribe(self, fid: str, sub: Subscription) -> None:
        """Tell the hub we no longer want ``fid``; forgotten once confirmed or timed out."""
        requested = f"{time.time():.6f}"
        await update_subscription(self.redis, fid, state="unsubscribing",
                                  requested_at=requested, retry_at=0.0)
        self.set_live(fid, 0.0)
        error = await self._unsubscribe_post(fid, sub)
        if error is not None:
            # Nothing to wait for: a push still coming is answered 410 Gone.
            log.info("WebSub: feed %s: unsubscribing failed (%s); forgotten", fid, error)
            await delete_subscription(self.redis, fid)

    async def unsubscribe_old(self, fid: str, old: Subscription) -> None:
        """Unsubscribe the hub and topic ``fid`` moved away from (named on its new record)."""
        error = await self._unsubscribe_post(fid, old)
        if error is None:
            log.info("WebSub: feed %s: unsubscribe asked at old hub %s", fid, old.hub)
            return
        log.warning("WebSub: feed %s: unsubscribing from old hub %s failed (%s); its "
                    "pushes will be answered 410 Gone", fid, old.hub, error)
        await clear_old(self.redis, fid, old.topic)

    async def _unsubscribe_post(self, fid: str, sub: Subscription) -> str | None:
        return await self.post(bool(sub.trusted), sub.hub, {
            "hub.mode": "unsubscribe", "hub.topic": sub.topic,
            "hub.callback": self.callback_url(fid)})

    async def post(self, trusted: bool, hub: str, data: dict[str, str]) -> str | None:
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
            raise_if_cancelled(exc)  # aiohttp's timer can turn a cancellation into a timeout
            return f"cannot reach hub {hub}: {type(exc).__name__}: {exc}"
