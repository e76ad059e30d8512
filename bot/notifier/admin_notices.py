"""Feed health for admins: each event the poller writes to ``feeds:events`` reaches each admin.

The poller writes plain fields (``type``, ``feed_id``, ``at``, and for a deactivation ``url``,
``name``, ``reason``, ``kind``), not our ``data`` JSON, so the entries are read here with a
small consumer-group loop rather than core.streams.StreamConsumer. An entry is acked once every
admin got it (a sent marker per admin makes a retried entry skip those already told); a
transient failure leaves it pending and retries it with backoff, in order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import ResponseError
from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, ChatMigrated, Forbidden, RetryAfter, TelegramError

from bot.notifier.delivery import retry_after_s
from bot.notifier.metrics import NotifierMetrics
from bot.telegram.api import safe_error
from bot.telegram.flood import FloodLimiter
from bot.telegram.html import clip, esc, safe_url
from core import keys
from core.redis_conn import RECONNECT_ERRORS, wait_for_redis
from core.settings import StreamSettings
from core.stopping import sleep_unless_stopped
from core.streams import Entry, ensure_group, read_group

log = logging.getLogger(__name__)

SENT_TTL_S = 7 * 24 * 3600
# Older events (e.g. the backlog found on a first deployment) are logged, not messaged.
MAX_AGE_S = 24 * 3600.0
BATCH = 50


def _when(fields: Mapping[str, str]) -> float | None:
    try:
        return float(fields.get("at", ""))
    except ValueError:
        return None


def render_event(fields: Mapping[str, str]) -> str:
    """The admin message for one feed event, as Telegram HTML (everything escaped)."""
    kind = fields.get("type", "event")
    feed_id = fields.get("feed_id", "?")
    name = fields.get("name", "")
    feed = f"<code>{esc(clip(feed_id, 100))}</code>"
    if name:
        feed = f"{esc(clip(name, 100))} ({feed})"
    if kind == "deactivated":
        lines = [f"⚠️ <b>Feed deactivated</b>: {feed}",
                 "It is no longer polled until it is reactivated."]
    elif kind == "reactivated":
        lines = [f"✅ <b>Feed reactivated</b>: {feed}"]
    else:
        lines = [f"ℹ️ <b>Feed event</b> {esc(clip(kind, 40))}: {feed}"]
    url = fields.get("url", "")
    if url:
        shown = esc(clip(url, 500))
        lines.append(shown if safe_url(url) else f"<code>{shown}</code>")
    if fields.get("reason"):
        lines.append(f"Reason: {esc(clip(fields['reason'], 600))}")
    if fields.get("kind"):
        lines.append(f"Error kind: {esc(clip(fields['kind'], 60))}")
    at = _when(fields)
    if at is not None:
        lines.append(time.strftime("At %Y-%m-%d %H:%M UTC", time.gmtime(at)))
    return "\n".join(lines)


def summary(fields: Mapping[str, str]) -> str:
    """One plain line for the log."""
    reason = fields.get("reason", "")
    return f"{fields.get('type', 'event')} {fields.get('feed_id', '?')}" + (
        f": {clip(reason, 300)}" if reason else ""
    )


@dataclass
class AdminChannel:
    """How admins are told: the notifier's bot and the shared flood limiter (None: bot off)."""

    bot: Bot
    limiter: FloodLimiter
    token: str


class FeedEventNotifier:
    """Consumes ``feeds:events`` in group ``admin-notices``; tells every admin, or logs."""

    def __init__(
        self, redis: Redis, *, consumer: str, admin_ids: frozenset[int], metrics: NotifierMetrics,
        settings: StreamSettings, channel: AdminChannel | None = None,
        max_age_s: float = MAX_AGE_S, retry_cap_s: float = 60.0,
    ) -> None:
        self.redis = redis
        self.consumer = consumer
        self.admin_ids = sorted(admin_ids)
        self.metrics = metrics
        self.cfg = settings
        self.channel = channel
        self.max_age_s = max_age_s
        self.retry_cap_s = retry_cap_s

    async def run(self, stop: asyncio.Event) -> None:
        """Handle events until ``stop``; pending ones (ours or a dead replica's) come first."""
        backlog, failures, next_claim = True, 0, 0.0
        grouped = False
        while not stop.is_set():
            try:
                if not grouped:
                    await ensure_group(self.redis, keys.FEED_EVENTS, keys.group(keys.FEED_EVENTS))
                    grouped = True
                if time.monotonic() >= next_claim:
                    next_claim = time.monotonic() + self.cfg.claim_interval_s
                    backlog = await self._claim_idle() or backlog
                entries = await read_group(
                    self.redis, keys.FEED_EVENTS, keys.group(keys.FEED_EVENTS), self.consumer,
                    start="0" if backlog else ">", count=BATCH,
                )
                if not entries:
                    if backlog:
                        backlog = False
                        continue
                    await sleep_unless_stopped(stop, self.cfg.block_ms / 1000)
                    continue
                if await self._process(entries, stop):
                    failures = 0
                    continue
                failures += 1
                backlog = True
                backoff = min(self.retry_cap_s, self.cfg.retry_backoff_s * 2**failures)
                await sleep_unless_stopped(stop, backoff)
            except RECONNECT_ERRORS as exc:
                log.warning("feed events: redis unavailable (%s)", type(exc).__name__)
                await wait_for_redis(self.redis, stop)
                backlog = True
            except ResponseError as exc:
                grouped = False  # NOGROUP: the stream was deleted; anything else: check again
                if "NOGROUP" not in str(exc):
                    log.warning("feed events: redis refused a command: %s", exc)
                    await sleep_unless_stopped(stop, self.retry_cap_s)
            except Exception as exc:
                # Admin notices must never take the notifier (and alert delivery) down with them.
                log.error("feed events: unexpected %s; retrying in %.0fs",
                          type(exc).__name__, self.retry_cap_s)
                await sleep_unless_stopped(stop, self.retry_cap_s)

    async def _process(self, entries: list[Entry], stop: asyncio.Event) -> bool:
        """Handle entries in order, acking each when done; False when one must be retried."""
        for entry_id, fields in entries:
            if stop.is_set():
                return True
            if not await self.handle(entry_id, fields):
                self.metrics.events.labels("retry").inc()
                return False
            await self.redis.xack(keys.FEED_EVENTS, keys.group(keys.FEED_EVENTS), entry_id)
        return True

    async def _claim_idle(self) -> bool:
        """Take over events left pending by a notifier that died; True when any were."""
        reply = await self.redis.xautoclaim(
            keys.FEED_EVENTS, keys.group(keys.FEED_EVENTS), self.consumer,
            min_idle_time=self.cfg.claim_idle_ms, start_id="0-0", count=BATCH,
        )
        return bool(reply[1])

    async def handle(self, entry_id: str, fields: Mapping[str, str]) -> bool:
        """Tell every admin about one event (or log it); False when it must be retried."""
        at = _when(fields)
        if at is not None and time.time() - at > self.max_age_s:
            log.info("old feed event not sent to admins: %s", summary(fields))
            self.metrics.events.labels("stale").inc()
            return True
        if self.channel is None or not self.admin_ids:
            level = logging.WARNING if fields.get("type") == "deactivated" else logging.INFO
            log.log(level, "feed event: %s", summary(fields))
            self.metrics.events.labels("logged").inc()
            return True
        sent_key = keys.notice_sent(entry_id)
        text = render_event(fields)
        for chat_id in self.admin_ids:
            if await self.redis.hexists(sent_key, str(chat_id)):
                continue
            result = await self._send(self.channel, chat_id, text)
            if result is None:
                return False
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(sent_key, str(chat_id), result)
                pipe.expire(sent_key, SENT_TTL_S)
                await pipe.execute()
        self.metrics.events.labels("sent").inc()
        return True

    async def _send(self, channel: AdminChannel, chat_id: int, text: str) -> str | None:
        """Send to one admin: 'ok', 'x:<reason>' when refused for good, None to retry later."""
        try:
            async with channel.limiter.slot(chat_id):
                await channel.bot.send_message(
                    chat_id, text, parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
        except RetryAfter as exc:
            await channel.limiter.pause(retry_after_s(exc))
            return None
        except (Forbidden, BadRequest, ChatMigrated) as exc:
            # Typically an admin who never opened a chat with the bot: nothing to retry.
            reason = safe_error(exc, channel.token)
            log.warning("admin %s cannot be told about feed events: %s", chat_id, reason)
            self.metrics.events.labels("failed").inc()
            return f"x:{reason[:60]}"
        except TelegramError as exc:
            log.info("feed event to admin %s failed, will retry: %s",
                     chat_id, safe_error(exc, channel.token))
            return None
        return "ok"

