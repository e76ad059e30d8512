"""When to poll each feed: learned intervals, publisher hints, backoff, and even spreading."""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import random
import statistics
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from core.stopping import sleep_unless_stopped
from core.tuning import PollerTuning


@dataclass(frozen=True, slots=True)
class ScheduleBounds:
    """Limits on every interval the scheduler may choose.

    The first five are the operator's (:meth:`of`); the rest are the scheduling policy.
    """

    min_s: float
    max_s: float
    default_s: float
    priority_min_s: float = 15.0
    priority_max_s: float = 30.0
    hint_cap_s: float = 6 * 3600.0  # publisher floors (<ttl>, max-age) are honoured up to this
    backoff_base_s: float = 60.0
    backoff_cap_s: float = 6 * 3600.0
    learn_window_s: float = 3 * 86_400.0
    jitter: float = 0.1

    @classmethod
    def of(cls, tuning: PollerTuning) -> ScheduleBounds:
        """The bounds the operator's poller settings set."""
        return cls(min_s=tuning.min_interval_s, max_s=tuning.max_interval_s,
                   default_s=tuning.default_interval_s,
                   priority_min_s=tuning.priority_min_interval_s,
                   priority_max_s=tuning.priority_interval_s)

    def for_feed(self, priority: bool) -> ScheduleBounds:
        """Return the bounds of a feed: a priority feed's own (15-30 s by default), else these.

        A priority feed is never polled less often than ``priority_max_s`` (its default too),
        nor learned below ``priority_min_s``; the operator's bounds apply only when tighter.
        """
        if not priority:
            return self
        hi = min(self.priority_max_s, self.max_s)
        lo = min(self.priority_min_s, hi)
        return replace(self, min_s=lo, max_s=hi, default_s=hi)


def median_gap(times: Sequence[float]) -> float | None:
    """Return the median gap between consecutive distinct ``times``, or None for fewer than 2."""
    # Remembered: a feed's recent times change only when it publishes or one ages out of the
    # window, and every 304 poll learns its interval from them again (a few µs a poll).
    return _median_gap(tuple(times))


@functools.lru_cache(maxsize=16_384)
def _median_gap(times: tuple[float, ...]) -> float | None:
    ordered = sorted(set(times))
    if len(ordered) < 2:
        return None
    return statistics.median(b - a for a, b in itertools.pairwise(ordered))


def learn_interval(
    entry_times: Sequence[float],
    now: float,
    previous: float,
    bounds: ScheduleBounds,
    *,
    publisher_min_s: float | None = None,
    fixed_s: float | None = None,
) -> float:
    """Return the next interval: the feed's publication rhythm, within bounds, above any floor.

    The rules, in order:

    1. An operator's fixed ``interval`` is used as it is (rule 5 still applies).
    2. With two or more item times in the last ``learn_window_s``: half the median gap
       between them, so a new item waits on average a quarter of its feed's rhythm. The
       median, not the mean: one quiet night does not slow a busy feed down.
    3. Otherwise (an empty feed, one item, items older than the window, no dates): the
       default. Never the maximum: a feed empty at its first poll is news-ready at once.
    4. Clamped to [min, max]. Speeding up is immediate (a feed that starts publishing faster
       is never polled slower than its rhythm allows); slowing down is smoothed, half way
       from the previous interval, so one quiet spell does not swing it all the way.
    5. Never below a floor the publisher set (``publisher_min_s``: ``<ttl>``,
       ``sy:updatePeriod``, ``Cache-Control: max-age``), capped at ``hint_cap_s``, even
       above max: a publisher that asks to be polled hourly is polled hourly.
    """
    if fixed_s is not None:
        interval = max(fixed_s, 1.0)
    else:
        recent = [t for t in entry_times if now - bounds.learn_window_s <= t <= now]
        gap = median_gap(recent)
        target = bounds.default_s if gap is None or gap <= 0 else gap / 2
        target = min(max(target, bounds.min_s), bounds.max_s)
        before = min(max(previous, bounds.min_s), bounds.max_s) if previous > 0 else target
        interval = target if target <= before else 0.5 * before + 0.5 * target
    if publisher_min_s:
        interval = max(interval, min(publisher_min_s, bounds.hint_cap_s))
    return interval


def furthest_next_poll(
    now: float, bounds: ScheduleBounds, *, failing: bool, floor_s: float = 0.0,
    fixed_s: float | None = None,
) -> float:
    """Return the latest a next poll stored in Redis may stand when a poller (re)starts.

    A healthy feed is due within its longest interval (max or fixed, with jitter) or its
    publisher's floor, whichever is longer: a next poll stored under slower settings (the
    old 30-minute maximum) is pulled in instead of kept. A failing feed keeps its backoff,
    up to ``backoff_cap_s``.
    """
    if failing:
        return now + bounds.backoff_cap_s
    longest = max(bounds.max_s, fixed_s or 0.0) * (1 + bounds.jitter)
    return now + max(longest, min(floor_s, bounds.hint_cap_s))


def merge_times(stored: str, new: Iterable[float], keep: int = 30) -> list[float]:
    """Return the newest ``keep`` distinct item times from ``stored`` (text) and ``new``."""
    known = _stored_times(stored)
    added = {round(t) for t in new}
    if not added:  # a 304 or an unchanged body: the stored times as they are
        return list(known[-keep:])
    return sorted(added.union(known))[-keep:]


@functools.lru_cache(maxsize=16_384)
def _stored_times(stored: str) -> tuple[float, ...]:
    """Return the distinct times of ``stored``, in order."""
    # Remembered: a feed's stored times change only when it has new items, and every 304
    # poll reads them again to learn its interval.
    try:
        # What we stored: whole numbers, so int() parses them (twice as fast as the checks).
        times = {float(int(t)) for t in stored.split()}
    except ValueError:
        times = {float(t) for t in stored.split() if t.replace(".", "", 1).isdigit()}
    return tuple(sorted(times))


def backoff_delay(
    streak: int, interval: float, bounds: ScheduleBounds, retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Return the wait after the ``streak``-th failure in a row: exponential, jittered."""
    r = rng or random
    base = max(bounds.backoff_base_s, min(interval, bounds.max_s))
    delay = min(base * 2.0 ** max(streak - 1, 0), bounds.backoff_cap_s)
    delay *= r.uniform(0.5, 1.0)  # jitter: failing feeds on one host do not retry in step
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def jittered(
    interval: float, bounds: ScheduleBounds, rng: random.Random | None = None,
    floor_s: float = 0.0,
) -> float:
    """Return ``interval`` with a small random spread so feeds drift apart, not together.

    Never below ``floor_s`` (a publisher's floor, capped at ``hint_cap_s``): the spread may
    only delay a poll that a publisher asked to wait.
    """
    r = rng or random
    spread = interval * r.uniform(1 - bounds.jitter, 1 + bounds.jitter)
    return max(spread, min(floor_s, bounds.hint_cap_s))


def spread_offsets(
    n: int, span_s: float, rng: random.Random | None = None
) -> list[float]:
    """Return ``n`` start offsets over ``span_s``: one per equal slot, jittered inside it."""
    r = rng or random
    if n <= 0:
        return []
    slot = span_s / n
    offsets = [(i + r.random()) * slot for i in range(n)]
    r.shuffle(offsets)
    return offsets


class DueQueue:
    """Feeds ordered by due time; ``next_due`` waits for the earliest, interruptibly."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        """Start empty; due times are on ``clock`` (wall time unless a test controls it)."""
        self.clock = clock
        self._heap: list[tuple[float, int, str]] = []
        self._due: dict[str, float] = {}
        self._seq = itertools.count()
        self._changed = asyncio.Event()

    def __len__(self) -> int:
        """Return how many feeds are scheduled."""
        return len(self._due)

    def schedule(self, feed_id: str, when: float) -> None:
        """Set (or move) the due time of ``feed_id``."""
        self._due[feed_id] = when
        heapq.heappush(self._heap, (when, next(self._seq), feed_id))
        self._changed.set()

    def discard(self, feed_ids: Iterable[str]) -> None:
        """Forget feeds (their stale heap entries are skipped lazily)."""
        for fid in feed_ids:
            self._due.pop(fid, None)
        self._changed.set()

    def due_at(self, feed_id: str) -> float | None:
        """Return when ``feed_id`` is due, or None when not scheduled."""
        return self._due.get(feed_id)

    async def next_due(self, stop: asyncio.Event) -> str | None:
        """Wait until a feed is due and pop it; return None when ``stop`` is set."""
        while not stop.is_set():
            while self._heap and self._due.get(self._heap[0][2]) != self._heap[0][0]:
                heapq.heappop(self._heap)  # stale entry: moved or discarded
            wait = 3600.0
            if self._heap:
                when, _, fid = self._heap[0]
                wait = when - self.clock()
                if wait <= 0:
                    heapq.heappop(self._heap)
                    del self._due[fid]
                    return fid
            self._changed.clear()
            stop_wait = asyncio.ensure_future(stop.wait())
            change_wait = asyncio.ensure_future(self._changed.wait())
            try:
                await asyncio.wait(
                    (stop_wait, change_wait), timeout=min(wait, 3600.0),
                    return_when=asyncio.FIRST_COMPLETED,
                )
            finally:
                stop_wait.cancel()
                change_wait.cancel()
        return None


class Pacer:
    """Spaces dispatches at least ``1/rate`` s apart: due feeds never leave in a burst."""

    def __init__(self, rate: float) -> None:
        """Allow at most ``rate`` dispatches per second."""
        self.gap = 1.0 / rate if rate > 0 else 0.0
        self._next = 0.0

    async def wait(self, stop: asyncio.Event) -> bool:
        """Sleep until the next dispatch slot; return True (at once) when ``stop`` is set."""
        now = time.monotonic()
        if self._next > now:
            if await sleep_unless_stopped(stop, self._next - now):
                return True
            now = self._next
        self._next = max(now, self._next) + self.gap
        return stop.is_set()
