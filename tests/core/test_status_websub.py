"""/status shows WebSub: feeds on push, each one's hub and lease end, failed and expired ones."""

from __future__ import annotations

import re
from html import escape
from pathlib import Path

from redis.asyncio import Redis

from core.redis_conn import RedisProcess
from core.websub_state import load_subscription, utc
from tests.core.helpers import fetch, health_role_running
from tests.workers.poller.websub_support import seeded_subscriptions


def _row(page: str, feed: str) -> str:
    """The WebSub table's row of ``feed`` (its cells, tags stripped)."""
    section = page.split("<h2>WebSub</h2>", 1)[1].split("<h2>", 1)[0]
    for row in re.findall(r"<tr>(.*?)</tr>", section):
        cells = [re.sub(r"<[^>]+>", " ", c).strip() for c in re.findall(r"<td>(.*?)</td>", row)]
        if cells and cells[0] == feed:
            return " | ".join(cells)
    raise AssertionError(f"no WebSub row for {feed}")


async def test_status_shows_websub_subscriptions(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path
) -> None:
    async with seeded_subscriptions(redis, tmp_path) as seeded:
        pushed = await load_subscription(redis, "pushed")
        lapsed = await load_subscription(redis, "lapsed")
        assert pushed is not None and lapsed is not None
        async with health_role_running(redis_server.url, tmp_path / "data") as base:
            status, _, page = await fetch(base + "/status")
    assert status == 200
    assert '<p id="websub-push">1 feed on WebSub push, of 3 with a subscription</p>' in page
    row = _row(page, "pushed")
    assert f"push | {escape(seeded.pushed.hub_url)} | {utc(pushed.expires)}" in row
    row = _row(page, "lapsed")
    assert f"expired | {escape(seeded.lapsed.hub_url)} | {utc(lapsed.expires)}" in row
    row = _row(page, "refused")
    assert row.startswith(f"refused | failed | {escape(seeded.refused.hub_url)} | -")
    assert "hub answered HTTP 503: hub down" in row and "next try" in row
    assert page.count('<span class="bad">expired</span>') == 1
    assert page.count('<span class="bad">failed</span>') == 1
