"""The notifier role run as a child process by the crash test (not a test module)."""

from __future__ import annotations

import asyncio
import signal
import sys
from pathlib import Path

from bot.notifier import role as notifier_role
from core.redis_conn import make_client
from tests.bot.helpers import make_ctx, make_settings


async def main(redis_url: str, api_url: str, data_dir: str) -> None:
    """Run the notifier as consumer ``crashy-notifier-0`` until SIGTERM (or SIGKILL)."""
    settings = make_settings(redis_url, Path(data_dir), api_url)
    redis = make_client(redis_url)
    ctx = make_ctx("notifier", settings, redis, consumer="crashy-notifier-0")
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, ctx.stop.set)
    try:
        await notifier_role.run(ctx)
    finally:
        await redis.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
