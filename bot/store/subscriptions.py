"""Per-chat subscriptions in Redis, with a region -> chats index for fast alert matching."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, cast

from redis.asyncio import Redis

from core import keys
from core.models import Alert

Kinds = Literal["violations", "all"]
ALL_REGIONS = "*"
# Stored before the classifier chose readers' default threshold: a stored 0.5 is read as
# "never set", so those readers get the model's default too.
LEGACY_DEFAULT_THRESHOLD = 0.5
# One hash holds every chat's subscription as compact JSON: matching an alert against
# thousands of chats is then a single HMGET and a json.loads each.


@dataclass(frozen=True)
class Subscription:
    """What one chat follows and how it wants to be told."""

    chat_id: int
    regions: frozenset[str] = frozenset()
    kinds: Kinds = "violations"
    escalation: bool = False  # /kinds escalation on: escalation alerts (core/escalation.py)
    threshold: float | None = None  # None: the model's default (``Alert.alert_threshold``)
    mute_until: float = 0.0
    digest: str = "off"
    tz: str = "UTC"
    active: bool = True
    chat_type: str = "private"
    reason: str = ""
    lang: str = ""  # /language or remembered at /start (bot/i18n.py); "" is English for alerts
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_group(self) -> bool:
        """Groups, supergroups and channels have negative ids and a per-minute limit."""
        return self.chat_id < 0 or self.chat_type in ("group", "supergroup", "channel")

    def muted(self, now: float | None = None) -> bool:
        """True while a /mute is in force."""
        return self.mute_until > (time.time() if now is None else now)

    def follows(self, regions: Iterable[str]) -> bool:
        """True when the chat follows any of ``regions`` (or every region)."""
        return ALL_REGIONS in self.regions or bool(self.regions & {r.lower() for r in regions})

    def wants(self, alert: Alert) -> bool:
        """Kind and confidence filter (regions and mute are checked separately)."""
        limit = alert.alert_threshold if self.threshold is None else self.threshold
        if alert.label == "violation":
            return alert.score >= limit
        if alert.label == "ceasefire":
            return self.kinds == "all" and alert.score >= limit
        return False

    def to_json(self) -> str:
        """Serialise for the subscriptions hash."""
        data: dict[str, object] = {
            "regions": sorted(self.regions), "kinds": self.kinds, "threshold": self.threshold,
            "mute_until": self.mute_until, "digest": self.digest, "tz": self.tz,
            "active": self.active, "chat_type": self.chat_type, "reason": self.reason,
        }
        if self.escalation:
            data["escalation"] = True  # stored only when set: records stay as they were
        if self.lang:
            data["lang"] = self.lang
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, chat_id: int, raw: str) -> Subscription:
        """Parse the stored form, tolerating missing or damaged values."""
        try:
            data: Mapping[str, Any] = json.loads(raw)
            if not isinstance(data, dict):
                data = {}
        except ValueError:
            data = {}
        regions = data.get("regions")
        if not isinstance(regions, list):
            regions = []
        kinds: Kinds = "all" if data.get("kinds") == "all" else "violations"
        return cls(
            chat_id=chat_id,
            regions=frozenset(str(r) for r in regions),
            kinds=kinds,
            escalation=data.get("escalation") is True,
            threshold=_threshold(data.get("threshold")),
            mute_until=_float(data.get("mute_until"), 0.0),
            digest=str(data.get("digest") or "off"),
            tz=str(data.get("tz") or "UTC"),
            active=data.get("active", True) is not False,
            chat_type=str(data.get("chat_type") or "private"),
            reason=str(data.get("reason") or ""),
            lang=str(data.get("lang") or ""),
        )


def _threshold(value: object) -> float | None:
    """A reader's own threshold, or None for the model's default."""
    chosen = _float(value, LEGACY_DEFAULT_THRESHOLD)
    return None if chosen == LEGACY_DEFAULT_THRESHOLD or not 0 <= chosen <= 1 else chosen


def _float(value: object, default: float) -> float:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return default


class SubscriptionStore:
    """Reads and writes subscriptions; keeps the region index in step in one transaction."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    async def get(self, chat_id: int) -> Subscription | None:
        """The chat's subscription, or None if it never subscribed."""
        raw = cast(str | None, await self.redis.hget(keys.SUBS, str(chat_id)))
        return Subscription.from_json(chat_id, raw) if raw else None

    async def get_or_new(self, chat_id: int, chat_type: str = "private") -> Subscription:
        """The chat's subscription, or a fresh empty one (not yet saved)."""
        sub = await self.get(chat_id)
        return sub if sub is not None else Subscription(chat_id=chat_id, chat_type=chat_type)

    async def save(self, sub: Subscription, previous: Subscription | None = None) -> None:
        """Write ``sub`` and move its index entries from ``previous`` (read now if omitted)."""
        if previous is None:
            previous = await self.get(sub.chat_id)
        old = previous.regions if previous is not None and previous.active else frozenset()
        new = sub.regions if sub.active else frozenset()
        member = str(sub.chat_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.SUBS, member, sub.to_json())
            for region in old - new:
                pipe.srem(keys.region_subscribers(region), member)
            for region in new - old:
                pipe.sadd(keys.region_subscribers(region), member)
            if sub.active and sub.digest != "off":
                pipe.sadd(keys.DIGEST_CHATS, member)
            else:
                pipe.srem(keys.DIGEST_CHATS, member)
            if sub.active:
                pipe.sadd(keys.SUBS_ACTIVE, member)
                pipe.srem(keys.SUBS_DEACTIVATED, member)
            else:
                pipe.srem(keys.SUBS_ACTIVE, member)
                pipe.sadd(keys.SUBS_DEACTIVATED, member)
            await pipe.execute()

    async def subscribe(
        self, chat_id: int, regions: Iterable[str], chat_type: str = "private"
    ) -> Subscription:
        """Add regions (and reactivate the chat); return the new state."""
        prev = await self.get(chat_id)
        base = prev or Subscription(chat_id=chat_id, chat_type=chat_type)
        sub = replace(
            base,
            regions=base.regions | {r.lower() for r in regions},
            active=True,
            reason="",
            chat_type=chat_type,
        )
        await self.save(sub, prev)
        return sub

    async def unsubscribe(self, chat_id: int, regions: Iterable[str] | None) -> Subscription | None:
        """Remove regions (None: all of them); return the new state."""
        prev = await self.get(chat_id)
        if prev is None:
            return None
        keep = frozenset() if regions is None else prev.regions - {r.lower() for r in regions}
        sub = replace(prev, regions=keep)
        await self.save(sub, prev)
        return sub

    async def update(
        self, chat_id: int, chat_type: str = "private", **changes: object
    ) -> Subscription:
        """Change settings (threshold, kinds, mute_until, digest, tz, lang); return the result."""
        prev = await self.get(chat_id)
        base = prev or Subscription(chat_id=chat_id, chat_type=chat_type)
        sub = replace(base, **changes)  # type: ignore[arg-type]
        await self.save(sub, prev)
        return sub

    async def deactivate(self, chat_id: int, reason: str) -> None:
        """Stop sending to a chat (blocked, kicked, not found); its settings are kept."""
        prev = await self.get(chat_id)
        if prev is None or not prev.active:
            return
        await self.save(replace(prev, active=False, reason=reason[:200]), prev)

    async def migrate(self, old_id: int, new_id: int) -> Subscription | None:
        """Move a group's subscription to its new supergroup id."""
        prev = await self.get(old_id)
        if prev is None:
            return None
        moved = replace(prev, chat_id=new_id, chat_type="supergroup", active=True, reason="")
        await self.save(moved, await self.get(new_id))
        await self.save(replace(prev, active=False, reason=f"migrated to {new_id}"), prev)
        await self.redis.hdel(keys.SUBS, str(old_id))
        await self.redis.srem(keys.SUBS_DEACTIVATED, str(old_id))
        await self.redis.srem(keys.DIGEST_CHATS, str(old_id))
        return moved

    async def candidates(self, regions: Iterable[str]) -> set[int]:
        """Active chats following any of ``regions`` (or everything), from the index."""
        sets = [keys.region_subscribers(r.lower()) for r in [*regions, ALL_REGIONS]]
        members = cast(set[str], await self.redis.sunion(sets))
        return {int(m) for m in members}

    async def load_many(self, chat_ids: Iterable[int]) -> list[Subscription]:
        """Fetch many subscriptions in one round trip."""
        ids = list(chat_ids)
        if not ids:
            return []
        rows = cast(list[str | None], await self.redis.hmget(keys.SUBS, [str(c) for c in ids]))
        return [Subscription.from_json(c, raw) for c, raw in zip(ids, rows, strict=True) if raw]

    async def match(self, alert: Alert) -> list[Subscription]:
        """Active subscriptions whose regions, kinds and threshold accept ``alert``."""
        subs = await self.load_many(sorted(await self.candidates(alert.regions)))
        return [s for s in subs if s.active and s.follows(alert.regions) and s.wants(alert)]

    async def active_ids(self) -> list[int]:
        """Every active chat id."""
        return sorted(int(m) for m in await self.redis.smembers(keys.SUBS_ACTIVE))

    async def digest_ids(self) -> list[int]:
        """Return every active chat that wants a daily digest."""
        members = cast(set[str], await self.redis.smembers(keys.DIGEST_CHATS))
        return sorted(int(m) for m in members)

    async def counts(self) -> dict[str, int]:
        """Chats known, active and deactivated, for /stats."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.hlen(keys.SUBS)
            pipe.scard(keys.SUBS_ACTIVE)
            pipe.scard(keys.SUBS_DEACTIVATED)
            known, active, gone = await pipe.execute()
        return {"chats": int(known), "active": int(active), "deactivated": int(gone)}
