"""Without TELEGRAM_BOT_TOKEN: alerts go to the console and alerts.jsonl; the log says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot import app_role, notifier_role
from core.redis_conn import RedisProcess
from tests.bot.helpers import (
    make_alert,
    make_ctx,
    make_settings,
    publish_alert,
    running,
    wait_until,
)


async def test_console_sink_prints_and_appends_once(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(redis_server.url, tmp_path, None, token=None)
    path = tmp_path / "alerts.jsonl"
    async with running(notifier_role.run, make_ctx("notifier", settings, redis)), \
            running(app_role.run, make_ctx("bot", settings, redis)):
        await publish_alert(redis, make_alert(1, story="s", source="AP"))
        await publish_alert(redis, make_alert(2, story="s", source="Reuters"))
        await publish_alert(redis, make_alert(1, story="s", source="AP"))  # redelivered
        await publish_alert(redis, make_alert(3, label="none"))
        assert await wait_until(lambda: path.exists() and len(path.read_text().splitlines()) >= 2)
        await wait_until(lambda: False, timeout=0.5)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["id"] for r in records] == ["al1", "al2"]
    assert records[1]["story_sources"] == ["AP", "Reuters"]
    printed = capsys.readouterr().out
    assert printed.count("ALERT ") == 2 and "Truce broken in report 1" in printed
    assert "bot is off" in caplog.text
