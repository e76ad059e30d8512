"""The notifier role: alerts stream -> per-chat delivery jobs -> Telegram (or the console)."""

from __future__ import annotations

import asyncio
import logging

from bot.notifier.admin_notices import AdminChannel, FeedEventNotifier
from bot.notifier.channels import ChannelPosts
from bot.notifier.console import ConsoleSink
from bot.notifier.delivery import Deliverer
from bot.notifier.digest import DigestScheduler
from bot.notifier.escalation import EscalationConsole, EscalationFanout
from bot.notifier.fanout import TelegramFanout
from bot.notifier.metrics import NotifierMetrics
from bot.notifier.retry_queue import RetryQueue
from bot.store.channels import ChannelStore, check_channels
from bot.store.messages import MessageLedger
from bot.store.regions import RegionCatalog
from bot.store.stories import StoryStore
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.api import bot_token, initialize_checked, make_bot
from bot.telegram.flood import FloodLimiter
from core import keys
from core.lifecycle import RoleContext
from core.models import Alert, DeliveryJob, Escalation, FeedEvent, M
from core.settings import Settings
from core.streams import Handler, StreamConsumer

log = logging.getLogger(__name__)

# Enough concurrent senders to keep 30 slots busy at a few hundred ms of Bot API latency.
SEND_CONCURRENCY = 48


async def run(ctx: RoleContext) -> None:
    """Consume ``alerts`` until ctx.stop; deliver through Telegram, or print when the bot is off."""
    metrics = ctx.metric_set(NotifierMetrics)
    catalog = RegionCatalog.load(ctx.settings.config_dir)
    check_channels(ctx.settings.channels, catalog.names)
    stories = StoryStore(ctx.redis)
    token = bot_token(ctx.settings)
    if token is None:
        path = ctx.settings.data_dir / "alerts.jsonl"
        log.warning("TELEGRAM_BOT_TOKEN is not set: the bot is off; alerts go to the console "
                    "and %s, feed events to this log", path)
        console = ConsoleSink(
            ctx.redis, stories, ctx.settings.data_dir, metrics, region_names=catalog.names
        )
        events = FeedEventNotifier(ctx.redis, admin_ids=ctx.settings.admin_ids, metrics=metrics)
        async with asyncio.TaskGroup() as tg:
            tg.create_task(_consumer(ctx, keys.ALERTS, Alert, console.handle).run(ctx.stop),
                           name="notifier:console")
            tg.create_task(_consumer(ctx, keys.FEED_EVENTS, FeedEvent, events.handle).run(ctx.stop),
                           name="notifier:feed-events")
            printer = EscalationConsole(ctx.redis, catalog.names)
            tg.create_task(
                _consumer(ctx, keys.ESCALATIONS, Escalation, printer.handle).run(ctx.stop),
                name="notifier:escalations",
            )
        return

    subs = SubscriptionStore(ctx.redis)
    limiter = FloodLimiter(ctx.redis, owner=ctx.consumer_name)
    released = await limiter.reset_owner()
    if released:
        log.info("released %d send slots left by a previous %s", released, ctx.consumer_name)
    bot = make_bot(ctx.settings)
    await initialize_checked(bot)
    async with bot:
        log.info("notifier delivering as @%s", bot.username)
        retries = RetryQueue(ctx.redis, keys.DELIVERIES)
        ledger = MessageLedger(ctx.redis)
        channels = ChannelPosts(
            ChannelStore(ctx.redis, ctx.settings.channels), admin_ids=ctx.settings.admin_ids,
            notice=AdminChannel(bot=bot, limiter=limiter, token=token, subs=subs),
        )
        deliverer = Deliverer(
            bot=bot, limiter=limiter, subs=subs, stories=stories, ledger=ledger, metrics=metrics,
            region_names=catalog.names, token=token, retries=retries, consumer=ctx.consumer_name,
            channels=channels,
        )
        fanout = TelegramFanout(ctx.redis, subs, stories, ledger, metrics, channels=channels)
        alerts = _consumer(ctx, keys.ALERTS, Alert, fanout.handle)
        jobs = _consumer(
            ctx, keys.DELIVERIES, DeliveryJob, deliverer.handle, concurrency=SEND_CONCURRENCY,
            # Read little more than can be sent at once: jobs read early only wait (and are
            # re-read after a restart).
            batch_size=2 * SEND_CONCURRENCY,
        )
        digest = DigestScheduler(
            redis=ctx.redis, bot=bot, limiter=limiter, subs=subs, stories=stories, catalog=catalog
        )
        events = FeedEventNotifier(
            ctx.redis, admin_ids=ctx.settings.admin_ids, metrics=metrics,
            channel=AdminChannel(bot=bot, limiter=limiter, token=token, subs=subs),
        )
        async with asyncio.TaskGroup() as tg:
            tg.create_task(alerts.run(ctx.stop), name="notifier:alerts")
            tg.create_task(jobs.run(ctx.stop), name="notifier:deliveries")
            tg.create_task(retries.run(ctx.stop), name="notifier:retries")
            tg.create_task(digest.run(ctx.stop), name="notifier:digest")
            # Admin notices: one event at a time, in order.
            tg.create_task(_consumer(ctx, keys.FEED_EVENTS, FeedEvent, events.handle).run(ctx.stop),
                           name="notifier:feed-events")
            escalations = EscalationFanout(ctx.redis, subs, metrics)
            tg.create_task(
                _consumer(ctx, keys.ESCALATIONS, Escalation, escalations.handle).run(ctx.stop),
                name="notifier:escalations",
            )


def check_config(settings: Settings) -> None:
    """Preflight: a CHANNELS entry naming a region regions.yaml lacks stops start-up in a line."""
    check_channels(settings.channels, RegionCatalog.load(settings.config_dir).names)


def _consumer(
    ctx: RoleContext, stream: str, model: type[M], handler: Handler[M], *,
    concurrency: int = 1, batch_size: int | None = None,
) -> StreamConsumer[M]:
    """The consumer of ``stream`` for this process, in the group the registry gives it."""
    settings = ctx.settings.streams
    if batch_size is not None:
        settings = settings.model_copy(update={"batch_size": batch_size})
    return StreamConsumer(
        ctx.redis, stream=stream, group=keys.group(stream), consumer=ctx.consumer_name,
        model=model, handler=handler, settings=settings, concurrency=concurrency,
        metrics=ctx.metrics,
    )
