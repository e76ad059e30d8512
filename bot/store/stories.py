"""Stories in Redis: the outlets that reported each one, and the newest alerts for /latest.

What we sent about a story, per chat, is kept by bot/store/messages.py.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from typing import cast

from redis.asyncio import Redis

from core import keys
from core.models import Alert
from core.records import record_from_json

STORY_TTL_S = 7 * 24 * 3600
LATEST_KEEP = 200
TEXT_MAX = 2000  # a lede longer than this is cut: the item is kept per story for a week


@dataclass(frozen=True)
class StoryItem:
    """One outlet's report of a story, as much as rendering needs."""

    alert_id: str
    source: str
    url: str
    title: str
    label: str
    score: float
    evidence: str
    regions: tuple[str, ...]
    seen: float
    # Optional, so items stored before they existed still load: what the report says of a
    # violation (who accuses whom, how, where, the toll), and, when the item had no truce word
    # and was found because a truce was in force, that truce's region and start (epoch s).
    accuser: str = ""
    accused: str = ""
    attack: str = ""
    place: str = ""
    killed: int | None = None
    wounded: int | None = None
    truce_region: str = ""
    truce_since: float | None = None
    # For readers' votes (core/feedback.py): the article's language and its lede (bounded).
    lang: str = ""
    text: str = ""

    @classmethod
    def from_alert(cls, alert: Alert, seen: float | None = None) -> StoryItem:
        """Project an alert onto what a message shows."""
        event, truce = alert.event, alert.truce
        return cls(
            alert_id=alert.id,
            source=alert.article.source,
            url=alert.article.url,
            title=alert.article.title,
            label=alert.label,
            score=alert.score,
            evidence=alert.evidence,
            regions=tuple(alert.regions),
            seen=time.time() if seen is None else seen,
            **event.claim(),
            truce_region=truce.region if truce is not None else "",
            truce_since=truce.since.timestamp() if truce and truce.since else None,
            lang=alert.lang or alert.article.lang,
            text=alert.article.summary[:TEXT_MAX],
        )

    def to_json(self) -> str:
        """Serialised form kept in Redis (optional fields only when set)."""
        data = asdict(self)
        # Left out when unset, so a process of the previous version can still read the item.
        for name in _OPTIONAL:
            if data[name] in ("", None):
                del data[name]
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str) -> StoryItem:
        """Parse the serialised form (fields this version does not know are ignored)."""
        return record_from_json(cls, raw)


_OPTIONAL = ("accuser", "accused", "attack", "place", "killed", "wounded", "truce_region",
             "truce_since", "lang", "text")


def story_of(alert: Alert) -> str:
    """The story id, falling back to the alert id for a story of one."""
    return alert.story


class StoryStore:
    """Each story's reports (with a TTL) and the capped /latest list."""

    def __init__(self, redis: Redis, ttl_s: int = STORY_TTL_S) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def add(self, alert: Alert) -> None:
        """Record an alert as part of its story (first sighting wins: idempotent)."""
        key = keys.story_items(story_of(alert))
        item = StoryItem.from_alert(alert)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hsetnx(key, alert.id, item.to_json())
            pipe.expire(key, self.ttl_s)
            await pipe.execute()

    async def push_latest(self, alert: Alert) -> None:
        """Remember an alert for /latest (a capped list, newest first)."""
        item = StoryItem.from_alert(alert)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.lpush(keys.LATEST, item.to_json())
            pipe.ltrim(keys.LATEST, 0, LATEST_KEEP - 1)
            await pipe.execute()

    async def latest(self, count: int, region: str | None = None) -> list[StoryItem]:
        """Return the newest alerts, one per story headline, optionally of one region."""
        raw = cast(list[str], await self.redis.lrange(keys.LATEST, 0, LATEST_KEEP - 1))
        out: list[StoryItem] = []
        seen: set[str] = set()
        for value in raw:
            item = StoryItem.from_json(value)
            if region and region not in {r.lower() for r in item.regions}:
                continue
            if item.alert_id in seen:
                continue
            seen.add(item.alert_id)
            out.append(item)
            if len(out) >= count:
                break
        return out

    async def items(self, story_id: str) -> list[StoryItem]:
        """Every report of a story, oldest first."""
        raw = cast(dict[str, str], await self.redis.hgetall(keys.story_items(story_id)))
        items = [StoryItem.from_json(v) for v in raw.values()]
        return sorted(items, key=lambda i: (i.seen, i.alert_id))
