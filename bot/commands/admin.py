"""Admin-only commands: /stats /feeds /addfeed /removefeed /reactivate /broadcast."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from pathlib import Path
from urllib.parse import urlsplit

from telegram import Update
from telegram.constants import ParseMode

from bot.commands.args import UsageError, check_args
from bot.commands.feedback import feedback_summary
from bot.commands.services import Services
from bot.commands.status import delivery_stats
from bot.commands.types import Ctx, Handler
from bot.commands.views import reply, translator_for
from bot.i18n import N_, Translator
from bot.telegram.errors import TelegramError, classify
from bot.telegram.html import esc
from core.feed_reactivate import reactivate_feed
from core.feeds import (
    FEEDS_FILE,
    FeedConfig,
    add_runtime_feed,
    load_feeds,
    remove_runtime_feed,
    runtime_feeds,
)
from core.urlguard import UnsafeURLError, check_feed_url

log = logging.getLogger(__name__)

# Telegram's service accounts: anonymous group admins, channel posts relayed into groups,
# and forwarded channel messages. A command "from" them does not identify a person.
SERVICE_USER_IDS = frozenset({1087968824, 136817688, 777000})
MAX_BROADCAST = 3000


def refusal(update: Update, admin_ids: frozenset[int]) -> str | None:
    """Return why the sender may not run admin commands (a msgid), or None when they may."""
    message = update.effective_message
    user = update.effective_user
    if message is not None and message.sender_chat is not None:
        return N_("Admin commands cannot be sent anonymously or as a channel: "
                  "send them from your own account.")
    if user is None or user.is_bot or user.id in SERVICE_USER_IDS:
        return N_("Admin commands need a personal account.")
    if user.id not in admin_ids:
        return N_("This command is for the bot's administrators.")
    return None


def admin_only(
    admin_ids: frozenset[int], handler: Handler, svc: Services | None = None
) -> Handler:
    """Wrap ``handler`` so only listed admins (never anonymous senders) reach it."""

    async def guarded(update: Update, context: Ctx) -> None:
        why = refusal(update, admin_ids)
        if why is not None:
            user = update.effective_user
            log.warning("refused admin command from user %s", user.id if user else None)
            t = await translator_for(update, svc.subs) if svc is not None else None
            await reply(update, t.lines(t.gettext(why)) if t is not None else why)
            return
        await handler(update, context)

    return guarded


def refused_text(why: str, t: Translator) -> str:
    """Return 'Refused: <why>' (plain text) without saying "refused" twice."""
    why = why.strip()[:300]
    if why.lower().startswith("refused"):
        why = why[len("refused"):].lstrip(" :")
    # The guard's reason is its own English (core/urlguard.py), quoted as it is.
    return t.gettext("Refused: {reason}", reason=t.isolate(why))


def _feed_id(url: str) -> str:
    host = (urlsplit(url).hostname or "feed").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", host).strip("-")[:40] or "feed"
    return f"{slug}-{hashlib.sha1(url.encode()).hexdigest()[:6]}"


class AdminCommands:
    """Admin commands; feeds are managed through core.feeds, behind core.urlguard."""

    def __init__(self, svc: Services, config_dir: Path) -> None:
        self.svc = svc
        self.config_dir = config_dir
        self._tasks: set[asyncio.Task[None]] = set()

    async def stats(self, update: Update, context: Ctx) -> None:
        """Show subscriber and delivery figures, and the precision readers' votes give."""
        t = await translator_for(update, self.svc.subs)
        figures = await delivery_stats(self.svc.redis, self.svc.subs, t)
        await reply(update, f"{figures}\n\n{await feedback_summary(self.svc.redis, t)}")

    async def feeds(self, update: Update, context: Ctx) -> None:
        """List feeds from feeds.yaml and those added with /addfeed."""
        t = await translator_for(update, self.svc.subs)
        lines = [t.gettext("<b>Feeds</b>")]
        path = self.config_dir / FEEDS_FILE
        if path.exists():
            try:
                for feed in load_feeds(path):
                    lines.append(f"<code>{esc(feed.id)}</code> {t.isolate(esc(feed.name))}")
            except Exception as exc:
                lines.append(t.gettext("{file} cannot be read: {error}", file=FEEDS_FILE,
                                       error=esc(type(exc).__name__)))
        added = await runtime_feeds(self.svc.redis)
        if added:
            lines.append(t.gettext("<b>Added with /addfeed</b>"))
            lines += [f"<code>{esc(f.id)}</code> {t.isolate(esc(f.url))}" for f in added]
        text = t.lines("\n".join(lines))
        await reply(update, text if len(text) < 4000 else text[:3990].rsplit("\n", 1)[0])

    async def addfeed(self, update: Update, context: Ctx) -> None:
        """Add a feed after the URL guard accepts it."""
        args = check_args(context.args)
        if not args or len(args[0]) > 2000:
            raise UsageError()
        t = await translator_for(update, self.svc.subs)
        try:
            url = await check_feed_url(args[0])
        except UnsafeURLError as exc:
            await reply(update, t.lines(esc(refused_text(str(exc), t))))
            return
        name = " ".join(args[1:])[:100] or (urlsplit(url).hostname or url)
        try:
            feed = FeedConfig(id=_feed_id(url), url=url, name=name, trusted=False)
        except ValueError as exc:
            raise UsageError(N_("Not a usable feed URL ({error})."),
                             error=type(exc).__name__) from None
        await add_runtime_feed(self.svc.redis, feed)
        await reply(update, t.lines(t.gettext("Added feed <code>{id}</code>: {url}",
                                              id=esc(feed.id), url=t.isolate(esc(url)))))

    async def removefeed(self, update: Update, context: Ctx) -> None:
        """Remove a feed added with /addfeed (and its poll state: adding it again starts afresh)."""
        args = check_args(context.args)
        if len(args) != 1:
            raise UsageError()
        t = await translator_for(update, self.svc.subs)
        if await remove_runtime_feed(self.svc.redis, args[0]):
            text = t.gettext("Removed feed <code>{id}</code>.", id=esc(args[0]))
        else:
            text = t.gettext("No feed with that id was added with /addfeed (see /feeds).")
        await reply(update, t.lines(text))

    async def reactivate(self, update: Update, context: Ctx) -> None:
        """Bring back a feed the poller deactivated: it is polled again within seconds."""
        args = check_args(context.args)
        if len(args) != 1:
            raise UsageError()
        user = update.effective_user
        by = f"admin {user.id}" if user is not None else ""
        done = await reactivate_feed(self.svc.redis, self.config_dir, args[0], by=by)
        t = await translator_for(update, self.svc.subs)
        feed = esc(args[0][:64])
        if done.outcome == "unknown":
            text = t.gettext("No feed <code>{id}</code> (see /feeds).", id=feed)
        elif done.outcome == "not_deactivated":
            text = t.gettext("Feed <code>{id}</code> is not deactivated: nothing to do.", id=feed)
        else:
            text = t.gettext(
                "Reactivated feed <code>{id}</code>: it is polled again within seconds.", id=feed)
        await reply(update, t.lines(text))

    async def broadcast(self, update: Update, context: Ctx) -> None:
        """Send a text to every active chat, in the background, within the flood limits."""
        message = update.effective_message
        raw = message.text if message is not None and message.text else ""
        parts = raw.split(maxsplit=1)
        text = parts[1].strip() if len(parts) == 2 else ""
        if not text:
            raise UsageError()
        if len(text) > MAX_BROADCAST:
            raise UsageError(N_("At most {max} characters."), max=MAX_BROADCAST)
        chats = await self.svc.subs.active_ids()
        t = await translator_for(update, self.svc.subs)
        # The text itself goes out as the admin wrote it, to every chat whatever its language.
        await reply(update, t.lines(t.ngettext("Broadcasting to {n} chat.",
                                               "Broadcasting to {n} chats.", len(chats))))
        task = asyncio.create_task(self._broadcast(context, chats, esc(text)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _broadcast(self, context: Ctx, chats: list[int], html: str) -> None:
        sent = 0
        for chat_id in chats:
            try:
                await context.bot.send_message(chat_id, html, parse_mode=ParseMode.HTML)
                sent += 1
            except TelegramError as exc:
                failure = classify(exc)
                if failure.kind == "chat_gone":
                    await self.svc.subs.deactivate(chat_id, failure.text)
                else:
                    log.warning("broadcast to %s failed: %s", chat_id, failure.kind)
        log.info("broadcast delivered to %d of %d chats", sent, len(chats))

    async def close(self) -> None:
        """Stop unfinished broadcasts."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
