"""The notifier role: alerts stream -> per-chat delivery jobs -> Telegram (or the console)."""

from __future__ import annotations

import asyncio
import logging

from bot.notifier.admin_notices import AdminChannel, FeedEventNotifier
from bot.notifier.console import ConsoleSink
from bot.notifier.delivery import Deliverer
from bot.notifier.digest import DigestScheduler
from bot.notifier.fanout import TelegramFanout
from bot.notifier.metrics import NotifierMetrics
from bot.notifier.retry_queue import RetryQueue
from bot.store.messages import MessageLedger
from bot.store.regions import RegionCatalog
from bot.store.stories import StoryStore
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.api import bot_token, initialize_checked, make_bot
from bot.telegram.flood import FloodLimiter
from core import keys
from core.lifecycle import RoleContext
from core.models import Alert, DeliveryJob, FeedEvent
from core.streams import StreamConsumer

log = logging.getLogger(__name__)

# Enough concurrent senders to keep 30 slots busy at a few hundred ms of Bot API latency.
SEND_CONCURRENCY = 48


async def run(ctx: RoleContext) -> None:
    """Consume ``alerts`` until ctx.stop; deliver through Telegram, or print when the bot is off."""
    metrics = ctx.metric_set(NotifierMetrics)
    catalog = RegionCatalog.load(ctx.settings.config_dir)
    stories = StoryStore(ctx.redis)
    streams = ctx.settings.streams
    token = bot_token(ctx.settings)
    if token is None:
        path = ctx.settings.data_dir / "alerts.jsonl"
        log.warning("TELEGRAM_BOT_TOKEN is not set: the bot is off; alerts go to the console "
                    "and %s, feed events to this log", path)
        console = ConsoleSink(
            ctx.redis, stories, ctx.settings.data_dir, metrics, region_names=catalog.names
        )
        events = FeedEventNotifier(ctx.redis, admin_ids=ctx.settings.admin_ids, metrics=metrics)
        alerts = StreamConsumer(
            ctx.redis, stream=keys.ALERTS, group=keys.group(keys.ALERTS),
            consumer=ctx.consumer_name,
            model=Alert, handler=console.handle, settings=streams, metrics=ctx.metrics,
        )
        async with asyncio.TaskGroup() as tg:
            tg.create_task(alerts.run(ctx.stop), name="notifier:console")
            tg.create_task(_feed_events(ctx, events).run(ctx.stop), name="notifier:feed-events")
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
        deliverer = Deliverer(
            bot=bot, limiter=limiter, subs=subs, stories=stories, ledger=ledger, metrics=metrics,
            region_names=catalog.names, token=token, retries=retries, consumer=ctx.consumer_name,
        )
        fanout = TelegramFanout(ctx.redis, subs, stories, ledger, metrics)
        alerts = StreamConsumer(
            ctx.redis, stream=keys.ALERTS, group=keys.group(keys.ALERTS),
            consumer=ctx.consumer_name,
            model=Alert, handler=fanout.handle, settings=streams, metrics=ctx.metrics,
        )
        jobs = StreamConsumer(
            ctx.redis, stream=keys.DELIVERIES, group=keys.group(keys.DELIVERIES),
            consumer=ctx.consumer_name,
            model=DeliveryJob, handler=deliverer.handle,
            # Read little more than can be sent at once: jobs read early only wait (and are
            # re-read after a restart).
            settings=streams.model_copy(update={"batch_size": 2 * SEND_CONCURRENCY}),
            concurrency=SEND_CONCURRENCY, metrics=ctx.metrics,
        )
        digest = DigestScheduler(
            redis=ctx.redis, bot=bot, limiter=limiter, subs=subs, stories=stories, catalog=catalog
        )
        events = FeedEventNotifier(
            ctx.redis, admin_ids=ctx.settings.admin_ids, metrics=metrics,
            channel=AdminChannel(bot=bot, limiter=limiter, token=token),
        )
        async with asyncio.TaskGroup() as tg:
            tg.create_task(alerts.run(ctx.stop), name="notifier:alerts")
            tg.create_task(jobs.run(ctx.stop), name="notifier:deliveries")
            tg.create_task(retries.run(ctx.stop), name="notifier:retries")
            tg.create_task(digest.run(ctx.stop), name="notifier:digest")
            tg.create_task(_feed_events(ctx, events).run(ctx.stop), name="notifier:feed-events")


def _feed_events(ctx: RoleContext, notifier: FeedEventNotifier) -> StreamConsumer[FeedEvent]:
    """The consumer of ``feeds:events``: admin notices, one event at a time, in order."""
    return StreamConsumer(
        ctx.redis, stream=keys.FEED_EVENTS, group=keys.group(keys.FEED_EVENTS),
        consumer=ctx.consumer_name, model=FeedEvent, handler=notifier.handle,
        settings=ctx.settings.streams, metrics=ctx.metrics,
    )
