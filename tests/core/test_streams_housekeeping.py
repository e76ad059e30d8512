"""Trimming never cuts what a group still needs; stats report length, pending and lag."""

from __future__ import annotations

from redis.asyncio import Redis

from core.keys import ARTICLES
from core.streams import ensure_group, publish, read_group, read_range, stream_stats, trim_safely
from testkit.messages import article


async def test_trim_keeps_pending_and_unread_entries(redis: Redis) -> None:
    await ensure_group(redis, ARTICLES, "g")
    for i in range(300):
        await publish(redis, ARTICLES, article(i))
    # Deliver 200, ack only the last 100 of them: entries 0..99 stay pending.
    ids = [eid for eid, _ in await read_group(redis, ARTICLES, "g", "c", count=200)]
    await redis.xack(ARTICLES, "g", *ids[100:])
    stats = await stream_stats(redis, ARTICLES, "g")
    assert (stats.length, stats.pending, stats.lag) == (300, 100, 100)
    await trim_safely(redis, ARTICLES, maxlen=10)
    remaining = {eid for eid, _ in await read_range(redis, ARTICLES)}
    assert set(ids[:100]) <= remaining  # pending entries survive
    unread = await read_group(redis, ARTICLES, "g", "c", count=500)
    assert len(unread) == 100  # undelivered entries survive too


async def test_trim_cuts_finished_entries(redis: Redis) -> None:
    await ensure_group(redis, ARTICLES, "g")
    for i in range(3000):
        await publish(redis, ARTICLES, article(i))
    read = await read_group(redis, ARTICLES, "g", "c", count=3000)
    await redis.xack(ARTICLES, "g", *[eid for eid, _ in read])
    removed = await trim_safely(redis, ARTICLES, maxlen=100)
    assert removed > 2000  # approximate trimming works in whole nodes, so not exactly 2900


async def test_no_group_means_no_trim(redis: Redis) -> None:
    for i in range(50):
        await publish(redis, ARTICLES, article(i))
    assert await trim_safely(redis, ARTICLES, maxlen=10) == 0
    assert await redis.xlen(ARTICLES) == 50
