"""Handlers of the subscriber commands (every chat: private or group)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from telegram import Message, Update
from telegram.constants import ParseMode

from bot.commands.admin import refusal
from bot.commands.args import COMMANDS, UsageError, check_args
from bot.commands.preferences import PreferenceCommands, may_change
from bot.commands.services import Services
from bot.commands.status import pipeline_status
from bot.commands.types import Ctx
from bot.commands.views import (
    CALLBACK_SUB,
    chat_of,
    describe,
    region_keyboard,
    remember_language,
    reply,
    translator_for,
)
from bot.i18n import Translator
from bot.store.subscriptions import ALL_REGIONS, Subscription
from bot.telegram.html import esc


class UserCommands(PreferenceCommands):
    """The commands any chat may use (settings changes in groups need a group admin)."""

    def __init__(self, svc: Services, admin_ids: frozenset[int] = frozenset()) -> None:
        super().__init__(svc)
        self.admin_ids = admin_ids

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
        t = await remember_language(update, self.svc.subs)
        await reply(update, t.lines(t.gettext(
            "<b>Ceasefire Watch</b> alerts you when news outlets report that a ceasefire is "
            "being violated, with the sentence that triggered the alert and a link.\n\n"
            "Use /subscribe to pick the regions you follow, /list to see your settings, "
            "/language to change the language and /help for everything else."
        )))

    async def help(self, update: Update, context: Ctx) -> None:
        """List the commands; admin ones only to an admin, and only in a private chat."""
        t = await translator_for(update, self.svc.subs)
        lines = [t.mark + "<b>" + esc(t.gettext("Commands")) + "</b>"]
        lines += [
            f"{t.mark}{t.isolate(esc(c.usage))} — {esc(t.gettext(c.description))}"
            for c in COMMANDS if not c.admin
        ]
        chat = update.effective_chat
        # A reply in a group is read by every member, so admin commands stay private.
        if chat is not None and chat.type == "private" and refusal(update, self.admin_ids) is None:
            lines.append("\n" + t.mark + "<b>" + esc(t.gettext("Admins")) + "</b>")
            lines += [f"{t.mark}{t.isolate(esc(c.usage))} — {esc(t.gettext(c.description))}"
                      for c in COMMANDS if c.admin]
        await reply(update, "\n".join(lines))

    async def subscribe(self, update: Update, context: Ctx) -> None:
        """Follow the given regions, or offer a keyboard of regions."""
        await self._guard(update, context)
        chat_id, chat_type = chat_of(update)
        args = check_args(context.args)
        t = await remember_language(update, self.svc.subs)
        if not args:
            sub = await self.svc.subs.get(chat_id)
            followed = sub.regions if sub else frozenset()
            await reply(update, t.lines(t.gettext("Pick the regions to follow:")),
                        region_keyboard(self.svc.catalog, followed, t))
            return
        ids, unknown = self._resolve(args)
        prev = await self.svc.subs.get(chat_id)
        had = prev.regions if prev is not None and prev.active else frozenset()
        named = {r.lower() for r in ids}
        added = sorted(named - had)
        lines = _unknown_lines(unknown, t)
        if not added:
            if ids:
                names = self._names(sorted(named), t)
                lines.append(t.gettext("Already following {regions}.", regions=names))
            await _nothing_changed(update, lines, unknown, t)
            return
        sub = await self.svc.subs.subscribe(chat_id, ids, chat_type)
        lines.insert(0, t.gettext("Subscribed to {regions}.", regions=self._names(added, t)))
        await reply(update, t.lines(esc("\n".join(lines))) + "\n\n"
                    + describe(sub, self.svc.catalog, t))

    def _names(self, region_ids: list[str], t: Translator) -> str:
        """Return the regions' names as plain text (the caller escapes)."""
        names = (t.gettext("all regions") if r == ALL_REGIONS else self.svc.catalog.name(r)
                 for r in region_ids)
        return t.isolate(", ".join(names))

    async def subscribe_button(self, update: Update, context: Ctx) -> None:
        """Handle a press on the region keyboard."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        t = await self._t(update)
        if not await may_change(update, context):
            await query.answer(t.gettext("Only this group's administrators can change its alerts."))
            return
        region_id = query.data.removeprefix(CALLBACK_SUB)
        region = self.svc.catalog.resolve(region_id)
        if region_id != ALL_REGIONS and region is None:
            await query.answer(t.gettext("That region is no longer offered."))
            return
        chat_id, chat_type = chat_of(update)
        sub = await self.svc.subs.subscribe(chat_id, [region_id], chat_type)
        name = self._names([region.id if region else region_id], t)
        await query.answer(t.gettext("Subscribed to {regions}.", regions=name).rstrip("."))
        if isinstance(query.message, Message):
            await query.edit_message_text(
                t.lines(t.gettext("Pick the regions to follow:")) + "\n"
                + describe(sub, self.svc.catalog, t),
                parse_mode=ParseMode.HTML,
                reply_markup=region_keyboard(self.svc.catalog, sub.regions, t),
            )

    async def unsubscribe(self, update: Update, context: Ctx) -> None:
        """Stop following regions (or all)."""
        await self._guard(update, context)
        chat_id, _ = chat_of(update)
        args = check_args(context.args)
        if not args:
            raise UsageError()
        everything = [a.lower() for a in args] == ["all"]
        ids, unknown = ([], []) if everything else self._resolve(args)
        prev = await self.svc.subs.get(chat_id)
        had = prev.regions if prev is not None else frozenset()
        removed = sorted(had if everything else {r.lower() for r in ids} & had)
        t = await self._t(update)
        if not removed:
            lines = _unknown_lines(unknown, t)
            if ids or everything:
                lines.append(t.gettext("This chat follows none of those.") if ids else
                             t.gettext("This chat follows no region."))
            await _nothing_changed(update, lines, unknown, t)
            return
        sub = await self.svc.subs.unsubscribe(chat_id, None if everything else ids)
        lines = [t.gettext("Unsubscribed from {regions}.", regions=self._names(removed, t)),
                 *_unknown_lines(unknown, t)]
        if sub is None or not sub.regions:
            lines.append(t.gettext("This chat follows no region now."))
            await reply(update, t.lines(esc("\n".join(lines))))
            return
        await reply(update, t.lines(esc("\n".join(lines))) + "\n\n"
                    + describe(sub, self.svc.catalog, t))

    async def list(self, update: Update, context: Ctx) -> None:
        """Show what this chat follows and its settings."""
        chat_id, _ = chat_of(update)
        t = await self._t(update)
        await reply(update, describe(await self.svc.subs.get(chat_id), self.svc.catalog, t))

    async def regions(self, update: Update, context: Ctx) -> None:
        """List the regions one can follow."""
        t = await self._t(update)
        lines = [t.gettext("<b>Regions</b> (use the id or the name with /subscribe)")]
        lines += [f"<code>{esc(r.id)}</code> — {t.isolate(esc(r.name))}"
                  for r in self.svc.catalog.regions]
        await reply(update, t.lines("\n".join(lines))[:4000])

    async def latest(self, update: Update, context: Ctx) -> None:
        """Show the last alerts (optionally of one region)."""
        args = check_args(context.args)
        t = await self._t(update)
        region = None
        if args:
            found = self.svc.catalog.resolve(" ".join(args))
            if found is None:
                raise UsageError("\n".join(_unknown_lines([" ".join(args)], t)))
            region = found.id
        items = await self.svc.stories.latest(5, region)
        if not items:
            await reply(update, t.lines(t.gettext("No alerts yet.")))
            return
        lines = [t.gettext("<b>Latest alerts</b>")]
        for item in items:
            when = t.when(datetime.fromtimestamp(item.seen, UTC))
            lines.append(
                f"• {t.isolate(esc(when))} — <b>{t.isolate(esc(item.title[:150]))}</b> "
                f"({t.isolate(esc(item.source[:60]))}, {item.score:.0%})"
            )
        await reply(update, t.lines("\n".join(lines)))

    async def status(self, update: Update, context: Ctx) -> None:
        """Summarise pipeline health."""
        await reply(update, await pipeline_status(self.svc.redis, await self._t(update)))

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
        t = await self._t(update)
        await reply(update, t.lines(t.gettext(
            "I do not know the command {command}. Send /help for the list of commands.",
            command=esc(command[:40]),
        )))

    async def plain_text(self, update: Update, context: Ctx) -> None:
        """Point to /help when a private chat writes text (never registered for groups)."""
        t = await self._t(update)
        await reply(update, t.lines(t.gettext(
            "I only understand commands. Send /help for the list, or /subscribe to pick the "
            "regions you follow."
        )))

    async def stale_button(self, update: Update, context: Ctx) -> None:
        """Answer a press on a button this bot no longer handles, so it stops spinning."""
        if update.callback_query is not None:
            t = await self._t(update)
            await update.callback_query.answer(
                t.gettext("This button no longer works. Send /help.")
            )


def _unknown_lines(unknown: list[str], t: Translator) -> list[str]:
    """Return the sentence naming unknown regions, as a list (empty when there are none)."""
    if not unknown:
        return []
    return [t.gettext("Unknown region: {names}. See /regions.",
                      names=t.isolate(", ".join(unknown)[:80]))]


async def _nothing_changed(
    update: Update, lines: list[str], unknown: list[str], t: Translator
) -> None:
    """Say ``lines`` and that nothing changed; as a usage error when a region was mistyped."""
    lines.append(t.gettext("Nothing changed."))
    if unknown:  # a mistyped region: the usage line helps
        raise UsageError(t.lines("\n".join(lines)))
    await reply(update, t.lines(esc("\n".join(lines))))
