"""Delivering one (story, chat) job to Telegram: send or edit within the limits, or record why not.

One handler call makes one attempt (following a chat migration is not a retry). What follows
a failure is decided here, once per kind (bot/telegram/errors.py names the kinds):

=============================  ==========================================  ============
Failure                        What happens                                Attempt used
=============================  ==========================================  ============
group over its 20/min budget   deferred: parked until the budget frees     no
429 ``rate_limited``           limiter paused bot-wide for retry_after;    no
                               parked for retry_after
``transient`` (network,        parked in the RetryQueue, exponential       yes
timeout, 5xx, other)           backoff; recorded once ``attempts`` spent
``migrated``                   subscription moved; sent to the new id in   no
                               the same call (at most 3 moves)
``chat_gone`` (blocked,        chat deactivated; recorded                  --
not found, deactivated)
other refusal, story expired   recorded                                    --
``bad_token``, any other       raised: the stream consumer retries, then   --
exception (a bug, Redis down)  dead-letters it
=============================  ==========================================  ============

*Recorded* means an ``x:<reason>`` sent marker (a redelivery skips the pair) and an entry in
``bot:deliveries:dead`` with the fields of core.consumer's dead letters. A parked job goes
back onto ``bot:deliveries`` as a new entry and the one in hand is acked: nothing is lost.
"""

from __future__ import annotations

import logging
import random
import time

from redis.asyncio import Redis
from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode

from bot.notifier.channels import ChannelPosts
from bot.notifier.escalation import escalation_text, is_escalation
from bot.notifier.metrics import NotifierMetrics
from bot.notifier.render import render_story
from bot.notifier.retry_queue import RetryPolicy, RetryQueue
from bot.notifier.targets import Outcome, Target, job_target
from bot.store.messages import MessageLedger
from bot.store.stories import StoryStore
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.errors import TelegramError, TelegramFailure, classify
from bot.telegram.flood import FloodLimiter, GroupBusyError
from bot.telegram.votes import REF_MARK, VoteSigner, story_ref
from core import keys
from core.models import DeliveryJob, encode
from core.streams import Delivery, dead_letter_record

log = logging.getLogger(__name__)


# A group that migrates again and again is refused rather than followed forever.
MAX_MIGRATIONS = 3


class Deliverer:
    """Runs delivery jobs; idempotent per (alert, chat) through the sent marker."""

    def __init__(
        self,
        *,
        bot: Bot,
        limiter: FloodLimiter,
        subs: SubscriptionStore,
        stories: StoryStore,
        ledger: MessageLedger,
        metrics: NotifierMetrics,
        region_names: dict[str, str],
        token: str,
        retries: RetryQueue,
        consumer: str = "",
        policy: RetryPolicy | None = None,
        channels: ChannelPosts | None = None,
    ) -> None:
        self.bot = bot
        self.limiter = limiter
        self.subs = subs
        self.stories = stories
        self.ledger = ledger
        self.metrics = metrics
        self.region_names = region_names
        self._token = token
        self._votes = VoteSigner(token)
        self.retries = retries
        self.consumer = consumer
        self.policy = policy or RetryPolicy()
        self.channels = channels

    @property
    def redis(self) -> Redis:
        """The Redis the markers and the dead letters go to."""
        return self.ledger.redis

    async def handle(self, job: DeliveryJob, delivery: Delivery | None = None) -> None:
        """Stream handler: deliver now, park the job, or record why it cannot be delivered."""
        outcome = await self.deliver(job, delivery)
        self.metrics.deliveries.labels(outcome).inc()

    async def deliver(self, job: DeliveryJob, delivery: Delivery | None = None) -> Outcome:
        """Make one attempt at a job (following chat migrations); return what happened."""
        chat_id = job.chat_id
        migrations = 0
        while True:
            target = await job_target(self.ledger, self.subs, self.channels, job.alert_id,
                                      chat_id)
            if isinstance(target, str):
                return target
            try:
                return await self._attempt(job, chat_id, delivery, target)
            except GroupBusyError as exc:
                return await self._park(job, chat_id, exc.wait_s + random.random(), "deferred")
            except TelegramError as exc:
                failure = classify(exc, self._token)
                if failure.kind == "bad_token":
                    raise  # every send would fail alike: the consumer's retry decides
            if failure.kind != "migrated" or failure.new_chat_id is None:
                return await self._failed(job, chat_id, failure, delivery)
            if migrations == MAX_MIGRATIONS:
                return await self._record(job, chat_id, "chat migrated too many times", delivery)
            migrations += 1
            log.info("chat %s migrated to %s; moving its subscription",
                     chat_id, failure.new_chat_id)
            self.metrics.deliveries.labels("migrated").inc()
            await self.subs.migrate(chat_id, failure.new_chat_id)
            chat_id = failure.new_chat_id

    async def _failed(
        self, job: DeliveryJob, chat_id: int, failure: TelegramFailure, delivery: Delivery | None
    ) -> Outcome:
        """Apply the policy of the module docstring to one failed attempt."""
        # retry_after applies to the whole bot: every sender pauses, not only this one.
        if await self.limiter.heed(failure):
            self.metrics.retries.labels("rate_limited").inc()
            log.warning("telegram asked to slow down: retry after %.1fs", failure.retry_after_s)
            return await self._park(job, chat_id, failure.retry_after_s, "retry_later")
        if failure.kind == "transient":
            self.metrics.retries.labels("transient").inc()
            return await self._later(job, chat_id, failure.text, delivery)
        if self.channels is not None:  # a channel that removed the bot is unbound, admins told
            await self.channels.failed(chat_id, failure)
        if failure.kind == "chat_gone":
            log.info("deactivating chat %s: %s", chat_id, failure.text)
            await self.subs.deactivate(chat_id, failure.text)
            await self._record(job, chat_id, failure.text, delivery)
            return "deactivated"
        log.error("permanent failure for chat %s: %s", chat_id, failure.text)
        return await self._record(job, chat_id, failure.text, delivery)

    async def _park(
        self, job: DeliveryJob, chat_id: int, delay_s: float, outcome: Outcome, attempt: int = 0
    ) -> Outcome:
        """Put the job in the retry queue for ``delay_s``, ``attempt`` more attempts used."""
        parked = job.model_copy(update={"chat_id": chat_id, "attempt": job.attempt + attempt})
        await self.retries.schedule(parked.model_dump_json(), delay_s)
        return outcome

    async def _later(
        self, job: DeliveryJob, chat_id: int, reason: str, delivery: Delivery | None
    ) -> Outcome:
        """Park a transiently failed job with backoff, or give up after the last attempt."""
        if job.attempt + 1 >= self.policy.attempts:
            log.error("giving up on chat %s after %d attempts: %s",
                      chat_id, job.attempt + 1, reason)
            return await self._record(
                job, chat_id, f"gave up after {job.attempt + 1} attempts: {reason}", delivery
            )
        delay = self.policy.delay(job.attempt)
        log.info("delivery to chat %s failed (%s); retry in %.0fs", chat_id, reason, delay)
        return await self._park(job, chat_id, delay, "retry_later", attempt=1)

    async def _attempt(
        self, job: DeliveryJob, chat_id: int, delivery: Delivery | None, target: Target
    ) -> Outcome:
        """One try under a send slot, which also serialises all senders of this chat."""
        async with self.limiter.slot(chat_id, max_wait_s=self.policy.defer_after_s):
            # Re-check inside the slot: a concurrent sender may just have finished this pair.
            if await self.ledger.was_sent(job.alert_id, chat_id):
                return "duplicate"
            lang = target.lang  # the chat's /language, or the channel's (bot/i18n.py)
            if is_escalation(job.story_id):
                return await self._escalation(job, chat_id, delivery, lang)
            items = await self.stories.items(job.story_id)
            if not items:
                return await self._record(job, chat_id, "story expired before delivery", delivery)
            text = render_story(items, self.region_names, lang, zone=target.zone)
            # A channel post has no per-reader votes: no buttons.
            markup = None if target.channel else await self._vote_buttons(
                chat_id, job.story_id, lang)
            message_id = await self.ledger.message_id(job.story_id, chat_id)
            started = time.perf_counter()
            outcome: Outcome = "sent"
            if message_id is not None:
                outcome = await self._edit(chat_id, message_id, text, markup)
                if outcome == "failed":
                    message_id = None
            if message_id is None:
                sent = await self.bot.send_message(
                    chat_id, text, parse_mode=ParseMode.HTML,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                    reply_markup=markup,
                )
                message_id = sent.message_id
                outcome = "sent"
            self.metrics.send_seconds.observe(time.perf_counter() - started)
            # Written right after the send: a crash before this line repeats one message,
            # never loses it.
            await self.ledger.mark_sent(job.alert_id, job.story_id, chat_id, message_id)
            self.metrics.observe_delivery(job.published, job.fetched)
            return outcome

    async def _escalation(
        self, job: DeliveryJob, chat_id: int, delivery: Delivery | None, lang: str | None = None
    ) -> Outcome:
        """Send an escalation notice (bot/notifier/escalation.py): once, no edits, no buttons."""
        text = await escalation_text(self.redis, job.story_id, self.region_names, lang)
        if text is None:
            return await self._record(job, chat_id, "escalation expired before delivery", delivery)
        sent = await self.bot.send_message(
            chat_id, text, parse_mode=ParseMode.HTML,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )
        await self.ledger.mark_sent(job.alert_id, job.story_id, chat_id, sent.message_id)
        return "sent"

    async def _vote_buttons(
        self, chat_id: int, story_id: str, lang: str | None = None
    ) -> InlineKeyboardMarkup:
        """The feedback buttons (bot/telegram/votes.py) of this chat's message on a story."""
        ref = story_ref(story_id)
        if ref != story_id:  # too long for callback data: the button carries a digest
            await self.redis.set(keys.feedback_ref(ref.removeprefix(REF_MARK)), story_id)
        return self._votes.keyboard(chat_id, story_id, lang)

    async def _edit(
        self, chat_id: int, message_id: int, text: str, markup: InlineKeyboardMarkup | None
    ) -> Outcome:
        """Edit our story message; 'failed' means it is gone and a new one must be sent."""
        try:
            # The markup is sent again: an edit without it would drop the feedback buttons.
            await self.bot.edit_message_text(
                text, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True), reply_markup=markup,
            )
        except TelegramError as exc:
            kind = classify(exc, self._token).kind
            if kind == "not_modified":
                return "unchanged"
            if kind == "message_gone":
                return "failed"
            raise
        return "edited"

    async def _record(
        self, job: DeliveryJob, chat_id: int, reason: str, delivery: Delivery | None
    ) -> Outcome:
        """Record a permanent failure as a dead letter of ``bot:deliveries``; never retry it."""
        failed = job.model_copy(update={"chat_id": chat_id})
        record = dead_letter_record(
            encode(failed), reason, deliveries=job.attempt + 1,
            source_stream=delivery.stream if delivery else keys.DELIVERIES,
            source_id=delivery.entry_id if delivery else "",
            group=keys.group(keys.DELIVERIES), consumer=self.consumer,
        )
        # The record first: a crash before the marker tries the pair once more (and records
        # it twice), never leaves a refused delivery unrecorded.
        await self.redis.xadd(keys.dead_letter(keys.DELIVERIES), record)  # type: ignore[arg-type]
        await self.ledger.mark_skipped(job.alert_id, chat_id, reason)
        return "failed"
