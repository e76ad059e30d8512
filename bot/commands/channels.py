"""Admin commands binding Telegram channels to regions: /bindchannel /unbindchannel /channels.

Two ways to bind. In a private chat, ``/bindchannel REGION CHANNEL``: the sender is a bot admin
(``admin_only``: a personal account listed in ADMIN_IDS) and Telegram confirms, through
getChatMember, that the bot may post in the channel and that the admin runs it. Or in the
channel itself, with a one-time code: a channel post names no person (``from`` is absent;
``author_signature`` is a display name any channel admin can set), so a bare command there
could not be tied to a bot admin. Hence ``/bindchannel REGION`` in a private chat gives a bot
admin a code, and ``/bindchannel CODE`` posted in the channel binds it: only someone a bot
admin gave the code to, and who may post in the channel, can do that.

A channel's posts are in one language: ``LANG`` after the channel (or after the region, for a
code) sets it (bot/store/channels.py). The replies are in the admin's language.
"""

from __future__ import annotations

import logging
import re

from telegram import Chat, ChatFullInfo, LinkPreviewOptions, Message, Update
from telegram.constants import ChatMemberStatus, ChatType, ParseMode

from bot.commands.args import NotAllowedError, UsageError, check_args
from bot.commands.services import Services
from bot.commands.types import Ctx
from bot.commands.views import reply, translator_for
from bot.i18n import LANGUAGES, N_, Translator, normalize, translator
from bot.store.channels import ChannelStore
from bot.store.pairing import PAIRING_TTL_S, Pairing, PairingCodes, looks_like_code
from bot.telegram.errors import TelegramError, classify
from bot.telegram.html import esc

log = logging.getLogger(__name__)

_USERNAME = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")
_CHANNEL_ID = re.compile(r"^-100\d{5,}$")
_RUNS_IT = (ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR)
UNKNOWN_REGION = N_("Unknown region “{region}”: see /regions.")
UNKNOWN_LANGUAGE = N_("Unknown language {code}. Choose one of: {codes}.")


def is_channel_ref(text: str) -> bool:
    """True when ``text`` has the shape of a channel's id (-100…) or @username."""
    return bool(_CHANNEL_ID.match(text) or _USERNAME.match(text))


def channel_ref(text: str) -> int | str:
    """A channel's numeric id (-100…) or @username from an argument; UsageError otherwise."""
    if _CHANNEL_ID.match(text):
        return int(text)
    if _USERNAME.match(text):
        return text
    raise UsageError(N_("“{ref}” is neither a channel id (-100…) nor a @username."), ref=text)


def language_arg(text: str) -> str:
    """The bot language an argument names (``ar``, ``pt-BR`` is refused); UsageError otherwise."""
    code = normalize(text)
    if code is None or len(text) > 10:
        raise UsageError(UNKNOWN_LANGUAGE, code=text, codes=", ".join(LANGUAGES))
    return code


def _posts_in(t: Translator, lang: str) -> str:
    """``Posts in Polish.``: the language a channel's posts are in, named in ``t``'s."""
    return t.gettext("Posts in {language}.", language=esc(t.language_name(lang or "en")))


class ChannelCommands:
    """Bind and unbind channels (admins only: application.py wraps them in ``admin_only``)."""

    def __init__(
        self, svc: Services, store: ChannelStore, pairing_ttl_s: float = PAIRING_TTL_S
    ) -> None:
        self.svc = svc
        self.store = store
        self.pairing = PairingCodes(svc.redis, pairing_ttl_s)

    async def bind(self, update: Update, context: Ctx) -> None:
        """``/bindchannel REGION CHANNEL [LANG]``: post the region's stories in the channel."""
        args = check_args(context.args)
        t = await translator_for(update, self.svc.subs)
        if len(args) == 1 or (len(args) == 2 and not is_channel_ref(args[1])
                              and normalize(args[1]) is not None):
            await self._issue_code(update, args[0], language_arg(args[1]) if args[1:] else None, t)
            return
        if len(args) not in (2, 3):
            raise UsageError()
        region = self.svc.catalog.resolve(args[0])
        if region is None:
            raise UsageError(UNKNOWN_REGION, region=args[0])
        ref = channel_ref(args[1])
        lang = language_arg(args[2]) if len(args) == 3 else None
        chat = await self._channel(context, ref)
        user = update.effective_user
        assert user is not None  # admin_only let a personal account through
        await self._check_rights(context, chat.id, user.id)
        regions = await self.store.bind(chat.id, region.id, by=user.id, title=chat.title or "",
                                        lang=lang)
        log.info("admin %s bound channel %s to %s", user.id, chat.id, region.id)
        text = t.gettext(
            "Channel {title} (<code>{id}</code>) now gets one post per story of: {regions}.",
            title=esc(t.isolate(chat.title or "")), id=chat.id, regions=self._names(regions, t))
        posts = _posts_in(t, await self.store.language(chat.id) or "")
        await reply(update, t.lines(f"{text}\n{posts}"))

    def _names(self, regions: frozenset[str], t: Translator) -> str:
        """The regions' names, escaped, as one isolated run."""
        return esc(t.isolate(", ".join(self.svc.catalog.name(r) for r in sorted(regions))))

    async def _issue_code(
        self, update: Update, arg: str, lang: str | None, t: Translator
    ) -> None:
        """``/bindchannel REGION [LANG]``: a one-time code to post in the channel to bind."""
        chat = update.effective_chat
        if chat is None or chat.type != ChatType.PRIVATE:
            # A code seen by a group could be posted in any group member's channel: void it.
            voided = await self.pairing.take(arg) is not None
            ask = t.gettext("Ask for a code in a private chat with me (/bindchannel REGION), "
                            "then post /bindchannel CODE in the channel itself.")
            if voided:
                ask = t.gettext("That code is void now: it was shown here.") + " " + ask
            raise NotAllowedError(ask)
        region = self.svc.catalog.resolve(arg)
        if region is None:
            if looks_like_code(arg):
                raise NotAllowedError(N_("That looks like a pairing code: post /bindchannel "
                                         "CODE in the channel itself, not here."))
            raise UsageError(UNKNOWN_REGION, region=arg)
        user = update.effective_user
        assert user is not None  # admin_only let a personal account through
        # The admin's language rides with the code: the confirmation reaches them without a
        # chat to read it from.
        code = await self.pairing.issue(user.id, region.id, lang, admin_lang=t.lang)
        log.info("admin %s got a pairing code for %s", user.id, region.id)
        ttl = self.pairing.ttl_s
        if ttl >= 60:
            within = t.ngettext("{n} minute", "{n} minutes", round(ttl / 60))
        elif ttl.is_integer():
            within = t.ngettext("{n} second", "{n} seconds", int(ttl))
        else:
            within = t.gettext("{seconds} s", seconds=f"{ttl:g}")
        lines = [t.gettext(
            "Post <code>/bindchannel {code}</code> in the channel within {within} (the bot must "
            "be an admin there with the right to post). The code works once, for {region}.",
            code=code, within=within, region=esc(t.isolate(region.name)))]
        if lang is not None:
            lines.append(_posts_in(t, lang))
        await reply(update, t.lines("\n".join(lines)))

    async def in_channel(self, update: Update, context: Ctx) -> None:
        """``/bindchannel CODE`` posted in a channel: bind it for the admin the code names."""
        post, chat = update.channel_post, update.effective_chat
        args = context.args or []
        if post is None or chat is None or len(args) != 1 or not looks_like_code(args[0]):
            return  # not a pairing attempt: a channel's own posts are none of our business
        try:
            pairing = await self.pairing.take(args[0])
            await self._delete(context, post)
            if pairing is None:
                # Said nowhere: an answer in a public channel would only spam its readers.
                log.info("channel %s posted an unknown, used or expired pairing code", chat.id)
                return
            t = translator(pairing.admin_lang)
            try:
                text = await self._bind_paired(context, chat, pairing, t)
            except UsageError as exc:
                text = t.gettext(
                    "Channel {title} (<code>{id}</code>) was not bound: {reason} Ask for a new "
                    "code with /bindchannel REGION.", title=esc(t.isolate(chat.title or "")),
                    id=chat.id, reason=esc(exc.text(t)))
            await context.bot.send_message(
                pairing.admin, t.lines(text), parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        except Exception as exc:
            # Never answered in the channel; the admin sees no confirmation and asks again.
            log.warning("pairing code post in channel %s failed: %s", chat.id,
                        type(exc).__name__)

    async def _bind_paired(
        self, context: Ctx, chat: Chat, pairing: Pairing, t: Translator
    ) -> str:
        """Bind ``chat`` for a taken code; return the admin's confirmation (UsageError: why not)."""
        if chat.type != ChatType.CHANNEL:
            raise NotAllowedError(N_("That is a {type}, not a channel."), type=chat.type)
        region = self.svc.catalog.resolve(pairing.region)
        if region is None:
            raise NotAllowedError(N_("Region “{region}” is no longer configured."),
                                  region=pairing.region)
        try:
            await self._check_rights(context, chat.id, None)
        except TelegramError as exc:
            if classify(exc, context.bot.token).retry_later:
                raise
            raise NotAllowedError(N_("The bot could not check its rights in that channel: make "
                                     "it an admin allowed to post messages.")) from None
        regions = await self.store.bind(chat.id, region.id, by=pairing.admin,
                                        title=chat.title or "", lang=pairing.lang)
        log.info("channel %s bound to %s by pairing code of admin %s",
                 chat.id, region.id, pairing.admin)
        text = t.gettext(
            "Bound {title} (<code>{id}</code>) to {region}. It now gets one post per story "
            "of: {regions}.", title=esc(t.isolate(chat.title or "")), id=chat.id,
            region=esc(t.isolate(region.name)), regions=self._names(regions, t))
        return f"{text}\n{_posts_in(t, await self.store.language(chat.id) or '')}"

    @staticmethod
    async def _delete(context: Ctx, post: Message) -> None:
        """Remove the code's post from the channel if the bot may; a failure only logs."""
        try:
            await context.bot.delete_message(post.chat_id, post.message_id)
        except TelegramError as exc:
            log.info("pairing post in channel %s not deleted: %s", post.chat_id,
                     type(exc).__name__)

    async def unbind(self, update: Update, context: Ctx) -> None:
        """``/unbindchannel CHANNEL``: stop posting there (every region)."""
        args = check_args(context.args)
        if len(args) != 1:
            raise UsageError()
        ref = channel_ref(args[0])
        # An id needs no call: the bot may already have been removed from the channel.
        chat_id = ref if isinstance(ref, int) else (await self._channel(context, ref)).id
        user = update.effective_user
        changed = await self.store.unbind(chat_id, f"/unbindchannel by {user.id if user else 0}")
        t = await translator_for(update, self.svc.subs)
        if changed:
            log.info("channel %s unbound by command", chat_id)
            text = t.gettext("Channel <code>{id}</code> gets no more posts.", id=chat_id)
        else:
            text = t.gettext("Channel <code>{id}</code> was not bound (see /channels).",
                             id=chat_id)
        await reply(update, t.lines(text))

    async def list(self, update: Update, context: Ctx) -> None:
        """``/channels``: the bound channels and their regions; CHANNELS entries switched off."""
        t = await translator_for(update, self.svc.subs)
        bound = await self.store.bindings()
        off = await self.store.switched_off()
        if not bound and not off:
            await reply(update, t.lines(t.gettext(
                "No channel is bound. Use /bindchannel REGION CHANNEL [LANG].")))
            return
        lines = [t.gettext("<b>Channels</b>")]
        for chat_id, binding in sorted(bound.items()):
            origin = ("CHANNELS" if binding.configured
                      else t.gettext("bound by {admin}", admin=binding.by))
            title = f"{esc(t.isolate(binding.title))} " if binding.title else ""
            lines.append(t.gettext(
                "{title}<code>{id}</code>: {regions} · {language} ({origin})", title=title,
                id=chat_id, regions=self._names(binding.regions, t),
                language=esc(t.language_name(binding.lang or "en")), origin=origin))
        for chat_id, why in sorted(off.items()):
            lines.append(t.gettext("<code>{id}</code>: off (CHANNELS entry; {reason})",
                                   id=chat_id, reason=esc(t.isolate(why[:200]))))
        await reply(update, t.lines("\n".join(lines))[:4000])

    async def _channel(self, context: Ctx, ref: int | str) -> ChatFullInfo:
        """The channel ``ref`` names, as Telegram shows it to the bot; UsageError when not one."""
        try:
            chat = await context.bot.get_chat(ref)
        except TelegramError as exc:
            failure = classify(exc, context.bot.token)
            if failure.retry_later:
                raise
            raise UsageError(N_("The bot cannot see that channel: add the bot to the channel as "
                                "an admin allowed to post, then try again.")) from None
        if chat.type != ChatType.CHANNEL:
            raise UsageError(N_("That is a {type}, not a channel: in a group, use /subscribe."),
                             type=chat.type)
        return chat

    async def _check_rights(self, context: Ctx, chat_id: int, user_id: int | None) -> None:
        """Refuse unless the bot may post in the channel and ``user_id`` is one of its admins.

        ``user_id`` None: the command was posted in the channel, so its poster can post there.
        """
        me = await context.bot.get_chat_member(chat_id, context.bot.id)
        if me.status != ChatMemberStatus.ADMINISTRATOR or not getattr(
            me, "can_post_messages", False
        ):
            raise NotAllowedError(N_("The bot must be an admin of that channel, allowed to post "
                                     "messages."))
        if user_id is None:
            return
        # A typo in the id must not bind someone else's channel where the bot happens to be.
        member = await context.bot.get_chat_member(chat_id, user_id)
        if member.status not in _RUNS_IT:
            raise NotAllowedError(N_("Only an admin of that channel can bind it."))
