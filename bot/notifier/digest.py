"""Daily digest: at each subscriber's local hour, the day's stories by region and a 30-day chart."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from redis.asyncio import Redis
from telegram import Bot, InputFile
from telegram.constants import ParseMode

from bot.i18n import FSI, LRI, PDI, RLM, Translator, translator
from bot.notifier.escalation import escalation_lines, is_escalation
from bot.store.regions import RegionCatalog
from bot.store.stories import StoryItem, StoryStore
from bot.store.subscriptions import ALL_REGIONS, Subscription, SubscriptionStore
from bot.telegram.errors import TelegramError, classify
from bot.telegram.flood import FloodLimiter
from bot.telegram.html import MAX_MESSAGE, clip, esc, tg_len
from core import keys
from core.stopping import raise_if_cancelled, sleep_unless_stopped
from core.truce import advance
from core.truce_model import TruceState
from core.truce_store import load_states
from core.truce_text import phase_text, sort_key, span_text

log = logging.getLogger(__name__)

CHART_DAYS = 30
# matplotlib lays text out left to right without bidi: a chart of a right-to-left language
# gets numeric days and no words on its axes (the caption names what it shows).
_BIDI_MARKS = str.maketrans("", "", RLM + FSI + LRI + PDI + "\u200e\u061c")


def local_now(sub: Subscription, now: float) -> datetime:
    """Return ``now`` in the chat's time zone (UTC when the zone is unknown)."""
    try:
        zone = ZoneInfo(sub.tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return datetime.fromtimestamp(now, tz=zone)


def is_due(sub: Subscription, now: float, last_sent_day: str | None) -> bool:
    """Return True when the chat's digest hour has passed today and today's was not sent."""
    if sub.digest == "off":
        return False
    local = local_now(sub, now)
    if last_sent_day == local.date().isoformat():
        return False
    return local.strftime("%H:%M") >= sub.digest


def truce_lines(
    states: Sequence[TruceState], names: Mapping[str, str], now: datetime,
    t: Translator | None = None,
) -> list[str]:
    """One line per region with a truce state: phase, since/until, violations in 24 h."""
    t = t or translator(None)
    lines = []
    for state in sorted((advance(s, now) for s in states), key=sort_key):
        if state.phase == "none":
            continue
        words = phase_text(state, now, t) + span_text(state, zone=False, words=t)
        day = state.violations_between(now - timedelta(hours=24), now)
        lines.append(
            f"{t.mark}• {t.isolate(esc(names.get(state.region, state.region)))}: "
            f"{esc(words)} · " + t.gettext("violations in 24 h: {n}", n=day)
        )
    return lines


def render_digest(
    stories: Sequence[Sequence[StoryItem]], names: Mapping[str, str], day: date,
    truces: Sequence[str] = (), escalations: Sequence[str] = (), *, lang: str | None = None,
    zone: str | None = None,
) -> str:
    """Return the digest text: truces, escalations, stories by region, within Telegram's limit."""
    t = translator(lang).in_zone(zone)
    m = t.mark  # each line of our own text starts with it (right-to-left languages)
    lines = [m + t.gettext("<b>Daily digest — {date}</b>", date=t.isolate(esc(t.day(day))))]
    if truces:
        lines += ["\n" + m + t.gettext(
            "<b>Truces</b> (times {zone}; /ceasefire region for the timeline)",
            zone=t.isolate(esc(t.zone_name))), *truces]
    if escalations:
        lines += ["\n" + m + t.gettext(
            "<b>Escalations</b> (violation reports well above the usual rate)"), *escalations]
    if not stories and not escalations:
        lines.append(("\n" if truces else "") + m
                     + t.gettext("No alerts for your regions since the last digest."))
    by_region: dict[str, list[Sequence[StoryItem]]] = {}
    for items in stories:
        region = items[0].regions[0] if items[0].regions else ""
        by_region.setdefault(region, []).append(items)
    for region, group in sorted(by_region.items()):
        name = names.get(region, region) if region else t.gettext("unspecified")
        lines.append(f"\n{m}<b>{t.isolate(esc(name))}</b>")
        for items in group:
            outlets = sorted({i.source for i in items})
            count = t.ngettext("{n} source", "{n} sources", len(outlets))
            lines.append(
                f"{m}• {t.isolate(esc(clip(items[0].title, 140)))} — "
                f"{t.isolate(esc(clip(', '.join(outlets), 80)))}"
                f" ({esc(count)}, {max(i.score for i in items):.0%})"
            )
    text = "\n".join(lines)
    # Stories come last, so they go first; the truce lines only if they alone are too long.
    while tg_len(text) > MAX_MESSAGE and len(lines) > 2:
        lines.pop()
        text = "\n".join([*lines, "…"])
    return text


def chart_labels(end: date, t: Translator | None = None) -> list[str]:
    """The chart's 30 day labels in the reader's language (numeric in a right-to-left one)."""
    t = t or translator(None)
    days = [end - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    return [t.day_month(d, numeric=t.rtl).translate(_BIDI_MARKS) for d in days]


def chart_png(
    counts: Mapping[str, int], end: date, title: str, t: Translator | None = None
) -> bytes:
    """Return a PNG bar chart of violation reports per day over the last 30 days."""
    from matplotlib.figure import Figure  # heavy: imported only when a digest is due

    t = t or translator(None)
    days = [end - timedelta(days=n) for n in range(CHART_DAYS - 1, -1, -1)]
    values = [counts.get(d.isoformat(), 0) for d in days]
    fig = Figure(figsize=(8, 3.2), dpi=100)
    ax = fig.add_subplot()
    ax.bar(chart_labels(end, t), values, color="#c0392b")
    ax.set_title(title)
    ax.set_ylabel("" if t.rtl else t.gettext("violation reports"))
    ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    fig.tight_layout()
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


class DigestScheduler:
    """Sends due digests: checked at start and then every ``interval_s``."""

    def __init__(
        self, *, redis: Redis, bot: Bot, limiter: FloodLimiter, subs: SubscriptionStore,
        stories: StoryStore, catalog: RegionCatalog, interval_s: float = 30.0,
    ) -> None:
        self.redis = redis
        self.bot = bot
        self.limiter = limiter
        self.subs = subs
        self.stories = stories
        self.catalog = catalog
        self.interval_s = interval_s

    async def run(self, stop: asyncio.Event) -> None:
        """Check for due digests until ``stop``."""
        while not stop.is_set():
            try:
                await self.run_due(time.time())
            except Exception as exc:
                # A digest problem must never take the notifier down; try again next round.
                raise_if_cancelled(exc)
                log.warning("digest round failed: %s", type(exc).__name__)
            await sleep_unless_stopped(stop, self.interval_s)

    async def run_due(self, now: float) -> int:
        """Send every digest due at ``now``; return how many were sent."""
        sent = 0
        for sub in await self.subs.load_many(await self.subs.digest_ids()):
            if not sub.active or sub.muted(now):
                continue
            last = cast(str | None, await self.redis.get(keys.digest_last(sub.chat_id)))
            if is_due(sub, now, last):
                await self.send(sub, now)
                sent += 1
        return sent

    async def _regions_of(self, sub: Subscription) -> list[str]:
        if ALL_REGIONS in sub.regions:
            return [r.id for r in self.catalog.regions]
        return sorted(sub.regions)

    async def send(self, sub: Subscription, now: float) -> None:
        """Send one chat's digest (text, then chart) and clear its queue."""
        story_ids = cast(
            list[str], await self.redis.zrangebyscore(keys.digest_queue(sub.chat_id), "-inf", now)
        )
        stories = [
            items for sid in story_ids
            if not is_escalation(sid) and (items := await self.stories.items(sid))
        ]
        t = translator(sub.lang).in_zone(sub.tz)
        escalations = await escalation_lines(
            self.redis, [sid for sid in story_ids if is_escalation(sid)], self.catalog.names, t
        )
        local_day = local_now(sub, now).date()
        regions = await self._regions_of(sub)
        truces = truce_lines(
            await load_states(self.redis, regions), self.catalog.names,
            datetime.fromtimestamp(now, UTC), t,
        )
        text = render_digest(stories, self.catalog.names, local_day, truces,
                             escalations, lang=sub.lang, zone=sub.tz)
        counts: dict[str, int] = {}
        for region in regions:
            raw = cast(dict[str, str], await self.redis.hgetall(keys.daily_counts(region)))
            for day, value in raw.items():
                counts[day] = counts.get(day, 0) + int(value)
        named = [self.catalog.name(r) for r in sorted(sub.regions) if r != ALL_REGIONS]
        # No words of a right-to-left language on the chart (see _BIDI_MARKS).
        title = ", ".join(named)[:60] or ("" if t.rtl else t.gettext("All regions"))
        png: bytes | None = None
        try:
            png = await asyncio.to_thread(
                chart_png, counts, datetime.fromtimestamp(now, UTC).date(), title, t
            )
        except ImportError:
            log.warning("matplotlib is not installed (extra 'charts'): digest sent without chart")
        try:
            async with self.limiter.slot(sub.chat_id):
                await self.bot.send_message(sub.chat_id, text, parse_mode=ParseMode.HTML)
        except TelegramError as exc:
            if not await self._refused(sub.chat_id, exc):
                return  # not marked sent: the next round tries again
        else:
            if png is not None:
                await self._send_chart(sub.chat_id, png, t)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(keys.digest_last(sub.chat_id), local_day.isoformat(), ex=3 * 24 * 3600)
            pipe.zremrangebyscore(keys.digest_queue(sub.chat_id), "-inf", now)
            await pipe.execute()

    async def _refused(self, chat_id: int, exc: TelegramError) -> bool:
        """Handle a failed digest send; True when it failed for good (today's is then done)."""
        failure = classify(exc)
        await self.limiter.heed(failure)
        # A migrated group is not followed here (its digest queue is kept under the old id):
        # like a revoked token, it is tried again next round, as before.
        if failure.retry_later or failure.kind in ("migrated", "bad_token"):
            log.warning("digest to %s failed, retried next round: %s", chat_id, failure.kind)
            return False
        if failure.kind == "chat_gone":
            await self.subs.deactivate(chat_id, failure.text)
        else:
            log.warning("digest to %s failed: %s", chat_id, failure.kind)
        return True

    async def _send_chart(self, chat_id: int, png: bytes, t: Translator) -> None:
        """Send the chart after the text; a failure skips it (retrying would repeat the text)."""
        try:
            async with self.limiter.slot(chat_id):
                await self.bot.send_photo(
                    chat_id, InputFile(png, filename="violations.png"),
                    caption=t.lines(t.gettext("Violation reports per day, last 30 days")),
                )
        except TelegramError as exc:
            failure = classify(exc)
            await self.limiter.heed(failure)
            log.warning("digest chart to %s skipped: %s", chat_id, failure.kind)
