"""Story ids against a real Redis: near-duplicates share a story, others do not."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from redis.asyncio import Redis

from core.models import Article
from workers.classifier.story_ids import (
    BAND_CAP,
    PREFIX,
    StoryIds,
    bands,
    signature,
    similarity,
)


def _article(aid: str, title: str, summary: str, source: str = "outlet") -> Article:
    now = datetime.now(UTC)
    return Article(
        id=aid,
        feed_id=source,
        source=source,
        url=f"https://{source}.example/{aid}",
        title=title,
        summary=summary,
        lang="en",
        published=now,
        fetched=now,
    )


A = _article(
    "a1",
    "Israel resumes strikes on Gaza as truce with Hamas expires",
    "Israeli warplanes struck targets across Gaza minutes after the seven-day truce expired "
    "on Friday.",
    "outlet-a",
)
B = _article(
    "b1",
    "Israel resumes Gaza strikes after truce with Hamas expires",
    "Israeli warplanes struck targets in Gaza minutes after the seven-day truce with Hamas "
    "expired.",
    "outlet-b",
)
C = _article(
    "c1",
    "Sudan army and RSF agree to extend ceasefire by 72 hours",
    "Mediators in Jeddah said the rival generals accepted a three-day extension of the truce.",
    "outlet-c",
)


def test_signatures_estimate_similarity() -> None:
    assert similarity(signature(A.title, A.summary), signature(A.title, A.summary)) == 1.0
    assert similarity(signature(A.title, A.summary), signature(B.title, B.summary)) >= 0.45
    assert similarity(signature(A.title, A.summary), signature(C.title, C.summary)) < 0.2


async def test_near_duplicates_share_a_story(redis: Redis) -> None:
    ids = StoryIds(redis, window_s=3600)
    first = await ids.assign(A)
    assert first == A.id
    assert await ids.assign(B) == A.id
    assert await ids.assign(C) == C.id


async def test_redelivery_returns_the_same_story(redis: Redis) -> None:
    ids = StoryIds(redis, window_s=3600)
    await ids.assign(C)
    story_b = await ids.assign(B)
    # A arrives after B: it joins B's story; delivered again it must not change.
    story_a = await ids.assign(A)
    assert story_a == story_b == B.id
    assert await ids.assign(A) == story_a
    assert await ids.assign(B) == story_b


async def test_the_script_survives_a_script_flush(redis: Redis) -> None:
    """Registered once: after Redis forgets it (a restart, a failover) it is loaded again."""
    ids = StoryIds(redis, window_s=3600)
    await ids.assign(A)
    await redis.script_flush()
    assert await ids.assign(B) == A.id


async def test_concurrent_replicas_agree(redis: Redis) -> None:
    await StoryIds(redis, window_s=3600).assign(A)
    replicas = [StoryIds(redis, window_s=3600) for _ in range(8)]
    results = await asyncio.gather(*(ids.assign(B) for ids in replicas))
    assert set(results) == {A.id}


async def test_keys_expire_with_the_window(redis: Redis) -> None:
    await StoryIds(redis, window_s=60).assign(A)
    keys = [k async for k in redis.scan_iter(match=f"{PREFIX}*")]
    assert keys
    for key in keys:
        ttl = await redis.ttl(key)
        assert 0 < ttl <= 60, (key, ttl)


async def test_outside_the_window_a_new_story_starts(redis: Redis) -> None:
    ids = StoryIds(redis, window_s=3600)
    await ids.assign(A)
    # Simulate the window passing for A: its record expires (TTL), bands may linger.
    await redis.delete(f"{PREFIX}art:{A.id}")
    assert await ids.assign(B) == B.id


async def test_boilerplate_band_is_neither_read_nor_grown(redis: Redis) -> None:
    crowded = bands(signature(A.title, A.summary))[0]
    filler = [f"other-{i}" for i in range(BAND_CAP)]
    await redis.sadd(crowded, *filler)
    for aid in filler[:3]:  # records that would join A's story if the band were read
        await redis.hset(f"{PREFIX}art:{aid}", mapping={
            "sig": ",".join(f"{v:x}" for v in signature(A.title, A.summary)), "story": aid,
        })
    ids = StoryIds(redis, window_s=3600)
    assert await ids.assign(A) == A.id
    assert await redis.scard(crowded) == BAND_CAP
    assert not await redis.sismember(crowded, A.id)
    # The other bands still work: B finds A through them.
    assert await ids.assign(B) == A.id
