"""Helpers for bot tests: alerts, settings, role contexts, running a role, talking to it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from pydantic import SecretStr
from redis.asyncio import Redis

from core.keys import ALERTS
from core.lifecycle import RoleContext
from core.metrics import CoreMetrics
from core.models import Alert, Article, Label
from core.settings import Settings
from core.streams import publish
from core.tuning import StreamSettings
from testkit.botapi.emulator import BotAPIEmulator

TOKEN = "987654321:AAFtestTOKENsecretXYZabcdefghijklmnopq"
# The user ``say`` speaks as unless told otherwise.
USER = 4242


def make_alert(
    n: int | str,
    *,
    story: str = "",
    source: str = "Outlet",
    regions: tuple[str, ...] = ("gaza",),
    label: Label = "violation",
    score: float = 0.9,
    title: str | None = None,
    evidence: str = "Shelling continued despite the truce.",
) -> Alert:
    """Return a valid alert ``al<n>`` (article ``a<n>``) of story ``story``."""
    now = datetime.now(UTC)
    article = Article(
        id=f"a{n}", feed_id="f", source=source, url=f"https://example.org/{n}",
        title=title if title is not None else f"Truce broken in report {n}",
        published=now, fetched=now,
    )
    return Alert(
        id=f"al{n}", article=article, label=label, score=score, evidence=evidence,
        regions=regions, story_id=story,
    )


def make_settings(
    redis_url: str, tmp: Path, api_url: str | None, *, token: str | None = TOKEN,
    admins: frozenset[int] = frozenset(), config_dir: Path | None = None,
    public_base_url: str | None = None,
) -> Settings:
    """Settings for a test: our Redis, the emulator, a temp data dir, quick streams."""
    return Settings(
        redis_url=redis_url,
        telegram_bot_token=SecretStr(token) if token else None,
        telegram_api_url=api_url,
        admin_ids=admins,
        data_dir=tmp,
        config_dir=config_dir if config_dir is not None else tmp / "config",
        public_base_url=public_base_url,
        streams=StreamSettings(block_ms=100, claim_interval_s=0.5, retry_backoff_s=0.1),
    )


def make_ctx(name: str, settings: Settings, redis: Redis, consumer: str = "") -> RoleContext:
    """A RoleContext as core.lifecycle builds it."""
    registry = CollectorRegistry()
    return RoleContext(
        name=name, settings=settings, redis=redis, stop=asyncio.Event(),
        consumer_name=consumer or f"test-{name}-0", registry=registry,
        metrics=CoreMetrics(registry),
    )


@contextlib.asynccontextmanager
async def running(
    role: Callable[[RoleContext], Coroutine[Any, Any, None]], ctx: RoleContext,
    stop_timeout: float = 15.0,
) -> AsyncIterator[asyncio.Task[None]]:
    """Run a role in a task; on exit set stop and require it to return within the timeout."""
    task = asyncio.create_task(role(ctx))
    try:
        yield task
    finally:
        ctx.stop.set()
        await asyncio.wait_for(task, stop_timeout)


async def publish_alert(redis: Redis, alert: Alert) -> None:
    """Put an alert on the alerts stream as the classifier does."""
    await publish(redis, ALERTS, alert)


async def say(
    emu: BotAPIEmulator, chat: int, text: str, *, user_id: int | None = USER,
    chat_type: str = "private", sender_chat: dict[str, Any] | None = None,
    language_code: str | None = None,
) -> str:
    """Send ``text`` as a user and return the bot's reply (the next message in the chat)."""
    before = len(emu.messages.get(chat, []))
    emu.inject_message(chat, text, user_id=user_id, chat_type=chat_type, sender_chat=sender_chat,
                       language_code=language_code)
    messages = await emu.wait_for_messages(chat, before + 1)
    return messages[before].current


def buttons(markup: dict[str, Any] | None) -> dict[str, str]:
    """Button text -> callback data of a recorded inline keyboard."""
    assert markup is not None, "the message has no keyboard"
    return {b["text"]: b["callback_data"] for row in markup["inline_keyboard"] for b in row}
