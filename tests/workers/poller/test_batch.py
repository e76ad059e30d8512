"""Cheaper polls: coalesced pipelines, state writes of changed fields only, lazy item hashes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ResponseError

from core import keys
from testkit.feeds import FeedServer
from tests.workers.poller.helpers import feed_for, make_poller, rss_with
from workers.poller.batch import PipelineBatcher
from workers.poller.state import FeedState, load_state


async def test_batched_pipelines_give_each_caller_its_replies_and_errors(redis: Redis) -> None:
    batcher = PipelineBatcher(redis)

    async def incr(n: int) -> list[Any]:
        def build(pipe: Pipeline) -> None:
            pipe.incrby("cw:test:n", n)
            pipe.set(f"cw:test:k{n}", n)
            pipe.get(f"cw:test:k{n}")
        return await batcher.execute(build)

    def broken(pipe: Pipeline) -> None:
        pipe.set("cw:test:s", "x")
        pipe.incr("cw:test:s")  # not an integer: this caller's error only

    results = await asyncio.gather(*(incr(n) for n in range(1, 21)),
                                   batcher.execute(broken), return_exceptions=True)
    *replies, error = results
    assert isinstance(error, ResponseError)
    assert [r[1:] for r in replies] == [[True, str(n)] for n in range(1, 21)]  # type: ignore[index]
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

            def spy(self: FeedState, stored: dict[str, str]) -> dict[str, Any]:
                out = original(self, stored)
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


async def test_a_caller_whose_build_fails_is_told_and_the_others_go_on(redis: Redis) -> None:
    batcher = PipelineBatcher(redis)

    def bad(pipe: Pipeline) -> None:
        pipe.set("cw:test:bad", 1)
        raise RuntimeError("bug in a caller")

    def good(pipe: Pipeline) -> None:
        pipe.set("cw:test:good", 1)

    results = await asyncio.gather(batcher.execute(bad), batcher.execute(good),
                                   return_exceptions=True)
    assert isinstance(results[0], RuntimeError) and results[1] == [True]
    assert await redis.get("cw:test:bad") is None  # its commands were not sent
