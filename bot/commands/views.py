"""What the bot shows: replies, the /list text and the region keyboard."""

from __future__ import annotations

import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, LinkPreviewOptions, Update
from telegram.constants import ParseMode

from bot.commands.args import UsageError
from bot.store.regions import RegionCatalog
from bot.store.subscriptions import ALL_REGIONS, Subscription
from bot.telegram.html import esc

CALLBACK_SUB = "sub:"
ESCALATION_REPLIES = {
    True: "Escalation alerts on: you will hear when violation reports in a region you follow "
    "rise well above its usual rate (at most once per region per 6 h).",
    False: "Escalation alerts off (a daily digest still lists them).",
}


def chat_of(update: Update) -> tuple[int, str]:
    """Return the chat id and type of an update."""
    chat = update.effective_chat
    if chat is None:
        raise UsageError("This command works in chats only.")
    return chat.id, chat.type


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer in the chat the update came from, as HTML."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(
            text, parse_mode=ParseMode.HTML, reply_markup=markup, do_quote=False,
            link_preview_options=LinkPreviewOptions(is_disabled=True),
        )


def describe(sub: Subscription | None, catalog: RegionCatalog) -> str:
    """Return the /list text of a subscription."""
    if sub is None or (not sub.regions and sub.active):
        return "This chat follows no region yet. Use /subscribe to pick some."
    if ALL_REGIONS in sub.regions:
        regions = "all regions"
    else:
        regions = ", ".join(esc(catalog.name(r)) for r in sorted(sub.regions)) or "none"
    kinds = "violations only" if sub.kinds == "violations" else "violations and ceasefire news"
    mute = "no"
    if sub.muted():
        mute = f"for {max(1, round((sub.mute_until - time.time()) / 60))} more minutes"
    digest = "off (instant alerts)" if sub.digest == "off" else f"daily at {sub.digest}"
    lines = [
        f"<b>Following:</b> {regions}",
        f"<b>Kinds:</b> {kinds}",
        f"<b>Escalation alerts:</b> {'on' if sub.escalation else 'off'}",
        "<b>Threshold:</b> "
        + ("the classifier's default" if sub.threshold is None else f"{sub.threshold:g}"),
        f"<b>Muted:</b> {mute}",
        f"<b>Digest:</b> {digest}",
        f"<b>Time zone:</b> {esc(sub.tz)}",
    ]
    if not sub.active:
        lines.append("<b>Paused:</b> the bot could not reach this chat; /start resumes alerts.")
    return "\n".join(lines)


def region_keyboard(catalog: RegionCatalog, followed: frozenset[str]) -> InlineKeyboardMarkup:
    """Return one button per region (ticked when followed), two per row, plus 'all'."""
    buttons = [
        InlineKeyboardButton(
            ("✅ " if r.id in followed else "") + r.name, callback_data=f"{CALLBACK_SUB}{r.id}"[:64]
        )
        for r in catalog.regions[:60]
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append([InlineKeyboardButton("All regions", callback_data=f"{CALLBACK_SUB}{ALL_REGIONS}")])
    return InlineKeyboardMarkup(rows)
