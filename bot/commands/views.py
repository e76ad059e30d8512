"""What the bot shows: replies, the /list text and the region keyboard."""

from __future__ import annotations

import time
from dataclasses import replace

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ParseMode

from bot.commands.args import UsageError
from bot.i18n import LANGUAGES, N_, Translator, choose, translator
from bot.store.regions import RegionCatalog
from bot.store.subscriptions import ALL_REGIONS, Subscription, SubscriptionStore
from bot.telegram.html import esc

CALLBACK_SUB = "sub:"
CALLBACK_LANG = "lang:"
ESCALATION_REPLIES = {
    True: N_("Escalation alerts on: you will hear when violation reports in a region you "
             "follow rise well above its usual rate (at most once per region per 6 h)."),
    False: N_("Escalation alerts off (a daily digest still lists them)."),
}


def chat_of(update: Update) -> tuple[int, str]:
    """Return the chat id and type of an update."""
    chat = update.effective_chat
    if chat is None:
        raise UsageError(N_("This command works in chats only."))
    return chat.id, chat.type


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer in the chat the update came from, as HTML."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, do_quote=False,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )


def describe(
    sub: Subscription | None, catalog: RegionCatalog, t: Translator | None = None
) -> str:
    """Return the /list text of a subscription (in the chat's language)."""
    t = t or translator(None)
    if sub is None or (not sub.regions and sub.active):
        return t.lines(t.gettext("This chat follows no region yet. Use /subscribe to pick some."))
    if ALL_REGIONS in sub.regions:
        regions = esc(t.gettext("all regions"))
    else:
        names = ", ".join(esc(catalog.name(r)) for r in sorted(sub.regions))
        regions = t.isolate(names) if names else esc(t.gettext("none"))
    kinds = (t.gettext("violations only") if sub.kinds == "violations"
             else t.gettext("violations and ceasefire news"))
    mute = t.gettext("no")
    if sub.muted():
        left = max(1, round((sub.mute_until - time.time()) / 60))
        mute = t.ngettext("for {n} more minute", "for {n} more minutes", left)
    digest = (t.gettext("off (instant alerts)") if sub.digest == "off"
              else t.gettext("daily at {time}", time=sub.digest))
    escalation = t.gettext("on") if sub.escalation else t.gettext("off")
    threshold = (t.gettext("the classifier's default") if sub.threshold is None
                 else f"{sub.threshold:g}")
    # Our own words (no markup in them) go in as they are; names and the zone are escaped.
    lines = [
        t.gettext("<b>Following:</b> {regions}", regions=regions),
        t.gettext("<b>Kinds:</b> {kinds}", kinds=kinds),
        t.gettext("<b>Escalation alerts:</b> {state}", state=escalation),
        t.gettext("<b>Threshold:</b> {value}", value=threshold),
        t.gettext("<b>Muted:</b> {state}", state=mute),
        t.gettext("<b>Digest:</b> {state}", state=digest),
        t.gettext("<b>Time zone:</b> {zone}", zone=t.isolate(esc(sub.tz))),
    ]
    if not sub.active:
        lines.append(t.gettext(
            "<b>Paused:</b> the bot could not reach this chat; /start resumes alerts."))
    return t.lines("\n".join(lines))


def region_keyboard(
    catalog: RegionCatalog, followed: frozenset[str], t: Translator | None = None
) -> InlineKeyboardMarkup:
    """Return one button per region (ticked when followed), two per row, plus 'all'."""
    buttons = [
        InlineKeyboardButton(
            ("✅ " if r.id in followed else "") + r.name, callback_data=f"{CALLBACK_SUB}{r.id}"[:64]
        )
        for r in catalog.regions[:60]
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    label = (t or translator(None)).gettext("All regions")
    rows.append([InlineKeyboardButton(label, callback_data=f"{CALLBACK_SUB}{ALL_REGIONS}")])
    return InlineKeyboardMarkup(rows)


async def translator_for(update: Update, subs: SubscriptionStore) -> Translator:
    """The chat's language (chosen with /language, else the sender's), times in its zone."""
    chat, user = update.effective_chat, update.effective_user
    sub = await subs.get(chat.id) if chat is not None else None
    t = choose(sub.lang if sub else None, user.language_code if user else None)
    return t.in_zone(sub.tz if sub else None)


def language_keyboard(current: str) -> InlineKeyboardMarkup:
    """One button per language (in its own name; the current one ticked), three per row."""
    buttons = [
        InlineKeyboardButton(("✅ " if code == current else "") + name,
                             callback_data=f"{CALLBACK_LANG}{code}")
        for code, name in LANGUAGES.items()
    ]
    return InlineKeyboardMarkup([buttons[i : i + 3] for i in range(0, len(buttons), 3)])


async def remember_language(update: Update, subs: SubscriptionStore) -> Translator:
    """The chat's language; a private chat's Telegram one is stored for alerts (no user)."""
    t = await translator_for(update, subs)
    chat = update.effective_chat
    if chat is not None and chat.type == "private" and t.lang != "en":
        sub = await subs.get(chat.id)
        if sub is not None and not sub.lang:
            await subs.save(replace(sub, lang=t.lang), sub)
    return t
