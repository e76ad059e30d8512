"""Cheaper polls: coalesced pipelines, state writes of changed fields only, lazy item hashes."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import DataError, ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core import keys
from core.redis_conn import RedisProcess
from testkit.feeds import FeedServer
from testkit.waiting import wait_until
from tests.workers.poller.helpers import feed_for, make_poller, rss_with
from workers.poller.batch import PipelineBatcher
from workers.poller.state import FeedState, load_state


async def test_batched_pipelines_give_each_caller_its_replies_and_errors(redis: Redis) -> None:
    batcher = PipelineBatcher(redis)

    async def incr(n: int) -> list[Any]:
        return await batcher.execute(("INCRBY", "cw:test:n", n), ("SET", f"cw:test:k{n}", n),
                                     ("GET", f"cw:test:k{n}"))

    # INCR of a string that is not an integer: this caller's error only.
    broken = batcher.execute(("SET", "cw:test:s", "x"), ("INCR", "cw:test:s"))
    results = await asyncio.gather(*(incr(n) for n in range(1, 21)), broken,
                                   return_exceptions=True)
    *replies, error = results
    assert isinstance(error, ResponseError)
    # Raw replies, decoded as the client decodes: no redis-py response callbacks.
    assert [r[1:] for r in replies] == [["OK", str(n)] for n in range(1, 21)]  # type: ignore[index]
    assert int(await redis.get("cw:test:n") or 0) == sum(range(1, 21))


async def test_a_304_poll_writes_only_what_changed_and_keeps_the_item_hashes(
    redis: Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes: list[dict[str, Any]] = []
    async with FeedServer() as server:
        server.dynamic["w"] = rss_with([("s1", "Story one"), ("s2", "Story two")])
        feed = feed_for("w", server.url("/dyn/w"))
        async with make_poller(redis, [feed]) as poller:
            first = await poller.poll(feed)
            hashes = (await load_state(redis, "w")).item_hashes
            # Another writer (an admin's /reactivate) sets a field meanwhile.
            await redis.hset(keys.feed_state("w"), "deactivated_reason", "kept")
            original = FeedState.changes

            def spy(self: FeedState, before: FeedState) -> dict[str, Any]:
                out = original(self, before)
                writes.append(out)
                return out

            monkeypatch.setattr(FeedState, "changes", spy)
            second = await poller.poll(feed)
            server.dynamic["w"] = rss_with(
                [("s3", "Story three"), ("s1", "Story one"), ("s2", "Story two")])
            third = await poller.poll(feed)
    assert (first.queued, second.outcome, third.queued, third.parsed) == (2, "not_modified", 1, 1)
    assert len(hashes.split()) == 2
    # The 304 wrote the poll's bookkeeping, not the validators or the item hashes.
    assert {"last_attempt", "last_success", "next_poll", "polls_total"} <= set(writes[0])
    assert not {"etag", "item_hashes", "recent_times", "deactivated_reason"} & set(writes[0])
    state = await load_state(redis, "w")
    assert state.deactivated_reason == "kept"
    # The changed body read the hashes it needed and stored the new ones.
    assert len(state.item_hashes.split()) == 3 and set(hashes.split()) < set(
        state.item_hashes.split())


async def test_a_caller_whose_command_cannot_be_packed_is_told_and_the_others_go_on(
    redis: Redis,
) -> None:
    batcher = PipelineBatcher(redis)
    bad = batcher.execute(("SET", "cw:test:bad", 1), ("SET", "cw:test:x", None))  # type: ignore[arg-type]
    good = batcher.execute(("SET", "cw:test:good", 1))
    results = await asyncio.gather(bad, good, return_exceptions=True)
    assert isinstance(results[0], DataError) and results[1] == ["OK"]
    assert await redis.get("cw:test:bad") is None  # its commands were not sent


async def test_a_batch_cut_short_leaves_no_reply_on_a_pooled_connection(
    redis: Redis, redis_server: RedisProcess
) -> None:
    """Cancelled while its reply is out, the batch's connection is closed, not reused as is."""
    # One connection, so the next command must reuse the one the batch had.
    one = Redis.from_url(redis_server.url, decode_responses=True, max_connections=1)
    try:
        batcher = PipelineBatcher(one)
        waiting = asyncio.create_task(batcher.execute(("BLPOP", "cw:test:q", 30)))

        async def blocked() -> bool:
            return int((await redis.info("clients"))["blocked_clients"]) >= 1

        assert await wait_until(blocked, timeout=10)
        flush = batcher._flushing
        assert flush is not None
        flush.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        # The BLPOP's reply arrives now; on a connection still open it would be read by
        # the next command as its own.
        await redis.rpush("cw:test:q", "stale")
        await one.set("cw:test:fresh", "yes")
        assert await one.get("cw:test:fresh") == "yes"
    finally:
        await one.aclose()


async def test_a_batch_whose_replies_do_not_come_in_time_fails_as_a_redis_timeout(
    redis: Redis, redis_server: RedisProcess
) -> None:
    """One deadline (the client's socket timeout) for a batch's replies, raised as redis-py's."""
    slow = Redis.from_url(redis_server.url, decode_responses=True, max_connections=1,
                          socket_timeout=0.3, retry=Retry(NoBackoff(), 0))
    try:
        batcher = PipelineBatcher(slow)
        # BLPOP blocks the reply for 5 s, well past the 0.3 s socket timeout.
        with pytest.raises(RedisTimeoutError):
            await batcher.execute(("SET", "cw:test:before", "1"), ("BLPOP", "cw:test:empty", 5))
        # The timed-out connection was closed: a late reply cannot be read as the next one's.
        await redis.rpush("cw:test:empty", "late")
        assert await batcher.execute(("GET", "cw:test:before")) == ["1"]
    finally:
        await slow.aclose()


async def test_a_batch_that_cannot_connect_fails_its_callers_and_the_next_one_goes_through(
    tmp_path: Path,
) -> None:
    """Redis down when a batch takes its connection: every caller gets the error, none hangs."""
    with RedisProcess(tmp_path, appendonly=False) as server:
        client = Redis.from_url(server.url, decode_responses=True, retry=Retry(NoBackoff(), 0))
        try:
            batcher = PipelineBatcher(client)
            assert await batcher.execute(("SET", "cw:test:a", "1")) == ["OK"]
            await client.connection_pool.disconnect()
            server.kill()
            calls = [batcher.execute(("GET", "cw:test:a")) for _ in range(5)]
            # Generous: a hang (a caller never told) is what this guards against.
            results = await asyncio.wait_for(
                asyncio.gather(*calls, return_exceptions=True), timeout=60)
            assert all(isinstance(r, RedisConnectionError) for r in results), results
            server.restart()
            assert await batcher.execute(("GET", "cw:test:a")) == [None]  # no AOF: empty
        finally:
            await client.aclose()
