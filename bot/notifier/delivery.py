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

from bot.notifier.metrics import NotifierMetrics
from bot.notifier.render import render_story
from bot.notifier.retry_queue import RetryQueue
from bot.store.stories import StoryStore
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.api import safe_error
from bot.telegram.flood import FloodLimiter, GroupBusyError
from core import keys
from core.models import DeliveryJob

log = logging.getLogger(__name__)


Outcome = Literal[
    "sent", "edited", "unchanged", "duplicate", "deactivated", "failed", "inactive",
    "retry_later", "deferred",
]


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
    """Backoff for transient errors (5xx, timeouts, network).

    A job gets ``quick_attempts`` tries in one handler call (a blip passes at once); after
    that it is parked in the retry queue with exponential backoff, so one failing chat never
    holds up the batch read with it. After ``attempts`` parked rounds (about 40 minutes with
    the defaults) the failure is recorded as permanent.
    """

    # A group whose 20 messages/min are spent for longer than this is retried later, rather
    # than holding a sender (and the batch it belongs to) for up to a minute.
    defer_after_s: float = 3.0
    quick_attempts: int = 2
    quick_delay_s: float = 0.5
    attempts: int = 16
    base_s: float = 1.0
    cap_s: float = 300.0
    max_rate_limited: int = 20

    def delay(self, attempt: int) -> float:
        """Exponential backoff with jitter."""
        raw: float = min(self.cap_s, self.base_s * 2 ** min(attempt, 30))
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
        retries: RetryQueue,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.bot = bot
        self.limiter = limiter
        self.subs = subs
        self.stories = stories
        self.metrics = metrics
        self.region_names = region_names
        self._token = token
        self.retries = retries
        self.policy = policy or RetryPolicy()

    async def handle(self, job: DeliveryJob, _delivery: object = None) -> None:
        """Stream handler: deliver now, or park the job in the retry queue."""
        outcome = await self.deliver(job)
        self.metrics.deliveries.labels(outcome).inc()

    async def deliver(self, job: DeliveryJob) -> Outcome:  # noqa: PLR0911 -- one per failure mode
        """Deliver one job, following chat migrations; return what happened."""
        chat_id = job.chat_id
        transient = limited = migrations = 0
        while True:
            skip = await self._skip(job.alert_id, chat_id)
            if skip is not None:
                return skip
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
                    return await self._later(job, chat_id, "rate limited too many times")
            except GroupBusyError as exc:
                return await self._defer(job, chat_id, exc.wait_s)
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
                if transient >= self.policy.quick_attempts:
                    return await self._later(job, chat_id, reason)
                log.info("transient error for chat %s (%s); retrying", chat_id, reason)
                await asyncio.sleep(self.policy.quick_delay_s)

    async def _skip(self, alert_id: str, chat_id: int) -> Outcome | None:
        """Why this job needs no send (already delivered, chat gone or muted), else None."""
        if await self.stories.was_sent(alert_id, chat_id):
            return "duplicate"
        sub = await self.subs.get(chat_id)
        if sub is None or not sub.active or sub.muted():
            return "inactive"
        return None

    async def _defer(self, job: DeliveryJob, chat_id: int, wait_s: float) -> Outcome:
        """Come back when the group's budget has room (not a failure: no attempt is used)."""
        parked = job.model_copy(update={"chat_id": chat_id})
        await self.retries.schedule(parked.model_dump_json(), wait_s + random.random())
        return "deferred"

    async def _later(self, job: DeliveryJob, chat_id: int, reason: str) -> Outcome:
        """Park the job for a retry with backoff, or give up after the last attempt."""
        if job.attempt + 1 >= self.policy.attempts:
            log.error("giving up on chat %s after %d attempts: %s",
                      chat_id, job.attempt + 1, reason)
            await self._record(job, chat_id, f"gave up after {job.attempt + 1} attempts: {reason}")
            return "failed"
        delay = self.policy.delay(job.attempt)
        log.info("delivery to chat %s failed (%s); retry in %.0fs", chat_id, reason, delay)
        parked = job.model_copy(update={"chat_id": chat_id, "attempt": job.attempt + 1})
        await self.retries.schedule(parked.model_dump_json(), delay)
        return "retry_later"

    async def _attempt(self, job: DeliveryJob, chat_id: int) -> Outcome:
        """One try under a send slot, which also serialises all senders of this chat."""
        async with self.limiter.slot(chat_id, max_wait_s=self.policy.defer_after_s):
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
            self.metrics.observe_delivery(job.published, job.fetched)
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
            keys.DELIVERY_FAILURES,
            {"alert_id": job.alert_id, "story_id": job.story_id, "chat_id": str(chat_id),
             "reason": reason, "at": f"{time.time():.3f}"},
            maxlen=10_000, approximate=True,
        )
