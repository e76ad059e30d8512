"""Each feed's WebSub subscription as stored in Redis, read by the poller and the ops views.

The poller (workers/poller/websub*.py) writes one hash per feed and keeps the set of those
feeds; /status (core/status_page.py) and ``ceasefire-watch feeds list`` read them here.
States: ``pending`` (asked, not yet verified by the hub), ``verified`` (live until
``expires``), ``failed`` or ``denied`` (retried at ``retry_at``), ``unsubscribing`` (the
feed went away; removed once the hub confirms, or after the verification timeout). While a
feed moves to another hub or topic, ``old_hub``/``old_topic`` name the subscription being
unsubscribed, until the old hub confirms or the verification timeout passes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from typing import cast

from redis.asyncio import Redis

from core import keys
from core.redis_conn import read_hashes

# What the ops views and the gauge call a subscription: its stored state, except that a
# verified one whose lease has run out is "expired" and a live one is "push".
KINDS = ("push", "expired", "pending", "failed", "denied", "unsubscribing")


@dataclass(slots=True)
class Subscription:
    """One feed's subscription as stored (empty ``hub``: none)."""

    hub: str = ""
    topic: str = ""
    secret: str = ""
    state: str = ""
    requested_at: str = ""  # text, compared as stored: the key of one request
    expires: float = 0.0
    verified_at: float = 0.0
    lease_s: float = 0.0
    failures: int = 0
    retry_at: float = 0.0
    last_error: str = ""
    last_push: float = 0.0
    pushes: int = 0
    trusted: int = 0  # the hub is on the operator's feed's own origin (websub_requests.py)
    old_hub: str = ""  # the hub being unsubscribed after a move ("" when none)
    old_topic: str = ""
    old_asked: float = 0.0  # when that unsubscribe was asked

    def live(self, now: float) -> bool:
        """Whether the hub pushes this feed now: verified and within its lease."""
        return self.state == "verified" and self.expires > now

    def kind(self, now: float) -> str:
        """Return one of :data:`KINDS`: the state, with a verified one split by its lease."""
        if self.state == "verified":
            return "push" if self.live(now) else "expired"
        return self.state or "pending"

    @classmethod
    def from_hash(cls, raw: dict[str, str]) -> Subscription:
        """Build from HGETALL output, ignoring unknown fields and bad values."""
        sub = cls()
        for f in fields(cls):
            value = raw.get(f.name)
            if value is None:
                continue
            kind = type(getattr(sub, f.name))
            try:
                setattr(sub, f.name, kind(float(value)) if kind is not str else value)
            except ValueError:
                continue
        return sub

    def to_hash(self) -> dict[str, str | int | float]:
        """Return the fields for HSET."""
        return dict(asdict(self))


def utc(stamp: float) -> str:
    """Return ``stamp`` as ``YYYY-MM-DD HH:MM UTC`` (or "-" for none)."""
    if stamp <= 0:
        return "-"
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def describe(sub: Subscription | None, now: float) -> str:
    """Return one line for people: "push via H until T", "pending at H", "failed: …", "none"."""
    if sub is None:
        return "none"
    kind = sub.kind(now)
    if kind == "push":
        return f"push via {sub.hub} until {utc(sub.expires)}"
    if kind == "expired":
        return f"expired {utc(sub.expires)} (hub {sub.hub})"
    if kind in ("failed", "denied"):
        text = f"{kind} at {sub.hub}, retry {utc(sub.retry_at)}"
        return f"{text}: {sub.last_error}" if sub.last_error else text
    if kind == "unsubscribing":
        return f"unsubscribing from {sub.hub}"
    return f"pending at {sub.hub}"


async def load_subscriptions(redis: Redis, feed_ids: list[str]) -> dict[str, Subscription]:
    """Return the stored subscription of each feed (an empty one when it has none)."""
    raws = await read_hashes(redis, [keys.websub_subscription(fid) for fid in feed_ids])
    return {fid: Subscription.from_hash(raw) for fid, raw in zip(feed_ids, raws, strict=True)}


async def load_subscription(redis: Redis, feed_id: str) -> Subscription | None:
    """Return ``feed_id``'s subscription, or None when it has none."""
    raw = cast(dict[str, str], await redis.hgetall(keys.websub_subscription(feed_id)))
    return Subscription.from_hash(raw) if raw else None


async def subscribed_feeds(redis: Redis) -> set[str]:
    """Return the ids of every feed with a stored subscription."""
    return {str(m) for m in await redis.smembers(keys.WEBSUB_FEEDS)}


async def all_subscriptions(redis: Redis) -> dict[str, Subscription]:
    """Return every stored subscription by feed id (a feed whose hash is gone is left out)."""
    fids = sorted(await subscribed_feeds(redis))
    subs = await load_subscriptions(redis, fids) if fids else {}
    return {fid: sub for fid, sub in subs.items() if sub.hub}
