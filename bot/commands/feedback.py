"""Presses on the feedback buttons under an alert, and the precision readers' votes give.

A press is answered with a toast only: the alert message is never edited for a vote, so
no reader sees another's. Votes count whatever the chat's subscription (muted, paused or
gone); only the button's signature decides (bot/telegram/votes.py).
"""

from __future__ import annotations

import logging

from prometheus_client import CollectorRegistry, Counter
from redis.asyncio import Redis
from telegram import Update

from bot.commands.services import Services
from bot.commands.types import Ctx
from bot.commands.views import translator_for
from bot.i18n import N_, Translator, translator
from bot.store.stories import StoryItem
from bot.telegram.html import esc
from bot.telegram.votes import REF_MARK, SAYS, VoteSigner, parse
from core import keys
from core.feedback import FeedbackItem, FeedbackStore, Precision, format_share

log = logging.getLogger(__name__)

NOT_VALID = N_("This button is not valid here.")
TOO_OLD = N_("This alert is too old to rate.")
SORRY = N_("Sorry, your vote was not recorded. Please try again later.")
SLICES_SHOWN = 8


class FeedbackMetrics:
    """Feedback button presses, by outcome."""

    def __init__(self, registry: CollectorRegistry) -> None:
        """Register the metric on ``registry``."""
        self.presses = Counter(
            "cw_feedback_presses_total",
            "Feedback button presses, by outcome (recorded, changed, same, refused, expired, "
            "error).",
            ["outcome"], registry=registry,
        )


def snapshot(story_id: str, lead: StoryItem) -> FeedbackItem:
    """The story's lead report as the feedback store keeps it."""
    return FeedbackItem(
        # An alert's id is its article's (workers/classifier/role.py build_alert).
        story_id=story_id, alert_id=lead.alert_id, article_id=lead.alert_id,
        lang=lead.lang, title=lead.title, text=lead.text or lead.evidence, label=lead.label,
        score=lead.score, regions=lead.regions, seen=lead.seen,
    )


class FeedbackButtons:
    """The handler of the ``fb:`` buttons."""

    def __init__(self, svc: Services, token: str, metrics: FeedbackMetrics) -> None:
        self.svc = svc
        self.store = FeedbackStore(svc.redis)
        self.signer = VoteSigner(token)
        self.metrics = metrics

    async def press(self, update: Update, context: Ctx) -> None:
        """Check a press against its chat and story, record the vote and answer with a toast."""
        query = update.callback_query
        if query is None:
            return
        try:
            outcome, toast = await self._press(update)
        except Exception as exc:
            # A toast, not the usual apology message: a vote must never post into the chat.
            log.exception("feedback press failed: %s", type(exc).__name__)
            outcome, toast = "error", SORRY
        self.metrics.presses.labels(outcome).inc()
        try:
            toast = (await translator_for(update, self.svc.subs)).gettext(toast)
        except Exception as exc:  # the language is a nicety: the press is still answered
            log.warning("feedback toast left in English: %s", type(exc).__name__)
        await query.answer(toast)

    async def _press(self, update: Update) -> tuple[str, str]:
        query = update.callback_query
        assert query is not None
        press = parse(query.data or "")
        message = query.message
        if press is None or message is None:
            return "refused", NOT_VALID
        chat_id = message.chat.id
        story_id = await self._story(press.story_ref)
        if story_id is None or not self.signer.verify(chat_id, story_id, press):
            log.info("refused a feedback press in chat %s", chat_id)
            return "refused", NOT_VALID
        item = await self.store.item(story_id)
        if item is None:
            items = await self.svc.stories.items(story_id)
            if not items:
                return "expired", TOO_OLD
            item = snapshot(story_id, items[0])
        user = update.effective_user
        before = await self.store.vote(item, chat_id, press.vote, user.id if user else None)
        t = await translator_for(update, self.svc.subs)
        says = t.gettext(SAYS[press.vote])
        # Already in the reader's language: the caller's gettext then finds no msgid for it.
        if before == press.vote:
            return "same", t.gettext("Already recorded: {vote}.", vote=says)
        if before is not None:
            return "changed", t.gettext("Changed to: {vote}. Thank you.", vote=says)
        return "recorded", t.gettext("Recorded: {vote}. Thank you.", vote=says)

    async def _story(self, ref: str) -> str | None:
        """The story a button names (a long id travels as a digest, resolved here)."""
        if not ref.startswith(REF_MARK):
            return ref
        found = await self.svc.redis.get(keys.feedback_ref(ref.removeprefix(REF_MARK)))
        return str(found) if found else None


def _line(name: str, p: Precision, t: Translator) -> str:
    return t.ngettext(
        "{name}: {n} vote, label {label}, region {region}",
        "{name}: {n} votes, label {label}, region {region}", p.votes,
        name=t.isolate(name), label=format_share(p.label_precision),
        region=format_share(p.region_precision),
    )


async def feedback_summary(redis: Redis, t: Translator | None = None) -> str:
    """Readers' votes as /stats shows them: precision overall, per region and per language."""
    t = t or translator(None)
    report = await FeedbackStore(redis).precision()
    lines = [t.gettext("<b>Reader feedback</b> (label precision: correct or wrong region; "
                       "region precision: correct)")]
    if not report.overall.votes:
        return t.lines("\n".join([*lines, t.gettext("No votes yet.")]))
    lines.append(esc(_line(t.gettext("All alerts"), report.overall, t)))
    for dim, title in (("region", N_("By region")), ("lang", N_("By language")),
                       ("label", N_("By label"))):
        shown = report.slices(dim)[:SLICES_SHOWN]
        if shown:
            lines.append(f"<i>{esc(t.gettext(title))}</i>")
            lines += [esc(_line(name, p, t)) for name, p in shown]
    return t.lines("\n".join(lines))
