"""Delivering one (story, chat) job to Telegram: send or edit, respect limits, retry, record."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from telegram import Bot, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.metrics import NotifierMetrics
from bot.ratelimit import FloodLimiter
from bot.render import render_story
from bot.stories import StoryStore
from bot.subscriptions import SubscriptionStore
from bot.telegram_api import safe_error
from core.models import StreamMessage

log = logging.getLogger(__name__)

DELIVERIES = "bot:deliveries"
SENDERS_GROUP = "senders"
FAILURES = "bot:deliveries:failed"

Outcome = Literal["sent", "edited", "unchanged", "duplicate", "deactivated", "failed", "inactive"]


class DeliveryJob(StreamMessage):
    """Bring ``chat_id``'s message for ``story_id`` up to date after ``alert_id`` arrived."""

    alert_id: str
    story_id: str
    chat_id: int


class TransientDeliveryError(RuntimeError):
    """Telegram kept failing with retryable errors; the job stays pending for a later retry."""


def retry_after_s(exc: RetryAfter) -> float:
    """The retry_after of a 429 in seconds (PTB gives int or timedelta)."""
    value = getattr(exc, "_retry_after", None)
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value) if isinstance(value, int | float) else 1.0


def _is_gone(exc: BadRequest) -> bool:
    text = exc.message.lower()
    return "chat not found" in text or "user not found" in text or "chat_id is empty" in text


@dataclass
class RetryPolicy:
    """Backoff for transient errors (5xx, timeouts, network) inside one job attempt."""

    attempts: int = 6
    base_s: float = 0.5
    cap_s: float = 15.0
    max_rate_limited: int = 20

    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter."""
        raw: float = min(self.cap_s, self.base_s * 2**attempt)
        return raw * (0.75 + random.random() / 2)


class Deliverer:
    """Runs delivery jobs; idempotent per (alert, chat) through the sent marker."""

    def __init__(
        self,
        *,
        bot: Bot,
        limiter: FloodLimiter,
        subs: SubscriptionStore,
        stories: StoryStore,
        metrics: NotifierMetrics,
        region_names: dict[str, str],
        token: str,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.bot = bot
        self.limiter = limiter
        self.subs = subs
        self.stories = stories
        self.metrics = metrics
        self.region_names = region_names
        self._token = token
        self.policy = policy or RetryPolicy()

    async def handle(self, job: DeliveryJob, _delivery: object = None) -> None:
        """Stream handler: deliver, or raise TransientDeliveryError to be retried later."""
        outcome = await self.deliver(job)
        self.metrics.deliveries.labels(outcome).inc()

    async def deliver(self, job: DeliveryJob) -> Outcome:
        """Deliver one job, following chat migrations; return what happened."""
        chat_id = job.chat_id
        transient = limited = migrations = 0
        while True:
            if await self.stories.was_sent(job.alert_id, chat_id):
                return "duplicate"
            sub = await self.subs.get(chat_id)
            if sub is None or not sub.active or sub.muted():
                return "inactive"
            try:
                return await self._attempt(job, chat_id)
            except RetryAfter as exc:
                wait = retry_after_s(exc)
                limited += 1
                self.metrics.retries.labels("rate_limited").inc()
                log.warning("telegram asked to slow down: retry after %.1fs", wait)
                # retry_after applies to the whole bot: every sender pauses, not only this one.
                await self.limiter.pause(wait)
                if limited > self.policy.max_rate_limited:
                    raise TransientDeliveryError("rate limited too many times") from None
            except ChatMigrated as exc:
                migrations += 1
                if migrations > 3:
                    await self._record(job, chat_id, "chat migrated too many times")
                    return "failed"
                log.info("chat %s migrated to %s; moving its subscription",
                         chat_id, exc.new_chat_id)
                self.metrics.deliveries.labels("migrated").inc()
                await self.subs.migrate(chat_id, exc.new_chat_id)
                chat_id = exc.new_chat_id
            except (Forbidden, BadRequest) as exc:
                return await self._refused(job, chat_id, exc)
            except InvalidToken:
                raise
            except (NetworkError, TelegramError) as exc:
                transient += 1
                self.metrics.retries.labels("transient").inc()
                reason = safe_error(exc, self._token)
                if transient >= self.policy.attempts:
                    raise TransientDeliveryError(reason) from None
                delay = self.policy.delay(transient - 1)
                log.info("transient error for chat %s (%s); retry in %.1fs", chat_id, reason, delay)
                await asyncio.sleep(delay)

    async def _attempt(self, job: DeliveryJob, chat_id: int) -> Outcome:
        """One try under a send slot, which also serialises all senders of this chat."""
        async with self.limiter.slot(chat_id):
            # Re-check inside the slot: a concurrent sender may just have finished this pair.
            if await self.stories.was_sent(job.alert_id, chat_id):
                return "duplicate"
            items = await self.stories.items(job.story_id)
            if not items:
                await self._record(job, chat_id, "story expired before delivery")
                return "failed"
            text = render_story(items, self.region_names)
            message_id = await self.stories.message_id(job.story_id, chat_id)
            started = time.perf_counter()
            outcome: Outcome = "sent"
            if message_id is not None:
                outcome = await self._edit(chat_id, message_id, text)
                if outcome == "failed":
                    message_id = None
            if message_id is None:
                sent = await self.bot.send_message(
                    chat_id, text, parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                )
                message_id = sent.message_id
                outcome = "sent"
            self.metrics.send_seconds.observe(time.perf_counter() - started)
            # Written right after the send: a crash before this line repeats one message,
            # never loses it.
            await self.stories.mark_sent(job.alert_id, job.story_id, chat_id, message_id)
            return outcome

    async def _edit(self, chat_id: int, message_id: int, text: str) -> Outcome:
        """Edit our story message; 'failed' means it is gone and a new one must be sent."""
        try:
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except BadRequest as exc:
            lowered = exc.message.lower()
            if "not modified" in lowered:
                return "unchanged"
            if "message to edit not found" in lowered or "can't be edited" in lowered:
                return "failed"
            raise
        return "edited"

    async def _refused(self, job: DeliveryJob, chat_id: int, exc: TelegramError) -> Outcome:
        """Handle a permanent refusal: a gone chat is deactivated, anything else recorded."""
        if isinstance(exc, Forbidden) or (isinstance(exc, BadRequest) and _is_gone(exc)):
            return await self._deactivate(job, chat_id, exc)
        reason = safe_error(exc, self._token)
        log.error("permanent failure for chat %s: %s", chat_id, reason)
        await self._record(job, chat_id, reason)
        return "failed"

    async def _deactivate(self, job: DeliveryJob, chat_id: int, exc: TelegramError) -> Outcome:
        reason = safe_error(exc, self._token)
        log.info("deactivating chat %s: %s", chat_id, reason)
        await self.subs.deactivate(chat_id, reason)
        await self._record(job, chat_id, reason)
        return "deactivated"

    async def _record(self, job: DeliveryJob, chat_id: int, reason: str) -> None:
        """Keep permanent failures visible (a capped stream) and never retry them."""
        await self.stories.mark_skipped(job.alert_id, chat_id, reason)
        await self.subs.redis.xadd(
            FAILURES,
            {"alert_id": job.alert_id, "story_id": job.story_id, "chat_id": str(chat_id),
             "reason": reason, "at": f"{time.time():.3f}"},
            maxlen=10_000, approximate=True,
        )
