"""What we sent: the outcome per (alert, chat) and our message per (story, chat), in Redis.

The outcome marker makes delivery idempotent (a redelivered job finds it and sends nothing);
the message id lets a later report of the same story edit the message instead of sending
another one. Both live as long as the story they belong to.
"""

from __future__ import annotations

from redis.asyncio import Redis

from bot.store.stories import STORY_TTL_S
from core import keys
from core.sentinel import replica_wait


class MessageLedger:
    """Sent markers per (alert, chat) and our message id per (story, chat), with a TTL."""

    def __init__(self, redis: Redis, ttl_s: int = STORY_TTL_S) -> None:
        self.redis = redis
        self.ttl_s = ttl_s

    async def was_sent(self, alert_id: str, chat_id: int) -> bool:
        """True once (alert, chat) was delivered, or given up for good."""
        return bool(await self.redis.hexists(keys.sent(alert_id), str(chat_id)))

    async def mark_sent(self, alert_id: str, story_id: str, chat_id: int, message_id: int) -> None:
        """Write the sent marker and the story's message id together, right after a send."""
        sync = replica_wait(self.redis)
        for _ in range(2):
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.hset(keys.sent(alert_id), str(chat_id), str(message_id))
                pipe.expire(keys.sent(alert_id), self.ttl_s)
                pipe.hset(keys.story_messages(story_id), str(chat_id), str(message_id))
                pipe.expire(keys.story_messages(story_id), self.ttl_s)
                await pipe.execute()
            # Under Sentinel a marker lost in a failover would send the message again: when no
            # replica confirms it, write it once more, on whichever primary is current now.
            if sync is None or await sync.after(self.redis):
                return

    async def mark_skipped(self, alert_id: str, chat_id: int, reason: str) -> None:
        """Record a permanent failure so a redelivery does not try again."""
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(keys.sent(alert_id), str(chat_id), f"x:{reason[:60]}")
            pipe.expire(keys.sent(alert_id), self.ttl_s)
            await pipe.execute()

    async def message_id(self, story_id: str, chat_id: int) -> int | None:
        """Our message in ``chat_id`` for this story, if one was sent."""
        raw = await self.redis.hget(keys.story_messages(story_id), str(chat_id))
        return int(raw) if raw else None

    async def chats_with_message(self, story_id: str) -> set[int]:
        """Chats already holding a message for this story (they get its edits)."""
        chats = await self.redis.hkeys(keys.story_messages(story_id))
        return {int(k) for k in chats}

    async def forget_message(self, story_id: str, chat_id: int) -> None:
        """Drop a message id that Telegram no longer knows (deleted by the user)."""
        await self.redis.hdel(keys.story_messages(story_id), str(chat_id))
