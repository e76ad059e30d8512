"""When to poll each feed: learned intervals, publisher hints, backoff, and even spreading."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from core.settings import PollerTuning
from core.stopping import sleep_unless_stopped


@dataclass(frozen=True, slots=True)
class ScheduleBounds:
    """Limits on every interval the scheduler may choose.

    The first three are the operator's (:meth:`of`); the rest are the scheduling policy.
    """

    min_s: float
    max_s: float
    default_s: float
    hint_cap_s: float = 6 * 3600.0  # honour <ttl>/sy:updatePeriod up to this
    backoff_base_s: float = 60.0
    backoff_cap_s: float = 6 * 3600.0
    learn_window_s: float = 3 * 86_400.0
    jitter: float = 0.1

    @classmethod
    def of(cls, tuning: PollerTuning) -> ScheduleBounds:
        """The bounds the operator's poller settings set."""
        return cls(min_s=tuning.min_interval_s, max_s=tuning.max_interval_s,
                   default_s=tuning.default_interval_s)


def learn_interval(
    entry_times: Sequence[float],
    now: float,
    previous: float,
    bounds: ScheduleBounds,
    *,
    publisher_min_s: float | None = None,
    fixed_s: float | None = None,
) -> float:
    """Return the next interval from how often the feed publishes, bounded and smoothed.

    Half the mean gap between recent items (so a new item waits on average a quarter of its
    feed's rhythm), smoothed with the previous value, clamped to [min, max], and never below
    the publisher's own ``<ttl>``/``sy:updatePeriod`` (itself capped at ``hint_cap_s``).
    """
    if fixed_s is not None:
        return max(fixed_s, 1.0)
    recent = sorted(t for t in entry_times if now - bounds.learn_window_s <= t <= now)
    if len(recent) >= 2 and recent[-1] > recent[0]:
        mean_gap = (recent[-1] - recent[0]) / (len(recent) - 1)
        # A feed silent for longer than its usual gap is slowing down: count that silence.
        mean_gap = max(mean_gap, (now - recent[-1]) / 2)
        target = mean_gap / 2
    else:
        target = bounds.max_s
    target = min(max(target, bounds.min_s), bounds.max_s)
    smoothed = target if previous <= 0 else 0.5 * previous + 0.5 * target
    interval = min(max(smoothed, bounds.min_s), bounds.max_s)
    if publisher_min_s:
        interval = max(interval, min(publisher_min_s, bounds.hint_cap_s))
    return interval


def merge_times(stored: str, new: Iterable[float], keep: int = 30) -> list[float]:
    """Return the newest ``keep`` distinct item times from ``stored`` (text) and ``new``."""
    times = {float(t) for t in stored.split() if t.replace(".", "", 1).isdigit()}
    times.update(round(t) for t in new)
    return sorted(times)[-keep:]


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


def jittered(interval: float, bounds: ScheduleBounds, rng: random.Random | None = None) -> float:
    """Return ``interval`` with a small random spread so feeds drift apart, not together."""
    r = rng or random
    return interval * r.uniform(1 - bounds.jitter, 1 + bounds.jitter)


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

    def __init__(self) -> None:
        """Start empty."""
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
                wait = when - time.time()
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
