"""Upgrading a database from the old key layout: every key renamed once, streams untouched."""

from __future__ import annotations

import asyncio
from pathlib import Path

from redis.asyncio import Redis

from core import keys
from core.key_migration import SCHEMA_VERSION, migrate_keys
from core.redis_conn import RedisProcess, open_redis
from core.settings import Settings


async def _write_legacy(redis: Redis) -> None:
    await redis.hset("bot:subs", "42", '{"regions": ["ukraine"]}')
    await redis.sadd("bot:region:ukraine", "42")
    await redis.hset("bot:sent:a1", "42", "7")
    await redis.expire("bot:sent:a1", 3600)
    await redis.set("poller:seen:abc", "done", ex=3600)
    await redis.hset("poller:feed:kyiv", "deactivated", "1")
    await redis.hset("feeds:runtime", "extra", "{}")
    await redis.set("feeds:version", "3")
    await redis.xadd(keys.DELIVERIES, {"data": "{}"})
    await redis.xadd(keys.FEED_EVENTS, {"data": "{}"})
    await redis.zadd(keys.retry_queue(keys.DELIVERIES), {"job": 1.0})


async def test_legacy_keys_move_under_the_one_prefix_with_values_and_ttls(redis: Redis) -> None:
    await _write_legacy(redis)
    assert await migrate_keys(redis) == 7
    assert await redis.hget(keys.SUBS, "42") == '{"regions": ["ukraine"]}'
    assert await redis.smembers(keys.region_subscribers("ukraine")) == {"42"}
    assert await redis.hget(keys.sent("a1"), "42") == "7"
    assert 0 < await redis.ttl(keys.sent("a1")) <= 3600
    assert await redis.get(keys.SEEN_PREFIX + "abc") == "done"
    assert await redis.hget(keys.feed_state("kyiv"), "deactivated") == "1"
    assert await redis.hget(keys.RUNTIME_FEEDS, "extra") == "{}"
    assert await redis.get(keys.FEEDS_VERSION) == "3"
    # Streams are a contract: their names, and the keys derived from them, stay.
    assert await redis.xlen(keys.DELIVERIES) == 1 and await redis.xlen(keys.FEED_EVENTS) == 1
    assert await redis.zcard(keys.retry_queue(keys.DELIVERIES)) == 1
    left = [k async for k in redis.scan_iter(match="bot:*")]
    assert left == [keys.DELIVERIES]
    assert not [k async for k in redis.scan_iter(match="poller:*")]
    assert await redis.get(keys.SCHEMA) == SCHEMA_VERSION


async def test_a_second_run_renames_nothing_and_new_data_is_never_overwritten(
    redis: Redis,
) -> None:
    await redis.hset(keys.SUBS, "1", "new")
    await redis.hset("bot:subs", "1", "old")
    assert await migrate_keys(redis) == 0
    assert await redis.hget(keys.SUBS, "1") == "new"
    assert await redis.hget("bot:subs", "1") == "old"  # kept for an operator, not merged
    await redis.hset("bot:subs", "2", "written by an old process after the upgrade")
    assert await migrate_keys(redis) == 0  # the layout is recorded: no second scan


async def test_concurrent_starts_migrate_once(redis: Redis) -> None:
    await _write_legacy(redis)
    results = await asyncio.gather(*(migrate_keys(redis) for _ in range(4)))
    assert sorted(results) == [0, 0, 0, 7]
    assert await redis.exists(keys.SCHEMA_LOCK) == 0


async def test_every_connection_path_migrates_before_use(
    redis_server: RedisProcess, redis: Redis, tmp_path: Path
) -> None:
    await redis.hset("feeds:runtime", "extra", "{}")
    settings = Settings(redis_url=redis_server.url, config_dir=tmp_path, data_dir=tmp_path)
    async with open_redis(settings) as client:
        assert await client.hget(keys.RUNTIME_FEEDS, "extra") == "{}"
