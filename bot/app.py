"""The PTB Application: handlers registered with guards, commands published to Telegram."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BaseUpdateProcessor,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.admin import AdminCommands, admin_only
from bot.commands import COMMANDS, NotAllowedError, UsageError, usage
from bot.handlers import UserCommands
from bot.metrics import CommandMetrics
from bot.ptb_limiter import SharedRateLimiter
from bot.telegram_api import api_urls
from bot.views import CALLBACK_SUB, Services, reply

log = logging.getLogger(__name__)

Ctx = ContextTypes.DEFAULT_TYPE
Handler = Callable[[Update, Ctx], Coroutine[Any, Any, None]]
AnyApp = Application[Any, Any, Any, Any, Any, Any]


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; those of one chat one at a time, in order.

    PTB's default handles every update in sequence, so one slow reply (a group whose message
    budget is spent, a Bot API call timing out) would stall every other chat's commands.
    Serialising per chat keeps each chat's read-modify-write of its settings race-free.
    """

    def __init__(self, max_concurrent_updates: int = 256) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._waiting: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        """Run ``coroutine`` once no other update of the same chat is being handled."""
        chat = update.effective_chat if isinstance(update, Update) else None
        key = chat.id if chat is not None else 0
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._waiting[key] = self._waiting.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._waiting[key] -= 1
            if not self._waiting[key]:
                # Forget idle chats so the table does not grow with every chat ever seen.
                del self._waiting[key], self._locks[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


def safe(name: str, handler: Handler, metrics: CommandMetrics) -> Handler:
    """Turn bad arguments into a usage message and any failure into a short apology."""

    async def wrapped(update: Update, context: Ctx) -> None:
        try:
            await handler(update, context)
        except UsageError as exc:
            metrics.commands.labels(name, "usage").inc()
            text = str(exc)
            known = name in {c.name for c in COMMANDS}
            if known and not isinstance(exc, NotAllowedError) and not text.startswith("Usage"):
                text = f"{text}\n{usage(name)}"
            # It may quote what the user typed; text nodes need only <, > and & escaped.
            await reply(update, html.escape(text, quote=False))
            return
        except Exception as exc:
            metrics.commands.labels(name, "error").inc()
            # Only the type is logged here: messages of some errors echo request data.
            log.exception("command /%s failed: %s", name, type(exc).__name__)
            await reply(update, "Sorry, that did not work. Please try again later.")
            return
        metrics.commands.labels(name, "ok").inc()

    return wrapped


async def on_error(update: object, context: Ctx) -> None:
    """Log errors PTB caught outside our handlers (e.g. polling), without update contents."""
    error = context.error
    log.warning("bot error: %s", type(error).__name__ if error else "unknown")


def build_application(
    *,
    token: str,
    api_url: str | None,
    svc: Services,
    admin: AdminCommands,
    admin_ids: frozenset[int],
    limiter: SharedRateLimiter,
    metrics: CommandMetrics,
) -> AnyApp:
    """Build the Application with every handler; polling is started by the role."""
    base_url, file_url = api_urls(api_url)
    app: AnyApp = (
        ApplicationBuilder()
        .token(token)
        .base_url(base_url)
        .base_file_url(file_url)
        .rate_limiter(limiter)
        .concurrent_updates(PerChatUpdateProcessor())
        .get_updates_read_timeout(15)
        .build()
    )
    user = UserCommands(svc)
    handlers: dict[str, Handler] = {
        "start": user.start, "help": user.help, "subscribe": user.subscribe,
        "unsubscribe": user.unsubscribe, "list": user.list, "regions": user.regions,
        "threshold": user.threshold, "kinds": user.kinds, "mute": user.mute,
        "unmute": user.unmute, "digest": user.digest, "timezone": user.timezone,
        "latest": user.latest, "status": user.status,
        "stats": admin_only(admin_ids, admin.stats),
        "feeds": admin_only(admin_ids, admin.feeds),
        "addfeed": admin_only(admin_ids, admin.addfeed),
        "removefeed": admin_only(admin_ids, admin.removefeed),
        "broadcast": admin_only(admin_ids, admin.broadcast),
    }
    for name, handler in handlers.items():
        app.add_handler(CommandHandler(name, safe(name, handler, metrics)))
    app.add_handler(CallbackQueryHandler(
        safe("subscribe_button", user.subscribe_button, metrics), pattern=f"^{CALLBACK_SUB}"
    ))
    app.add_error_handler(on_error)
    return app


def bot_commands(*, admin: bool = False) -> list[BotCommand]:
    """Return the commands published with setMyCommands (admin ones only for admins)."""
    return [BotCommand(c.name, c.description) for c in COMMANDS if admin or not c.admin]


async def publish_commands(app: AnyApp, admin_ids: frozenset[int]) -> None:
    """Publish the public command list, and the full list in each admin's private chat."""
    await app.bot.set_my_commands(bot_commands())
    for admin_id in sorted(admin_ids):
        try:
            await app.bot.set_my_commands(
                bot_commands(admin=True), scope=BotCommandScopeChat(admin_id)
            )
        except TelegramError as exc:
            # An admin who never opened a chat with the bot: the menu is a convenience only.
            log.info("admin command menu not set for %s: %s", admin_id, type(exc).__name__)
