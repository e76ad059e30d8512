"""Feed health for admins: each FeedEvent on ``feeds:events`` reaches each admin once.

Read by the common core.streams.StreamConsumer in group ``admin-notices``. Per admin:

- told: a marker per (event, admin) (keys.notice_sent) makes a retried event skip them;
- cannot be messaged (never opened a chat with the bot, blocked it): recorded in that marker
  as ``x:<reason>`` and never retried;
- rate limited (the shared limiter is paused) or a transient failure: marked ``retry`` and the
  handler raises, so the consumer retries the event with its backoff and, after
  ``max_deliveries``, dead-letters it to ``feeds:events:dead`` like any other failure.
  Raising rather than parking in a retry queue: an event goes to a handful of admins, the
  consumer already retries a pending entry while later ones go on, and a parked copy would be
  appended behind the later events;
- in order: an admin still waiting for an earlier (pending) event is told this one only after
  it, so "deactivated" never arrives after a later "reactivated".

Events older than ``max_age_s`` (the backlog found on a first deployment) are logged, not
sent; without a bot or without admins every event is logged. Each admin reads a notice in the
language of their private chat with the bot (its subscription's, as /language set it).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from redis.asyncio import Redis
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode

from bot.i18n import Translator, translator
from bot.notifier.metrics import NotifierMetrics
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.errors import TelegramError, TelegramFailure, classify
from bot.telegram.flood import FloodLimiter
from bot.telegram.html import clip, esc, safe_url
from core import keys
from core.models import FeedEvent
from core.streams import Delivery

log = logging.getLogger(__name__)

SENT_TTL_S = 7 * 24 * 3600
# Older events (e.g. the backlog found on a first deployment) are logged, not messaged.
MAX_AGE_S = 24 * 3600.0
# Marker of an admin still to be told after a failure that may pass.
RETRY = "retry"
# Earlier pending events looked at for the ordering check (far above any real backlog).
EARLIER_SCAN = 100


def render_event(event: FeedEvent, t: Translator | None = None) -> str:
    """The admin message for one feed event, as Telegram HTML (everything escaped).

    The poller's reason and error kind are quoted as it wrote them (English).
    """
    t = t or translator(None)
    feed = f"<code>{esc(clip(event.feed_id, 100))}</code>"
    if event.name:
        feed = f"{t.isolate(esc(clip(event.name, 100)))} ({feed})"
    if event.type == "deactivated":
        lines = [t.gettext("⚠️ <b>Feed deactivated</b>: {feed}", feed=feed),
                 t.gettext("It is no longer polled. Once it works, /reactivate {id} brings it "
                           "back (or, for a feed added with /addfeed, /removefeed and /addfeed "
                           "once it works).", id=esc(clip(event.feed_id, 100)))]
    else:
        lines = [t.gettext("✅ <b>Feed reactivated</b>: {feed}", feed=feed)]
    if event.url:
        shown = esc(clip(event.url, 500))
        lines.append(t.isolate(shown if safe_url(event.url) else f"<code>{shown}</code>"))
    if event.reason:
        lines.append(t.gettext("Reason: {reason}",
                               reason=t.isolate(esc(clip(event.reason, 600)))))
    if event.kind:
        lines.append(t.gettext("Error kind: {kind}", kind=t.isolate(esc(clip(event.kind, 60)))))
    when = t.when(datetime.fromtimestamp(event.at, UTC))
    lines.append(t.gettext("At {time}", time=t.isolate(esc(when))))
    return t.lines("\n".join(lines))


def summary(event: FeedEvent) -> str:
    """One plain line for the log."""
    reason = f": {clip(event.reason, 300)}" if event.reason else ""
    return f"{event.type} {event.feed_id}{reason}"


class AdminsNotToldError(Exception):
    """Some admins must be told later; the consumer retries the event (text is token-safe)."""


@dataclass
class AdminChannel:
    """How admins are told: the notifier's bot and the shared flood limiter (None: bot off).

    ``subs`` gives each admin's language (their private chat's subscription); without it,
    English.
    """

    bot: Bot
    limiter: FloodLimiter
    token: str
    subs: SubscriptionStore | None = None

    async def translator(self, chat_id: int) -> Translator:
        """An admin's language and time zone, as their private chat with the bot has them."""
        sub = await self.subs.get(chat_id) if self.subs is not None else None
        return translator(sub.lang if sub else None).in_zone(sub.tz if sub else None)

    async def send(self, chat_id: int, text: str) -> TelegramFailure | None:
        """Send one notice within the flood limits; return why it failed, or None when sent."""
        try:
            async with self.limiter.slot(chat_id):
                await self.bot.send_message(
                    chat_id, text, parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
        except TelegramError as exc:
            failure = classify(exc, self.token)
            await self.limiter.heed(failure)
            return failure
        return None


class FeedEventNotifier:
    """Handler of ``feeds:events``: tells every admin about each event, or logs it."""

    def __init__(
        self, redis: Redis, *, admin_ids: frozenset[int], metrics: NotifierMetrics,
        channel: AdminChannel | None = None, max_age_s: float = MAX_AGE_S,
    ) -> None:
        self.redis = redis
        self.admin_ids = sorted(admin_ids)
        self.metrics = metrics
        self.channel = channel
        self.max_age_s = max_age_s

    async def handle(self, event: FeedEvent, delivery: Delivery) -> None:
        """Tell every admin about one event (or log it); raise when some must be told later."""
        if time.time() - event.at > self.max_age_s:
            log.info("old feed event not sent to admins: %s", summary(event))
            self.metrics.events.labels("stale").inc()
            return
        if self.channel is None or not self.admin_ids:
            level = logging.WARNING if event.type == "deactivated" else logging.INFO
            log.log(level, "feed event: %s", summary(event))
            self.metrics.events.labels("logged").inc()
            return
        later = await self._tell(self.channel, delivery.entry_id, event)
        if later:
            self.metrics.events.labels("retry").inc()
            raise AdminsNotToldError(f"admins to tell later: {'; '.join(later)}")
        self.metrics.events.labels("sent").inc()

    async def _tell(self, channel: AdminChannel, entry_id: str, event: FeedEvent) -> list[str]:
        """Send to every admin not told yet; return why those left must wait."""
        sent_key = keys.notice_sent(entry_id)
        told = cast(dict[str, str], await self.redis.hgetall(sent_key))
        waiting = await self._waiting_earlier(entry_id)
        later: list[str] = []
        for chat_id in self.admin_ids:
            if told.get(str(chat_id), RETRY) != RETRY:
                continue
            if str(chat_id) in waiting:
                later.append(f"{chat_id} (an earlier event first)")
                continue
            text = render_event(event, await channel.translator(chat_id))
            outcome = await self._send(channel, chat_id, text)
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(sent_key, str(chat_id), outcome)
                pipe.expire(sent_key, SENT_TTL_S)
                await pipe.execute()
            if outcome == RETRY:
                later.append(str(chat_id))
        return later

    async def _waiting_earlier(self, entry_id: str) -> set[str]:
        """Admins marked ``retry`` on an earlier event still pending: they get that one first."""
        rows = cast(list[dict[str, Any]], await self.redis.xpending_range(
            keys.FEED_EVENTS, keys.group(keys.FEED_EVENTS), min="-", max=entry_id,
            count=EARLIER_SCAN,
        ))
        earlier = [str(r["message_id"]) for r in rows if str(r["message_id"]) != entry_id]
        if not earlier:
            return set()
        async with self.redis.pipeline(transaction=False) as pipe:
            for eid in earlier:
                pipe.hgetall(keys.notice_sent(eid))
            marks = cast(list[dict[str, str]], await pipe.execute())
        return {admin for mark in marks for admin, outcome in mark.items() if outcome == RETRY}

    async def _send(self, channel: AdminChannel, chat_id: int, text: str) -> str:
        """Send to one admin: 'ok', 'x:<reason>' when refused for good, or RETRY."""
        failure = await channel.send(chat_id, text)
        if failure is not None:
            # A revoked token fails every send alike: retried, as the consumer gives up in time.
            if failure.retry_later or failure.kind == "bad_token":
                log.info("feed event to admin %s failed, will retry: %s", chat_id, failure.text)
                return RETRY
            # Typically an admin who never opened a chat with the bot: nothing to retry.
            log.warning("admin %s cannot be told about feed events: %s", chat_id, failure.text)
            self.metrics.events.labels("failed").inc()
            return f"x:{failure.text[:60]}"
        return "ok"
