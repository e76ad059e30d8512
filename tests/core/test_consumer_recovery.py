"""Delivery promise: a crashed consumer's work is taken over, failures dead-lettered, none lost."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import subprocess
import sys
from pathlib import Path

from redis.asyncio import Redis
from redis.exceptions import ResponseError

from core.keys import ARTICLES, dead_letter
from core.models import Article
from core.redis_conn import RECONNECT_ERRORS, RedisProcess
from core.streams import Delivery, StreamConsumer, publish, read_range
from core.tuning import StreamSettings
from testkit.messages import article
from testkit.pipeline import REPO
from testkit.waiting import wait_until
from tests.core.helpers import consume_until

# Run as a module from the checkout, so it imports testkit as the tests do.
CHILD = [sys.executable, "-m", "tests.core.child_consumer"]


def fast_settings(**kw: float) -> StreamSettings:
    """Stream settings with short timeouts so recovery happens within a test."""
    base: dict[str, float] = dict(
        block_ms=100, claim_idle_ms=500, claim_interval_s=0.2, retry_backoff_s=0.05
    )
    base.update(kw)
    return StreamSettings.model_validate(base)


async def test_sigkilled_consumer_work_is_taken_over(
    redis: Redis, redis_server: RedisProcess
) -> None:
    for i in range(100):
        await publish(redis, ARTICLES, article(i))
    child = subprocess.Popen([*CHILD, "hang", redis_server.url], cwd=REPO)
    try:
        async def all_pending_in_child() -> bool:
            with contextlib.suppress(ResponseError):  # the child has not made the group yet
                rows = await redis.xpending_range(
                    ARTICLES, "g", "-", "+", 200, consumername="doomed"
                )
                # All 100 read, and the first one handled (the child then hangs, unacked).
                return len(rows) == 100 and await redis.hlen("handled") == 1
            return False

        assert await wait_until(all_pending_in_child), "child never read the 100 entries"
    finally:
        child.kill()
        child.wait()
    assert await redis.xlen(ARTICLES) == 100

    async def handler(a: Article, _: Delivery) -> None:
        await redis.hincrby("handled", a.id, 1)

    stop = asyncio.Event()
    survivor = StreamConsumer(
        redis, stream=ARTICLES, group="g", consumer="survivor", model=Article,
        handler=handler, settings=fast_settings(),
    )
    task = asyncio.create_task(survivor.run(stop))

    async def done() -> bool:
        return survivor.processed == 100

    try:
        assert await wait_until(done), f"survivor processed {survivor.processed}/100"
    finally:
        stop.set()
        await task
    counts = {k: int(v) for k, v in (await redis.hgetall("handled")).items()}
    assert set(counts) == {f"a{i}" for i in range(100)}
    assert max(counts.values()) <= 2
    assert sum(counts.values()) == 101  # the child handled exactly one before it was killed
    info = await redis.xpending(ARTICLES, "g")
    assert info["pending"] == 0


async def test_always_failing_entry_is_dead_lettered(redis: Redis) -> None:
    await publish(redis, ARTICLES, article("poison"))
    await publish(redis, ARTICLES, article("fine"))
    handled: list[str] = []

    async def handler(a: Article, d: Delivery) -> None:
        if a.id == "apoison":
            raise RuntimeError(f"cannot handle {a.id}, try {d.deliveries}")
        handled.append(a.id)

    consumer = StreamConsumer(
        redis, stream=ARTICLES, group="g", consumer="c", model=Article, handler=handler,
        settings=fast_settings(max_deliveries=3),
    )

    async def dead() -> bool:
        return int(await redis.xlen(dead_letter(ARTICLES))) == 1

    assert await consume_until(consumer, dead)
    [(_, entry)] = await read_range(redis, dead_letter(ARTICLES))
    assert entry["deliveries"] == "3"
    assert "RuntimeError: cannot handle apoison, try 3" in entry["error"]
    assert Article.model_validate_json(entry["data"]).id == "apoison"
    assert handled == ["afine"]
    assert (await redis.xpending(ARTICLES, "g"))["pending"] == 0


async def test_malformed_entries_go_to_dead_letter_with_reason(redis: Redis) -> None:
    await redis.xadd(ARTICLES, {"data": "{not json"})
    await redis.xadd(ARTICLES, {"data": article(1).model_dump_json().replace('"v":1', '"v":7')})
    await redis.xadd(ARTICLES, {"other": "field"})
    await publish(redis, ARTICLES, article(2))
    handled: list[str] = []

    async def handler(a: Article, _: Delivery) -> None:
        handled.append(a.id)

    consumer = StreamConsumer(
        redis, stream=ARTICLES, group="g", consumer="c", model=Article, handler=handler,
        settings=fast_settings(),
    )

    async def finished() -> bool:
        return handled == ["a2"] and int(await redis.xlen(dead_letter(ARTICLES))) == 3

    assert await consume_until(consumer, finished)
    errors = [e["error"] for _, e in await read_range(redis, dead_letter(ARTICLES))]
    assert errors[0] == "malformed Article: data is not valid JSON"
    assert errors[1] == "malformed Article: unsupported schema version (expected v=1)"
    assert errors[2].startswith("entry has no 'data' field")
    assert (await redis.xpending(ARTICLES, "g"))["pending"] == 0


async def test_redis_killed_and_restarted_nothing_lost(
    redis: Redis, redis_server: RedisProcess
) -> None:
    total = 300

    # The idempotency check a real handler makes: the effect and its marker in one atomic step,
    # so a reply lost with the connection can neither drop nor repeat the effect.
    once = redis.register_script(
        "if redis.call('SET', KEYS[1], 1, 'NX') then redis.call('RPUSH', KEYS[2], ARGV[1]) end"
    )

    async def handler(a: Article, _: Delivery) -> None:
        await once(keys=[f"done:{a.id}", "effects"], args=[a.id])

    async def published(i: int) -> bool:
        try:
            await publish(redis, ARTICLES, article(i))
        except RECONNECT_ERRORS:
            return False  # Redis is down: try again once it is back
        return True

    async def producer() -> None:
        for i in range(total):
            assert await wait_until(functools.partial(published, i))
            await asyncio.sleep(0.002)  # the load's pace, so the kill lands mid-stream

    stop = asyncio.Event()
    consumer = StreamConsumer(
        redis, stream=ARTICLES, group="g", consumer="c", model=Article, handler=handler,
        settings=fast_settings(batch_size=10),
    )
    consuming = asyncio.create_task(consumer.run(stop))
    producing = asyncio.create_task(producer())

    async def some_effects() -> bool:
        return int(await redis.llen("effects")) >= 60

    assert await wait_until(some_effects)
    redis_server.kill()
    await asyncio.sleep(0.5)  # the outage under test: Redis stays down this long
    redis_server.restart()
    await producing

    async def all_effects() -> bool:
        with contextlib.suppress(*RECONNECT_ERRORS):
            return len(set(await redis.lrange("effects", 0, -1))) == total
        return False

    try:
        assert await wait_until(all_effects, timeout=30)
    finally:
        stop.set()
        await consuming
    effects = await redis.lrange("effects", 0, -1)
    assert sorted(effects) == sorted(f"a{i}" for i in range(total))  # each exactly once
    assert (await redis.xpending(ARTICLES, "g"))["pending"] == 0


async def test_sigterm_finishes_in_flight_work_and_exits_zero(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    child = subprocess.Popen(
        [*CHILD, "slow", redis_server.url, str(tmp_path)], cwd=REPO,
        stderr=subprocess.PIPE,
    )
    try:
        for i in range(5):
            await publish(redis, ARTICLES, article(i))

        async def all_started() -> bool:
            return int(await redis.llen("started")) == 5

        assert await wait_until(all_started)
        assert int(await redis.llen("finished")) == 0  # SIGTERM lands mid-processing
        child.terminate()
        await redis.set("go", 1)  # in-flight handlers may finish now: the drain waits for them
        code = await asyncio.to_thread(child.wait, 30)
    finally:
        if child.poll() is None:
            child.kill()
    err = child.stderr.read().decode() if child.stderr else ""
    assert code == 0, err[-2000:]
    assert sorted(await redis.lrange("finished", 0, -1)) == [f"a{i}" for i in range(5)]
    assert (await redis.xpending(ARTICLES, "g"))["pending"] == 0
    assert await redis.hlen("cw:heartbeats") == 0  # the role deregistered on the way out


async def test_failing_entry_backs_off_while_new_entries_flow(redis: Redis) -> None:
    await publish(redis, ARTICLES, article("flaky"))
    events: list[str] = []
    tries = 0

    async def handler(a: Article, d: Delivery) -> None:
        nonlocal tries
        if a.id == "aflaky":
            tries += 1
            if d.deliveries < 3:
                events.append(f"fail {d.deliveries}")
                raise RuntimeError("transient")
        events.append(f"ok {a.id}")

    stop = asyncio.Event()
    consumer = StreamConsumer(
        redis, stream=ARTICLES, group="g", consumer="c", model=Article, handler=handler,
        settings=fast_settings(retry_backoff_s=0.4, max_deliveries=5),
    )
    task = asyncio.create_task(consumer.run(stop))

    async def first_failure() -> bool:
        return events == ["fail 1"]

    try:
        assert await wait_until(first_failure)
        await publish(redis, ARTICLES, article("fresh"))

        async def recovered() -> bool:
            return "ok aflaky" in events

        assert await wait_until(recovered)
    finally:
        stop.set()
        await task
    # The fresh entry did not wait for the flaky one's backoff; the flaky one got through.
    assert events == ["fail 1", "ok afresh", "fail 2", "ok aflaky"]
    assert tries == 3
    assert (await redis.xpending(ARTICLES, "g"))["pending"] == 0
    assert await redis.xlen(dead_letter(ARTICLES)) == 0


async def test_entry_that_keeps_killing_its_consumer_is_dead_lettered(redis: Redis) -> None:
    await publish(redis, ARTICLES, article("poison"))
    cfg = fast_settings(max_deliveries=2, max_crashes=3, claim_interval_s=60)
    for _ in range(3):  # each consumer "dies" inside the handler, as a crashing entry would
        started = asyncio.Event()

        async def dies(_: Article, __: Delivery, started: asyncio.Event = started) -> None:
            started.set()
            await asyncio.Event().wait()  # never set: held until the task is cancelled

        consumer = StreamConsumer(redis, stream=ARTICLES, group="g", consumer="c",
                                  model=Article, handler=dies, settings=cfg)
        task = asyncio.create_task(consumer.run(asyncio.Event()))
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def never(_: Article, __: Delivery) -> None:
        raise AssertionError("a poison entry must not be handled again")

    last = StreamConsumer(
redis, stream=ARTICLES, group="g", consumer="c", model=Article,
                          handler=never, settings=cfg)

    async def dead() -> bool:
        return int(await redis.xlen(dead_letter(ARTICLES))) == 1

    assert await consume_until(last, dead)
    [(_, entry)] = await read_range(redis, dead_letter(ARTICLES))
    assert entry["error"] == "gave up: consumer died while handling it"
    assert (await redis.xpending(ARTICLES, "g"))["pending"] == 0
