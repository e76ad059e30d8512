"""Update scheduling: each chat's updates in order, no chat's flood delaying another chat."""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable
from dataclasses import dataclass, field

from telegram import Update
from telegram.ext import BaseUpdateProcessor

from bot.i18n import N_, choose

log = logging.getLogger(__name__)

# Handlers running at once. Each holds at most one Redis connection at a time, so the bot
# takes at most this many from the process's shared pool (core.redis_conn.POOL_SIZE) and
# the other roles in the process keep the rest.
MAX_RUNNING = 32
# Updates of one chat accepted and not yet finished (the running one included). Replies to
# one chat go out at about one a second, so a deeper queue only means later answers.
MAX_PENDING_PER_CHAT = 20
# PTB's semaphore only admits updates to do_process_update, where they wait without a running
# slot. PTB has already made one task per update by then, so a low value would bound nothing
# and would let a few flooding chats hold every admission slot.
ADMISSION = 1_000_000
SLOW_DOWN = N_("Too many commands at once: I skipped some. Wait for my replies, then send "
              "again.")


@dataclass
class _ChatQueue:
    """One chat's queue: its lock is FIFO, so updates run in arrival order."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    pending: int = 0
    warned: bool = False


def chat_key(update: object) -> int | None:
    """Return the id whose updates must run one at a time (the chat's), or None."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    # A private chat's id is its user's id, so a user's chat-less updates queue with it.
    return update.effective_user.id if update.effective_user is not None else None


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Runs at most ``max_running`` updates at once, one per chat at a time, in order.

    Concurrent across chats, so one slow chat (a spent group budget, a slow Bot API call)
    stalls no other; serial within a chat, so its settings' read-modify-write cannot race.
    A chat's update waits for its predecessors without holding a running slot, so one
    chat's flood occupies one slot however long its queue; beyond ``max_pending`` waiting
    updates the chat's further updates are dropped and the chat is told once to slow down.
    """

    def __init__(
        self, max_running: int = MAX_RUNNING, max_pending: int = MAX_PENDING_PER_CHAT
    ) -> None:
        super().__init__(ADMISSION)
        self.max_running = max_running
        self.max_pending = max_pending
        self._running = asyncio.Semaphore(max_running)
        self._chats: dict[int, _ChatQueue] = {}
        self.dropped = 0

    async def do_process_update(self, update: object, coroutine: Awaitable[object]) -> None:
        """Run ``coroutine`` after the chat's earlier updates, within the running bound."""
        key = chat_key(update)
        if key is None:
            async with self._running:
                await coroutine
            return
        queue = self._chats.setdefault(key, _ChatQueue())
        if queue.pending >= self.max_pending:
            await self._drop(update, coroutine, queue)
            return
        queue.pending += 1
        try:
            async with queue.lock, self._running:
                await coroutine
        finally:
            queue.pending -= 1
            if not queue.pending:
                # Forget idle chats: the table holds only chats with work in hand.
                del self._chats[key]

    async def _drop(
        self, update: object, coroutine: Awaitable[object], queue: _ChatQueue
    ) -> None:
        if inspect.iscoroutine(coroutine):
            coroutine.close()  # never started: close it so Python does not warn
        self.dropped += 1
        if queue.warned or not isinstance(update, Update) or update.channel_post is not None:
            return  # never a notice in a channel: its readers sent nothing
        queue.warned = True
        message = update.effective_message
        if message is None:
            return
        log.info("chat %s sends faster than it is answered: dropping its excess updates",
                 update.effective_chat.id if update.effective_chat else None)
        # The sender's Telegram language: a flood is no time for a Redis read of /language.
        user = update.effective_user
        t = choose(None, user.language_code if user is not None else None)
        try:
            async with self._running:
                await message.reply_text(t.lines(t.gettext(SLOW_DOWN)), do_quote=False)
        except Exception as exc:
            # A warning that cannot be sent is not worth more than a log line.
            log.warning("slow-down notice not sent: %s", type(exc).__name__)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""
