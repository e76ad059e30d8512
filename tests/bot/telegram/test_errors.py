"""Every Telegram error is classified in one place, with a text that never holds the token."""

from __future__ import annotations

import warnings
from datetime import timedelta

import pytest
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.warnings import PTBDeprecationWarning

from bot.telegram.errors import FailureKind, classify, use_timedelta_periods
from tests.bot.helpers import TOKEN


@pytest.fixture
def timedelta_periods(monkeypatch: pytest.MonkeyPatch) -> None:
    """Opt in as the service does; the environment is restored after the test."""
    monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    use_timedelta_periods()


@pytest.mark.parametrize(("exc", "kind"), [
    (Forbidden("Forbidden: bot was blocked by the user"), "chat_gone"),
    (Forbidden("Forbidden: user is deactivated"), "chat_gone"),
    (BadRequest("Bad Request: chat not found"), "chat_gone"),
    (BadRequest("Bad Request: user is deactivated"), "chat_gone"),
    (BadRequest("Bad Request: message to edit not found"), "message_gone"),
    (BadRequest("Bad Request: message can't be edited"), "message_gone"),
    (BadRequest("Bad Request: message is not modified: specified new message content and "
                "reply markup are exactly the same"), "not_modified"),
    (BadRequest("Bad Request: can't parse entities"), "refused"),
    (ChatMigrated(-100123), "migrated"),
    (InvalidToken(), "bad_token"),
    (NetworkError("Bad Gateway (502)"), "transient"),
    (TimedOut(), "transient"),
    (Conflict("terminated by other getUpdates request"), "transient"),
    (TelegramError("something new"), "transient"),
])
def test_each_error_has_one_kind(exc: TelegramError, kind: FailureKind) -> None:
    failure = classify(exc)
    assert failure.kind == kind
    assert failure.retry_later == (kind in ("rate_limited", "transient"))
    assert failure.text.startswith(type(exc).__name__ + ": ")


def test_migration_carries_the_new_chat_id() -> None:
    assert classify(ChatMigrated(-100123)).new_chat_id == -100123


@pytest.mark.usefixtures("timedelta_periods")
def test_retry_after_is_read_publicly_without_a_warning() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        failure = classify(RetryAfter(3))
        assert (failure.kind, failure.retry_after_s) == ("rate_limited", 3.0)
        assert classify(RetryAfter(timedelta(milliseconds=1500))).retry_after_s == 1.5


def test_without_the_opt_in_ptb_warns(monkeypatch: pytest.MonkeyPatch) -> None:
    """Why the opt-in exists: PTB 22 warns on every 429 it builds while it is unset."""
    monkeypatch.delenv("PTB_TIMEDELTA", raising=False)
    with pytest.warns(PTBDeprecationWarning):
        RetryAfter(3)


def test_the_token_is_masked() -> None:
    failure = classify(NetworkError(f"connect to https://api.telegram.org/bot{TOKEN}/x"), TOKEN)
    assert TOKEN not in failure.text and "<bot-token>" in failure.text
    # Even a caller without the token gets a masked text.
    assert TOKEN not in classify(NetworkError(f"bot{TOKEN}/x")).text
