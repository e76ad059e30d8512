"""The truce store: idempotent, order-free, and safe under concurrent writers (real Redis)."""

from __future__ import annotations

import asyncio
import random

from redis.asyncio import Redis

from core import keys, truce_store
from core.truce import fold
from tests.core.test_truce import sudan_like


async def test_any_arrival_order_and_any_redelivery_gives_the_fold(redis: Redis) -> None:
    reports = sudan_like()
    arrivals = reports + reports[:3]  # three redelivered
    random.Random(3).shuffle(arrivals)
    for r in arrivals:
        await truce_store.add_report(redis, "sudan", r)
    assert await truce_store.load_state(redis, "sudan") == fold("sudan", reports)
    assert [r.alert_id for r in await truce_store.load_reports(redis, "sudan")] == [
        r.alert_id for r in reports
    ]
    live = await truce_store.load_live(redis)
    assert live["sudan"].phase == "collapsed" and live["sudan"].transitions == []


async def test_concurrent_writers_to_one_region_lose_nothing(redis: Redis) -> None:
    reports = sudan_like()
    await asyncio.gather(*(truce_store.add_report(redis, "sudan", r) for r in reports))
    assert await truce_store.load_state(redis, "sudan") == fold("sudan", reports)


async def test_a_rebuild_merges_with_what_is_stored(redis: Redis) -> None:
    reports = sudan_like()
    await truce_store.add_report(redis, "sudan", reports[-1])  # stored meanwhile
    await truce_store.rebuild(redis, {"sudan": reports[:-1]})
    assert await truce_store.load_state(redis, "sudan") == fold("sudan", reports)
    assert await truce_store.is_built(redis)
    assert [s.region for s in await truce_store.load_states(redis)] == ["sudan"]
    assert await redis.sismember(keys.TRUCE_REGIONS, "sudan")
