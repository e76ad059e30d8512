"""The embedded redis-server: one per DATA_DIR, with AOF on, adopted again after a crash.

The process itself (binary, start, stop) is core/redis_server.py; here is which process owns
it, and how a later one adopts, shares or replaces it.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.redis_server import RedisProcess, RedisUnavailableError, local_url

log = logging.getLogger(__name__)


SERVER_FILE = "server.json"


@dataclass(frozen=True)
class ServerRecord:
    """The embedded server of one DATA_DIR, written once it answers and removed on stop."""

    pid: int
    port: int


def read_record(folder: Path) -> ServerRecord | None:
    """Return the server recorded in ``folder``, or None when there is no (readable) record."""
    try:
        data = json.loads((folder / SERVER_FILE).read_text())
        return ServerRecord(int(data["pid"]), int(data["port"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_record(folder: Path, record: ServerRecord) -> None:
    tmp = folder / f".{SERVER_FILE}.tmp"
    tmp.write_text(json.dumps({"pid": record.pid, "port": record.port}))
    os.replace(tmp, folder / SERVER_FILE)  # readers never see half a file


async def serves_folder(record: ServerRecord, folder: Path) -> bool:
    """True when the recorded server answers, is that very process and keeps its files here."""
    client = Redis(host="127.0.0.1", port=record.port, decode_responses=True,
                   socket_connect_timeout=1.0, socket_timeout=2.0)
    try:
        # INFO and CONFIG are both served while an AOF is still loading.
        info = await client.info("server")
        conf = await client.config_get("dir")
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()
    return int(info.get("process_id", -1)) == record.pid and _same_dir(conf.get("dir"), folder)


def _same_dir(reported: object, folder: Path) -> bool:
    return isinstance(reported, str) and os.path.realpath(reported) == os.path.realpath(folder)


def _server_title(pid: int, folder: Path) -> str | None:
    """Return the command line of ``pid`` if it is a redis-server running in ``folder``."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        cwd = os.readlink(f"/proc/{pid}/cwd")  # redis-server chdirs into its --dir
    except OSError:
        return None
    if b"redis-server" not in cmdline or os.path.realpath(cwd) != os.path.realpath(folder):
        return None
    return cmdline.decode(errors="replace")


def _is_our_server(pid: int, folder: Path) -> bool:
    """True when ``pid`` is a redis-server running in ``folder`` (answering or not)."""
    return _server_title(pid, folder) is not None


def _unrecorded_server(folder: Path) -> ServerRecord | None:
    """Find a redis-server running in ``folder`` that left no record (an older version's)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return None
    for entry in proc.iterdir():
        title = _server_title(int(entry.name), folder) if entry.name.isdigit() else None
        # redis-server retitles itself "redis-server 127.0.0.1:PORT".
        match = re.search(r":(\d+)", title) if title is not None else None
        if match:
            return ServerRecord(int(entry.name), int(match.group(1)))
    return None


async def _adopt_or_start(folder: Path) -> RedisProcess:
    """Adopt the server a killed owner left running in ``folder``, else start one.

    Two servers appending to one AOF would corrupt it, so a live one is always adopted (its
    memory still holds the last second of writes that AOF may not have yet) or stopped.
    """
    record = read_record(folder) or await asyncio.to_thread(_unrecorded_server, folder)
    if record is not None:
        if await serves_folder(record, folder):
            log.warning("adopting the embedded redis-server (pid %d, port %d) left running in %s",
                        record.pid, record.port, folder)
            return RedisProcess(folder, record.port, adopted_pid=record.pid)
        if _is_our_server(record.pid, folder):
            log.warning("stopping the unresponsive embedded redis-server (pid %d) in %s",
                        record.pid, folder)
            await asyncio.to_thread(RedisProcess(folder, record.port,
                                                 adopted_pid=record.pid).stop)
    server = RedisProcess(folder)
    await asyncio.to_thread(server.start)
    _write_record(folder, ServerRecord(server.pid, server.port))
    log.info("embedded redis-server started on %s (AOF in %s)", server.url, folder)
    return server


async def _running_server_url(folder: Path, wait_s: float) -> str | None:
    """Return the URL of the server another process runs in ``folder``, waiting for it to answer."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        record = read_record(folder)
        if record is not None and await serves_folder(record, folder):
            return local_url(record.port)
        if loop.time() >= deadline:
            return None
        await asyncio.sleep(0.2)


def _lock_holder(lock: IO[str]) -> str:
    lock.seek(0)
    pid = lock.read().strip()
    return f"pid {pid}" if pid.isdigit() else "another process"


@contextlib.asynccontextmanager
async def embedded_redis(
    data_dir: Path, *, share: bool = False, wait_s: float = 15.0
) -> AsyncIterator[str]:
    """Run the embedded redis-server of ``data_dir`` for the context's lifetime; yield its URL.

    One server per DATA_DIR: the process holding ``redis/lock`` owns it. Another process gets
    the owner's URL when ``share`` is true (a one-off command beside ``run``), else an error.
    """
    folder = data_dir / "redis"
    folder.mkdir(parents=True, exist_ok=True)
    lock = (folder / "lock").open("a+")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        owner = True
    except BlockingIOError:
        owner = False
    if not owner:
        holder = _lock_holder(lock)
        lock.close()
        url = await _running_server_url(folder, wait_s if share else 0.0)
        if not share or url is None:
            state = f"on {url}" if url else "(not answering)"
            raise RedisUnavailableError(
                f"{holder} runs the embedded Redis in {folder} {state}; "
                f"set REDIS_URL{'=' + url if url else ''} to share one Redis between processes"
            )
        log.info("using the embedded redis-server of %s on %s", holder, url)
        yield url
        return
    try:
        lock.seek(0)
        lock.truncate()
        lock.write(str(os.getpid()))
        lock.flush()
        server = await _adopt_or_start(folder)
    except BaseException:
        lock.close()
        raise
    try:
        yield server.url
    finally:
        try:
            await asyncio.to_thread(server.stop)
            (folder / SERVER_FILE).unlink(missing_ok=True)
        finally:
            lock.close()
        log.info("embedded redis-server stopped")
