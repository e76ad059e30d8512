"""One feed's poll: lease, conditional fetch, parse off-loop, dedupe, publish, state written."""

from __future__ import annotations

import hashlib
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

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
from workers.poller.schedule import ScheduleBounds
from workers.poller.state import LAZY_FIELD, FeedState, record_event

log = logging.getLogger(__name__)


def _digest(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


@dataclass(frozen=True, slots=True)
class Fetched:
    """A fetch's result or failure, with the digest of a body (hashed once per poll)."""

    result: FetchResult | FetchError
    digest: str = ""


class FeedPoll:
    """Polls one feed at a time on request (:meth:`poll`); the schedule is poller.py's."""

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
        """Wire it; ``fetcher`` and ``parser`` must already be entered.

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
        self.leases = FeedLeases(owner, heartbeat_ttl_s)
        self.batcher = PipelineBatcher(redis)
        self._rng = random.Random()
        # WebSub's hook (websub.py): it sees each changed body for the hub it names.
        self.on_body: Callable[[FeedConfig, FetchResult], None] | None = None
        self._wire()

    def _wire(self) -> None:
        """Set up what a subclass adds (poller.py: the schedule); nothing for one poll."""

    async def poll(self, feed: FeedConfig) -> PollReport:
        """Poll ``feed`` once now and record the result; never raises for feed problems."""
        started = time.monotonic()
        state_key = keys.feed_state(feed.id)
        fetched: Fetched | None = None
        ahead = self.leases.remembered(feed.id)
        if ahead is not None:
            # Polled last by this poller and, as far as it knows, written by no one since:
            # fetch first, and when nothing is new write the changes in one command, if no
            # poller holds the lease and no one wrote meanwhile (lease.py). A second poller
            # may fetch the feed at the same moment, for once; only one of them writes.
            try:
                fetched = await self._fetch(feed, ahead.state)
            except (RedisError, OSError):
                raise
            except Exception:  # polled again under the lease, where a crash counts
                fetched = None
            report = None if fetched is None else self._nothing_new(feed, ahead.state, fetched)
            if report is not None:
                commit, revision = self.leases.commit(feed.id, state_key, ahead)
                (reply,) = await self.batcher.execute(commit)
                self.leases.given_back(feed.id, ahead, revision, reply)
                if reply:
                    self._count(report, ahead.state)
                    report.seconds = time.monotonic() - started
                    return report
        # The lease outlives the longest fetch, with a margin for the parse and the writes.
        take = self.leases.take(feed.id, self.fetcher.limits.total_s + 60, state_key)
        (reply,) = await self.batcher.execute(take)
        lease = self.leases.taken(feed.id, reply)
        if lease is None:  # another live poller holds it
            return PollReport(feed.id, "skipped", next_poll=self.clock() + self.leases.retry_s)
        state = lease.state
        try:
            if fetched is None:
                fetched = await self._fetch(feed, state)
            else:  # fetched above, then someone wrote the state: this is the poll it counts
                self._attempted(state)
            report = await self._poll(feed, state, lease.read, fetched)
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

    def _attempted(self, state: FeedState) -> None:
        state.last_attempt = self.clock()
        state.polls_total += 1

    async def _fetch(self, feed: FeedConfig, state: FeedState) -> Fetched:
        """Fetch ``feed`` with ``state``'s validators; a failure is returned, not raised."""
        self._attempted(state)
        fetch_started = time.monotonic()
        try:
            res = await self.fetcher.fetch(
                feed.url, trusted=feed.trusted, etag=state.etag or None,
                last_modified=state.last_modified or None,
            )
        except FetchError as exc:
            return Fetched(exc)
        finally:
            if self.metrics:
                self.metrics.fetch_seconds.observe(time.monotonic() - fetch_started)
        return Fetched(res, "" if res.status == 304 else _digest(res.body))

    def _nothing_new(self, feed: FeedConfig, state: FeedState, fetched: Fetched,
                     ) -> PollReport | None:
        """Record a 304 or the same bytes as last time in ``state`` (uncounted); else None."""
        res = fetched.result
        if isinstance(res, FetchError):
            return None
        if res.status == 304:
            return self._recorded(feed, state, res, "not_modified")
        if fetched.digest == state.body_hash:
            # Same bytes as last time (a server without validators): nothing new, no parse.
            return self._recorded(feed, state, res, "unchanged")
        return None

    async def _poll(
        self, feed: FeedConfig, state: FeedState, read: FeedState, fetched: Fetched,
    ) -> PollReport:
        res = fetched.result
        if isinstance(res, FetchError):
            return await self._failed(
                feed, state, res.kind, str(res), retry_after=res.retry_after, status=res.status
            )
        quiet = self._nothing_new(feed, state, fetched)
        if quiet is not None:
            self._count(quiet, state)
            return quiet
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
            state.body_hash = fetched.digest
            state.item_hashes = " ".join(body.item_hashes)
        else:
            res = FetchResult(res.status, res.url, b"", {}, res.permanent_url)  # no validators
        if body.ttl_s is not None or body.parse_seconds is not None:
            state.publisher_min_s = body.ttl_s or 0.0
        report = self._recorded(feed, state, res, body.outcome, entry_times=body.entry_times,
                                parse_seconds=body.parse_seconds)
        self._count(report, state)
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

    def _recorded(
        self, feed: FeedConfig, state: FeedState, res: FetchResult, outcome: Outcome, *,
        entry_times: list[float] | None = None, parse_seconds: float | None = None,
    ) -> PollReport:
        """Record a success in ``state``; return its report (counted by :meth:`_count`)."""
        now, bounds = self.clock(), self.bounds.for_feed(feed.priority)
        floor = cost_floor(parse_seconds)
        if floor > bounds.max_s:
            log.warning("feed %s took %.1f s to parse: polled again in %.0f s at the soonest",
                        feed.id, parse_seconds, floor)
        record_success(state, res, entry_times or [], now=now, bounds=bounds,
                       fixed_s=feed.interval, rng=self._rng, cost_floor_s=floor)
        return PollReport(feed.id, outcome, res.status, next_poll=state.next_poll)

    def _count(self, report: PollReport, state: FeedState) -> None:
        """Count a success in the metrics (once, whichever way the poll was written)."""
        if not self.metrics:
            return
        if report.outcome == "not_modified":
            self.metrics.not_modified.inc()
        self.metrics.outcome(report.outcome).inc()
        fresh = self.metrics.freshness
        fresh.last_success[report.feed_id] = state.last_success
        if state.newest_item:
            fresh.newest_item[report.feed_id] = state.newest_item

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
