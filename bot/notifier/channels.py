"""Channel posts: each bound channel is a delivery target of the stories of its regions.

A channel takes the path of a chat (bot/notifier/fanout.py queues its DeliveryJob, delivery.py
sends once per story and then edits, under the same sent markers, retries and flood limits;
channel ids are negative, so the per-group 20/min budget applies as Telegram applies it).
What differs is decided here: which channels an alert reaches (a channel gets what a reader
with the default settings gets: violations above the classifier's alert threshold, plus the
edits of stories it already shows), and what a post that Telegram refuses for good means
(the bot was removed, or lost the right to post: the channel is unbound and admins are told).
"""

from __future__ import annotations

import logging

from bot.i18n import Translator
from bot.notifier.admin_notices import AdminChannel
from bot.store.channels import ChannelStore
from bot.store.subscriptions import Subscription
from bot.telegram.errors import TelegramFailure
from bot.telegram.html import esc
from core.models import Alert

log = logging.getLogger(__name__)

# Telegram's 400 texts when the bot is still in the channel but may no longer post there.
_NO_RIGHTS = ("need administrator rights", "not enough rights", "have no rights")


def lost_channel(failure: TelegramFailure) -> bool:
    """True when ``failure`` means the bot can no longer post in that chat at all."""
    text = failure.text.lower()
    return failure.kind == "chat_gone" or (
        failure.kind == "refused" and any(t in text for t in _NO_RIGHTS)
    )


class ChannelPosts:
    """The channels an alert reaches, and the unbinding of a channel that refuses posts."""

    def __init__(
        self, store: ChannelStore, *, admin_ids: frozenset[int],
        notice: AdminChannel | None = None,
    ) -> None:
        self.store = store
        self.admin_ids = sorted(admin_ids)
        self.notice = notice

    async def recipients(self, alert: Alert, holders: set[int]) -> list[Subscription]:
        """Bound channels for ``alert``: of its regions if it passes, or holding its story."""
        regions = {r.lower() for r in alert.regions}
        out = []
        for chat_id, binding in sorted((await self.store.bindings()).items()):
            # A default reader's filters: no per-channel threshold or kinds to set.
            target = Subscription(chat_id, regions=binding.regions, chat_type="channel")
            if chat_id in holders or (target.follows(regions) and target.wants(alert)):
                out.append(target)
        return out

    async def language(self, chat_id: int) -> str | None:
        """A bound channel's language ("" for English); None when ``chat_id`` is none."""
        return await self.store.language(chat_id)

    async def failed(self, chat_id: int, failure: TelegramFailure) -> None:
        """Unbind a bound channel that can no longer be posted to, and tell the admins once."""
        if not lost_channel(failure) or not await self.store.is_bound(chat_id):
            return
        if not await self.store.unbind(chat_id, failure.text):
            return  # a concurrent post already unbound it (and told the admins)
        log.warning("channel %s unbound: %s", chat_id, failure.text)
        await self._tell_admins(chat_id, failure.text)

    @staticmethod
    def unbound_notice(chat_id: int, reason: str, t: Translator) -> str:
        """The admins' notice that a channel was unbound (Telegram's reason quoted as it is)."""
        return t.lines("\n".join([
            t.gettext("⚠️ <b>Channel unbound</b>: <code>{id}</code>", id=chat_id),
            t.gettext("Posts there fail for good: {reason}",
                      reason=t.isolate(esc(reason[:300]))),
            t.gettext("Make the bot an admin of the channel again, then /bindchannel REGION {id}.",
                      id=chat_id),
        ]))

    async def _tell_admins(self, chat_id: int, reason: str) -> None:
        """Best effort: the unbinding is logged, and a notice that fails is not retried."""
        if self.notice is None:
            return
        for admin in self.admin_ids:
            text = self.unbound_notice(chat_id, reason, await self.notice.translator(admin))
            failure = await self.notice.send(admin, text)
            if failure is not None:
                log.warning("admin %s not told about a channel: %s", admin, failure.text)
