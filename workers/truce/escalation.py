"""The truces role's escalation watch: record each violation story per region, test, publish.

Every ``violation`` alert adds its story (first report time) to each of its regions' sorted
set; the region is then tested at the role's clock (core/escalation.py). A region that fires
and had no escalation in the last window gets one ``Escalation`` on the ``escalations``
stream; the guard and the entry are written in one MULTI/EXEC under WATCH, so a crash or a
redelivered alert neither loses nor doubles it, and replicas of the role cannot both publish.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from prometheus_client import CollectorRegistry, Counter
from redis.asyncio import Redis
from redis.exceptions import WatchError

from core import escalation, keys
from core.models import Alert, Escalation, EscalationStory
from core.streams import queue_publish

log = logging.getLogger(__name__)

KEEP_S = escalation.BASELINE_S + 24 * 3600  # 15 days: the baseline, the window and a margin
MAX_LISTED = 30  # stories carried by one escalation (its count says how many there were)
Clock = Callable[[], float]


class EscalationMetrics:
    """Counters of the escalation watch, registered once per process."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the escalation metrics on ``registry``."""
        self.published = Counter(
            "cw_escalations_total",
            "Escalations published on the escalations stream, by region.",
            ["region"],
            registry=registry,
        )


def story_time(alert: Alert, now: float) -> float:
    """When a story was first reported: published, but never after it was fetched (or now)."""
    article = alert.article
    return min(article.published.timestamp(), article.fetched.timestamp(), now)


class EscalationWatch:
    """Records violation stories per region and publishes an escalation when a region fires."""

    def __init__(
        self, redis: Redis, clock: Clock = time.time, metrics: EscalationMetrics | None = None
    ) -> None:
        """Hold what the watch needs; ``clock`` is injectable so tests control time."""
        self.redis = redis
        self.clock = clock
        self.metrics = metrics

    async def record(self, alert: Alert) -> list[Escalation]:
        """Add a violation alert's story to its regions; return the escalations it published."""
        if alert.label != "violation" or not alert.regions:
            return []
        now = self.clock()
        story_id = alert.story
        first = story_time(alert, now)
        regions = sorted({r.lower() for r in alert.regions})
        info = keys.escalation_story(story_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            # HSETNX: the story's first recorded report names it, whatever arrives later.
            pipe.hsetnx(info, "title", alert.article.title)
            pipe.hsetnx(info, "url", alert.article.url)
            pipe.hsetnx(info, "source", alert.article.source)
            pipe.expire(info, KEEP_S)
            for region in regions:
                key = keys.escalation_stories(region)
                # LT keeps the earliest report of a story, whatever order outlets arrive in
                # (and a redelivery changes nothing).
                pipe.zadd(key, {story_id: first}, lt=True)
                pipe.zremrangebyscore(key, "-inf", now - KEEP_S)
                pipe.expire(key, KEEP_S)
            await pipe.execute()
        out = []
        for region in regions:
            published = await self.check(region, now)
            if published is not None:
                out.append(published)
        return out

    async def check(self, region: str, now: float) -> Escalation | None:
        """Test ``region`` at ``now``; publish and return its escalation when one is due."""
        since = now - escalation.WINDOW_S - escalation.BASELINE_S
        rows = cast(
            list[tuple[str, float]],
            await self.redis.zrangebyscore(
                keys.escalation_stories(region), f"({since}", now, withscores=True
            ),
        )
        result = escalation.assess((t for _, t in rows), now)
        if not result.fired:
            return None
        recent = [(sid, t) for sid, t in rows if t > now - escalation.WINDOW_S]
        found = Escalation(
            id=f"{region}-{int(now)}",
            region=region,
            at=datetime.fromtimestamp(now, UTC),
            window_h=escalation.WINDOW_S / 3600,
            count=result.count,
            expected=result.expected,
            p_value=result.p_value,
            stories=await self._stories(recent[:MAX_LISTED]),
        )
        if not await self._publish(found, now):
            return None
        log.warning(
            "escalation in %s: %d violation stories in 6 h (usual %.2f, p=%.2g)",
            region, result.count, result.expected, result.p_value,
        )
        if self.metrics is not None:
            self.metrics.published.labels(region).inc()
        return found

    async def _stories(self, rows: list[tuple[str, float]]) -> tuple[EscalationStory, ...]:
        """The listed stories with their first report's title, link and outlet."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for story_id, _ in rows:
                pipe.hgetall(keys.escalation_story(story_id))
            infos = cast(list[dict[str, str]], await pipe.execute())
        return tuple(
            EscalationStory(
                story_id=story_id, title=info.get("title", ""), url=info.get("url", ""),
                source=info.get("source", ""), first_seen=datetime.fromtimestamp(t, UTC),
            )
            for (story_id, t), info in zip(rows, infos, strict=True)
        )

    async def _publish(self, found: Escalation, now: float) -> bool:
        """Write the guard and the entry together unless the region had one in the window."""
        guard = keys.escalation_last(found.region)
        async with self.redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(guard)
                    last = cast(str | None, await pipe.get(guard))
                    # An escalation within the window (or at a later clock: a replica ahead of
                    # us) already told readers about this burst.
                    if last is not None and now - float(last) < escalation.WINDOW_S:
                        return False  # leaving the block resets the pipeline and unwatches
                    cast(Any, pipe).multi()  # redis-py leaves multi() untyped
                    pipe.set(guard, repr(now), ex=KEEP_S)
                    queue_publish(pipe, keys.ESCALATIONS, found)
                    await pipe.execute()
                    return True
                except WatchError:
                    continue  # another process wrote the guard meanwhile: look again
