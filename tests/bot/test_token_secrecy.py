"""No log line, stored error, exception text or metric carries the bot token (run at DEBUG)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import generate_latest
from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.notifier import role as notifier_role
from bot.store.subscriptions import SubscriptionStore
from core.logging_setup import configure_logging
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import wait_until
from tests.bot.helpers import (
    TOKEN,
    make_alert,
    make_ctx,
    make_settings,
    publish_alert,
    running,
    say,
)


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def captured() -> Iterator[tuple[io.StringIO, _Keep]]:
    """Log everything at DEBUG through the service's logging set-up, plus raw records."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()
    configure_logging("DEBUG", "json", stream=out)
    keep = _Keep()
    root.addHandler(keep)
    try:
        yield out, keep
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


async def _stored_texts(redis: Redis) -> str:
    parts: list[str] = []
    for key in await redis.keys("*"):
        kind = await redis.type(key)
        if kind == "stream":
            parts += [str(e) for e in await redis.xrange(key) or []]
        elif kind == "hash":
            parts.append(str(await redis.hgetall(key)))
        elif kind == "string":
            parts.append(str(await redis.get(key)))
    return "\n".join(parts)


async def test_token_never_leaks(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path,
    captured: tuple[io.StringIO, _Keep],
) -> None:
    out, keep = captured
    store = SubscriptionStore(redis)
    for chat in (1, 2, 3, 4):
        await store.subscribe(chat, ["gaza"])
    emulator.blocked.add(2)
    emulator.missing.add(3)
    emulator.inject_fault("5xx", chat_id=4, count=2)
    emulator.inject_fault("429", chat_id=1, retry_after=1)
    settings = make_settings(redis_server.url, tmp_path, emulator.url, admins=frozenset({9}))
    notifier = make_ctx("notifier", settings, redis)
    bot = make_ctx("bot", settings, redis, consumer="test-bot-0")
    async with running(notifier_role.run, notifier), running(bot_role.run, bot):
        await publish_alert(redis, make_alert(1))
        assert await wait_until(lambda: len(emulator.messages.get(4, [])) == 1)
        assert await wait_until(lambda: len(emulator.messages.get(1, [])) == 1)
        await say(emulator, 5, "/threshold nonsense", user_id=5)
        await say(emulator, 6, "/stats", user_id=6)
        emulator.inject_fault("5xx", method="sendMessage", chat_id=7)
        await say(emulator, 7, "/list", user_id=7)  # the first reply fails, the apology arrives
    # A wrong token: the role fails at getMe; its exception must not echo the token either.
    wrong = "555555:BBFwrongTOKENsecretXYZabcdefghijklmnopq"
    bad = make_ctx("notifier", make_settings(redis_server.url, tmp_path, emulator.url,
                                             token=wrong), redis, consumer="bad-0")
    with pytest.raises(Exception) as failure:
        await notifier_role.run(bad)
    logging.getLogger("tests").error("role failed", exc_info=failure.value)

    lines = out.getvalue()
    assert "deactivating chat 2" in lines and "rejected TELEGRAM_BOT_TOKEN" in lines
    assert len(lines) > 1000  # DEBUG output was really captured
    for secret in (TOKEN, wrong, TOKEN.split(":", 1)[1], wrong.split(":", 1)[1]):
        assert secret not in lines
        assert secret not in str(failure.value) and secret not in repr(failure.value)
        assert secret not in await _stored_texts(redis)
        for ctx in (notifier, bot):
            assert secret not in generate_latest(ctx.registry).decode()
        # Our own modules never even hand the token to the logging system.
        for record in keep.records:
            if record.name.startswith("bot."):
                assert secret not in record.getMessage()
