"""The bot role: PTB Application embedded in our lifecycle (long polling inside our task)."""

from __future__ import annotations

import contextlib
import logging

from bot.commands.admin import AdminCommands
from bot.commands.application import AnyApp, build_application, publish_commands
from bot.commands.channels import ChannelCommands
from bot.commands.feedback import FeedbackButtons, FeedbackMetrics
from bot.commands.metrics import CommandMetrics
from bot.commands.services import Services
from bot.commands.webhook import WebhookConfig, WebhookServer
from bot.store.channels import ChannelStore
from bot.store.regions import RegionCatalog
from bot.store.stories import StoryStore
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.api import bot_token, initialize_checked
from bot.telegram.flood import FloodLimiter
from bot.telegram.rate_limiter import SharedRateLimiter
from core.config_files import ConfigError
from core.lifecycle import RoleContext
from core.settings import Settings

log = logging.getLogger(__name__)

# channel_post: a channel pairing code (/bindchannel CODE); other channel posts are ignored.
ALLOWED_UPDATES = ["message", "callback_query", "channel_post"]


async def run(ctx: RoleContext) -> None:
    """Serve bot commands until ctx.stop; without a token, say the bot is off and idle."""
    token = bot_token(ctx.settings)
    if token is None:
        log.warning("TELEGRAM_BOT_TOKEN is not set: the bot is off (alerts go to the console)")
        await ctx.stop.wait()
        return
    metrics = ctx.metric_set(CommandMetrics)
    svc = Services(
        redis=ctx.redis,
        subs=SubscriptionStore(ctx.redis),
        stories=StoryStore(ctx.redis),
        catalog=RegionCatalog.load(ctx.settings.config_dir),
    )
    limiter = FloodLimiter(ctx.redis, owner=ctx.consumer_name)
    await limiter.reset_owner()
    admin = AdminCommands(svc, ctx.settings.config_dir)
    app = build_application(
        token=token, api_url=ctx.settings.telegram_api_url, svc=svc, admin=admin,
        admin_ids=ctx.settings.admin_ids, limiter=SharedRateLimiter(limiter), metrics=metrics,
        feedback=FeedbackButtons(svc, token, ctx.metric_set(FeedbackMetrics)),
        channels=ChannelCommands(svc, ChannelStore(ctx.redis, ctx.settings.channels)),
        # /ceasefire links the region's truce page where the world can reach the ops server.
        truce_page_base=ctx.settings.public_base_url,
    )
    await initialize_checked(app.bot)
    webhook = webhook_config(ctx.settings)
    async with app, contextlib.AsyncExitStack() as stack:  # initialize() ... shutdown()
        await publish_commands(app, ctx.settings.admin_ids)
        await app.start()
        stack.push_async_callback(admin.close)
        stack.push_async_callback(_stop_app, app)
        if webhook is None:
            assert app.updater is not None
            await app.updater.start_polling(timeout=10, allowed_updates=ALLOWED_UPDATES)
            log.info("bot @%s polling for commands", app.bot.username)
        else:
            await stack.enter_async_context(WebhookServer(app, webhook))
            await app.bot.set_webhook(
                webhook.url, secret_token=webhook.secret, allowed_updates=ALLOWED_UPDATES
            )
            log.info("bot @%s receiving commands by webhook on %s:%d",
                     app.bot.username, webhook.host, webhook.port)
        await ctx.stop.wait()


async def _stop_app(app: AnyApp) -> None:
    if app.updater is not None and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()


def check_config(settings: Settings) -> None:
    """Preflight: a webhook that can never start (a too-short secret) stops start-up in a line."""
    try:
        webhook_config(settings)
    except ValueError as exc:
        raise ConfigError(f"TELEGRAM_WEBHOOK_SECRET: {exc}") from None


def webhook_config(settings: Settings) -> WebhookConfig | None:
    """Webhook mode when the settings carry a webhook URL and secret, else None (polling)."""
    url, secret = settings.telegram_webhook_url, settings.telegram_webhook_secret
    if not url:
        return None
    if secret is None:
        # An unauthenticated webhook would accept forged updates: refuse it, keep polling.
        log.warning("TELEGRAM_WEBHOOK_URL is set without TELEGRAM_WEBHOOK_SECRET: "
                    "ignoring it and using long polling")
        return None
    return WebhookConfig(
        url=url, secret=secret.get_secret_value(),
        host=settings.telegram_webhook_host, port=settings.telegram_webhook_port,
    )
