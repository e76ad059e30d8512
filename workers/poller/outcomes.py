"""What a poll's outcome writes into its feed's state, and the report of the poll.

After a success: validators, the learned interval and the next poll; after a failure: the
error, its streak and the backoff.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from workers.poller.fetch import FetchResult
from workers.poller.schedule import (
    ScheduleBounds,
    backoff_delay,
    jittered,
    learn_interval,
    merge_times,
)
from workers.poller.state import FeedState

Outcome = Literal["new", "unchanged", "not_modified", "error", "skipped"]
# After a parse, the next poll waits at least this many times as long as the parse took: no
# feed takes more than a hundredth of a parse worker, however costly its markup (feedparser's
# loose parser reads 8 MB of hostile nested tags in about a minute). A usual feed parses in
# milliseconds, far under any interval.
PARSE_COST_FACTOR = 100.0


@dataclass(slots=True)
class PollReport:
    """What one poll did, for the loop, the CLI's ``check`` and the tests."""

    feed_id: str
    outcome: Outcome
    status: int = 0
    parsed: int = 0
    queued: int = 0
    duplicates: int = 0
    unconfirmed: int = 0
    skipped: int = 0  # entries that failed on their own and were left out
    error_kind: str = ""
    error: str = ""
    next_poll: float = 0.0
    seconds: float = 0.0


def cost_floor(parse_seconds: float | None) -> float:
    """Return the least wait before polling again a feed whose parse took ``parse_seconds``."""
    return (parse_seconds or 0.0) * PARSE_COST_FACTOR


def record_success(
    state: FeedState, res: FetchResult, entry_times: list[float], *, now: float,
    bounds: ScheduleBounds, fixed_s: float | None, rng: random.Random, cost_floor_s: float = 0.0,
) -> None:
    """Store a successful response in ``state`` and set its next poll (``cost_floor_s`` on)."""
    if res.status == 200 or res.etag or res.last_modified:
        state.etag = res.etag or ""
        state.last_modified = res.last_modified or ""
    recent = merge_times(state.recent_times, entry_times)
    if entry_times:  # a 304 or an unchanged body has no new times to store
        state.recent_times = " ".join(f"{t:.0f}" for t in recent)
    if recent:
        state.newest_item = max(state.newest_item, recent[-1])
    # Every response (a 304 too) restates the publisher's max-age: the latest one holds.
    state.max_age_s = res.max_age or 0.0
    floor = max(state.publisher_min_s, state.max_age_s, cost_floor_s)
    state.interval_s = learn_interval(
        recent, now, state.interval_s, bounds, publisher_min_s=floor or None, fixed_s=fixed_s,
    )
    state.last_success = now
    state.last_status = res.status
    state.error_streak = 0
    state.moved_to = res.permanent_url or ""
    state.next_poll = now + jittered(state.interval_s, bounds, rng, floor)


def record_failure(
    state: FeedState, kind: str, message: str, *, now: float, bounds: ScheduleBounds,
    fixed_s: float | None, rng: random.Random, retry_after: float | None = None,
    status: int | None = None,
) -> float:
    """Store a failure in ``state``, set its next poll after a backoff; return that delay."""
    state.error_streak += 1
    state.errors_total += 1
    state.last_error = message[:500]
    state.last_error_kind = kind
    state.last_error_at = now
    state.last_status = status or 0
    interval = state.interval_s or fixed_s or bounds.default_s
    # Retry-After (429, 503) is a floor like <ttl>: never sooner than the server asked.
    delay = backoff_delay(state.error_streak, interval, bounds, retry_after, rng)
    state.next_poll = now + delay
    return delay
