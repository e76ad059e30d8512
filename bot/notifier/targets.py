"""Whom a delivery job reaches, read once before its attempt: a chat or a bound channel.

The target carries what the message is rendered with: the chat's language and time zone, or
the channel's language (bot/store/channels.py). An edit reads it again, so a story's post
stays in the language its channel has.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.notifier.channels import ChannelPosts
from bot.store.messages import MessageLedger
from bot.store.subscriptions import SubscriptionStore

Outcome = Literal[
    "sent", "edited", "unchanged", "duplicate", "deactivated", "failed", "inactive",
    "retry_later", "deferred",
]


@dataclass(frozen=True)
class Target:
    """A job's recipient as read once: language, time zone, and whether it is a channel."""

    lang: str | None
    channel: bool
    zone: str = "UTC"


async def job_target(
    ledger: MessageLedger, subs: SubscriptionStore, channels: ChannelPosts | None,
    alert_id: str, chat_id: int,
) -> Outcome | Target:
    """Why a job needs no send (already delivered, chat gone or muted), else its target."""
    if await ledger.was_sent(alert_id, chat_id):
        return "duplicate"
    sub = await subs.get(chat_id)
    if sub is None and channels is not None:
        lang = await channels.language(chat_id)
        if lang is not None:
            return Target(lang=lang, channel=True)  # posted to without a subscription
    if sub is None or not sub.active or sub.muted():
        return "inactive"
    return Target(lang=sub.lang, channel=False, zone=sub.tz)
