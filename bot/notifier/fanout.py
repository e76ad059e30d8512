"""The Telegram fan-out: an alert becomes one delivery job per matching chat (or a digest entry)."""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis

from bot.notifier.channels import ChannelPosts
from bot.notifier.metrics import NotifierMetrics
from bot.store.messages import MessageLedger
from bot.store.stories import StoryStore, story_of
from bot.store.subscriptions import Subscription, SubscriptionStore
from core import keys
from core.models import Alert, DeliveryJob
from core.streams import Delivery, queue_publish

log = logging.getLogger(__name__)

FANNED_TTL_S = 7 * 24 * 3600


class TelegramFanout:
    """Matches an alert against subscriptions and queues one delivery job per chat.

    The jobs, the digest entries and the 'fanned out' flag are written in one transaction,
    so a redelivered alert either finds everything queued or nothing.
    """

    def __init__(
        self, redis: Redis, subs: SubscriptionStore, stories: StoryStore, ledger: MessageLedger,
        metrics: NotifierMetrics, *, channels: ChannelPosts | None = None,
    ) -> None:
        self.redis = redis
        self.subs = subs
        self.stories = stories
        self.ledger = ledger
        self.metrics = metrics
        self.channels = channels

    async def recipients(self, alert: Alert) -> tuple[list[Subscription], list[Subscription]]:
        """(instant, digest) subscribers for an alert, including chats holding its story."""
        story_id = story_of(alert)
        matched = {s.chat_id: s for s in await self.subs.match(alert)}
        # Chats already showing this story get the edit ("also reported by") even if this
        # outlet's report alone would not pass their filters.
        holders = await self.ledger.chats_with_message(story_id) - matched.keys()
        if self.channels is not None:  # bound channels: one post per story (channels.py)
            for target in await self.channels.recipients(alert, holders):
                matched[target.chat_id] = target
            holders -= matched.keys()
        for sub in await self.subs.load_many(sorted(holders)):
            if sub.active:
                matched[sub.chat_id] = sub
        now = time.time()
        instant = [s for s in matched.values() if not s.muted(now) and s.digest == "off"]
        digest = [s for s in matched.values() if not s.muted(now) and s.digest != "off"]
        return instant, digest

    async def handle(self, alert: Alert, delivery: Delivery | None = None) -> None:
        """Record the story, then queue deliveries (once per alert)."""
        if alert.label == "none":
            self.metrics.alerts.labels("ignored").inc()
            return
        story_id = story_of(alert)
        await self.stories.add(alert)
        flag = keys.fanned(alert.id)
        if await self.redis.exists(flag):
            self.metrics.alerts.labels("repeat").inc()
            return
        await self.stories.push_latest(alert)
        instant, digest = await self.recipients(alert)
        seen = time.time()
        published, fetched = alert.article.published.timestamp(), alert.article.fetched.timestamp()
        async with self.redis.pipeline(transaction=True) as pipe:
            for sub in sorted(instant, key=lambda s: s.chat_id):
                job = DeliveryJob(
                    alert_id=alert.id, story_id=story_id, chat_id=sub.chat_id,
                    published=published, fetched=fetched,
                )
                queue_publish(pipe, keys.DELIVERIES, job)
            for sub in digest:
                pipe.zadd(keys.digest_queue(sub.chat_id), {story_id: seen}, nx=True)
                pipe.expire(keys.digest_queue(sub.chat_id), 3 * 24 * 3600)
            if alert.label == "violation":
                day = time.strftime("%Y-%m-%d", time.gmtime(seen))
                for region in {r.lower() for r in alert.regions}:
                    pipe.hincrby(keys.daily_counts(region), day, 1)
                    pipe.expire(keys.daily_counts(region), 40 * 24 * 3600)
            pipe.set(flag, str(len(instant)), ex=FANNED_TTL_S)
            await pipe.execute()
        outcome = "fanned_out" if instant or digest else "no_match"
        self.metrics.alerts.labels(outcome).inc()
        log.info(
            "alert %s (story %s): %d instant, %d digest recipients",
            alert.id, story_id, len(instant), len(digest),
        )
