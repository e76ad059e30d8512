"""Redis through Sentinel: the client follows a promotion; an unreplicated publish is flagged."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from redis.asyncio import Redis

from core.config_files import ConfigError
from core.keys import ARTICLES, SEEN_PREFIX
from core.models import Article
from core.redis_conn import find_redis_server, open_redis
from core.sentinel import ReplicaWait, replica_wait
from core.settings import Settings, load_settings
from testkit.sentinels import SentinelCluster
from testkit.waiting import wait_until
from workers.poller.dedupe import DONE, queue_new


def _settings(cluster: SentinelCluster, tmp_path: Path) -> Settings:
    return Settings(redis_sentinels=cluster.endpoints, data_dir=tmp_path)


def _articles(prefix: str, n: int) -> list[Article]:
    now = datetime.now(UTC)
    return [Article(id=f"{prefix}{i}", feed_id="f", source="S", url=f"https://x.org/{prefix}{i}",
                    title="t", published=now, fetched=now) for i in range(n)]


async def _port(redis: Redis) -> int:
    return int((await redis.info("server"))["tcp_port"])


def test_sentinels_setting_is_parsed_and_a_bad_one_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_SENTINELS", "10.0.0.1:26379, [::1]:26380")
    assert load_settings().redis_sentinels == (("10.0.0.1", 26379), ("::1", 26380))
    monkeypatch.setenv("REDIS_SENTINELS", "10.0.0.1")
    with pytest.raises(ConfigError, match=r"redis_sentinels.*10\.0\.0\.1"):
        load_settings()


async def test_client_follows_a_promotion_without_losing_a_write(
    sentinel_cluster: SentinelCluster, tmp_path: Path
) -> None:
    async with open_redis(_settings(sentinel_cluster, tmp_path)) as redis:
        sync = replica_wait(redis)
        assert sync is not None
        for n in range(50):
            await redis.set(f"k{n}", n)
        assert await sync.after(redis)  # a replica holds every write so far
        survivor = await sentinel_cluster.kill_primary()
        # Each command is retried until the sentinels name the promoted replica.
        for n in range(50, 100):
            await redis.set(f"k{n}", n)
        assert await _port(redis) == survivor.port
        assert await redis.mget([f"k{n}" for n in range(100)]) == [str(n) for n in range(100)]
        # The new primary has no replica: waiting pauses instead of stalling every write.
        assert not await sync.after(redis)
        assert sync.degraded


async def test_publish_no_replica_confirms_is_reported_unconfirmed(
    sentinel_cluster: SentinelCluster, tmp_path: Path
) -> None:
    async with open_redis(_settings(sentinel_cluster, tmp_path)) as redis:
        first = await queue_new(redis, _articles("a", 3))
        assert (first.queued, first.unconfirmed) == (3, 0)
        sentinel_cluster.replica.kill()
        # Not on a replica: reported unconfirmed, so the poller keeps the feed's old validators
        # and reads its body again; a failover now would lose entries and marks together.
        unsure = await queue_new(redis, _articles("b", 3))
        assert (unsure.queued, unsure.unconfirmed) == (3, 3)
        assert await redis.xlen(ARTICLES) == 6
        assert await redis.get(f"{SEEN_PREFIX}b0") == DONE
        # Waiting is paused while there is no replica; publishing goes on.
        sync = replica_wait(redis)
        assert sync is not None and sync.degraded
        later = await queue_new(redis, _articles("c", 2))
        assert (later.queued, later.unconfirmed) == (2, 0)
        # The replica comes back: ROLE lists it, and waiting resumes by itself.
        sync.recheck_s = 0.1
        sentinel_cluster.replica.start(find_redis_server())
        assert await wait_until(lambda: _replicas(redis), timeout=30)
        assert await wait_until(lambda: _waiting_again(redis, sync), timeout=30)


async def _replicas(redis: Redis) -> bool:
    return len((await redis.role())[2]) >= 1


async def _waiting_again(redis: Redis, sync: ReplicaWait) -> bool:
    result = await queue_new(redis, _articles(f"d{time.monotonic_ns()}-", 1))
    return result.unconfirmed == 0 and not sync.degraded
