"""The chat's preferences: threshold, kinds, mute, digest and time zone.

In a group only its administrators may change them (:func:`may_change`).
"""

from __future__ import annotations

import time

from telegram import Update

from bot.commands.args import (
    NotAllowedError,
    UsageError,
    check_args,
    parse_digest,
    parse_duration,
    parse_threshold,
    parse_timezone,
)
from bot.commands.services import Services
from bot.commands.types import Ctx
from bot.commands.views import ESCALATION_REPLIES, chat_of, reply, translator_for
from bot.i18n import Translator
from bot.telegram.errors import TelegramError
from bot.telegram.html import esc


async def may_change(update: Update, context: Ctx) -> bool:
    """Return True if the sender may change this chat's settings.

    Anyone in a private chat; in groups only the group's administrators (an anonymous admin
    writes as the group itself). A user posting as some channel may not.
    """
    chat = update.effective_chat
    if chat is None or chat.type == "private":
        return chat is not None
    message = update.effective_message
    if update.callback_query is None and message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    user = update.effective_user
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError:
        return False
    return member.status in ("administrator", "creator")


class PreferenceCommands:
    """The preference commands, and the guard and language every chat command uses."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def _guard(self, update: Update, context: Ctx) -> None:
        if not await may_change(update, context):
            t = await self._t(update)
            raise NotAllowedError(
                t.lines(t.gettext("Only this group's administrators can change its alerts."))
            )

    async def _t(self, update: Update) -> Translator:
        """The chat's language (bot/i18n.py)."""
        return await translator_for(update, self.svc.subs)

    async def _set(self, update: Update, done: str, **changes: object) -> None:
        chat_id, chat_type = chat_of(update)
        await self.svc.subs.update(chat_id, chat_type, **changes)
        await reply(update, done)

    async def threshold(self, update: Update, context: Ctx) -> None:
        """Set the minimum confidence."""
        await self._guard(update, context)
        value = parse_threshold(check_args(context.args))
        t = await self._t(update)
        done = (
            t.gettext("Threshold back to the classifier's default (chosen for 95% precision).")
            if value is None
            else t.gettext("Threshold set to {value}: weaker alerts are not sent.",
                           value=f"{value:g}")
        )
        await self._set(update, t.lines(done), threshold=value)

    async def kinds(self, update: Update, context: Ctx) -> None:
        """Violations only, or ceasefire news too; escalation alerts on or off."""
        await self._guard(update, context)
        args = [a.lower() for a in check_args(context.args)]
        t = await self._t(update)
        if len(args) == 2 and args[0] == "escalation" and args[1] in ("on", "off"):
            on = args[1] == "on"
            await self._set(update, t.lines(t.gettext(ESCALATION_REPLIES[on])), escalation=on)
            return
        if args not in (["violations"], ["all"]):
            raise UsageError()
        done = (t.gettext("You will get violations only.") if args[0] == "violations"
                else t.gettext("You will get violations and ceasefire news."))
        await self._set(update, t.lines(done), kinds=args[0])

    async def mute(self, update: Update, context: Ctx) -> None:
        """Pause alerts for a duration."""
        await self._guard(update, context)
        span = parse_duration(check_args(context.args))
        minutes = round(span.total_seconds() / 60)
        t = await self._t(update)
        done = t.ngettext("Muted for {n} minute. /unmute resumes alerts.",
                          "Muted for {n} minutes. /unmute resumes alerts.", minutes)
        await self._set(update, t.lines(done), mute_until=time.time() + span.total_seconds())

    async def unmute(self, update: Update, context: Ctx) -> None:
        """Resume alerts."""
        await self._guard(update, context)
        t = await self._t(update)
        await self._set(update, t.lines(t.gettext("Alerts resumed.")), mute_until=0.0)

    async def digest(self, update: Update, context: Ctx) -> None:
        """Choose instant alerts or a daily digest."""
        await self._guard(update, context)
        value = parse_digest(check_args(context.args))
        t = await self._t(update)
        if value == "off":
            done = t.gettext("Digest off: alerts arrive as they happen.")
            await self._set(update, t.lines(done), digest="off")
            return
        done = t.gettext("One daily digest at {time} (your time zone: see /timezone).",
                         time=t.isolate(value))
        await self._set(update, t.lines(done), digest=value)

    async def timezone(self, update: Update, context: Ctx) -> None:
        """Set the time zone of the daily digest."""
        await self._guard(update, context)
        tz = parse_timezone(check_args(context.args))
        t = await self._t(update)
        done = t.gettext("Time zone set to {zone}.", zone=t.isolate(esc(tz)))
        await self._set(update, t.lines(done), tz=tz)
