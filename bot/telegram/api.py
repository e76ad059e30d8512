"""Bot token, Bot API URLs, and the Bot the notifier sends with."""

from __future__ import annotations

import contextlib

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.telegram.errors import TelegramError, classify, use_timedelta_periods
from core.lifecycle import FatalError
from core.settings import Settings

DEFAULT_API = "https://api.telegram.org"


def bot_token(settings: Settings) -> str | None:
    """The bot token, or None when the bot is off."""
    secret = settings.telegram_bot_token
    value = secret.get_secret_value().strip() if secret is not None else ""
    return value or None


def api_urls(api_url: str | None) -> tuple[str, str]:
    """PTB ``base_url`` and ``base_file_url`` from ``TELEGRAM_API_URL`` (a host, or ``.../bot``)."""
    base = (api_url or DEFAULT_API).rstrip("/")
    if base.endswith("/bot"):
        base = base[: -len("/bot")]
    return f"{base}/bot", f"{base}/file/bot"


def make_bot(settings: Settings, *, pool_size: int = 64) -> Bot:
    """A plain PTB Bot for the notifier (no Application), pointed at the configured API."""
    token = bot_token(settings)
    if token is None:
        raise ValueError("TELEGRAM_BOT_TOKEN is not set")
    base_url, file_url = api_urls(settings.telegram_api_url)
    use_timedelta_periods()
    request = HTTPXRequest(
        connection_pool_size=pool_size, read_timeout=15.0, write_timeout=15.0,
        connect_timeout=5.0, pool_timeout=5.0,
    )
    return Bot(token, base_url=base_url, base_file_url=file_url, request=request)


class BotTokenRejectedError(FatalError):
    """The Bot API refused the token (PTB's own error would print the token); never retried."""


async def initialize_checked(bot: Bot) -> None:
    """Initialize ``bot`` (getMe), replacing PTB's InvalidToken, whose text holds the token."""
    try:
        await bot.initialize()
    except TelegramError as exc:
        if classify(exc).kind != "bad_token":
            raise
        with contextlib.suppress(Exception):
            await bot.shutdown()
        raise BotTokenRejectedError(
            "the Bot API rejected TELEGRAM_BOT_TOKEN (revoked or mistyped?)"
        ) from None
