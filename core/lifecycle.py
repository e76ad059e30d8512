"""Worker lifecycle: roles supervised by one TaskGroup, heartbeats, signals and a drain deadline."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core import keys
from core.config_files import ConfigError
from core.consumer_names import acquire_consumer_name, heartbeat_field
from core.metrics import CoreMetrics
from core.redis_conn import RECONNECT_ERRORS, StartupError, open_redis, wait_for_redis
from core.settings import Settings
from core.stopping import raise_if_cancelled, sleep_unless_stopped

log = logging.getLogger(__name__)

T = TypeVar("T")

# Role name -> "module:function", imported by name when the role is asked for: core is below
# workers and bot and never imports them itself (see [tool.importlinter] in pyproject.toml).
ROLE_TARGETS: dict[str, str] = {
    "poller": "workers.poller.role:run",
    "classifier": "workers.classifier.role:run",
    "truces": "workers.truce.role:run",
    "notifier": "bot.notifier.role:run",
    "bot": "bot.commands.role:run",
    "health": "core.health:run",
}


class FatalError(Exception):
    """Raised by a role that can never succeed as configured: the process exits 1 at once."""


@dataclass
class RoleState:
    """How one role of this process is doing, for readiness."""

    consumer: str
    up: bool = False


@dataclass
class LocalRoles:
    """The roles of this process (shared by every RoleContext of one ``run_roles``)."""

    roles: dict[str, RoleState] = field(default_factory=dict)
    # The first role that can never succeed, with why; the process stops and exits 1.
    fatal: str | None = None
    # Each role's Prometheus metric set, built once per process: a restarted role reuses it
    # (registering the same metric names twice on one registry would raise).
    metric_sets: dict[type, object] = field(default_factory=dict)
    # The port the health role bound (HEALTH_PORT=0 picks a free one).
    health_port: int | None = None


@dataclass
class RoleContext:
    """What a running role gets: its name, settings, Redis, the stop event and metrics."""

    name: str
    settings: Settings
    redis: Redis
    stop: asyncio.Event
    consumer_name: str
    registry: CollectorRegistry
    metrics: CoreMetrics
    local: LocalRoles = field(default_factory=LocalRoles)

    def metric_set(self, cls: type[T]) -> T:
        """The role's metrics of type ``cls`` (built on first use from the registry)."""
        found = self.local.metric_sets.get(cls)
        if isinstance(found, cls):
            return found
        made = cls(self.registry)  # type: ignore[call-arg]
        self.local.metric_sets[cls] = made
        return made


RoleFn = Callable[[RoleContext], Awaitable[None]]


class EarlySignals:
    """Remembers a SIGTERM/SIGINT that lands before the event loop listens, to replay it then.

    Installed first thing in ``main()``: start-up (imports, settings, lexicons) takes seconds on
    a busy machine, and the default action would kill the process (exit -15) mid-start.
    """

    def __init__(self) -> None:
        """Start with no signal received (call :meth:`install` to listen)."""
        self.received: int | None = None

    def install(self) -> EarlySignals:
        """Catch SIGTERM and SIGINT from now on; return self."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)
        return self

    def uninstall(self) -> None:
        """Restore the default handlers (commands other than ``run``) and replay any signal."""
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        if self.received is not None:
            signal.raise_signal(self.received)

    def _on_signal(self, signum: int, frame: object) -> None:
        self.received = signum


def resolve_role(name: str) -> RoleFn:
    """Import a role's entry point; raise ValueError for a name that is not a role."""
    target = ROLE_TARGETS.get(name)
    if target is None:
        raise ValueError(f"unknown role '{name}' (known: {', '.join(ROLE_TARGETS)})")
    module_name, _, func = target.partition(":")
    fn: RoleFn = getattr(importlib.import_module(module_name), func)
    return fn


async def _beat(ctx: RoleContext) -> None:
    await ctx.redis.hset(keys.HEARTBEATS, heartbeat_field(ctx.name, ctx.consumer_name),
                         f"{time.time():.3f}")


async def _heartbeat(ctx: RoleContext, lock_key: str, token: str, state: RoleState) -> None:
    """Refresh the role's heartbeat and its consumer-name lock while the role is alive."""
    ttl = ctx.settings.heartbeat_ttl_s
    while not ctx.stop.is_set():
        try:
            if state.up:
                await _beat(ctx)
            if await ctx.redis.get(lock_key) == token:
                await ctx.redis.pexpire(lock_key, int(ttl * 1000))
            else:
                await ctx.redis.set(lock_key, token, nx=True, px=int(ttl * 1000))
        except RECONNECT_ERRORS as exc:
            log.debug("heartbeat of %s skipped: %s", ctx.name, exc)
        await sleep_unless_stopped(ctx.stop, ttl / 3)


async def supervise(ctx: RoleContext, fn: RoleFn) -> None:
    """Run one role until stop, restarting it with capped backoff if it crashes."""
    await wait_for_redis(ctx.redis, ctx.stop)
    if ctx.stop.is_set():
        return
    ttl = ctx.settings.heartbeat_ttl_s
    ctx.consumer_name, lock_key, token = await acquire_consumer_name(ctx.redis, ctx.name, ttl)
    state = ctx.local.roles.setdefault(ctx.name, RoleState(ctx.consumer_name))
    state.consumer = ctx.consumer_name
    beat = asyncio.create_task(_heartbeat(ctx, lock_key, token, state), name=f"hb:{ctx.name}")
    delay = 0.5
    try:
        while not ctx.stop.is_set():
            state.up = True
            ctx.metrics.role_up.labels(ctx.name).set(1)
            # At once, not a third of a TTL later: a restart under the same name replaces the
            # dead process's stale heartbeat before anyone judges readiness by it.
            with contextlib.suppress(*RECONNECT_ERRORS):
                await _beat(ctx)
            log.info("role %s started as %s", ctx.name, ctx.consumer_name)
            try:
                await fn(ctx)
                if not ctx.stop.is_set():
                    log.error("role %s returned before stop; restarting", ctx.name)
            except (FatalError, ConfigError) as exc:
                # Restarting cannot help: stop the process and say why in one line.
                log.error("role %s cannot run: %s", ctx.name, exc)
                ctx.local.fatal = ctx.local.fatal or f"role {ctx.name} cannot run: {exc}"
                ctx.stop.set()
            except Exception as exc:
                raise_if_cancelled(exc)  # a hidden cancellation is a stop, not a crash
                log.exception("role %s crashed; restarting in %.1fs", ctx.name, delay)
            state.up = False
            ctx.metrics.role_up.labels(ctx.name).set(0)
            if ctx.stop.is_set():
                break
            ctx.metrics.role_restarts.labels(ctx.name).inc()
            await sleep_unless_stopped(ctx.stop, delay)
            delay = min(ctx.settings.role_restart_cap_s, delay * 2)
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
        with contextlib.suppress(*RECONNECT_ERRORS):
            await ctx.redis.hdel(keys.HEARTBEATS, heartbeat_field(ctx.name, ctx.consumer_name))
            if await ctx.redis.get(lock_key) == token:
                await ctx.redis.delete(lock_key)
        log.info("role %s stopped", ctx.name)


async def run_roles(
    settings: Settings,
    roles: Sequence[tuple[str, RoleFn]],
    *,
    stop: asyncio.Event | None = None,
    install_signals: bool = True,
    early: EarlySignals | None = None,
) -> int:
    """Run ``roles`` until SIGTERM/SIGINT (or ``stop``); return 0, or 1 if the drain overran.

    Raises StartupError when start-up can never succeed (Redis refused or silent at start, a
    role that raised FatalError or ConfigError).
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    if install_signals:
        # First thing: a SIGTERM during start-up must drain, not kill (exit -15).
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    if early is not None and early.received is not None:
        log.info("stopping: a signal arrived during start-up")
        stop.set()
    registry = CollectorRegistry()
    metrics = CoreMetrics(registry)
    local = LocalRoles()
    overran = False
    try:
        async with open_redis(settings, share_embedded=False, stop=stop) as redis:
            tasks: list[asyncio.Task[None]] = []

            async def drain() -> None:
                nonlocal overran
                await stop.wait()
                log.info("stopping: draining (deadline %.1fs)", settings.shutdown_deadline_s)
                _, pending = await asyncio.wait(tasks, timeout=settings.shutdown_deadline_s)
                if pending:
                    overran = True
                    log.error("drain deadline overrun by %d role(s); cancelling", len(pending))
                    for task in pending:
                        task.cancel()

            async with asyncio.TaskGroup() as tg:
                for name, fn in roles:
                    ctx = RoleContext(
                        name, settings, redis, stop, name, registry, metrics, local
                    )
                    tasks.append(tg.create_task(supervise(ctx, fn), name=f"role:{name}"))
                tg.create_task(drain(), name="drain")
    finally:
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    if local.fatal:
        raise StartupError(local.fatal)
    return 1 if overran else 0
