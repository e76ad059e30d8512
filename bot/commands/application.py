"""The PTB Application: handlers registered with guards, commands published to Telegram."""

from __future__ import annotations

import html
import logging
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.commands.admin import AdminCommands, admin_only
from bot.commands.args import BY_NAME, COMMANDS, NotAllowedError, UsageError, usage
from bot.commands.channels import ChannelCommands
from bot.commands.export import ExportCommands
from bot.commands.feedback import FeedbackButtons
from bot.commands.handlers import UserCommands
from bot.commands.language import LanguageCommands
from bot.commands.metrics import CommandMetrics
from bot.commands.services import Services
from bot.commands.truces import TruceCommands
from bot.commands.types import Ctx, Handler
from bot.commands.updates import PerChatUpdateProcessor
from bot.commands.views import CALLBACK_LANG, CALLBACK_SUB, reply, translator_for
from bot.i18n import DEFAULT, LANGUAGES, N_, Translator, translator
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.api import api_urls
from bot.telegram.errors import TelegramError
from bot.telegram.rate_limiter import SharedRateLimiter
from bot.telegram.votes import CALLBACK_VOTE

log = logging.getLogger(__name__)

AnyApp = Application[Any, Any, Any, Any, Any, Any]


APOLOGY = N_("Sorry, that did not work. Please try again later.")


def safe(
    name: str, handler: Handler, metrics: CommandMetrics, subs: SubscriptionStore | None = None
) -> Handler:
    """Turn bad arguments into a usage message and any failure into a short apology."""
    known = name in BY_NAME

    async def wrapped(update: Update, context: Ctx) -> None:
        try:
            await handler(update, context)
        except UsageError as exc:
            metrics.commands.labels(name, "usage").inc()
            t = await _translator(update, subs)
            lines = [exc.text(t)] if exc.message else []
            if known and not isinstance(exc, NotAllowedError):
                lines.append(usage(name, t))
            if not lines:
                return  # nothing to say: Telegram refuses an empty message
            # It may quote what the user typed; text nodes need only <, > and & escaped.
            await reply(update, html.escape(t.lines("\n".join(lines)), quote=False))
            return
        except Exception as exc:
            metrics.commands.labels(name, "error").inc()
            # Only the type is logged here: messages of some errors echo request data.
            log.exception("command /%s failed: %s", name, type(exc).__name__)
            t = await _translator(update, subs)
            await reply(update, t.lines(t.gettext(APOLOGY)))
            return
        metrics.commands.labels(name, "ok").inc()

    return wrapped


async def _translator(update: Update, subs: SubscriptionStore | None) -> Translator:
    """The chat's language for an error reply; English when even that cannot be read."""
    if subs is None:
        return translator(None)
    try:
        return await translator_for(update, subs)
    except Exception as exc:  # e.g. Redis down: the apology still goes out, in English
        log.warning("chat language unknown for an error reply: %s", type(exc).__name__)
        return translator(None)


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
    truce_page_base: str | None = None,
    feedback: FeedbackButtons | None = None,
    channels: ChannelCommands | None = None,
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
    user = UserCommands(svc, admin_ids)
    language = LanguageCommands(svc)
    truces = TruceCommands(svc, truce_page_base)
    handlers: dict[str, Handler] = {
        "start": user.start, "help": user.help, "subscribe": user.subscribe,
        "unsubscribe": user.unsubscribe, "list": user.list, "regions": user.regions,
        "threshold": user.threshold, "kinds": user.kinds, "mute": user.mute,
        "unmute": user.unmute, "digest": user.digest, "timezone": user.timezone,
        "latest": user.latest, "status": user.status, "language": language.language,
        "ceasefires": truces.ceasefires, "ceasefire": truces.ceasefire,
        "stats": admin_only(admin_ids, admin.stats, svc),
        "feeds": admin_only(admin_ids, admin.feeds, svc),
        "addfeed": admin_only(admin_ids, admin.addfeed, svc),
        "removefeed": admin_only(admin_ids, admin.removefeed, svc),
        "reactivate": admin_only(admin_ids, admin.reactivate, svc),
        "broadcast": admin_only(admin_ids, admin.broadcast, svc),
        "export": admin_only(admin_ids, ExportCommands(svc, admin.config_dir).export, svc),
    }
    if channels is not None:
        handlers |= {
            "bindchannel": admin_only(admin_ids, channels.bind, svc),
            "unbindchannel": admin_only(admin_ids, channels.unbind, svc),
            "channels": admin_only(admin_ids, channels.list, svc),
        }
    for name, handler in handlers.items():
        app.add_handler(CommandHandler(name, safe(name, handler, metrics, svc.subs)))
    if channels is not None:
        # A pairing code posted in a channel; it answers only in the admin's private chat.
        app.add_handler(CommandHandler(
            "bindchannel", channels.in_channel, filters=filters.UpdateType.CHANNEL_POST
        ))
    app.add_handler(CallbackQueryHandler(
        safe("subscribe_button", user.subscribe_button, metrics, svc.subs),
        pattern=f"^{CALLBACK_SUB}",
    ))
    app.add_handler(CallbackQueryHandler(
        safe("language_button", language.button, metrics, svc.subs), pattern=f"^{CALLBACK_LANG}"
    ))
    if feedback is not None:
        app.add_handler(CallbackQueryHandler(
            safe("vote_button", feedback.press, metrics, svc.subs), pattern=f"^{CALLBACK_VOTE}"
        ))
    # Registered last: only what no handler above took reaches them.
    # Never in a channel: its readers must not see the bot answer its admins' posts.
    app.add_handler(MessageHandler(
        filters.COMMAND & ~filters.UpdateType.CHANNEL_POSTS,
        safe("unknown", user.unknown, metrics, svc.subs),
    ))
    app.add_handler(MessageHandler(
        filters.TEXT & filters.ChatType.PRIVATE, safe("text", user.plain_text, metrics, svc.subs)
    ))
    app.add_handler(CallbackQueryHandler(
        safe("stale_button", user.stale_button, metrics, svc.subs)
    ))
    app.add_error_handler(on_error)
    return app


def bot_commands(*, admin: bool = False, lang: str | None = None) -> list[BotCommand]:
    """Return the commands published with setMyCommands (admin ones only for admins)."""
    t = translator(lang)
    return [BotCommand(c.name, t.gettext(c.description))
            for c in COMMANDS if admin or not c.admin]


async def publish_commands(app: AnyApp, admin_ids: frozenset[int]) -> None:
    """Publish the public command list, and the full list in each admin's private chat."""
    await app.bot.set_my_commands(bot_commands())
    for lang in LANGUAGES:
        if lang != DEFAULT:  # the menu Telegram shows to users whose app is in ``lang``
            await app.bot.set_my_commands(bot_commands(lang=lang), language_code=lang)
    for admin_id in sorted(admin_ids):
        scope = BotCommandScopeChat(admin_id)
        try:
            await app.bot.set_my_commands(bot_commands(admin=True), scope=scope)
            # Telegram looks for the scope's menu in the admin's app language first.
            for lang in LANGUAGES:
                if lang != DEFAULT:
                    await app.bot.set_my_commands(
                        bot_commands(admin=True, lang=lang), scope=scope, language_code=lang)
        except TelegramError as exc:
            # An admin who never opened a chat with the bot: the menu is a convenience only.
            log.info("admin command menu not set for %s: %s", admin_id, type(exc).__name__)
