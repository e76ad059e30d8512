"""/ceasefires (the truce of every region now) and /ceasefire REGION (one truce's timeline)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import quote

from telegram import Update

from bot.commands.args import UsageError, check_args, usage
from bot.commands.services import Services
from bot.commands.types import Ctx
from bot.commands.views import reply
from bot.telegram.html import MAX_MESSAGE, clip, esc, safe_url, tg_len
from core.truce import advance
from core.truce_model import ACTIVE, Transition, TruceState
from core.truce_store import load_state, load_states
from core.truce_text import (
    PHASE_WORDS,
    accusation,
    cause_text,
    fmt_time,
    phase_text,
    recent_counts,
    sort_key,
    span_text,
)

# With this few regions having a state, those with no truce are listed as well.
FEW = 6
LATEST_VIOLATIONS = 3
ICONS = {"in_force": "🟢", "violated": "🔴", "agreed": "🤝", "talks": "💬", "ended": "⚪",
         "collapsed": "⚫", "none": "▫️"}


def _link(url: str, title: str, limit: int) -> str:
    text = clip(title, limit) or "(no headline)"
    good = safe_url(url)
    return f'<a href="{esc(good)}">{esc(text)}</a>' if good else esc(text)


def _when(t: datetime | None) -> str:
    return fmt_time(t, zone=False)


def latest_story(state: TruceState) -> tuple[datetime, str, str] | None:
    """The newest story the state names (time, title, url): a transition's or a violation's."""
    found = [(t.at, t.title, t.url) for t in state.transitions if t.title]
    found += [(v.last, v.title, v.url) for v in state.violations if v.title]
    return max(found, key=lambda f: f[0]) if found else None


def overview_line(state: TruceState, name: str, now: datetime, title_max: int = 80) -> str:
    """One region in /ceasefires: name, phase, since/until, counts, last report."""
    day, week = recent_counts(state, now)
    story = latest_story(state)
    last = f"last report {esc(_when(state.last_report))}"
    if story is not None and title_max > 0:
        last += f": {_link(story[2], story[1], title_max)}"
    return (
        f"{ICONS.get(state.phase, '•')} <b>{esc(name)}</b> — "
        f"{esc(phase_text(state, now) + span_text(state, zone=False))} · "
        f"violations 24 h: {day}, 7 d: {week} · {last}"
    )


def render_overview(states: Sequence[TruceState], names: Mapping[str, str], now: datetime) -> str:
    """The /ceasefires reply: truces in force first, within Telegram's length limit."""
    states = sorted((advance(s, now) for s in states), key=sort_key)
    if len(states) > FEW:
        states = [s for s in states if s.phase != "none"]
    if not states:
        return "No truce has been reported in any region yet."
    head = "<b>Truces now</b> (times UTC; /ceasefire region for a timeline)"
    for title_max in (80, 40, 0):  # shorter headlines first, then fewer regions
        lines = [overview_line(s, names.get(s.region, s.region), now, title_max)
                 for s in states]
        text = "\n".join([head, *lines])
        if tg_len(text) <= MAX_MESSAGE:
            return text
    shown = len(lines)
    while tg_len(text) > MAX_MESSAGE and shown > 1:
        shown -= 1  # the least current go first
        text = "\n".join([head, *lines[:shown], f"… and {len(lines) - shown} more regions."])
    return text


def transition_line(t: Transition) -> str:
    """One timeline entry: when, into what (and until when), why, and the story."""
    words = PHASE_WORDS.get(t.phase, t.phase) if t.phase != t.previous else "new end"
    if t.until is not None and t.phase in ACTIVE:
        words += f" until {_when(t.until)}"
    story = f" · {_link(t.url, t.title, 120)}" if t.title else ""
    return f"• {esc(_when(t.at))} — <b>{esc(words)}</b> · {esc(cause_text(t.cause))}{story}"


def _head(state: TruceState, name: str, now: datetime) -> list[str]:
    day, week = recent_counts(state, now)
    now_text = phase_text(state, now) + span_text(state, zone=False)
    lines = [f"<b>{esc(name)}</b> — truce (times UTC)", f"<b>Now:</b> {esc(now_text)}"]
    counts = f"last 24 h: {day} · 7 d: {week}"
    if state.phase in ACTIVE or state.violated:
        which = "this truce" if state.phase in ACTIVE else "the last truce"
        counts = f"{which}: {state.violated} · {counts}"
    lines.append(f"<b>Violations</b> {counts}")
    if state.last_violation is not None:
        lines.append(f"<b>Last violation:</b> {esc(_when(state.last_violation))}")
    lines.append(f"<b>Last report:</b> {esc(_when(state.last_report))}")
    return lines


def render_timeline(
    state: TruceState | None, name: str, now: datetime, page: str | None = None
) -> str:
    """The /ceasefire reply; the oldest timeline entries are cut first when it is too long."""
    web = f"\n<b>Web page:</b> {_link(page, page, 200)}" if page else ""
    if state is None:
        return (f"No truce has been reported for {esc(name)} yet. /ceasefires lists the "
                f"regions with one.{web}")
    state = advance(state, now)
    head = "\n".join(_head(state, name, now))
    entries = [transition_line(t) for t in state.transitions]
    violations = [
        f"• {esc(_when(v.first))} — "
        + esc(accusation(v.accuser, v.accused, v.attack, v.place) or "violation")
        + f" · {_link(v.url, v.title, 120)}"
        for v in reversed(state.violations[-LATEST_VIOLATIONS:])
    ]
    cut = 0
    while True:
        kept = entries[cut:]
        parts = [head, "", "<b>Timeline</b> (oldest first)"]
        if cut:
            parts.append(f"<i>{cut} earlier entries not shown (too long for one message).</i>")
        parts += kept or ["Nothing yet."]
        if violations:
            parts += ["", "<b>Latest violations</b>", *violations]
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
        states = await load_states(self.svc.redis)
        await reply(update, render_overview(states, self.svc.catalog.names, datetime.now(UTC)))

    async def ceasefire(self, update: Update, context: Ctx) -> None:
        """Show one region's truce: state, counts and the timeline of its transitions."""
        args = check_args(context.args)
        if not args:
            raise UsageError(usage("ceasefire"))
        region = self.svc.catalog.resolve(" ".join(args))
        if region is None:
            raise UsageError(
                f"Unknown region: {' '.join(args)[:80]}. /regions lists every id and name; "
                "/ceasefires the regions with a truce."
            )
        state = await load_state(self.svc.redis, region.id)
        page = f"{self.page_base}/truces/{quote(region.id)}" if self.page_base else None
        await reply(update, render_timeline(state, region.name, datetime.now(UTC), page))
