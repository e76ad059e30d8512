"""Truce states in words, the same in Telegram and on the ops pages: phases, causes, times.

Plain text only: each surface escapes it for its own markup (Telegram HTML, the web page).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.truce import in_force_at
from core.truce_model import ACTIVE, TruceState

PHASE_WORDS = {
    "none": "no truce",
    "talks": "talks",
    "agreed": "agreed, not yet in force",
    "in_force": "in force",
    "violated": "in force, violated",
    "ended": "ended",
    "collapsed": "collapsed",
}
CAUSE_WORDS = {
    "call": "call for a truce",
    "agreed": "truce agreed",
    "starts": "truce starts",
    "holding": "reported holding",
    "extended": "extended",
    "expired": "reported expired",
    "collapsed": "reported collapsed",
    "violated": "violation reported",
    "violated after the end": "fighting after the end",
}
# Listing order: truces in force first, then what may come into force, then the past.
PHASE_ORDER = ("in_force", "violated", "agreed", "talks", "collapsed", "ended", "none")


def utc(t: datetime) -> datetime:
    """``t`` in UTC (a naive time is taken as UTC)."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def fmt_time(t: datetime | None, *, zone: bool = True) -> str:
    """``20 Sep 2023 11:00 UTC`` (``?`` when unknown)."""
    if t is None:
        return "?"
    return utc(t).strftime("%d %b %Y %H:%M") + (" UTC" if zone else "")


def phase_text(state: TruceState, now: datetime) -> str:
    """The phase of an advanced state in words, noting an open-ended truce gone quiet."""
    words = PHASE_WORDS.get(state.phase, state.phase)
    if state.phase in ACTIVE and not in_force_at(state, now) and state.last_report is not None:
        days = (now - state.last_report).days
        words += f" (no report for {days} days)"
    return words


def since_text(state: TruceState, *, zone: bool = True) -> str:
    """When the (last) truce came into force; None means before anything we heard of."""
    return fmt_time(state.since, zone=zone) if state.since else "before the first report"


def span_text(state: TruceState, *, zone: bool = True) -> str:
    """The times that go with the phase: " since X until Y", " starts X", " on X"."""
    entered = next((t.at for t in reversed(state.transitions) if t.phase == state.phase), None)
    span = ""
    if state.phase in ACTIVE:
        span = f" since {since_text(state, zone=zone)}"
    elif state.phase == "agreed" and state.starts is not None:
        span = f", starts {fmt_time(state.starts, zone=zone)}"
    elif state.phase in ("talks", "ended", "collapsed") and entered is not None:
        word = "since" if state.phase == "talks" else "on"
        return f" {word} {fmt_time(entered, zone=zone)}"
    if state.until is not None:
        span += f" until {fmt_time(state.until, zone=zone)}"
    return span


def cause_text(cause: str) -> str:
    """What caused a transition, in words."""
    return CAUSE_WORDS.get(cause, cause)


def accusation(
    accuser: str,
    accused: str,
    attack: str = "",
    place: str = "",
    *,
    killed: int | None = None,
    wounded: int | None = None,
) -> str:
    """``Armenia accuses Azerbaijan · shelling · Tartar · killed 2``: the parts stated."""
    claim = (
        f"{accuser} accuses {accused}"
        if accuser and accused
        else (f"Accusation by {accuser}" if accuser else "")
    )
    toll = [
        f"{word} {n}" for word, n in (("killed", killed), ("wounded", wounded)) if n is not None
    ]
    return " · ".join(p for p in (claim, attack, place, ", ".join(toll)) if p)


def sort_key(state: TruceState) -> tuple[int, float]:
    """Order of listings: in force first, then by last report, newest first."""
    rank = PHASE_ORDER.index(state.phase) if state.phase in PHASE_ORDER else len(PHASE_ORDER)
    return rank, -(utc(state.last_report).timestamp() if state.last_report else 0.0)


def recent_counts(state: TruceState, now: datetime) -> tuple[int, int]:
    """Distinct violation stories first reported in the last 24 hours and 7 days."""
    return (
        state.violations_between(now - timedelta(hours=24), now),
        state.violations_between(now - timedelta(days=7), now),
    )
