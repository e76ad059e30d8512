"""A consumer run as a child process by the crash and SIGTERM tests (not a test module)."""

from __future__ import annotations

import asyncio
import math
import sys
from pathlib import Path

from core.keys import ARTICLES
from core.lifecycle import RoleContext, run_roles
from core.models import Article
from core.settings import Settings
from core.streams import Delivery, StreamConsumer
from core.tuning import StreamSettings
from testkit.waiting import wait_until


async def hang_after_first(url: str) -> None:
    """Read a batch of 100, count the first entry, then hang without acking (to be SIGKILLed)."""
    from core.redis_conn import make_client

    redis = make_client(url)
    hang = asyncio.Event()

    async def handler(article: Article, _: Delivery) -> None:
        await redis.hincrby("handled", article.id, 1)
        await hang.wait()

    consumer = StreamConsumer(
        redis, stream=ARTICLES, group="g", consumer="doomed", model=Article, handler=handler,
        settings=StreamSettings(batch_size=100),
    )
    await consumer.run(asyncio.Event())


async def slow_role(ctx: RoleContext) -> None:
    """Record each entry's start, wait for the test's "go" key, record its end.

    The test decides when handlers may finish, so a signal or a kill lands mid-batch however
    slow the machine is.
    """

    async def go() -> bool:
        return bool(await ctx.redis.exists("go"))

    async def handler(article: Article, _: Delivery) -> None:
        await ctx.redis.rpush("started", article.id)
        # No deadline of our own: the test kills or stops this process when it is done.
        await wait_until(go, timeout=math.inf)
        await ctx.redis.rpush("finished", article.id)

    consumer = StreamConsumer(
        ctx.redis, stream=ARTICLES, group="g", consumer=ctx.consumer_name, model=Article,
        handler=handler, settings=ctx.settings.streams, concurrency=10,
    )
    await consumer.run(ctx.stop)


def main() -> None:
    """Dispatch on argv: ``hang URL`` or ``slow URL DATA_DIR [CLAIM_IDLE_MS]``."""
    mode, url = sys.argv[1], sys.argv[2]
    if mode == "hang":
        asyncio.run(hang_after_first(url))
        return
    # An optional 4th argument sets claim_idle_ms: huge, only the consumer itself gets its
    # pending entries back (the restart test).
    claim_idle_ms = int(sys.argv[4]) if len(sys.argv) > 4 else 30_000
    settings = Settings(
        redis_url=url, data_dir=Path(sys.argv[3]), shutdown_deadline_s=8,
        streams=StreamSettings(batch_size=10, claim_idle_ms=claim_idle_ms),
    )
    sys.exit(asyncio.run(run_roles(settings, [("slow", slow_role)])))


if __name__ == "__main__":
    main()
