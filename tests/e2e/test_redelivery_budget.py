"""Work that merely waited in a killed consumer must not use up its retry budget.

The chaos test found delivery jobs dead-lettered with "gave up: consumer died while handling
it": jobs queued behind Telegram's 1 message/s per chat sit pending in the senders group, and
every notifier restart (or Redis reconnect) re-reads them, raising their delivery count past
``max_deliveries`` although no attempt ever failed.
"""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from core.keys import dead_letter
from core.models import Article
from core.streams import Delivery, StreamConsumer, publish
from core.tuning import StreamSettings
from testkit.messages import article
from testkit.waiting import wait_until

STREAM = "e2e:budget"
SETTINGS = StreamSettings(block_ms=50, max_deliveries=2, claim_interval_s=60, retry_backoff_s=0)


def _consumer(redis: Redis, handler: object) -> StreamConsumer[Article]:
    return StreamConsumer(
        redis, stream=STREAM, group="g", consumer="c0", model=Article,
        handler=handler,  # type: ignore[arg-type]
        settings=SETTINGS,
    )


async def test_entry_waiting_through_restarts_is_handled_not_dead_lettered(redis: Redis) -> None:
    await publish(redis, STREAM, article(1))
    for _ in range(2):  # two process deaths while the entry waits (e.g. for a send slot)
        started = asyncio.Event()

        async def waits(_: Article, __: Delivery, started: asyncio.Event = started) -> None:
            started.set()
            await asyncio.Event().wait()  # never set: held until the task is cancelled

        task = asyncio.create_task(_consumer(redis, waits).run(asyncio.Event()))
        await asyncio.wait_for(started.wait(), 10)
        task.cancel()  # like SIGKILL: no ack, no error recorded
        await asyncio.gather(task, return_exceptions=True)
    handled: list[int] = []

    async def works(_: Article, delivery: Delivery) -> None:
        handled.append(delivery.deliveries)

    stop = asyncio.Event()
    task = asyncio.create_task(_consumer(redis, works).run(stop))
    dead = dead_letter(STREAM)

    async def settled() -> bool:
        return bool(handled) or int(await redis.xlen(dead)) > 0

    await wait_until(settled, timeout=10)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert int(await redis.xlen(dead)) == 0, "dead-lettered although no attempt failed"
    assert handled == [3]
