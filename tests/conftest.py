"""Shared fixtures: a redis-server per session, a clean client per test, ../shared, Sentinel."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from core.redis_conn import RedisProcess, make_client
from testkit.sentinels import SentinelCluster, SentinelSetupError

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisProcess]:
    """Start our own redis-server (AOF on) on a free port; tests may kill and restart it."""
    with RedisProcess(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
async def redis(redis_server: RedisProcess) -> AsyncIterator[Redis]:
    """A client on the session server; the server is ours, so its database is flushed first."""
    if redis_server.proc is None or redis_server.proc.poll() is not None:
        redis_server.restart()
    client = make_client(redis_server.url)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def shared_dir() -> Path:
    """Return ../shared beside the checkout, or skip when it is absent."""
    if not (SHARED / "eval" / "dev.jsonl").exists():
        pytest.skip(f"../shared not found at {SHARED}: the test needs the shared data sets")
    return SHARED


@pytest.fixture
async def sentinel_cluster(tmp_path: Path) -> AsyncIterator[SentinelCluster]:
    """A primary, a replica and three sentinels on free ports of 127.0.0.1 (else a skip)."""
    servers = SentinelCluster(tmp_path / "redis")
    try:
        async with servers:
            yield servers
    except SentinelSetupError as exc:
        pytest.skip(f"cannot run Redis with Sentinel here: {exc}")
