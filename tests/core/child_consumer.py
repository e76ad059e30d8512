"""A consumer run as a child process by the crash and SIGTERM tests (not a test module)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from core.lifecycle import RoleContext, run_roles
from core.models import Article
from core.settings import Settings, StreamSettings
from core.streams import ARTICLES, Delivery, StreamConsumer


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
    """Handle each entry in 1 s, recording start and end, so SIGTERM lands mid-batch."""

    async def handler(article: Article, _: Delivery) -> None:
        await ctx.redis.rpush("started", article.id)
        await asyncio.sleep(1.0)
        await ctx.redis.rpush("finished", article.id)

    consumer = StreamConsumer(
        ctx.redis, stream=ARTICLES, group="g", consumer=ctx.consumer_name, model=Article,
        handler=handler, settings=ctx.settings.streams, concurrency=10,
    )
    await consumer.run(ctx.stop)


def main() -> None:
    """Dispatch on argv: ``hang URL`` or ``slow URL DATA_DIR``."""
    mode, url = sys.argv[1], sys.argv[2]
    if mode == "hang":
        asyncio.run(hang_after_first(url))
        return
    settings = Settings(
        redis_url=url, data_dir=Path(sys.argv[3]), streams=StreamSettings(batch_size=10),
        shutdown_deadline_s=8,
    )
    sys.exit(asyncio.run(run_roles(settings, [("slow", slow_role)])))


if __name__ == "__main__":
    main()
