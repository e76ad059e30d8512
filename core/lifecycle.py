"""Worker lifecycle: roles supervised by one TaskGroup, heartbeats, signals and a drain deadline."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import socket
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core.metrics import CoreMetrics
from core.redis_conn import RECONNECT_ERRORS, open_redis, wait_for_redis
from core.settings import Settings

log = logging.getLogger(__name__)

HEARTBEATS_KEY = "cw:heartbeats"

# Role name -> "module:function". A role whose module does not exist yet is reported, not fatal.
ROLE_TARGETS: dict[str, str] = {
    "poller": "workers.poller.role:run",
    "classifier": "workers.classifier.role:run",
    "notifier": "bot.notifier_role:run",
    "bot": "bot.app_role:run",
    "health": "core.health:run",
}


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
    extras: dict[str, object] = field(default_factory=dict)


RoleFn = Callable[[RoleContext], Awaitable[None]]


def resolve_role(name: str) -> RoleFn | None:
    """Import a role's entry point; return None when its module is not part of this build."""
    target = ROLE_TARGETS.get(name)
    if target is None:
        raise ValueError(f"unknown role '{name}' (known: {', '.join(ROLE_TARGETS)})")
    module_name, _, func = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # Only "this role is not built yet" is tolerated; a missing dependency inside it is not.
        if exc.name and module_name.startswith(exc.name):
            return None
        raise
    fn: RoleFn = getattr(module, func)
    return fn


async def acquire_consumer_name(redis: Redis, role: str, ttl_s: float) -> tuple[str, str, str]:
    """Claim a stable consumer name ``host-role-N``; return (name, lock key, token).

    A process restarted on the same host gets the same name back once its old lock expires,
    so it finds its own pending entries first; a concurrent replica takes the next slot.
    """
    host = socket.gethostname()
    token = f"{os.getpid()}:{uuid.uuid4().hex[:8]}"
    for slot in range(256):
        key = f"cw:consumer:{host}:{role}:{slot}"
        if await redis.set(key, token, nx=True, px=int(ttl_s * 1000)):
            return f"{host}-{role}-{slot}", key, token
    raise RuntimeError(f"no free consumer slot for role {role} on {host}")


async def _heartbeat(ctx: RoleContext, lock_key: str, token: str, alive: asyncio.Event) -> None:
    """Refresh the role's heartbeat and its consumer-name lock while the role is alive."""
    ttl = ctx.settings.heartbeat_ttl_s
    field_name = f"{ctx.name}/{ctx.consumer_name}"
    while not ctx.stop.is_set():
        try:
            if alive.is_set():
                await ctx.redis.hset(HEARTBEATS_KEY, field_name, f"{time.time():.3f}")
            if await ctx.redis.get(lock_key) == token:
                await ctx.redis.pexpire(lock_key, int(ttl * 1000))
            else:
                await ctx.redis.set(lock_key, token, nx=True, px=int(ttl * 1000))
        except RECONNECT_ERRORS as exc:
            log.debug("heartbeat of %s skipped: %s", ctx.name, exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ctx.stop.wait(), ttl / 3)


async def supervise(ctx: RoleContext, fn: RoleFn) -> None:
    """Run one role until stop, restarting it with capped backoff if it crashes."""
    await wait_for_redis(ctx.redis, ctx.stop)
    if ctx.stop.is_set():
        return
    ttl = ctx.settings.heartbeat_ttl_s
    ctx.consumer_name, lock_key, token = await acquire_consumer_name(ctx.redis, ctx.name, ttl)
    alive = asyncio.Event()
    beat = asyncio.create_task(_heartbeat(ctx, lock_key, token, alive), name=f"hb:{ctx.name}")
    delay = 0.5
    try:
        while not ctx.stop.is_set():
            alive.set()
            ctx.metrics.role_up.labels(ctx.name).set(1)
            log.info("role %s started as %s", ctx.name, ctx.consumer_name)
            try:
                await fn(ctx)
                if not ctx.stop.is_set():
                    log.error("role %s returned before stop; restarting", ctx.name)
            except Exception:
                log.exception("role %s crashed; restarting in %.1fs", ctx.name, delay)
            alive.clear()
            ctx.metrics.role_up.labels(ctx.name).set(0)
            if ctx.stop.is_set():
                break
            ctx.metrics.role_restarts.labels(ctx.name).inc()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ctx.stop.wait(), delay)
            delay = min(ctx.settings.role_restart_cap_s, delay * 2)
    finally:
        beat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await beat
        with contextlib.suppress(*RECONNECT_ERRORS):
            await ctx.redis.hdel(HEARTBEATS_KEY, f"{ctx.name}/{ctx.consumer_name}")
            if await ctx.redis.get(lock_key) == token:
                await ctx.redis.delete(lock_key)
        log.info("role %s stopped", ctx.name)


async def run_roles(
    settings: Settings,
    roles: Sequence[tuple[str, RoleFn]],
    *,
    stop: asyncio.Event | None = None,
    install_signals: bool = True,
    extras: dict[str, object] | None = None,
) -> int:
    """Run ``roles`` until SIGTERM/SIGINT (or ``stop``); return 0, or 1 if the drain overran."""
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    if install_signals:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
    registry = CollectorRegistry()
    metrics = CoreMetrics(registry)
    overran = False
    try:
        async with open_redis(settings) as redis:
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
                        name, settings, redis, stop, name, registry, metrics, dict(extras or {})
                    )
                    tasks.append(tg.create_task(supervise(ctx, fn), name=f"role:{name}"))
                tg.create_task(drain(), name="drain")
    finally:
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.remove_signal_handler(sig)
    return 1 if overran else 0
