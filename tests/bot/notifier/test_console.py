"""Without TELEGRAM_BOT_TOKEN: alerts go to the console and alerts.jsonl; the log says so."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.notifier import role as notifier_role
from bot.notifier.console import render_first
from core.redis_conn import RedisProcess
from testkit.waiting import quiet, wait_until
from tests.bot.helpers import make_alert, make_ctx, make_settings, publish_alert, running


async def test_console_sink_prints_each_story_once_and_appends_every_alert(
    redis: Redis, redis_server: RedisProcess, tmp_path: Path,
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture,
) -> None:
    settings = make_settings(redis_server.url, tmp_path, None, token=None)
    path = tmp_path / "alerts.jsonl"
    ctx = make_ctx("notifier", settings, redis)
    async with running(notifier_role.run, ctx), \
            running(bot_role.run, make_ctx("bot", settings, redis)):
        gaza = ("gaza-israel",)  # the ids of config/regions.yaml, as the classifier emits them
        await publish_alert(redis, make_alert(1, story="s", source="AP", score=0.87, regions=gaza))
        await publish_alert(redis, make_alert(2, story="s", source="Reuters", regions=gaza))
        await publish_alert(redis, make_alert(1, story="s", source="AP", regions=gaza))  # resent
        await publish_alert(redis, make_alert(3, label="none"))
        await publish_alert(redis, make_alert(
            4, story="t", source="BBC", regions=("sudan", "dr-congo"),
            evidence="RSF shelled El Fasher.",
        ))
        assert await wait_until(lambda: path.exists() and len(path.read_text().splitlines()) >= 3)
        await quiet(0.5)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["id"] for r in records] == ["al1", "al2", "al4"]
    assert records[1]["story_sources"] == ["AP", "Reuters"]
    assert [r["first_in_story"] for r in records] == [True, False, True]
    printed = capsys.readouterr().out
    blocks = printed.split("ALERT ")[1:]
    assert len(blocks) == 2, printed
    first, other = blocks
    # Why it fired, where, how sure, and the link: all in the story's one block.
    assert "Truce broken in report 1" in first and "87%" in first
    assert '"Shelling continued despite the truce."' in first
    assert "where:  Gaza" in first and "https://example.org/1" in first
    also = [line for line in printed.splitlines() if line.startswith("ALSO ")]
    assert len(also) == 1
    assert "also reported by Reuters https://example.org/2 (2 sources)" in also[0]
    assert "where:  Sudan" in other and "DR Congo" in other
    assert "RSF shelled El Fasher." in other
    assert "bot is off" in caplog.text
    # One latency observation per printed alert, since publication and since fetch.
    for since in ("published", "fetched"):
        count = ctx.registry.get_sample_value(
            "cw_alert_delivery_latency_seconds_count", {"since": since}
        )
        assert count == 3


def test_console_block_strips_terminal_escapes_and_reports_missing_evidence() -> None:
    alert = make_alert(5, title="Evil \x1b[31mred\x1b[0m\ttitle", evidence="")
    text = render_first(alert, {})
    assert "\x1b" not in text and "Evil [31mred [0m title" in text
    assert "(no evidence sentence)" in text and "where:  gaza" in text
