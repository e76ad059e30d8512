"""/ceasefires (the truce of every region now) and /ceasefire REGION (one truce's timeline).

In the chat's language (bot/i18n.py), times in its time zone: the phrases are
core/truce_text.py's, given the chat's translator as their :class:`core.truce_text.Words`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from telegram import Update

from bot.commands.args import UsageError, check_args
from bot.commands.services import Services
from bot.commands.types import Ctx
from bot.commands.views import reply, translator_for
from bot.i18n import N_, Translator, translator
from bot.telegram.html import MAX_MESSAGE, clip, esc, safe_url, tg_len
from core.truce import advance
from core.truce_model import ACTIVE, Transition, TruceState
from core.truce_store import load_state, load_states
from core.truce_text import (
    NEW_END,
    VIOLATION,
    accusation,
    cause_text,
    fmt_time,
    phase_text,
    phase_word,
    recent_counts,
    sort_key,
    span_text,
)

# With this few regions having a state, those with no truce are listed as well.
FEW = 6
LATEST_VIOLATIONS = 3
ICONS = {"in_force": "🟢", "violated": "🔴", "agreed": "🤝", "talks": "💬", "ended": "⚪",
         "collapsed": "⚫", "none": "▫️"}
UNKNOWN_REGION = N_("Unknown region: {name}. /regions lists every id and name; /ceasefires the "
                    "regions with a truce.")


def _link(url: str, title: str, limit: int, t: Translator) -> str:
    text = t.isolate(clip(title, limit) or t.gettext("(no headline)"))
    good = safe_url(url)
    return f'<a href="{esc(good)}">{esc(text)}</a>' if good else esc(text)


def _when(at: datetime | None, t: Translator) -> str:
    """A time of a listing (the heading names the zone), escaped and isolated."""
    return esc(t.isolate(fmt_time(at, zone=False, words=t)))


def _state_words(state: TruceState, now: datetime, t: Translator) -> str:
    """``in force, violated since 2 Jun 2025, 10:00``: the phase and its times, escaped."""
    return esc(phase_text(state, now, t) + span_text(state, zone=False, words=t))


def latest_story(state: TruceState) -> tuple[datetime, str, str] | None:
    """The newest story the state names (time, title, url): a transition's or a violation's."""
    found = [(t.at, t.title, t.url) for t in state.transitions if t.title]
    found += [(v.last, v.title, v.url) for v in state.violations if v.title]
    return max(found, key=lambda f: f[0]) if found else None


def overview_line(
    state: TruceState, name: str, now: datetime, title_max: int = 80, t: Translator | None = None
) -> str:
    """One region in /ceasefires: name, phase, since/until, counts, last report."""
    t = t or translator(None)
    day, week = recent_counts(state, now)
    story = latest_story(state)
    last = t.gettext("last report {time}", time=_when(state.last_report, t))
    if story is not None and title_max > 0:
        last += f": {_link(story[2], story[1], title_max, t)}"
    counts = t.gettext("violations 24 h: {day}, 7 d: {week}", day=day, week=week)
    return (f"{t.mark}{ICONS.get(state.phase, '•')} <b>{esc(t.isolate(name))}</b> — "
            f"{_state_words(state, now, t)} · {counts} · {last}")


def render_overview(
    states: Sequence[TruceState], names: Mapping[str, str], now: datetime,
    t: Translator | None = None,
) -> str:
    """The /ceasefires reply: truces in force first, within Telegram's length limit."""
    t = t or translator(None)
    states = sorted((advance(s, now) for s in states), key=sort_key)
    if len(states) > FEW:
        states = [s for s in states if s.phase != "none"]
    if not states:
        return t.lines(t.gettext("No truce has been reported in any region yet."))
    head = t.mark + t.gettext("<b>Truces now</b> (times {zone}; /ceasefire region for a timeline)",
                              zone=esc(t.isolate(t.zone_name)))
    for title_max in (80, 40, 0):  # shorter headlines first, then fewer regions
        lines = [overview_line(s, names.get(s.region, s.region), now, title_max, t)
                 for s in states]
        text = "\n".join([head, *lines])
        if tg_len(text) <= MAX_MESSAGE:
            return text
    shown = len(lines)
    while tg_len(text) > MAX_MESSAGE and shown > 1:
        shown -= 1  # the least current go first
        more = t.ngettext("… and {n} more region.", "… and {n} more regions.",
                          len(lines) - shown)
        text = "\n".join([head, *lines[:shown], t.mark + more])
    return text


def transition_line(tr: Transition, t: Translator | None = None) -> str:
    """One timeline entry: when, into what (and until when), why, and the story."""
    t = t or translator(None)
    words = phase_word(tr.phase, t) if tr.phase != tr.previous else t.gettext(NEW_END)
    if tr.until is not None and tr.phase in ACTIVE:
        words += " " + t.gettext("until {time}", time=fmt_time(tr.until, zone=False, words=t))
    story = f" · {_link(tr.url, tr.title, 120, t)}" if tr.title else ""
    return (f"{t.mark}• {_when(tr.at, t)} — <b>{esc(words)}</b> · "
            f"{esc(cause_text(tr.cause, t))}{story}")


def _head(state: TruceState, name: str, now: datetime, t: Translator) -> list[str]:
    day, week = recent_counts(state, now)
    zone = esc(t.isolate(t.zone_name))
    lines = [
        t.gettext("<b>{name}</b> — truce (times {zone})", name=esc(t.isolate(name)), zone=zone),
        t.gettext("<b>Now:</b> {state}", state=_state_words(state, now, t)),
    ]
    if state.phase in ACTIVE:
        lines.append(t.gettext(
            "<b>Violations</b> this truce: {n} · last 24 h: {day} · 7 d: {week}",
            n=state.violated, day=day, week=week))
    elif state.violated:
        lines.append(t.gettext(
            "<b>Violations</b> the last truce: {n} · last 24 h: {day} · 7 d: {week}",
            n=state.violated, day=day, week=week))
    else:
        lines.append(t.gettext("<b>Violations</b> last 24 h: {day} · 7 d: {week}",
                               day=day, week=week))
    if state.last_violation is not None:
        lines.append(t.gettext("<b>Last violation:</b> {time}",
                               time=_when(state.last_violation, t)))
    lines.append(t.gettext("<b>Last report:</b> {time}", time=_when(state.last_report, t)))
    return [t.mark + line for line in lines]


def _violation_lines(state: TruceState, t: Translator) -> list[str]:
    """The newest violations, newest first: when, who accuses whom, the story."""
    lines = []
    for v in reversed(state.violations[-LATEST_VIOLATIONS:]):
        claim = accusation(t.isolate(v.accuser), t.isolate(v.accused), t.isolate(v.attack),
                           t.isolate(v.place), words=t)
        lines.append(f"{t.mark}• {_when(v.first, t)} — {esc(claim or t.gettext(VIOLATION))}"
                     f" · {_link(v.url, v.title, 120, t)}")
    return lines


def render_timeline(
    state: TruceState | None, name: str, now: datetime, page: str | None = None,
    t: Translator | None = None,
) -> str:
    """The /ceasefire reply; the oldest timeline entries are cut first when it is too long."""
    t = t or translator(None)
    web = ""
    if page:
        web = "\n" + t.mark + t.gettext("<b>Web page:</b> {link}", link=_link(page, page, 200, t))
    if state is None:
        return t.mark + t.gettext(
            "No truce has been reported for {name} yet. /ceasefires lists the regions with one.",
            name=esc(t.isolate(name))) + web
    state = advance(state, now)
    head = "\n".join(_head(state, name, now, t))
    entries = [transition_line(tr, t) for tr in state.transitions]
    violations = _violation_lines(state, t)
    cut = 0
    while True:
        kept = entries[cut:]
        parts = [head, "", t.mark + t.gettext("<b>Timeline</b> (oldest first)")]
        if cut:
            parts.append(t.mark + t.ngettext(
                "<i>{n} earlier entry not shown (too long for one message).</i>",
                "<i>{n} earlier entries not shown (too long for one message).</i>", cut))
        parts += kept or [t.mark + t.gettext("Nothing yet.")]
        if violations:
            parts += ["", t.mark + t.gettext("<b>Latest violations</b>"), *violations]
        text = "\n".join(parts) + web
        if tg_len(text) <= MAX_MESSAGE:
            return text
        if kept:
            cut += 1
        elif violations:
            violations.pop()
        else:
            return clip(head, MAX_MESSAGE)  # unreachable in practice: the head is short


class TruceCommands:
    """The truce commands; ``page_base`` is the public URL of the ops server, when known."""

    def __init__(self, svc: Services, page_base: str | None = None) -> None:
        self.svc = svc
        self.page_base = page_base.rstrip("/") if page_base else None

    async def ceasefires(self, update: Update, context: Ctx) -> None:
        """List every region's truce now (with an argument: that region's timeline)."""
        if check_args(context.args):
            await self.ceasefire(update, context)  # "/ceasefires gaza" means one region
            return
        t = await translator_for(update, self.svc.subs)
        states = await load_states(self.svc.redis)
        await reply(update, render_overview(states, self.svc.catalog.names, datetime.now(UTC), t))

    async def ceasefire(self, update: Update, context: Ctx) -> None:
        """Show one region's truce: state, counts and the timeline of its transitions."""
        args = check_args(context.args)
        if not args:
            raise UsageError()
        region = self.svc.catalog.resolve(" ".join(args))
        if region is None:
            raise UsageError(UNKNOWN_REGION, name=" ".join(args))
        t = await translator_for(update, self.svc.subs)
        state = await load_state(self.svc.redis, region.id)
        page = f"{self.page_base}/truces/{quote(region.id)}" if self.page_base else None
        await reply(update, render_timeline(state, region.name, datetime.now(UTC), page, t))
