"""Intervals learned from publish frequency, publisher hints, backoff and even spreading."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime

from core.tuning import PollerTuning
from workers.poller.fetch import parse_max_age
from workers.poller.parse import FeedInfo, parse_feed
from workers.poller.schedule import (
    DueQueue,
    Pacer,
    ScheduleBounds,
    backoff_delay,
    jittered,
    learn_interval,
    merge_times,
    spread_offsets,
)

B = ScheduleBounds(min_s=120, max_s=1800, default_s=600)
NOW = 1_700_000_000.0


def test_busy_feed_polled_often_quiet_feed_rarely_within_bounds() -> None:
    busy = [NOW - i * 300 for i in range(20)]  # one item every 5 minutes
    assert learn_interval(busy, NOW, 0, B) == 150  # half the gap
    very_busy = [NOW - i * 10 for i in range(50)]
    assert learn_interval(very_busy, NOW, 0, B) == B.min_s
    quiet = [NOW - i * 86_400 for i in range(3)]
    assert learn_interval(quiet, NOW, 0, B) == B.max_s
    # An empty feed (or one item, or none dated) is polled at the default, never the max.
    assert learn_interval([], NOW, 0, B) == B.default_s
    assert learn_interval([NOW - 60], NOW, 1800, B) == B.default_s
    # Speeding up is immediate: never slower than the feed's rhythm allows.
    assert learn_interval(very_busy, NOW, 1800, B) == B.min_s
    # Slowing down is smoothed: one quiet spell does not swing it all the way up.
    assert B.min_s < learn_interval(quiet, NOW, B.min_s, B) < B.max_s


def test_interval_follows_the_median_gap_not_one_long_silence() -> None:
    # An item every 4 minutes all day, then one quiet night of 8 hours.
    day = [NOW - 8 * 3600 - i * 240 for i in range(100)]
    assert learn_interval(day, NOW, 0, B) == 120  # half the median gap, not of the mean
    # A previous interval stored under slower settings does not hold a feed back.
    assert learn_interval(day, NOW, 50_000, B) == 120


def test_default_settings_poll_news_every_minute_and_priority_feeds_faster() -> None:
    bounds = ScheduleBounds.of(PollerTuning())
    assert (bounds.min_s, bounds.default_s, bounds.max_s) == (30, 60, 60)
    quiet = [NOW - i * 86_400 for i in range(3)]
    assert learn_interval(quiet, NOW, 0, bounds) == 60
    assert learn_interval([], NOW, 0, bounds) == 60
    assert learn_interval([NOW - i * 20 for i in range(30)], NOW, 60, bounds) == 30
    prio = bounds.for_feed(priority=True)
    assert (prio.min_s, prio.default_s, prio.max_s) == (15, 30, 30)
    assert learn_interval(quiet, NOW, 0, prio) == 30
    assert learn_interval([NOW - i * 10 for i in range(30)], NOW, 30, prio) == 15
    assert bounds.for_feed(priority=False) is bounds
    # Jitter stays: feeds of one rhythm drift apart.
    rng = random.Random(5)
    spread = {round(jittered(60, bounds, rng), 3) for _ in range(20)}
    assert len(spread) > 10 and all(54 <= s <= 66 for s in spread)


def test_publisher_floors_are_floors_not_ceilings() -> None:
    bounds = ScheduleBounds.of(PollerTuning())
    busy = [NOW - i * 20 for i in range(30)]
    # <ttl> 5 minutes (or a max-age of 300): never sooner, even above the max.
    assert learn_interval(busy, NOW, 0, bounds, publisher_min_s=300) == 300
    assert learn_interval(busy, NOW, 0, bounds.for_feed(True), publisher_min_s=300) == 300
    assert learn_interval(busy, NOW, 0, bounds, publisher_min_s=300, fixed_s=20) == 300
    # A floor below the learned interval changes nothing: it is not a ceiling.
    assert learn_interval([], NOW, 0, bounds, publisher_min_s=10) == 60
    # Retry-After of a 429/503 is a floor of the retry.
    assert backoff_delay(1, 60, bounds, retry_after=900, rng=random.Random(2)) == 900
    assert backoff_delay(1, 60, bounds, retry_after=1, rng=random.Random(2)) >= 30


def test_cache_control_max_age_is_read() -> None:
    assert parse_max_age("public, max-age=300, s-maxage=600") == 300
    assert parse_max_age("s-maxage=600") is None  # for shared caches, not for us
    assert parse_max_age("no-cache, max-age=60") is None
    assert parse_max_age("max-age=0") is None
    assert parse_max_age(None) is None
    assert parse_max_age("max-age=99999999") == 24 * 3600


def test_publisher_ttl_and_fixed_interval_are_honoured() -> None:
    busy = [NOW - i * 60 for i in range(20)]
    assert learn_interval(busy, NOW, 0, B, publisher_min_s=3600) == 3600
    assert learn_interval(busy, NOW, 0, B, publisher_min_s=10 * 86_400) == B.hint_cap_s
    assert learn_interval(busy, NOW, 0, B, fixed_s=90) == 90


def test_ttl_and_sy_update_period_are_read_from_feeds() -> None:
    rss = (b'<rss version="2.0" xmlns:sy="http://purl.org/rss/1.0/modules/syndication/">'
           b"<channel><title>T</title><ttl>45</ttl><sy:updatePeriod>hourly</sy:updatePeriod>"
           b"<sy:updateFrequency>2</sy:updateFrequency>"
           b"<item><title>x</title><link>http://x.org/1</link></item></channel></rss>")
    out = parse_feed(rss, {}, FeedInfo("f", "F"), "http://x.org/", datetime.now(UTC))
    assert out.ttl_s == 45 * 60  # the larger of ttl (45 min) and hourly/2 (30 min)


def test_backoff_grows_exponentially_with_jitter_and_retry_after() -> None:
    rng = random.Random(1)
    delays = [backoff_delay(n, 600, B, rng=rng) for n in range(1, 8)]
    bounds = [min(600 * 2 ** (n - 1), B.backoff_cap_s) for n in range(1, 8)]
    assert all(b / 2 <= d <= b for d, b in zip(delays, bounds, strict=True))
    assert backoff_delay(1, 600, B, retry_after=7200, rng=rng) == 7200
    assert max(backoff_delay(50, 600, B, rng=rng) for _ in range(20)) <= B.backoff_cap_s


def test_start_offsets_are_spread_evenly() -> None:
    offsets = sorted(spread_offsets(100, 100.0, random.Random(3)))
    assert len(offsets) == 100 and offsets[0] >= 0 and offsets[-1] < 100
    # One per 1-second slot: never two feeds in the same slot, never a burst.
    assert [int(o) for o in offsets] == list(range(100))


async def test_due_queue_orders_and_pacer_spaces_dispatches() -> None:
    q = DueQueue()
    now = time.time()
    q.schedule("b", now - 1)
    q.schedule("a", now - 2)
    q.schedule("c", now + 3600)
    q.schedule("b", now - 0.5)  # moved: the old entry is skipped
    stop = asyncio.Event()
    assert [await q.next_due(stop), await q.next_due(stop)] == ["a", "b"]
    stop.set()
    assert await q.next_due(stop) is None
    assert q.due_at("c") is not None and len(q) == 1
    pacer = Pacer(rate=50)
    stamps = []
    going = asyncio.Event()
    for _ in range(6):
        assert not await pacer.wait(going)
        stamps.append(time.monotonic())
    # Never all at once: the k-th dispatch waits for its slot, k/50 s after the first (a
    # late wake-up on a busy machine may make one gap short, never the slot early). The
    # slack is the event loop's timer resolution.
    late = [stamp - (stamps[0] + k / 50) for k, stamp in enumerate(stamps)]
    assert min(late) >= -0.002, late
    # A stop cuts the wait for a slot short, however slow the pace (100 s here).
    slow = Pacer(rate=0.01)
    assert not await slow.wait(going)
    assert await asyncio.wait_for(slow.wait(stop), 30)


def test_recent_item_times_are_merged_deduplicated_and_capped() -> None:
    assert merge_times("100 200", [200.4, 300]) == [100, 200, 300]
    assert merge_times("", [float(i) for i in range(50)], keep=30) == list(range(20, 50))
    assert merge_times("junk 5", []) == [5]
