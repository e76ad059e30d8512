"""The loop that polls every feed on its own schedule (one feed's poll is in cycle.py)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from typing import cast

from redis.exceptions import RedisError

from core import keys
from core.feeds import FeedConfig
from workers.poller.cycle import FeedPoll
from workers.poller.schedule import DueQueue, Pacer, furthest_next_poll, spread_offsets
from workers.poller.shares import PeerWatch, Shares
from workers.poller.state import load_states

log = logging.getLogger(__name__)


class Poller(FeedPoll):
    """Polls feeds: fetch (conditional), parse off-loop, dedupe, publish, remember state."""

    def _wire(self) -> None:
        """Start with an empty feed set and queue, alone among the pollers."""
        self.feeds: dict[str, FeedConfig] = {}
        self.queue = DueQueue(self.clock)
        self.in_flight: set[str] = set()
        # Feeds another live poller polls (shares.py): off the queue until they are ours.
        self.shares = Shares(self.leases.owner)
        self.peers = PeerWatch(self.leases.owner, self.leases.heartbeat_ttl_s)
        self.parked: set[str] = set()
        # Feeds asked for now (WebSub): polled once whichever poller's share they are in.
        self.forced: set[str] = set()
        # WebSub's hook (websub.py): it holds back the next poll of a feed a hub pushes
        # (None: polling only).
        self.hold: Callable[[str, float], float] | None = None

    def set_feeds(self, feeds: Iterable[FeedConfig]) -> tuple[list[str], list[str]]:
        """Replace the feed set; return (added ids, removed ids)."""
        new = {f.id: f for f in feeds if f.enabled}
        added = [fid for fid in new if fid not in self.feeds]
        removed = [fid for fid in self.feeds if fid not in new]
        self.feeds = new
        self.queue.discard(removed)
        self.leases.forget(removed)
        self.shares.forget(removed)
        self.parked.difference_update(removed)
        self.forced.difference_update(removed)
        if self.metrics:
            self.metrics.forget(removed)
        return added, removed

    async def schedule_feeds(self, feed_ids: list[str]) -> None:
        """Put feeds on the due queue: their stored next poll, else spread over a window.

        Feeds in another live poller's share are parked instead (shares.py).
        """
        mine = []
        for fid in feed_ids:
            if self.shares.mine(fid):
                mine.append(fid)
            else:
                self.parked.add(fid)
        if not mine:
            return
        feed_ids = mine
        now = self.clock()
        states = await load_states(self.redis, feed_ids)
        # Only now: should Redis fail above, a parked feed stays parked and is tried again.
        self.parked.difference_update(feed_ids)
        cold: list[str] = []
        for fid in feed_ids:
            st = states[fid]
            if st.deactivated:
                continue
            feed = self.feeds.get(fid)
            latest = furthest_next_poll(
                now, self.bounds.for_feed(feed is not None and feed.priority),
                failing=st.error_streak > 0, floor_s=max(st.publisher_min_s, st.max_age_s),
                fixed_s=feed.interval if feed is not None else None)
            if now < st.next_poll <= latest:
                self.queue.schedule(fid, st.next_poll)
            else:
                cold.append(fid)
        span = min(len(cold) / self.tuning.start_rate, self.bounds.max_s)
        for fid, offset in zip(cold, spread_offsets(len(cold), span, self._rng), strict=True):
            self.queue.schedule(fid, now + offset)

    async def refresh_shares(self) -> None:
        """Read which pollers are live; queue the parked feeds that are this poller's now."""
        beats = cast(dict[str, str], await self.redis.hgetall(keys.HEARTBEATS))
        # Wall time, as the heartbeats are written (whatever clock the schedule runs on).
        pollers = self.peers.live(beats, time.time())
        self.shares.update(pollers)
        if self.metrics:
            self.metrics.live_pollers.set(len(self.shares.pollers))
        # Every parked feed that is this poller's now, not only those a change just moved: a
        # refresh that Redis cut short is completed by the next one.
        ours = [fid for fid in self.parked if self.shares.mine(fid)]
        if ours:
            log.info("%d feeds are this poller's now (%d pollers live)", len(ours), len(pollers))
            await self.schedule_feeds(ours)

    def poll_soon(self, feed_id: str) -> None:
        """Poll ``feed_id`` now, in this poller's share or not."""
        self.forced.add(feed_id)
        self.parked.discard(feed_id)
        self.queue.schedule(feed_id, self.clock())

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every feed on its schedule until ``stop`` is set, then drain in-flight polls."""
        slots = asyncio.Semaphore(self.tuning.concurrency)
        pacer = Pacer(self.tuning.max_rate)
        tasks: set[asyncio.Task[None]] = set()
        try:
            while not stop.is_set():
                fid = await self.queue.next_due(stop)
                if fid is None:
                    break
                feed = self.feeds.get(fid)
                if feed is None:
                    continue
                if fid in self.forced:
                    self.forced.discard(fid)
                elif not self.shares.mine(fid):  # another poller's now: it polls the feed
                    self.parked.add(fid)
                    self.leases.forget([fid])
                    if self.metrics:  # its freshness is the other poller's to report now
                        self.metrics.forget([fid])
                    continue
                if await pacer.wait(stop):
                    break
                await slots.acquire()
                task = asyncio.create_task(self._run_one(feed, slots), name=f"poll-{fid}")
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            if tasks:
                # A cancelled poll has saved no validators, so its feed is simply fetched
                # again next time; a claim it left pending expires (see dedupe.py).
                _, pending = await asyncio.wait(tasks, timeout=self.tuning.drain_s)
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)

    async def _run_one(self, feed: FeedConfig, slots: asyncio.Semaphore) -> None:
        next_poll = self.clock() + self.bounds.for_feed(feed.priority).default_s
        self.in_flight.add(feed.id)
        if self.metrics:
            self.metrics.in_flight.inc()
        try:
            report = await self.poll(feed)
            next_poll = report.next_poll
            if report.outcome == "error" and await self._is_deactivated(feed.id):
                return
        except (RedisError, OSError) as exc:
            # Short: Redis is usually back within seconds (a restart), and the feed's items
            # would otherwise wait a whole interval. Jittered so feeds do not retry in step.
            delay = self._rng.uniform(3.0, 8.0)
            log.warning("poll of %s hit a Redis problem, retrying in %.0f s: %s",
                        feed.id, delay, exc)
            next_poll = self.clock() + delay
        except Exception:
            log.exception("poll of feed %s crashed; it will be retried", feed.id)
        finally:
            slots.release()
            self.in_flight.discard(feed.id)
            if self.metrics:
                self.metrics.in_flight.dec()
        if feed.id in self.feeds:
            if self.hold is not None:
                next_poll = self.hold(feed.id, next_poll)
            self.queue.schedule(feed.id, next_poll)

    async def _is_deactivated(self, feed_id: str) -> bool:
        return bool(await self.redis.hget(keys.feed_state(feed_id), "deactivated") == "1")
