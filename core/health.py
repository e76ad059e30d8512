"""The health role: /healthz, /readyz and /metrics over aiohttp.web."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import cast

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from redis.asyncio import Redis

from core import keys
from core.consumer_names import heartbeat_field
from core.feed_health import FeedHealth, FeedHealthCache, number
from core.lifecycle import LocalRoles, RoleContext
from core.listen import listen
from core.metrics import CoreMetrics
from core.redis_conn import RECONNECT_ERRORS
from core.status_page import STATUS_HEADERS, render_status
from core.streams import stream_stats
from core.truce_page import TrucePages

log = logging.getLogger(__name__)

# Readiness watches the backlog and dead letters of every stream in core.keys.STREAMS.
MAX_LAG = 10_000
MAX_DEAD_LETTERS = 1_000


@dataclass
class Readiness:
    """The outcome of a readiness check: ready or not, and every reason why not."""

    ready: bool
    problems: list[str]
    roles: dict[str, float]
    # Heartbeats of processes that are gone while a live process carries on their role.
    stale: list[str] = field(default_factory=list)
    feeds: FeedHealth | None = None
    redis_up: bool = True


def _judge_roles(
    ages: dict[str, float], ttl: float, local: LocalRoles | None
) -> tuple[list[str], list[str]]:
    """Return (problems, stale) for the heartbeats' ages, keyed ``role/consumer``.

    This process's own roles must each be up with a fresh heartbeat. Other processes are judged
    per role: a role is fine while any process beats for it, so a process that was killed and
    restarted elsewhere (or under another name) does not hold readiness down for minutes.
    """
    problems: list[str] = []
    mine: set[str] = set()
    for name, state in (local.roles if local else {}).items():
        key = heartbeat_field(name, state.consumer)
        mine.add(key)
        age = ages.get(key)
        if not state.up:
            problems.append(f"role {name} of this process is down (restarting)")
        elif age is None or age > ttl:
            shown = "missing" if age is None else f"{age:.0f}s old"
            problems.append(f"heartbeat of {key} is {shown}")
    live = {key.split("/", 1)[0] for key, age in ages.items() if age <= ttl}
    stale: list[str] = []
    for key, age in sorted(ages.items()):
        if key in mine or age <= ttl:
            continue
        if key.split("/", 1)[0] in live:
            stale.append(f"{key} ({age:.0f}s old)")
        else:
            problems.append(f"heartbeat of {key} is {age:.0f}s old (no live process has its role)")
    return problems, stale


async def check_readiness(
    redis: Redis,
    heartbeat_ttl_s: float,
    metrics: CoreMetrics,
    local: LocalRoles | None = None,
    feeds: FeedHealthCache | None = None,
) -> Readiness:
    """Check Redis, role heartbeats, stream lag, dead letters and feeds; refresh the gauges."""
    try:
        await asyncio.wait_for(redis.ping(), 2.0)
        beats = cast(dict[str, str], await redis.hgetall(keys.HEARTBEATS))
    except (*RECONNECT_ERRORS, TimeoutError) as exc:
        metrics.redis_up.set(0)
        return Readiness(False, [f"redis unreachable: {type(exc).__name__}"], {},
                         redis_up=False)
    metrics.redis_up.set(1)
    now = time.time()
    ages: dict[str, float] = {}
    newest: dict[str, float] = {}
    for role, stamp in beats.items():
        name = role.split("/", 1)[0]
        newest[name] = max(newest.get(name, 0.0), number(stamp))
        age = now - number(stamp)
        if age > 10 * heartbeat_ttl_s:
            # A process that vanished long ago (SIGKILL, host gone): forget it.
            await redis.hdel(keys.HEARTBEATS, role)
            continue
        ages[role] = age
    # A role whose every process is gone keeps its last stamp here, so its age grows and
    # the heartbeat alert fires instead of the series vanishing.
    for name, newest_stamp in newest.items():
        metrics.heartbeat_timestamp.labels(name).set(newest_stamp)
    problems, stale = _judge_roles(ages, heartbeat_ttl_s, local)
    dead_seen: set[str] = set()
    for spec in keys.STREAMS:
        stream, group = spec.name, spec.group
        stats = await stream_stats(redis, stream, group)
        metrics.stream_length.labels(stream).set(stats.length)
        metrics.stream_pending.labels(stream, group).set(stats.pending)
        if stats.lag is not None:
            metrics.stream_lag.labels(stream, group).set(stats.lag)
            if stats.lag > MAX_LAG:
                problems.append(f"{stream} lag {stats.lag} exceeds {MAX_LAG}")
        if keys.dead_letter(stream) in dead_seen:
            continue  # one dead-letter stream per stream, however many groups read it
        dead_seen.add(keys.dead_letter(stream))
        dead = int(await redis.xlen(keys.dead_letter(stream)))
        metrics.stream_length.labels(keys.dead_letter(stream)).set(dead)
        if dead > MAX_DEAD_LETTERS:
            problems.append(f"{keys.dead_letter(stream)} holds {dead} entries")
    metrics.retry_waiting.set(int(await redis.zcard(keys.retry_queue(keys.DELIVERIES))))
    feed_health = await feeds.get(redis) if feeds is not None else None
    metrics.feeds_failing.set(feed_health.failing if feed_health else 0)
    metrics.feeds_enabled.set(feed_health.total if feed_health else 0)
    if feed_health is not None and feed_health.failing == feed_health.total:
        # One broken feed is the poller's business; all of them means we are cut off.
        problems.append(feed_health.text)
    return Readiness(not problems, problems, ages, stale, feed_health)


def feeds_summary(result: Readiness) -> str:
    """Return "N of M feeds failing", the line /readyz and /status lead with."""
    if not result.redis_up:
        return "feeds unknown (redis unreachable)"
    return (result.feeds or FeedHealth(0, 0)).text


def build_app(ctx: RoleContext) -> web.Application:
    """Return the aiohttp application serving the ops endpoints for this process."""
    feed_cache = FeedHealthCache(ctx.settings.config_dir, feeds_file=ctx.settings.feeds_path())

    async def readiness() -> Readiness:
        return await check_readiness(ctx.redis, ctx.settings.heartbeat_ttl_s, ctx.metrics,
                                     ctx.local, feed_cache)

    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def readyz(_: web.Request) -> web.Response:
        result = await readiness()
        body: dict[str, object] = {
            # First, so an operator reading the raw JSON sees it before anything else.
            "summary": feeds_summary(result),
            "ready": result.ready, "problems": result.problems,
            "roles": {k: round(v, 1) for k, v in result.roles.items()},
        }
        if result.stale:
            body["stale"] = result.stale
        if result.feeds is not None:
            body["feeds"] = {"failing": result.feeds.failing, "total": result.feeds.total,
                             "text": feeds_summary(result)}
        return web.json_response(body, status=200 if result.ready else 503)

    async def metrics(_: web.Request) -> web.Response:
        with contextlib.suppress(*RECONNECT_ERRORS, TimeoutError):
            await readiness()
        return web.Response(
            body=generate_latest(ctx.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def status(_: web.Request) -> web.Response:
        result = await readiness()
        if not result.redis_up:
            page = f"<!doctype html><title>ceasefire-watch</title><p>{result.problems[0]}</p>"
            return web.Response(text=page, content_type="text/html", status=503,
                                headers=STATUS_HEADERS)
        page = await render_status(ctx.redis, result.roles, result.feeds or FeedHealth(0, 0))
        return web.Response(text=page, content_type="text/html", headers=STATUS_HEADERS)

    truces = TrucePages(ctx.redis, ctx.settings.config_dir)
    app = web.Application()
    app.router.add_get("/status", status)
    app.router.add_get("/truces", truces.index)
    app.router.add_get("/truces/{region}", truces.region)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics)
    return app


async def run(ctx: RoleContext) -> None:
    """Serve the ops endpoints until stop; the bound port is kept in ``ctx.local``."""
    runner = web.AppRunner(build_app(ctx), access_log=None)
    await runner.setup()
    try:
        port = await listen(runner, ctx.settings.health_host, ctx.settings.health_port)
        ctx.local.health_port = port
        log.info("health endpoint on http://%s:%s/healthz", ctx.settings.health_host, port)
        await ctx.stop.wait()
    finally:
        await runner.cleanup()
