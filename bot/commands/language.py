"""/language: the bot's language in a chat, by code or from a keyboard (bot/i18n.py)."""

from __future__ import annotations

from telegram import Message, Update
from telegram.constants import ParseMode

from bot.commands.args import NotAllowedError, UsageError, check_args
from bot.commands.preferences import may_change
from bot.commands.services import Services
from bot.commands.types import Ctx
from bot.commands.views import (
    CALLBACK_LANG,
    chat_of,
    language_keyboard,
    reply,
    translator_for,
)
from bot.i18n import LANGUAGES, N_, normalize, translator

# Each catalogue's own confirmation, which says which language it is ("Sprache: Deutsch").
DONE = N_("Language set to English.")
ADMINS_ONLY = N_("Only this group's administrators can change its alerts.")


class LanguageCommands:
    """``/language [code]`` and presses on its keyboard."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc

    async def language(self, update: Update, context: Ctx) -> None:
        """Show the languages (as buttons), or set this chat's language from ``/language xx``."""
        args = check_args(context.args)
        t = await translator_for(update, self.svc.subs)
        codes = ", ".join(LANGUAGES)
        if not args:
            text = t.gettext("Choose the bot's language here: {codes}.", codes=codes)
            await reply(update, t.lines(text), language_keyboard(t.lang))
            return
        code = normalize(args[0]) if len(args) == 1 else None
        if code is None:
            raise UsageError(t.lines(t.gettext(
                "Unknown language {code}. Choose one of: {codes}.",
                code=" ".join(args)[:20], codes=codes,
            )))
        if not await may_change(update, context):
            raise NotAllowedError(t.lines(t.gettext(ADMINS_ONLY)))
        chat_id, chat_type = chat_of(update)
        await self.svc.subs.update(chat_id, chat_type, lang=code)
        new = translator(code)
        await reply(update, new.lines(new.gettext(DONE)))

    async def button(self, update: Update, context: Ctx) -> None:
        """Handle a press on the language keyboard."""
        query = update.callback_query
        if query is None or query.data is None:
            return
        code = normalize(query.data.removeprefix(CALLBACK_LANG))
        if code is None or not await may_change(update, context):
            t = await translator_for(update, self.svc.subs)
            await query.answer(t.gettext(ADMINS_ONLY))
            return
        chat_id, chat_type = chat_of(update)
        await self.svc.subs.update(chat_id, chat_type, lang=code)
        new = translator(code)
        done = new.gettext(DONE)
        await query.answer(done)
        if isinstance(query.message, Message):
            await query.edit_message_text(new.lines(done), parse_mode=ParseMode.HTML,
                                          reply_markup=language_keyboard(code))
