"""A Redis primary, one replica and three sentinels on 127.0.0.1, for failover tests and benches."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.redis_conn import RedisUnavailableError, find_redis_server, free_port
from testkit.waiting import wait_until

SERVICE = "mymaster"


class SentinelSetupError(RuntimeError):
    """The servers could not be started (no binary, or one without sentinel mode)."""


class Node:
    """One redis-server child process (a data node or a sentinel) with its log in ``folder``."""

    def __init__(self, folder: Path, args: list[str]) -> None:
        """Prepare (but do not start) a server in ``folder``."""
        self.folder = folder
        self.port = free_port()
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, binary: str, *, sentinel: bool = False) -> None:
        """Start the process; a sentinel reads (and rewrites) a config file."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if sentinel:
            conf = self.folder / "sentinel.conf"
            lines = [f"port {self.port}", "bind 127.0.0.1", "daemonize no",
                     'logfile "sentinel.log"', f"dir {self.folder}", *self.args]
            conf.write_text("\n".join(lines) + "\n")
            argv = [binary, str(conf), "--sentinel"]
        else:
            argv = [binary, "--port", str(self.port), "--bind", "127.0.0.1",
                    "--dir", str(self.folder), "--save", "", "--appendonly", "yes",
                    "--appendfsync", "everysec", "--logfile", "redis.log", "--daemonize", "no",
                    *self.args]
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, start_new_session=True)

    def client(self) -> Redis:
        """A client on this node (no retries: a dead node should fail fast)."""
        return Redis(host="127.0.0.1", port=self.port, decode_responses=True,
                     socket_connect_timeout=1.0, socket_timeout=5.0)

    def signal(self, sig: int) -> None:
        """Send ``sig`` (SIGSTOP / SIGCONT stall and resume a node) while it runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)

    def kill(self) -> None:
        """SIGKILL, as a crash would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM and reap (SIGKILL after 10 s)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.kill()

    def exited(self) -> str | None:
        """Why the process exited (its stderr tail), or None while it runs."""
        if self.proc is None or self.proc.poll() is None:
            return None
        err = self.proc.stderr.read().decode(errors="replace") if self.proc.stderr else ""
        return f"exit {self.proc.returncode}: {err.strip()[-300:]}"


class SentinelCluster:
    """Async context manager: primary + replica + 3 sentinels (quorum 2), all monitoring.

    ``down_after_ms`` and ``failover_timeout_ms`` are short, so a killed primary is replaced
    within a few seconds.
    """

    def __init__(
        self, root: Path, *, down_after_ms: int = 1000, failover_timeout_ms: int = 3000,
        start_timeout_s: float = 60.0,
    ) -> None:
        """Prepare the five servers under ``root``."""
        self.primary = Node(root / "a", [])
        self.replica = Node(root / "b", ["--replicaof", "127.0.0.1", str(self.primary.port)])
        conf = [
            f"sentinel monitor {SERVICE} 127.0.0.1 {self.primary.port} 2",
            f"sentinel down-after-milliseconds {SERVICE} {down_after_ms}",
            f"sentinel failover-timeout {SERVICE} {failover_timeout_ms}",
            f"sentinel parallel-syncs {SERVICE} 1",
        ]
        self.sentinels = [Node(root / f"s{i}", conf) for i in range(3)]
        self.start_timeout_s = start_timeout_s

    @property
    def addresses(self) -> str:
        """The REDIS_SENTINELS value: ``127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3``."""
        return ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)

    @property
    def endpoints(self) -> tuple[tuple[str, int], ...]:
        """The sentinels as the ``redis_sentinels`` setting holds them."""
        return tuple(("127.0.0.1", s.port) for s in self.sentinels)

    @property
    def nodes(self) -> list[Node]:
        """Every process, data nodes first."""
        return [self.primary, self.replica, *self.sentinels]

    async def __aenter__(self) -> SentinelCluster:
        try:
            binary = find_redis_server()
        except RedisUnavailableError as exc:
            raise SentinelSetupError(str(exc)) from None
        try:
            self.primary.start(binary)
            self.replica.start(binary)
            for node in self.sentinels:
                node.start(binary, sentinel=True)
            if not await wait_until(self._settled, timeout=self.start_timeout_s):
                raise TimeoutError(f"servers not in sync within {self.start_timeout_s}s")
        except BaseException:
            self.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await asyncio.to_thread(self.stop)

    def stop(self) -> None:
        """Stop every process that still runs."""
        for node in self.nodes:
            node.stop()

    async def _settled(self) -> bool:
        """True once the replica is in sync and every sentinel knows it and its two peers."""
        for node in self.nodes:
            why = node.exited()
            if why is not None:
                raise SentinelSetupError(f"redis-server on port {node.port} {why}")
        with contextlib.suppress(RedisError, OSError):
            return await self._all_ready()
        return False

    async def _all_ready(self) -> bool:
        replica = self.replica.client()
        try:
            info = await replica.info("replication")
            if info.get("master_link_status") != "up":
                return False
        finally:
            await replica.aclose()
        for node in self.sentinels:
            client = node.client()
            try:
                replicas = await client.sentinel_slaves(SERVICE)
                peers = cast(list[dict[str, Any]], await client.sentinel_sentinels(SERVICE))
            finally:
                await client.aclose()
            alive = [r for r in replicas if not (r["is_sdown"] or r["is_odown"])]
            if not alive or len(peers) < len(self.sentinels) - 1:
                return False
        return True

    async def master_port(self) -> int | None:
        """The primary's port as the sentinels report it (the first that answers)."""
        for node in self.sentinels:
            client = node.client()
            try:
                addr = await self._master_addr(client)
            except (RedisError, OSError):
                continue
            finally:
                await client.aclose()
            if addr is not None:
                return addr
        return None

    @staticmethod
    async def _master_addr(client: Redis) -> int | None:
        addr = await client.sentinel_get_master_addr_by_name(SERVICE)
        return int(addr[1]) if isinstance(addr, list | tuple) else None

    async def kill_primary(self) -> Node:
        """SIGKILL the node the sentinels name as primary; return the other data node.

        Asked rather than assumed: on a starved machine the sentinels may have failed over
        once already before the test meant them to.
        """
        port = await self.master_port()
        dead, survivor = ((self.replica, self.primary) if port == self.replica.port
                          else (self.primary, self.replica))
        dead.kill()
        return survivor

    async def wait_failover(self, survivor: Node, timeout_s: float = 60.0) -> None:
        """Wait until every sentinel names ``survivor`` as primary and it answers as one."""
        async def promoted() -> bool:
            ports = set()
            for node in self.sentinels:
                client = node.client()
                try:
                    ports.add(await self._master_addr(client))
                except (RedisError, OSError):  # a sentinel busy failing over: ask again
                    ports.add(None)
                finally:
                    await client.aclose()
            if ports != {survivor.port}:
                return False
            client = survivor.client()
            try:
                return bool((await client.role())[0] == "master")
            except (RedisError, OSError):  # still switching role
                return False
            finally:
                await client.aclose()

        if not await wait_until(promoted, timeout=timeout_s):
            raise TimeoutError(f"port {survivor.port} not promoted within {timeout_s}s")
