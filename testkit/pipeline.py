"""The service seen from outside: how to start its processes, when its queues are drained.

Shared by the end-to-end tests, the failover scenario and the benches. The streams and their
groups come from the registry (``core.keys.STREAMS``), so a new stream is watched here too.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import cast

import aiohttp
from redis.asyncio import Redis

from core.keys import ARTICLES, HEARTBEATS, STREAMS
from core.streams import stream_stats

REPO = Path(__file__).resolve().parents[1]
# ``ceasefire-watch run --roles`` without relying on the console script being installed.
CLI = (sys.executable, "-c", "from core.cli import main; main()", "run", "--roles")
_SCRIPT = Path(sys.executable).with_name("ceasefire-watch")
# The console script itself where it is installed, as the Docker image runs it: its parse
# workers import it again (core/entry.py), which a memory figure must include.
DEPLOYED = (str(_SCRIPT), "run", "--roles") if _SCRIPT.exists() else CLI
# (stream, group) of every stream the service consumes, in pipeline order.
GROUPS = tuple((s.name, s.group) for s in STREAMS)


async def drained(redis: Redis, articles: int) -> bool:
    """True when ``articles`` are queued and every group has read and acked everything."""
    if int(await redis.xlen(ARTICLES)) < articles:
        return False
    for stream, group in GROUPS:
        stats = await stream_stats(redis, stream, group)
        if stats.length and (stats.lag != 0 or stats.pending != 0):
            return False
    return True


async def stop_processes(procs: Mapping[str, subprocess.Popen[bytes]]) -> dict[str, int | None]:
    """SIGTERM every child; return exit codes (None if it had to be killed).

    Waits without blocking the event loop: the feed server and the Bot API emulator run
    on it, and the children finish their in-flight requests while draining.
    """
    codes: dict[str, int | None] = {}
    for proc in procs.values():
        if proc.poll() is None:
            proc.terminate()
    for name, proc in procs.items():
        try:
            codes[name] = await asyncio.to_thread(proc.wait, 30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
            codes[name] = None
    return codes


async def readyz(port: int) -> tuple[int, dict[str, object]]:
    """GET /readyz on 127.0.0.1:port: (status, JSON body), or (-1, {}) while nothing answers."""
    try:
        async with aiohttp.ClientSession() as http, http.get(
            f"http://127.0.0.1:{port}/readyz", timeout=aiohttp.ClientTimeout(total=5)
        ) as resp:
            return resp.status, await resp.json()
    except (aiohttp.ClientError, OSError, ValueError):
        return -1, {}


async def heartbeats(redis: Redis) -> dict[str, float]:
    """Role -> newest heartbeat (epoch seconds) in the heartbeats hash."""
    raw = cast(dict[str, str], await redis.hgetall(HEARTBEATS))
    out: dict[str, float] = {}
    for name, value in raw.items():
        role = name.split("/", 1)[0]
        out[role] = max(out.get(role, 0.0), float(value))
    return out
