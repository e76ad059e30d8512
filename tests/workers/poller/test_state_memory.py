"""A poller remembers each feed's state between polls, and forgets it when anyone else writes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis

from core import keys
from core.feed_reactivate import reactivate_feed
from core.feeds import add_runtime_feed
from testkit.feeds import FeedServer
from tests.workers.poller.helpers import feed_for, make_poller, rss_with, tuning
from workers.poller.state import FeedState, load_state, save_state


async def test_polls_from_memory_yet_count_every_other_pollers_poll(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[FeedState] = []
    original = FeedState.from_hash.__func__  # type: ignore[attr-defined]

    def counting(cls: type[FeedState], raw: dict[str, str]) -> FeedState:
        state: FeedState = original(cls, raw)
        reads.append(state)
        return state

    monkeypatch.setattr(FeedState, "from_hash", classmethod(counting))
    async with FeedServer() as server:
        server.dynamic["m"] = rss_with([("s1", "Story one")])
        feed = feed_for("m", server.url("/dyn/m"))
        async with make_poller(redis, [feed]) as a, make_poller(redis, [feed]) as b:
            outcomes = [(await p.poll(feed)).outcome for p in (a, a, b, a, a, a)]
            polled_reads = len(reads)
            # A whole state written by someone else (as the bench primes states).
            await save_state(redis, "m", FeedState(
                etag=(await load_state(redis, "m")).etag, polls_total=100))
            after_save = (await a.poll(feed)).outcome
        state = await load_state(redis, "m")
    assert outcomes == ["new"] + ["not_modified"] * 5 and after_save == "not_modified"
    # Every poll counted, b's included: a did not trust its memory after b wrote the hash.
    assert state.polls_total == 101
    # Read whole: a's first two polls (no revision to remember yet), b's and a's after b's;
    # a's last two came from memory.
    assert polled_reads == 4


async def test_an_admins_reactivate_is_seen_by_the_next_poll(redis: Redis, tmp_path: Path) -> None:
    async with FeedServer() as server:
        feed = feed_for("gone", server.url("/dyn/gone"))  # 404 until a body is set
        await add_runtime_feed(redis, feed)
        async with make_poller(redis, [feed], settings=tuning(deactivate_after=3)) as poller:
            for _ in range(3):
                assert (await poller.poll(feed)).outcome == "error"
            assert (await load_state(redis, "gone")).deactivated == 1
            assert (await reactivate_feed(redis, tmp_path, "gone")).outcome == "reactivated"
            assert (await poller.poll(feed)).outcome == "error"
            state = await load_state(redis, "gone")
            # Counted from the cleared streak, not from the one this poller remembered.
            assert (state.error_streak, state.deactivated) == (1, 0)
            server.dynamic["gone"] = rss_with([("s1", "Story one")])
            assert (await poller.poll(feed)).outcome == "new"
        assert (await load_state(redis, "gone")).error_streak == 0


async def _commands_of(redis: Redis) -> dict[str, int]:
    """Return the calls per command since the last CONFIG RESETSTAT, ours left out."""
    stats: dict[str, Any] = await redis.info("commandstats")
    calls = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}
    return {name: n for name, n in calls.items() if name not in {"info", "config|resetstat"}}


async def test_a_quiet_poll_from_memory_is_one_redis_command(redis: Redis) -> None:
    async with FeedServer() as server:
        server.dynamic["q"] = rss_with([("s1", "Story one")])
        server.dynamic["same"] = rss_with([("s2", "Story two")])
        server.no_validators.add("same")
        feeds = [feed_for("q", server.url("/dyn/q")), feed_for("same", server.url("/dyn/same"))]
        async with make_poller(redis, feeds) as poller:
            first = [(await poller.poll(feed)).outcome for feed in feeds for _ in range(2)]
            polls = (await load_state(redis, "q")).polls_total
            seen = []
            for feed in feeds:
                await redis.config_resetstat()
                seen.append(((await poller.poll(feed)).outcome, await _commands_of(redis)))
        state = await load_state(redis, "q")
    assert first == ["new", "not_modified", "new", "unchanged"]
    # No lease taken, no state read: one script (Redis counts the commands it runs too),
    # which checks that no lease is out and no one wrote since, then writes the changes.
    one_script = {"eval": 1, "exists": 1, "hget": 1, "hset": 1}
    assert seen == [("not_modified", one_script), ("unchanged", one_script)]
    assert state.polls_total == polls + 1


async def test_a_poll_from_memory_writes_nothing_while_another_poller_holds_the_feed(
    redis: Redis,
) -> None:
    async with FeedServer() as server:
        server.dynamic["held"] = rss_with([("s1", "Story one")])
        feed = feed_for("held", server.url("/dyn/held"))
        async with make_poller(redis, [feed]) as poller:
            assert [(await poller.poll(feed)).outcome for _ in range(2)] == ["new", "not_modified"]
            before = await load_state(redis, "held")
            # Another poller, alive, is polling the feed right now.
            await redis.hset(keys.HEARTBEATS, "poller/other", f"{time.time():.3f}")
            await redis.set(keys.LEASE_PREFIX + "held", "other|token", px=60_000)
            fetches = server.hits.get("/dyn/held", 0)
            assert (await poller.poll(feed)).outcome == "skipped"
            assert server.hits.get("/dyn/held", 0) == fetches + 1  # fetched ahead, not written
            assert await load_state(redis, "held") == before
            await redis.delete(keys.LEASE_PREFIX + "held")
            assert (await poller.poll(feed)).outcome == "not_modified"
        after = await load_state(redis, "held")
    assert after.polls_total == before.polls_total + 1  # the skipped poll left no trace
