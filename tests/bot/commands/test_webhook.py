"""Webhook mode: updates accepted only with the secret token; replies go out as in polling."""

from __future__ import annotations

import json
import time
from pathlib import Path

import aiohttp
from pydantic import SecretStr
from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.commands.webhook import SECRET_HEADER
from core.redis_conn import RedisProcess, free_port
from core.settings import Settings
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import wait_until
from tests.bot.helpers import make_ctx, make_settings, running

SECRET = "s3cret-webhook-token-0123456789"


def _update(update_id: int, chat: int, text: str) -> dict[str, object]:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id, "date": int(time.time()),
            "chat": {"id": chat, "type": "private"},
            "from": {"id": chat, "is_bot": False, "first_name": "u"},
            "text": text, "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


def _webhook_settings(
    redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> tuple[Settings, str]:
    """Bot settings in webhook mode on a free local port, and the URL updates are posted to."""
    port = free_port()
    settings = make_settings(redis_server.url, tmp_path, emulator.url).model_copy(update={
        "telegram_webhook_url": "https://bot.example.org/telegram/webhook",
        "telegram_webhook_secret": SecretStr(SECRET),
        "telegram_webhook_port": port,
    })
    return settings, f"http://127.0.0.1:{port}/telegram/webhook"


async def test_webhook_checks_secret_and_serves_commands(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    settings, url = _webhook_settings(redis_server, emulator, tmp_path)
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        assert await wait_until(lambda: bool(emulator.webhook))
        assert emulator.webhook["secret_token"] == SECRET
        async with aiohttp.ClientSession() as http:
            for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET[:-1]}):
                body = json.dumps(_update(1, 31, "/help"))
                async with http.post(url, data=body, headers=headers) as resp:
                    assert resp.status == 403
            async with http.post(url, data=json.dumps(_update(2, 32, "/help")),
                                 headers={SECRET_HEADER: SECRET}) as resp:
                assert resp.status == 200
            async with http.post(url, data="{not json", headers={SECRET_HEADER: SECRET}) as resp:
                assert resp.status == 400
        assert await wait_until(lambda: bool(emulator.messages.get(32)))
    assert "Commands" in emulator.texts(32)[0]
    assert 31 not in emulator.messages
    assert emulator.counters.requests.get("getUpdates", 0) == 0


async def test_webhook_answers_malformed_updates_with_400_and_keeps_serving(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    settings, url = _webhook_settings(redis_server, emulator, tmp_path)
    nested: dict[str, object] = {"update_id": 5}
    inner = nested
    for _ in range(200):
        inner["message"] = inner = {}
    bodies = [
        "null", "[]", "[1, 2]", '"text"', "42", "{}", '{"update_id": "7"}',
        "[" * 100_000 + "]" * 100_000,
        '{"update_id": 3, "message": ' + "[" * 50_000 + "]" * 50_000 + "}",
        json.dumps(nested),
        json.dumps({"update_id": 4, "message": {"chat": "not a chat"}}),
    ]
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        assert await wait_until(lambda: bool(emulator.webhook))
        async with aiohttp.ClientSession() as http:
            for body in bodies:
                async with http.post(url, data=body, headers={SECRET_HEADER: SECRET}) as resp:
                    assert resp.status == 400, body[:40]
                    answer = await resp.json()
                    assert answer["ok"] is False and len(answer["error"]) < 80
                    assert "Traceback" not in answer["error"]
            async with http.post(url, data=json.dumps(_update(9, 33, "/help")),
                                 headers={SECRET_HEADER: SECRET}) as resp:
                assert resp.status == 200
        assert await wait_until(lambda: bool(emulator.messages.get(33)))
    assert "Commands" in emulator.texts(33)[0]
