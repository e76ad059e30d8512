"""Handlers of the subscriber commands (every chat: private or group)."""

from __future__ import annotations

import time
from dataclasses import replace

from telegram import Message, Update
from telegram.constants import ParseMode

from bot.commands.admin import refusal
from bot.commands.args import (
    COMMANDS,
    NotAllowedError,
    UsageError,
    check_args,
    parse_digest,
    parse_duration,
    parse_threshold,
    parse_timezone,
    usage,
)
from bot.commands.services import Services
from bot.commands.status import pipeline_status
from bot.commands.types import Ctx
from bot.commands.views import (
    CALLBACK_SUB,
    ESCALATION_REPLIES,
    chat_of,
    describe,
    region_keyboard,
    reply,
)
from bot.store.subscriptions import ALL_REGIONS, Subscription
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


class UserCommands:
    """The commands any chat may use (settings changes in groups need a group admin)."""

    def __init__(self, svc: Services, admin_ids: frozenset[int] = frozenset()) -> None:
        self.svc = svc
        self.admin_ids = admin_ids

    async def _guard(self, update: Update, context: Ctx) -> None:
        if not await may_change(update, context):
            raise NotAllowedError("Only this group's administrators can change its alerts.")

    def _resolve(self, args: list[str]) -> tuple[list[str], list[str]]:
        """Return the region ids named in ``args`` and the words that name no region."""
        ids: list[str] = []
        unknown: list[str] = []
        for raw in " ".join(args).replace(";", ",").split(","):
            for word in [raw.strip()] if self.svc.catalog.resolve(raw) else raw.split():
                if not word:
                    continue
                if word.lower() in ("all", ALL_REGIONS):
                    ids.append(ALL_REGIONS)
                    continue
                region = self.svc.catalog.resolve(word)
                if region is None:
                    unknown.append(word)
                else:
                    ids.append(region.id)
        return ids, unknown

    async def start(self, update: Update, context: Ctx) -> None:
        """Welcome; (re)activate the chat."""
        chat_id, chat_type = chat_of(update)
        sub = await self.svc.subs.get(chat_id)
        if sub is None or not sub.active:
            base = sub or Subscription(chat_id=chat_id, chat_type=chat_type)
            await self.svc.subs.save(replace(base, active=True, reason=""), sub)
        await reply(
            update,
            "<b>Ceasefire Watch</b> alerts you when news outlets report that a ceasefire is "
            "being violated, with the sentence that triggered the alert and a link.\n\n"
            "Use /subscribe to pick the regions you follow, /list to see your settings and "
            "/help for everything else.",
        )

    async def help(self, update: Update, context: Ctx) -> None:
        """List the commands; admin ones only to an admin, and only in a private chat."""
        lines = ["<b>Commands</b>"]
        lines += [f"{esc(c.usage)} — {esc(c.description)}" for c in COMMANDS if not c.admin]
        chat = update.effective_chat
        # A reply in a group is read by every member, so admin commands stay private.
        if chat is not None and chat.type == "private" and refusal(update, self.admin_ids) is None:
            lines.append("\n<b>Admins</b>")
            lines += [f"{esc(c.usage)} — {esc(c.description)}" for c in COMMANDS if c.admin]
        await reply(update, "\n".join(lines))

    async def subscribe(self, update: Update, context: Ctx) -> None:
        """Follow the given regions, or offer a keyboard of regions."""
        await self._guard(update, context)
        chat_id, chat_type = chat_of(update)
        args = check_args(context.args)
        if not args:
            sub = await self.svc.subs.get(chat_id)
            followed = sub.regions if sub else frozenset()
            await reply(update, "Pick the regions to follow:",
                        region_keyboard(self.svc.catalog, followed))
            return
        ids, unknown = self._resolve(args)
        prev = await self.svc.subs.get(chat_id)
        had = prev.regions if prev is not None and prev.active else frozenset()
        named = {r.lower() for r in ids}
        added = sorted(named - had)
        lines = _unknown_lines(unknown)
        if not added:
            if ids:
                lines.append(f"Already following {self._names(sorted(named))}.")
            await _nothing_changed(update, lines, unknown)
            return
        sub = await self.svc.subs.subscribe(chat_id, ids, chat_type)
        lines.insert(0, f"Subscribed to {self._names(added)}.")
        await reply(update, esc("\n".join(lines)) + "\n\n" + describe(sub, self.svc.catalog))

    def _names(self, region_ids: list[str]) -> str:
        """Return the regions' names as plain text (the caller escapes)."""
        names = ("all regions" if r == ALL_REGIONS else self.svc.catalog.name(r)
                 for r in region_ids)
        return ", ".join(names)

    async def subscribe_button(self, update: Update, context: Ctx) -> None:
        """Handle a press on the region keyboard."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        if not await may_change(update, context):
            await query.answer("Only this group's administrators can change its alerts.")
            return
        region_id = query.data.removeprefix(CALLBACK_SUB)
        region = self.svc.catalog.resolve(region_id)
        if region_id != ALL_REGIONS and region is None:
            await query.answer("That region is no longer offered.")
            return
        chat_id, chat_type = chat_of(update)
        sub = await self.svc.subs.subscribe(chat_id, [region_id], chat_type)
        name = "all regions" if region_id == ALL_REGIONS else region.name if region else region_id
        await query.answer(f"Subscribed to {name}")
        if isinstance(query.message, Message):
            await query.edit_message_text(
                "Pick the regions to follow:\n" + describe(sub, self.svc.catalog),
                parse_mode=ParseMode.HTML,
                reply_markup=region_keyboard(self.svc.catalog, sub.regions),
            )

    async def unsubscribe(self, update: Update, context: Ctx) -> None:
        """Stop following regions (or all)."""
        await self._guard(update, context)
        chat_id, _ = chat_of(update)
        args = check_args(context.args)
        if not args:
            raise UsageError(usage("unsubscribe"))
        everything = [a.lower() for a in args] == ["all"]
        ids, unknown = ([], []) if everything else self._resolve(args)
        prev = await self.svc.subs.get(chat_id)
        had = prev.regions if prev is not None else frozenset()
        removed = sorted(had if everything else {r.lower() for r in ids} & had)
        if not removed:
            lines = _unknown_lines(unknown)
            if ids or everything:
                lines.append("This chat follows none of those." if ids else
                             "This chat follows no region.")
            await _nothing_changed(update, lines, unknown)
            return
        sub = await self.svc.subs.unsubscribe(chat_id, None if everything else ids)
        lines = [f"Unsubscribed from {self._names(removed)}.", *_unknown_lines(unknown)]
        if sub is None or not sub.regions:
            lines.append("This chat follows no region now.")
            await reply(update, esc("\n".join(lines)))
            return
        await reply(update, esc("\n".join(lines)) + "\n\n" + describe(sub, self.svc.catalog))

    async def list(self, update: Update, context: Ctx) -> None:
        """Show what this chat follows and its settings."""
        chat_id, _ = chat_of(update)
        await reply(update, describe(await self.svc.subs.get(chat_id), self.svc.catalog))

    async def regions(self, update: Update, context: Ctx) -> None:
        """List the regions one can follow."""
        lines = ["<b>Regions</b> (use the id or the name with /subscribe)"]
        lines += [f"<code>{esc(r.id)}</code> — {esc(r.name)}" for r in self.svc.catalog.regions]
        await reply(update, "\n".join(lines)[:4000])

    async def _set(self, update: Update, done: str, **changes: object) -> None:
        chat_id, chat_type = chat_of(update)
        await self.svc.subs.update(chat_id, chat_type, **changes)
        await reply(update, done)

    async def threshold(self, update: Update, context: Ctx) -> None:
        """Set the minimum confidence."""
        await self._guard(update, context)
        value = parse_threshold(check_args(context.args))
        done = (
            "Threshold back to the classifier's default (chosen for 95% precision)."
            if value is None
            else f"Threshold set to {value:g}: weaker alerts are not sent."
        )
        await self._set(update, done, threshold=value)

    async def kinds(self, update: Update, context: Ctx) -> None:
        """Violations only, or ceasefire news too; escalation alerts on or off."""
        await self._guard(update, context)
        args = [a.lower() for a in check_args(context.args)]
        if len(args) == 2 and args[0] == "escalation" and args[1] in ("on", "off"):
            on = args[1] == "on"
            await self._set(update, ESCALATION_REPLIES[on], escalation=on)
            return
        if args not in (["violations"], ["all"]):
            raise UsageError(usage("kinds"))
        text = "violations only" if args[0] == "violations" else "violations and ceasefire news"
        await self._set(update, f"You will get {text}.", kinds=args[0])

    async def mute(self, update: Update, context: Ctx) -> None:
        """Pause alerts for a duration."""
        await self._guard(update, context)
        span = parse_duration(check_args(context.args))
        minutes = round(span.total_seconds() / 60)
        await self._set(update, f"Muted for {minutes} minutes. /unmute resumes alerts.",
                        mute_until=time.time() + span.total_seconds())

    async def unmute(self, update: Update, context: Ctx) -> None:
        """Resume alerts."""
        await self._guard(update, context)
        await self._set(update, "Alerts resumed.", mute_until=0.0)

    async def digest(self, update: Update, context: Ctx) -> None:
        """Choose instant alerts or a daily digest."""
        await self._guard(update, context)
        value = parse_digest(check_args(context.args))
        if value == "off":
            await self._set(update, "Digest off: alerts arrive as they happen.", digest="off")
            return
        await self._set(update, f"One daily digest at {value} (your time zone: see /timezone).",
                        digest=value)

    async def timezone(self, update: Update, context: Ctx) -> None:
        """Set the time zone of the daily digest."""
        await self._guard(update, context)
        tz = parse_timezone(check_args(context.args))
        await self._set(update, f"Time zone set to {esc(tz)}.", tz=tz)

    async def latest(self, update: Update, context: Ctx) -> None:
        """Show the last alerts (optionally of one region)."""
        args = check_args(context.args)
        region = None
        if args:
            found = self.svc.catalog.resolve(" ".join(args))
            if found is None:
                raise UsageError(f"Unknown region: {' '.join(args)[:80]}. See /regions.")
            region = found.id
        items = await self.svc.stories.latest(5, region)
        if not items:
            await reply(update, "No alerts yet.")
            return
        lines = ["<b>Latest alerts</b>"]
        for item in items:
            when = time.strftime("%d %b %H:%M UTC", time.gmtime(item.seen))
            lines.append(
                f"• {esc(when)} — <b>{esc(item.title[:150])}</b> ({esc(item.source[:60])}, "
                f"{item.score:.0%})"
            )
        await reply(update, "\n".join(lines))

    async def status(self, update: Update, context: Ctx) -> None:
        """Summarise pipeline health."""
        await reply(update, await pipeline_status(self.svc.redis))

    async def unknown(self, update: Update, context: Ctx) -> None:
        """Point to /help for a command we do not have (in groups: only if addressed to us)."""
        message = update.effective_message
        chat = update.effective_chat
        if message is None or not message.text or chat is None:
            return
        word = message.text.split(maxsplit=1)[0]
        command, _, addressee = word.partition("@")
        if chat.type != "private" and addressee.lower() != (context.bot.username or "").lower():
            # Other bots in the group have commands of their own: not ours to answer.
            return
        await reply(update, f"I do not know the command {esc(command[:40])}. "
                            "Send /help for the list of commands.")

    async def plain_text(self, update: Update, context: Ctx) -> None:
        """Point to /help when a private chat writes text (never registered for groups)."""
        await reply(update, "I only understand commands. Send /help for the list, "
                            "or /subscribe to pick the regions you follow.")

    async def stale_button(self, update: Update, context: Ctx) -> None:
        """Answer a press on a button this bot no longer handles, so it stops spinning."""
        if update.callback_query is not None:
            await update.callback_query.answer("This button no longer works. Send /help.")


def _unknown_lines(unknown: list[str]) -> list[str]:
    """Return the sentence naming unknown regions, as a list (empty when there are none)."""
    return [f"Unknown region: {', '.join(unknown)[:80]}. See /regions."] if unknown else []


async def _nothing_changed(update: Update, lines: list[str], unknown: list[str]) -> None:
    """Say ``lines`` and that nothing changed; as a usage error when a region was mistyped."""
    lines.append("Nothing changed.")
    if unknown:  # a mistyped region: the usage line helps
        raise UsageError("\n".join(lines))
    await reply(update, esc("\n".join(lines)))
