"""One embedded Redis per DATA_DIR: a killed run's server is adopted, shared, never doubled."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from pathlib import Path

import pytest

from core.embedded_redis import SERVER_FILE, read_record
from core.redis_conn import (
    RedisProcess,
    RedisUnavailableError,
    embedded_redis,
    free_port,
    make_client,
    open_redis,
)
from core.settings import Settings
from testkit.pipeline import readyz
from testkit.waiting import wait_until
from tests.core.cli_process import cli_env, cli_process, redis_servers_in, run_cli


async def test_tools_share_the_server_and_a_second_owner_is_refused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path)
    async with open_redis(settings, share_embedded=False) as owner:
        await owner.set("k", "v")
        async with open_redis(settings) as tool:  # a one-off command beside ``run``
            assert await tool.get("k") == "v"
        with pytest.raises(RedisUnavailableError, match=r"set REDIS_URL=redis://127\.0\.0\.1:"):
            async with open_redis(settings, share_embedded=False):
                pass
        assert await owner.ping()  # untouched by both
    assert redis_servers_in(tmp_path / "redis") == []
    assert not (tmp_path / "redis" / SERVER_FILE).exists()


async def test_two_racing_starts_make_one_server(tmp_path: Path) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def start() -> str:
        async with embedded_redis(tmp_path) as url:
            started.set()
            await release.wait()
            return url

    first = asyncio.create_task(start())
    second = asyncio.create_task(start())
    done, _ = await asyncio.wait([first, second], timeout=60,
                                 return_when=asyncio.FIRST_COMPLETED)
    assert len(done) == 1
    assert isinstance(done.pop().exception(), RedisUnavailableError)
    await asyncio.wait_for(started.wait(), 30)
    assert len(redis_servers_in(tmp_path / "redis")) == 1
    release.set()
    await asyncio.gather(first, second, return_exceptions=True)
    assert redis_servers_in(tmp_path / "redis") == []


async def test_server_left_by_a_dead_owner_is_adopted_not_doubled(tmp_path: Path) -> None:
    folder = tmp_path / "redis"
    # What a SIGKILLed owner leaves: a running server and its record, no lock holder.
    orphan = RedisProcess(folder)
    orphan.start()
    try:
        (folder / SERVER_FILE).write_text(json.dumps({"pid": orphan.pid, "port": orphan.port}))
        settings = Settings(data_dir=tmp_path)
        async with open_redis(settings, share_embedded=False) as client:
            await client.set("kept", "1")
            assert redis_servers_in(folder) == [orphan.pid]  # adopted, not doubled
            info = await client.info("server")
            assert int(info["process_id"]) == orphan.pid
        # The adopter owns it now: a clean exit stops it and removes the record.
        assert await asyncio.to_thread(orphan.proc.wait, 30) == 0  # type: ignore[union-attr]
        assert not (folder / SERVER_FILE).exists()
        async with open_redis(settings, share_embedded=False) as client:
            assert await client.get("kept") == "1"  # written to the adopted server's AOF
    finally:
        orphan.kill()


async def test_a_server_left_without_a_record_is_found_and_adopted(tmp_path: Path) -> None:
    folder = tmp_path / "redis"
    orphan = RedisProcess(folder)  # as an older version left it: no server.json
    orphan.start()
    try:
        async with open_redis(Settings(data_dir=tmp_path), share_embedded=False) as client:
            assert int((await client.info("server"))["process_id"]) == orphan.pid
            assert redis_servers_in(folder) == [orphan.pid]
        assert await asyncio.to_thread(orphan.proc.wait, 30) == 0  # type: ignore[union-attr]
    finally:
        orphan.kill()


async def test_a_record_naming_someone_else_is_not_adopted(tmp_path: Path) -> None:
    folder = tmp_path / "redis"
    other = RedisProcess(tmp_path / "elsewhere", appendonly=False)
    other.start()
    try:
        folder.mkdir()
        (folder / SERVER_FILE).write_text(json.dumps({"pid": other.pid, "port": other.port}))
        async with open_redis(Settings(data_dir=tmp_path), share_embedded=False) as client:
            info = await client.info("server")
            assert int(info["process_id"]) != other.pid
        assert other.proc is not None and other.proc.poll() is None  # left alone
    finally:
        other.stop()


async def test_sigkilled_run_restarts_on_the_same_server_and_is_ready_at_once(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "data" / "redis"
    port = free_port()
    env = cli_env(tmp_path, HEALTH_PORT=str(port), LOG_LEVEL="INFO")
    args = ["run", "--roles", "classifier,health"]
    log = tmp_path / "run.log"

    async def ready() -> bool:
        return (await readyz(port))[0] == 200

    async with cli_process(args, env, log) as first:
        assert await wait_until(ready, timeout=90), log.read_text()[-3000:]
        record = read_record(folder)
        assert record is not None
        first.send_signal(signal.SIGKILL)
        await asyncio.to_thread(first.wait, 30)
    # SIGKILL leaves the server running in its own session (parent 1) ...
    assert redis_servers_in(folder) == [record.pid]
    killed_at = time.monotonic()
    async with cli_process(args, env, log) as second:
        assert await wait_until(ready, timeout=90), log.read_text()[-3000:]
        took = time.monotonic() - killed_at
        # ... and the restart adopts it: one server per folder, the same one.
        assert redis_servers_in(folder) == [record.pid]
        assert read_record(folder) == record
        _, body = await readyz(port)
        assert "stale" not in body, body  # same consumer names: no dead process's heartbeats
        print(f"kill -> ready in {took:.1f}s")  # a figure for the log, not an assertion

        listed = await asyncio.to_thread(run_cli, ["feeds", "list"], env)
        assert listed.returncode == 0, listed.stderr[-2000:]
        assert listed.stdout.startswith("ID")
        second.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(second.wait, 60) == 0
    assert redis_servers_in(folder) == []
    assert not (folder / SERVER_FILE).exists()
    assert "adopting the embedded redis-server" in log.read_text()


def test_feeds_list_waits_for_nothing_when_no_run_holds_the_server(tmp_path: Path) -> None:
    out = run_cli(["feeds", "list"], cli_env(tmp_path))
    assert out.returncode == 0, out.stderr[-2000:]
    assert redis_servers_in(tmp_path / "data" / "redis") == []
    assert os.path.exists(tmp_path / "data" / "redis")


async def test_a_redis_process_used_as_a_context_manager_stops_on_exit(tmp_path: Path) -> None:
    with RedisProcess(tmp_path, appendonly=False) as server:
        client = make_client(server.url)
        try:
            assert await client.ping()
        finally:
            await client.aclose()
        proc = server.proc
    assert proc is not None and proc.poll() is not None, "still running after the block"
