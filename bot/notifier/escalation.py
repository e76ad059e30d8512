"""Escalation notices: the ``escalations`` stream fanned out to opted-in chats and digests.

An escalation travels the story path: its fan-out queues one ``DeliveryJob`` per chat whose
story id is ``esc:<escalation id>`` (the Deliverer renders it from the notice stored here, so
flood limits, retries and the sent marker apply unchanged), and digest chats get it as a line
of their next digest. The notice, the jobs, the digest entries and the 'fanned out' flag are
written in one transaction: a redelivered escalation finds everything queued or nothing.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TextIO, cast

from redis.asyncio import Redis

from bot.i18n import Translator, translator
from bot.notifier.console import plain
from bot.notifier.metrics import NotifierMetrics
from bot.store.subscriptions import Subscription, SubscriptionStore
from bot.telegram.html import MAX_MESSAGE, clip, esc, safe_url, tg_len
from core import keys
from core.models import DeliveryJob, Escalation
from core.streams import Delivery, queue_publish

log = logging.getLogger(__name__)

REF_PREFIX = "esc:"
NOTICE_TTL_S = 7 * 24 * 3600  # as long as a story: a parked job or a digest still finds it
DIGEST_TTL_S = 3 * 24 * 3600  # as the fan-out's digest queue


def notice_ref(escalation: Escalation) -> str:
    """The story id an escalation's delivery jobs and digest entries carry."""
    return f"{REF_PREFIX}{escalation.id}"


def is_escalation(story_id: str) -> bool:
    """True for the story id of an escalation notice (never a news story's id)."""
    return story_id.startswith(REF_PREFIX)


def headline(
    escalation: Escalation, names: Mapping[str, str], t: Translator | None = None
) -> str:
    """``N violation reports in 6 h in <Region> (usual: x.x per 6 h)``, plain text."""
    t = t or translator(None)
    region = names.get(escalation.region, escalation.region)
    return t.ngettext(
        "{n} violation report in {hours} h in {region} (usual: {usual} per {hours} h)",
        "{n} violation reports in {hours} h in {region} (usual: {usual} per {hours} h)",
        escalation.count, hours=f"{escalation.window_h:g}", region=t.isolate(region),
        usual=f"{escalation.expected:.1f}",
    )


def _story_line(story_url: str, title: str, source: str, title_max: int, t: Translator) -> str:
    label = t.isolate(clip(title, title_max) or t.gettext("(no headline)"))
    url = safe_url(story_url)
    link = f'<a href="{esc(url)}">{esc(label)}</a>' if url else esc(label)
    return f"{t.mark}• {link}" + (f" — {t.isolate(esc(clip(source, 60)))}" if source else "")


def render_escalation(
    escalation: Escalation, names: Mapping[str, str] | None = None, lang: str | None = None,
) -> str:
    """The Telegram HTML message: the headline, then the stories as links, within 4,096."""
    t = translator(lang)
    top = t.mark + t.gettext("📈 <b>Escalation:</b> {headline}",
                             headline=esc(headline(escalation, names or {}, t)))
    for title_max in (200, 120, 60):
        lines = [top, ""] + [
            _story_line(s.url, s.title, s.source, title_max, t) for s in escalation.stories
        ]
        text = "\n".join(lines)
        if tg_len(text) <= MAX_MESSAGE:
            return text
    # Still too long: fewer stories, with a count of the rest.
    while len(lines) > 2 and tg_len(text) > MAX_MESSAGE:
        lines.pop()
        rest = len(escalation.stories) - len(lines) + 2
        text = "\n".join([*lines, t.mark + "… " + t.ngettext("{n} more", "{n} more", rest)])
    return text


def digest_line(
    escalation: Escalation, names: Mapping[str, str], t: Translator | None = None
) -> str:
    """One digest line (HTML) for an escalation of the period."""
    t = t or translator(None)
    when = t.isolate(esc(t.when(escalation.at)))  # in the digest chat's zone, named
    return f"{t.mark}• 📈 {esc(headline(escalation, names, t))} · {when}"


async def load_notice(redis: Redis, story_id: str) -> Escalation | None:
    """The escalation stored for ``esc:<id>``, or None when it expired."""
    raw = cast(str | None, await redis.get(keys.escalation_notice(story_id[len(REF_PREFIX):])))
    return Escalation.model_validate_json(raw) if raw else None


async def escalation_text(
    redis: Redis, story_id: str, names: Mapping[str, str], lang: str | None = None
) -> str | None:
    """The message for an escalation's delivery job, or None when its notice expired."""
    found = await load_notice(redis, story_id)
    return render_escalation(found, names, lang) if found is not None else None


class EscalationFanout:
    """Queues an escalation for chats following its region: opted-in instant chats and digests."""

    def __init__(self, redis: Redis, subs: SubscriptionStore, metrics: NotifierMetrics) -> None:
        """Hold the stores; nothing runs until ``handle``."""
        self.redis = redis
        self.subs = subs
        self.metrics = metrics

    async def recipients(
        self, escalation: Escalation, now: float
    ) -> tuple[list[Subscription], list[Subscription]]:
        """(instant, digest): instant chats opted in; digest chats whether opted in or not."""
        region = [escalation.region]
        subs = await self.subs.load_many(sorted(await self.subs.candidates(region)))
        live = [s for s in subs if s.active and not s.muted(now) and s.follows(region)]
        instant = [s for s in live if s.digest == "off" and s.escalation]
        # The digest is a summary: an escalation of a followed region is one line of it.
        digest = [s for s in live if s.digest != "off"]
        return instant, digest

    async def handle(self, escalation: Escalation, delivery: Delivery | None = None) -> None:
        """Store the notice, then queue its deliveries and digest lines (once per escalation)."""
        ref = notice_ref(escalation)
        flag = keys.fanned(ref)
        if await self.redis.exists(flag):
            return
        now = time.time()
        instant, digest = await self.recipients(escalation, now)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.escalation_notice(escalation.id), escalation.model_dump_json(),
                     ex=NOTICE_TTL_S)
            for sub in sorted(instant, key=lambda s: s.chat_id):
                job = DeliveryJob(alert_id=ref, story_id=ref, chat_id=sub.chat_id)
                queue_publish(pipe, keys.DELIVERIES, job)
            for sub in digest:
                pipe.zadd(keys.digest_queue(sub.chat_id), {ref: now}, nx=True)
                pipe.expire(keys.digest_queue(sub.chat_id), DIGEST_TTL_S)
            pipe.set(flag, str(len(instant)), ex=NOTICE_TTL_S)
            await pipe.execute()
        self.metrics.alerts.labels("escalation").inc()
        log.info("escalation %s: %d instant, %d digest recipients",
                 escalation.id, len(instant), len(digest))


class EscalationConsole:
    """Without a bot token: print each escalation once."""

    def __init__(
        self, redis: Redis, names: Mapping[str, str] | None = None, out: TextIO | None = None
    ) -> None:
        """Hold the Redis for the printed flags and where to print."""
        self.redis = redis
        self.names = dict(names or {})
        self.out = out

    async def handle(self, escalation: Escalation, delivery: Delivery | None = None) -> None:
        """Print the escalation and its stories (a redelivery is skipped)."""
        flag = keys.console_printed(notice_ref(escalation))
        if await self.redis.exists(flag):
            return
        lines = [f"ESCALATION {plain(headline(escalation, self.names), 200)}"]
        lines += [
            f"      story:  {plain(s.title, 120) or '(no headline)'} | {plain(s.source, 60)} "
            f"{plain(s.url, 500)}"
            for s in escalation.stories
        ]
        print("\n".join(lines), file=self.out or sys.stdout, flush=True)
        # Marked after printing: a crash in between prints it twice, never zero times.
        await self.redis.set(flag, "1", ex=NOTICE_TTL_S)


async def escalation_lines(
    redis: Redis, refs: Sequence[str], names: Mapping[str, str], t: Translator | None = None
) -> list[str]:
    """Digest lines of the escalations queued for a chat (expired ones left out), oldest first."""
    found = [e for ref in refs if (e := await load_notice(redis, ref)) is not None]
    return [digest_line(e, names, t) for e in sorted(found, key=lambda e: e.at)]
