"""The poll cycle of one feed, and the loop that polls every feed on its own schedule."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core import keys
from core.feeds import FeedConfig
from core.tuning import PollerTuning
from workers.poller.batch import PipelineBatcher
from workers.poller.content import process_body
from workers.poller.fetch import Fetcher, FetchError, FetchResult
from workers.poller.lease import FeedLeases
from workers.poller.metrics import PollerMetrics
from workers.poller.outcomes import Outcome, PollReport, cost_floor, record_failure, record_success
from workers.poller.parse_pool import ParsePool
from workers.poller.schedule import (
    DueQueue,
    Pacer,
    ScheduleBounds,
    furthest_next_poll,
    spread_offsets,
)
from workers.poller.state import (
    LAZY_FIELD,
    FeedState,
    load_states,
    record_event,
)

log = logging.getLogger(__name__)

def _digest(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


class Poller:
    """Polls feeds: fetch (conditional), parse off-loop, dedupe, publish, remember state."""

    def __init__(
        self,
        redis: Redis,
        fetcher: Fetcher,
        parser: ParsePool,
        tuning: PollerTuning,
        metrics: PollerMetrics | None = None,
        *,
        owner: str = "",
        heartbeat_ttl_s: float = 15.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Wire the poller; ``fetcher`` and ``parser`` must already be entered.

        ``owner`` is the role's consumer name, which its leases carry (see lease.py);
        ``clock`` gives the time every schedule decision is taken on (tests control it).
        """
        self.clock = clock
        self.redis = redis
        self.fetcher = fetcher
        self.parser = parser
        self.tuning = tuning
        self.bounds = ScheduleBounds.of(tuning)
        self.metrics = metrics
        self.feeds: dict[str, FeedConfig] = {}
        self.queue = DueQueue(clock)
        self.in_flight: set[str] = set()
        self.leases = FeedLeases(owner, heartbeat_ttl_s)
        self.batcher = PipelineBatcher(redis)
        self._rng = random.Random()
        # WebSub's hooks (websub.py): it sees each changed body for the hub it names, and
        # holds back the next poll of a feed a hub pushes (None: polling only).
        self.on_body: Callable[[FeedConfig, FetchResult], None] | None = None
        self.hold: Callable[[str, float], float] | None = None

    def set_feeds(self, feeds: Iterable[FeedConfig]) -> tuple[list[str], list[str]]:
        """Replace the feed set; return (added ids, removed ids)."""
        new = {f.id: f for f in feeds if f.enabled}
        added = [fid for fid in new if fid not in self.feeds]
        removed = [fid for fid in self.feeds if fid not in new]
        self.feeds = new
        self.queue.discard(removed)
        self.leases.forget(removed)
        if self.metrics:
            self.metrics.forget(removed)
        return added, removed

    async def poll(self, feed: FeedConfig) -> PollReport:
        """Poll ``feed`` once now and record the result; never raises for feed problems."""
        started = time.monotonic()
        state_key = keys.feed_state(feed.id)

        # The lease outlives the longest fetch, with a margin for the parse and the writes.
        take = self.leases.take(feed.id, self.fetcher.limits.total_s + 60, state_key)
        (reply,) = await self.batcher.execute(take)
        lease = self.leases.taken(feed.id, reply)
        if lease is None:  # another live poller holds it
            return PollReport(feed.id, "skipped", next_poll=self.clock() + self.leases.retry_s)
        state = lease.state
        try:
            report = await self._poll(feed, state, lease.read)
        except (RedisError, OSError):
            raise  # Redis trouble is the poller's, not the feed's: _run_one retries soon
        except Exception as exc:
            # Anything else this feed's content or server provoked counts against the
            # feed, so one that always fails is backed off, deactivated and on /status.
            log.warning("poll of feed %s failed unexpectedly", feed.id, exc_info=True)
            report = await self._failed(feed, state, "crash",
                                        f"internal error: {type(exc).__name__}: {exc}")
        finally:
            give_back, revision = self.leases.give_back(feed.id, state_key, lease)
            (reply,) = await self.batcher.execute(give_back)
            self.leases.given_back(feed.id, lease, revision, reply)
        report.seconds = time.monotonic() - started
        return report

    async def _poll(self, feed: FeedConfig, state: FeedState, read: FeedState) -> PollReport:
        state.last_attempt = self.clock()
        state.polls_total += 1
        fetch_started = time.monotonic()
        try:
            res = await self.fetcher.fetch(
                feed.url, trusted=feed.trusted, etag=state.etag or None,
                last_modified=state.last_modified or None,
            )
        except FetchError as exc:
            return await self._failed(
                feed, state, exc.kind, str(exc), retry_after=exc.retry_after, status=exc.status
            )
        finally:
            if self.metrics:
                self.metrics.fetch_seconds.observe(time.monotonic() - fetch_started)
        if res.status == 304:
            if self.metrics:
                self.metrics.not_modified.inc()
            return self._succeeded(feed, state, res, "not_modified")
        digest = _digest(res.body)
        if digest == state.body_hash:
            # Same bytes as last time (a server without validators): nothing new, no parse.
            return self._succeeded(feed, state, res, "unchanged")
        if self.on_body is not None:
            self.on_body(feed, res)
        # The hashes of the last body's items, which taking the lease left out (lease.py).
        known = str(await self.redis.hget(keys.feed_state(feed.id), LAZY_FIELD) or "")
        read.item_hashes = state.item_hashes = known
        body = await process_body(
            self.redis, self.parser, feed, body=res.body, headers=res.headers, url=res.url,
            known_items=state.item_hashes, seen_ttl_s=self.tuning.seen_ttl_s,
        )
        if self.metrics and body.parse_seconds is not None:
            self.metrics.parse_seconds.observe(body.parse_seconds)
            self.metrics.parses.labels("fast" if body.fast else "feedparser").inc()
        if body.outcome == "error":
            return await self._failed(feed, state, body.error_kind, body.error, status=res.status)
        if body.remember:
            state.body_hash = digest
            state.item_hashes = " ".join(body.item_hashes)
        else:
            res = FetchResult(res.status, res.url, b"", {}, res.permanent_url)  # no validators
        if body.ttl_s is not None or body.parse_seconds is not None:
            state.publisher_min_s = body.ttl_s or 0.0
        report = self._succeeded(feed, state, res, body.outcome, entry_times=body.entry_times,
                                 parse_seconds=body.parse_seconds)
        report.parsed = body.parsed
        report.queued = body.queued.queued
        report.duplicates = body.queued.seen
        report.unconfirmed = body.queued.unconfirmed
        report.skipped = body.skipped
        if self.metrics:
            self.metrics.items_skipped.inc(body.skipped)
            self.metrics.articles_queued.inc(body.queued.queued)
            self.metrics.articles_seen.inc(body.queued.seen)
        return report

    def _succeeded(
        self, feed: FeedConfig, state: FeedState, res: FetchResult, outcome: Outcome, *,
        entry_times: list[float] | None = None, parse_seconds: float | None = None,
    ) -> PollReport:
        now, bounds = self.clock(), self.bounds.for_feed(feed.priority)
        floor = cost_floor(parse_seconds)
        if floor > bounds.max_s:
            log.warning("feed %s took %.1f s to parse: polled again in %.0f s at the soonest",
                        feed.id, parse_seconds, floor)
        record_success(state, res, entry_times or [], now=now, bounds=bounds,
                       fixed_s=feed.interval, rng=self._rng, cost_floor_s=floor)
        if self.metrics:
            self.metrics.outcome(outcome).inc()
            self.metrics.last_success_of(feed.id).set(now)
            if state.newest_item:
                self.metrics.newest_item_of(feed.id).set(state.newest_item)
        return PollReport(feed.id, outcome, res.status, next_poll=state.next_poll)

    async def _failed(
        self, feed: FeedConfig, state: FeedState, kind: str, message: str, *,
        retry_after: float | None = None, status: int | None = None,
    ) -> PollReport:
        delay = record_failure(state, kind, message, now=self.clock(),
                               bounds=self.bounds.for_feed(feed.priority), fixed_s=feed.interval,
                               rng=self._rng, retry_after=retry_after, status=status)
        log.info("feed %s failed (%s, %d in a row): %s; retry in %.0f s",
                 feed.id, kind, state.error_streak, message, delay)
        if state.error_streak >= self.tuning.deactivate_after and not state.deactivated:
            state.deactivated = 1
            state.deactivated_reason = f"{state.error_streak} failures in a row; last: {message}"
            await record_event(self.redis, "deactivated", feed.id, url=feed.url, name=feed.name,
                               reason=state.deactivated_reason[:500], kind=kind)
            log.warning("feed %s deactivated: %s", feed.id, state.deactivated_reason)
            if self.metrics:
                self.metrics.deactivations.inc()
        if self.metrics:
            self.metrics.outcome("error").inc()
            self.metrics.errors.labels(kind).inc()
        return PollReport(feed.id, "error", status or 0, error_kind=kind, error=message,
                          next_poll=state.next_poll)

    async def schedule_feeds(self, feed_ids: list[str]) -> None:
        """Put feeds on the due queue: their stored next poll, else spread over a window."""
        if not feed_ids:
            return
        now = self.clock()
        states = await load_states(self.redis, feed_ids)
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
