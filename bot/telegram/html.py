"""Telegram HTML: escaping, clipping and lengths as the Bot API counts them."""

from __future__ import annotations

import html
from urllib.parse import urlsplit

from telegram.constants import MessageLimit

MAX_MESSAGE: int = MessageLimit.MAX_TEXT_LENGTH
MAX_CAPTION: int = MessageLimit.CAPTION_LENGTH
# Longer links are shown as text: no reader needs them clickable, and they eat the 4096.
MAX_URL = 1024
_ELLIPSIS = "…"


def tg_len(text: str) -> int:
    """Length as Telegram counts it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


def clip(text: str, limit: int) -> str:
    """Plain text cut to ``limit`` characters with an ellipsis (cut before escaping)."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + _ELLIPSIS


def esc(text: str) -> str:
    """Escape text for Telegram HTML."""
    return html.escape(text, quote=True)


def safe_url(url: str) -> str | None:
    """The URL if it is an absolute http(s) link, else None (never a javascript: href)."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if len(esc(url.strip())) > MAX_URL:
        return None
    return url.strip()


def same_text(a: str, b: str) -> bool:
    """True when two texts differ only in spacing and case (evidence that is the headline)."""
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
