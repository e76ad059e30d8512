"""The stores the command handlers share, built once by the bot role."""

from __future__ import annotations

from dataclasses import dataclass

from redis.asyncio import Redis

from bot.store.regions import RegionCatalog
from bot.store.stories import StoryStore
from bot.store.subscriptions import SubscriptionStore


@dataclass
class Services:
    """What handlers need, built once by the bot role."""

    redis: Redis
    subs: SubscriptionStore
    stories: StoryStore
    catalog: RegionCatalog
