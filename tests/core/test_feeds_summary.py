"""/readyz and /status lead with "N of M feeds failing", ready or not."""

from __future__ import annotations

import asyncio
from pathlib import Path

import yaml
from redis.asyncio import Redis

from core import keys
from core.health import run as health_role
from core.lifecycle import run_roles
from core.redis_conn import RedisProcess, free_port
from core.settings import Settings
from testkit.pipeline import readyz
from testkit.waiting import wait_until
from tests.core.helpers import fetch


async def test_readyz_and_status_lead_with_feeds_failing(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    (tmp_path / "feeds.yaml").write_text(yaml.safe_dump({"feeds": [
        {"id": f"f{i}", "url": f"https://example.org/{i}.xml", "name": f"F{i}"}
        for i in range(2)]}))
    await redis.hset(keys.feed_state("f0"), mapping={"error_streak": "3", "polls_total": "3"})
    port = free_port()
    settings = Settings(redis_url=redis_server.url, data_dir=tmp_path, config_dir=tmp_path,
                        health_port=port)
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_roles(settings, [("health", health_role)], stop=stop, install_signals=False))
    try:

        async def answered() -> bool:
            return (await readyz(port))[0] == 200

        assert await wait_until(answered, timeout=30)
        status, body = await readyz(port)
        # One failing feed of two: ready, and still the first thing the body says.
        assert status == 200
        assert next(iter(body.items())) == ("summary", "1 of 2 feeds failing")
        _, ctype, page = await fetch(f"http://127.0.0.1:{port}/status")
        assert ctype.startswith("text/html")
        line = '<p class="bad" id="feeds-failing">1 of 2 feeds failing</p>'
        assert line in page and page.index(line) < page.index("<h2>Roles")

        await redis.hset(keys.feed_state("f1"), mapping={"error_streak": "1", "polls_total": "1"})

        async def all_failing() -> bool:
            return (await readyz(port))[0] == 503

        assert await wait_until(all_failing, timeout=30)  # feed health is cached for 5 s
        status, body = await readyz(port)
        assert next(iter(body.items())) == ("summary", "2 of 2 feeds failing")
        assert body["problems"] == ["2 of 2 feeds failing"]
    finally:
        stop.set()
        assert await task == 0
