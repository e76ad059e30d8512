"""Every Telegram error classified once: what it means for the caller, and a token-safe text.

Senders (delivery, digest, admin notices, broadcast, the PTB rate limiter) call
:func:`classify` and act on its ``kind``; none of them looks at ``telegram.error`` types or
at the Bot API's error texts itself.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    RetryAfter,
    TelegramError,
)

from core.logging_setup import mask_secrets

# Callers catch the base class from here, then ask classify() what it was.
__all__ = [
    "FailureKind",
    "TelegramError",
    "TelegramFailure",
    "classify",
    "retry_after_s",
    "safe_error",
    "use_timedelta_periods",
]

FailureKind = Literal[
    "rate_limited",  # 429: wait retry_after_s, bot-wide, then try again
    "migrated",  # the group became a supergroup: resend to new_chat_id
    "chat_gone",  # blocked, kicked, deleted or deactivated: stop writing to this chat
    "message_gone",  # the message to edit was deleted or is too old: send a new one
    "not_modified",  # an edit with the text the message already has
    "refused",  # any other request Telegram rejects for good
    "bad_token",  # the token was revoked: nothing sent with it can succeed
    "transient",  # network, timeout, 5xx, anything else: the same request may work later
]

# By type, first match wins: BadRequest is a NetworkError, and InvalidToken a TelegramError.
_BY_TYPE: tuple[tuple[type[TelegramError], FailureKind], ...] = (
    (RetryAfter, "rate_limited"),
    (ChatMigrated, "migrated"),
    (InvalidToken, "bad_token"),
    (Forbidden, "chat_gone"),  # blocked, kicked, or the user deleted their account
)
# A 400 (BadRequest) by the text of Telegram's description; any other 400 is "refused".
_BAD_REQUEST_TEXTS: tuple[tuple[FailureKind, tuple[str, ...]], ...] = (
    ("chat_gone", ("chat not found", "user not found", "chat_id is empty", "user is deactivated")),
    ("not_modified", ("message is not modified",)),
    ("message_gone", ("message to edit not found", "message can't be edited")),
)


@dataclass(frozen=True)
class TelegramFailure:
    """One failed Bot API call, classified: its kind, a token-safe text, and its details."""

    kind: FailureKind
    text: str
    retry_after_s: float = 0.0
    new_chat_id: int | None = None

    @property
    def retry_later(self) -> bool:
        """True when the same request may succeed later (rate limited or transient)."""
        return self.kind in ("rate_limited", "transient")


def use_timedelta_periods() -> None:
    """Opt this process in to PTB's timedelta time periods (``RetryAfter.retry_after``).

    PTB 22 reads ``PTB_TIMEDELTA`` each time such a value is built or read, and warns
    (PTBDeprecationWarning) while it is unset, even inside its own request code when a 429
    arrives. Called where we build a bot or its rate limiter, never at import.
    """
    os.environ["PTB_TIMEDELTA"] = "true"


def safe_error(exc: BaseException, token: str | None) -> str:
    """``Type: message`` with any bot token masked, short enough to store."""
    text = f"{type(exc).__name__}: {exc}"
    if token:
        text = text.replace(token, "<bot-token>")
    return mask_secrets(text)[:300]


def retry_after_s(exc: RetryAfter) -> float:
    """The wait a 429 asks for, in seconds."""
    value = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    return max(0.0, seconds)


def _kind(exc: TelegramError) -> FailureKind:
    for cls, kind in _BY_TYPE:
        if isinstance(exc, cls):
            return kind
    if isinstance(exc, BadRequest):
        text = exc.message.lower()
        for kind, texts in _BAD_REQUEST_TEXTS:
            if any(t in text for t in texts):
                return kind
        return "refused"
    # NetworkError, TimedOut, 5xx, Conflict, ...: nothing says the same request would fail.
    return "transient"


def classify(exc: TelegramError, token: str | None = None) -> TelegramFailure:
    """What a Telegram error means for the caller, with its text (``token`` masked)."""
    kind = _kind(exc)
    return TelegramFailure(
        kind=kind,
        text=safe_error(exc, token),
        retry_after_s=retry_after_s(exc) if isinstance(exc, RetryAfter) else 0.0,
        new_chat_id=exc.new_chat_id if isinstance(exc, ChatMigrated) else None,
    )
