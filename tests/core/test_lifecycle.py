"""Lifecycle: supervision, restarts, drain deadline, heartbeats, embedded Redis, health role."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import aiohttp
import pytest
from redis.asyncio import Redis

from core.consumer_names import acquire_consumer_name
from core.health import run as health_role
from core.keys import HEARTBEATS
from core.lifecycle import (
    ROLE_TARGETS,
    RoleContext,
    resolve_role,
    run_roles,
)
from core.redis_conn import RedisProcess, free_port, open_redis
from core.settings import Settings
from testkit.waiting import wait_until


def settings_for(server: RedisProcess, tmp_path: Path, **kw: object) -> Settings:
    """Settings pointing at the test server with short timeouts."""
    base: dict[str, object] = dict(
        redis_url=server.url, data_dir=tmp_path, heartbeat_ttl_s=1.0, shutdown_deadline_s=2.0,
        role_restart_cap_s=0.2, health_port=free_port(),
    )
    base.update(kw)
    return Settings.model_validate(base)


async def test_crashing_role_is_restarted_and_overrun_exits_one(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    runs: list[int] = []

    async def flaky(ctx: RoleContext) -> None:
        runs.append(1)
        if len(runs) < 3:
            raise RuntimeError("boom")
        await asyncio.Event().wait()  # ignores stop: the drain deadline must cut it off

    stop = asyncio.Event()
    task = asyncio.create_task(
        run_roles(settings_for(redis_server, tmp_path), [("flaky", flaky)], stop=stop,
                  install_signals=False)
    )

    async def third_run() -> bool:
        return len(runs) == 3

    assert await wait_until(third_run)
    stop.set()
    assert await task == 1


async def test_health_endpoints_follow_redis(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    settings = settings_for(redis_server, tmp_path)

    async def idle(ctx: RoleContext) -> None:
        await ctx.stop.wait()

    stop = asyncio.Event()
    task = asyncio.create_task(
        run_roles(settings, [("health", health_role), ("idle", idle)], stop=stop,
                  install_signals=False)
    )
    base = f"http://127.0.0.1:{settings.health_port}"
    try:
        async with aiohttp.ClientSession() as http:

            async def status(path: str) -> int:
                try:
                    async with http.get(base + path) as resp:
                        return resp.status
                except aiohttp.ClientError:
                    return -1

            async def ready() -> bool:
                return await status("/readyz") == 200

            assert await wait_until(ready)
            async with http.get(base + "/readyz") as resp:
                body = await resp.json()
            assert {r.split("/")[0] for r in body["roles"]} == {"health", "idle"}
            async with http.get(base + "/metrics") as resp:
                text = await resp.text()
            assert 'cw_role_up{role="idle"} 1.0' in text
            assert "cw_stream_length" in text
            redis_server.kill()

            async def unready() -> bool:
                return await status("/readyz") == 503

            assert await wait_until(unready, timeout=5)  # the ops issue asks for 5 s at most
            assert await status("/healthz") == 200
            redis_server.restart()
            assert await wait_until(ready, timeout=15)
    finally:
        stop.set()
        assert await task == 0
    assert await redis.hlen(HEARTBEATS) == 0


async def test_consumer_names_are_stable_and_unique(redis: Redis) -> None:
    first, key1, _ = await acquire_consumer_name(redis, "classifier", 5)
    second, _, _ = await acquire_consumer_name(redis, "classifier", 5)
    assert first.endswith("-classifier-0")
    assert second.endswith("-classifier-1")
    await redis.delete(key1)
    again, _, _ = await acquire_consumer_name(redis, "classifier", 5)
    assert again == first  # a restarted process gets its old name, and its pending entries


async def test_embedded_redis_keeps_aof_in_data_dir(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    async with open_redis(settings) as client:
        await client.set("kept", "yes")
        info = await client.config_get("appendonly")
        assert info["appendonly"] == "yes"
    assert any((tmp_path / "redis").rglob("*.aof"))
    async with open_redis(settings) as client:
        assert await client.get("kept") == "yes"


def test_cli_help_and_version() -> None:
    run = [sys.executable, "-c", "from core.cli import main; main()"]
    out = subprocess.run([*run, "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.startswith("ceasefire-watch, version ")
    # The one version number is pyproject's, read back from the installed distribution.
    assert out.stdout.strip() == f"ceasefire-watch, version {version('ceasefire-watch')}"
    out = subprocess.run([*run, "run", "--help"], capture_output=True, text=True, check=True)
    assert "--roles" in out.stdout
    bad = subprocess.run(
        [*run, "run", "--roles", "nope"], capture_output=True, text=True, check=False
    )
    assert bad.returncode == 2
    assert "unknown role(s) nope" in bad.stderr


def test_every_role_is_part_of_the_build() -> None:
    for name in ROLE_TARGETS:
        assert callable(resolve_role(name))
    with pytest.raises(ValueError, match="unknown role 'nope'"):
        resolve_role("nope")
