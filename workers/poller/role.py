"""The poller role: configured and run-time feeds, polled until the stop event is set."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from core.feeds import FEEDS_FILE, FeedConfig, feeds_version, load_feeds, runtime_feeds
from core.lifecycle import RoleContext
from core.settings import Settings
from core.stopping import raise_if_cancelled, sleep_unless_stopped
from workers.poller.fetch import Fetcher, FetchLimits
from workers.poller.metrics import PollerMetrics
from workers.poller.parse_pool import ParsePool
from workers.poller.poller import Poller
from workers.poller.websub_server import running_websub

log = logging.getLogger(__name__)


def configured_feeds(ctx: RoleContext) -> list[FeedConfig]:
    """Return the feeds of ``<config_dir>/feeds.yaml`` (none when the file is absent)."""
    path = ctx.settings.config_dir / FEEDS_FILE
    if not path.exists():
        log.warning("no feeds file at %s: only feeds added at run time will be polled", path)
        return []
    return load_feeds(path)


async def refresh(poller: Poller, configured: list[FeedConfig]) -> None:
    """Merge configured and run-time feeds into the poller and schedule any not yet queued."""
    names = {f.id for f in configured}
    extra = [f for f in await runtime_feeds(poller.redis) if f.id not in names]
    added, removed = poller.set_feeds([*configured, *extra])
    if added or removed:
        log.info("poller feeds: %d added, %d removed, %d total",
                 len(added), len(removed), len(poller.feeds))
    idle = [fid for fid in poller.feeds if poller.queue.due_at(fid) is None
            and fid not in poller.in_flight and fid not in poller.parked]
    # Idle feeds are new (or added again), or deactivated (schedule_feeds skips those).
    await poller.schedule_feeds(idle)
    if poller.metrics:
        # Active: polled, here or by another live poller (parked here).
        active = len(poller.queue) + len(poller.in_flight) + len(poller.parked)
        poller.metrics.feeds.labels("active").set(active)
        poller.metrics.feeds.labels("inactive").set(len(poller.feeds) - active)


async def _reload_forever(
    poller: Poller, configured: list[FeedConfig], stop: asyncio.Event
) -> None:
    """Refresh the feed set every ``reload_s``, within ``watch_s`` of a change, and the shares."""
    tuning = poller.tuning
    version: str | None = None
    last = time.monotonic()
    while not stop.is_set():
        if await sleep_unless_stopped(stop, min(tuning.watch_s, tuning.reload_s)):
            return
        try:
            # Every tick: a poller that stopped or died hands its feeds on within a few seconds
            # of its heartbeat going stale.
            await poller.refresh_shares()
            current = await feeds_version(poller.redis)
            if current == version and time.monotonic() - last < tuning.reload_s:
                continue
            await refresh(poller, configured)
            version, last = current, time.monotonic()
        except Exception as exc:  # a bad reload must not stop polling of the known feeds
            raise_if_cancelled(exc)
            log.warning("reloading feeds failed, keeping the current set: %s", exc)


def check_config(settings: Settings) -> None:
    """Validate ``feeds.yaml`` before start-up (raises ConfigError naming key and value)."""
    path = settings.config_dir / FEEDS_FILE
    if path.exists():
        load_feeds(path)


async def run(ctx: RoleContext) -> None:
    """Run the poller until ``ctx.stop`` is set; in-flight polls finish within their timeout."""
    metrics = ctx.metric_set(PollerMetrics)
    tuning = ctx.settings.poller
    configured = configured_feeds(ctx)
    pool = ParsePool(tuning.parse_executor, tuning.parse_workers)
    fetch_limits = FetchLimits.of(tuning)
    async with Fetcher(fetch_limits) as fetcher, pool, contextlib.AsyncExitStack() as stack:
        poller = Poller(
            ctx.redis, fetcher, pool, tuning, metrics,
            owner=ctx.consumer_name, heartbeat_ttl_s=ctx.settings.heartbeat_ttl_s,
        )
        await stack.enter_async_context(running_websub(ctx, poller))  # off without a URL
        await poller.refresh_shares()  # before the first schedule: only its share is queued
        await refresh(poller, configured)
        log.info("poller started: %d feeds, parsing in %d %s(s)",
                 len(poller.feeds), pool.workers, pool.kind)
        reloader = asyncio.create_task(_reload_forever(poller, configured, ctx.stop))
        try:
            await poller.run(ctx.stop)
        finally:
            reloader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reloader
