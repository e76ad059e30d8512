"""``feeds list`` shows each feed's WebSub state: pushed via a hub until, failed, expired, none."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from click.testing import CliRunner
from redis.asyncio import Redis

from core.redis_conn import RedisProcess
from core.websub_state import load_subscription, utc
from tests.workers.poller.websub_support import seeded_subscriptions
from workers.poller.cli import feeds_group


async def test_list_shows_websub_state(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with seeded_subscriptions(redis, tmp_path) as seeded:
        config = tmp_path / "config"
        config.mkdir()
        (config / "feeds.yaml").write_text(
            "feeds:\n"
            f"  - {{id: pushed, url: '{seeded.pushed.feed_url}', name: Pushed}}\n"
            f"  - {{id: refused, url: '{seeded.refused.feed_url}', name: Refused}}\n"
            f"  - {{id: lapsed, url: '{seeded.lapsed.feed_url}', name: Lapsed}}\n"
            "  - {id: plain, url: 'https://plain.example.org/rss', name: Plain}\n",
            encoding="utf-8")
        monkeypatch.setenv("CONFIG_DIR", str(config))
        monkeypatch.setenv("REDIS_URL", redis_server.url)
        pushed = await load_subscription(redis, "pushed")
        lapsed = await load_subscription(redis, "lapsed")
        assert pushed is not None and lapsed is not None
        # The command runs its own event loop: off this one.
        result = await asyncio.to_thread(CliRunner().invoke, feeds_group, ["list"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line for line in result.output.splitlines()}
    assert lines["ID"].split()[-1] == "WEBSUB"
    assert lines["pushed"].endswith(
        f"push via {seeded.pushed.hub_url} until {utc(pushed.expires)}")
    assert lines["lapsed"].endswith(
        f"expired {utc(lapsed.expires)} (hub {seeded.lapsed.hub_url})")
    assert f"failed at {seeded.refused.hub_url}, retry " in lines["refused"]
    assert lines["refused"].endswith("hub answered HTTP 503: hub down")
    assert lines["plain"].endswith(" none")
