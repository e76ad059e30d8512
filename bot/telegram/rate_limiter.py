"""PTB rate-limiter adapter: the bot's replies share the notifier's Redis flood limiter."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.ext import BaseRateLimiter

from bot.telegram.errors import TelegramError, classify, use_timedelta_periods
from bot.telegram.flood import FloodLimiter

log = logging.getLogger(__name__)

# Calls that post into a chat count against Telegram's message limits.
LIMITED_ENDPOINTS = frozenset({
    "sendMessage", "sendPhoto", "sendDocument", "sendMediaGroup", "editMessageText",
    "editMessageCaption", "editMessageReplyMarkup", "copyMessage", "forwardMessage",
})
JSON = bool | dict[str, Any] | list[dict[str, Any]]


class SharedRateLimiter(BaseRateLimiter[int]):
    """Throttles chat messages through a FloodLimiter; retries a 429 up to ``max_retries``."""

    def __init__(self, limiter: FloodLimiter, max_retries: int = 3) -> None:
        self.limiter = limiter
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Opt in to timedelta periods; PTB calls this before the bot's first request."""
        # The limiter itself lives in Redis; this is the bot role's one start-up hook that
        # runs before any 429 can be built (see errors.use_timedelta_periods).
        use_timedelta_periods()

    async def shutdown(self) -> None:
        """Nothing to tear down."""

    async def process_request(  # noqa: PLR0917 -- PTB's signature
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        """Run ``callback`` inside a send slot for its chat (other calls pass straight)."""
        chat = data.get("chat_id")
        if endpoint not in LIMITED_ENDPOINTS or chat is None:
            return await callback(*args, **kwargs)
        try:
            chat_id = int(chat)
        except (TypeError, ValueError):
            chat_id = 0  # "@channel" names: counted together under one key
        retries = self.max_retries if rate_limit_args is None else rate_limit_args
        for attempt in range(retries + 1):
            try:
                async with self.limiter.slot(chat_id):
                    return await callback(*args, **kwargs)
            except TelegramError as exc:
                failure = classify(exc)
                if attempt == retries or not await self.limiter.heed(failure):
                    raise
                log.info("rate limited on %s; paused %.1fs", endpoint, failure.retry_after_s)
        raise AssertionError("unreachable")
