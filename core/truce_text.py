"""Truce states in words, the same in Telegram and on the ops pages: phases, causes, times.

Plain text only: each surface escapes it for its own markup (Telegram HTML, the web page).
Every function takes the reader's :class:`Words` (the bot passes its chat's translator, which
also formats times for the locale and zone); the default, :data:`ENGLISH`, is the identity the
web page and the console use. The phrases are marked with ``N_`` for the bot's catalogues
(babel.cfg extracts this file too).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from core.truce import in_force_at
from core.truce_model import ACTIVE, TruceState


def N_(message: str) -> str:
    """Mark a phrase for extraction (pybabel's default keyword); translated where shown."""
    return message


class Words(Protocol):
    """One reader's language: messages, plural forms and times (bot/i18n.py's Translator)."""

    def gettext(self, message: str, **args: object) -> str:
        """``message`` in this language, with ``{name}`` filled from ``args``."""
        ...

    def ngettext(self, singular: str, plural: str, n: int, **args: object) -> str:
        """The plural form of this language for ``n``; ``{n}`` is filled in too."""
        ...

    def when(self, t: datetime, *, zone: bool = True) -> str:
        """A time as this reader reads it; ``zone``: with the time zone named."""
        ...


class English:
    """The phrases as written, times as ``20 Sep 2023 11:00 UTC``: the web page and console."""

    def gettext(self, message: str, **args: object) -> str:
        """``message`` itself, with ``args`` filled in."""
        return message.format(**args) if args else message

    def ngettext(self, singular: str, plural: str, n: int, **args: object) -> str:
        """English plural: the singular for 1 only."""
        return (singular if n == 1 else plural).format(n=n, **args)

    def when(self, t: datetime, *, zone: bool = True) -> str:
        """``20 Sep 2023 11:00 UTC`` (without `` UTC`` when ``zone`` is false)."""
        return utc(t).strftime("%d %b %Y %H:%M") + (" UTC" if zone else "")


ENGLISH = English()

PHASE_WORDS = {
    "none": N_("no truce"),
    "talks": N_("talks"),
    "agreed": N_("agreed, not yet in force"),
    "in_force": N_("in force"),
    "violated": N_("in force, violated"),
    "ended": N_("ended"),
    "collapsed": N_("collapsed"),
}
CAUSE_WORDS = {
    "call": N_("call for a truce"),
    "agreed": N_("truce agreed"),
    "starts": N_("truce starts"),
    "holding": N_("reported holding"),
    "extended": N_("extended"),
    "expired": N_("reported expired"),
    "collapsed": N_("reported collapsed"),
    "violated": N_("violation reported"),
    "violated after the end": N_("fighting after the end"),
}
# A transition that kept the phase and moved only the end (an extension).
NEW_END = N_("new end")
# A violation listed on its own, with no accusation to describe it.
VIOLATION = N_("violation")
# Listing order: truces in force first, then what may come into force, then the past.
PHASE_ORDER = ("in_force", "violated", "agreed", "talks", "collapsed", "ended", "none")


def utc(t: datetime) -> datetime:
    """``t`` in UTC (a naive time is taken as UTC)."""
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t.astimezone(UTC)


def fmt_time(t: datetime | None, *, zone: bool = True, words: Words = ENGLISH) -> str:
    """``t`` as ``words`` writes times (``20 Sep 2023 11:00 UTC`` in English; ``?`` unknown)."""
    if t is None:
        return "?"
    return words.when(utc(t), zone=zone)


def phase_word(phase: str, words: Words = ENGLISH) -> str:
    """A phase in words (an unknown phase as it is)."""
    return words.gettext(PHASE_WORDS[phase]) if phase in PHASE_WORDS else phase


def phase_text(state: TruceState, now: datetime, words: Words = ENGLISH) -> str:
    """The phase of an advanced state in words, noting an open-ended truce gone quiet."""
    text = phase_word(state.phase, words)
    if state.phase in ACTIVE and not in_force_at(state, now) and state.last_report is not None:
        days = (now - state.last_report).days
        text = words.ngettext("{phase} (no report for {n} day)",
                              "{phase} (no report for {n} days)", days, phase=text)
    return text


def since_text(state: TruceState, *, zone: bool = True, words: Words = ENGLISH) -> str:
    """When the (last) truce came into force; None means before anything we heard of."""
    if state.since:
        return fmt_time(state.since, zone=zone, words=words)
    return words.gettext("before the first report")


def span_text(state: TruceState, *, zone: bool = True, words: Words = ENGLISH) -> str:
    """The times that go with the phase: " since X until Y", ", starts X", " on X"."""
    entered = next((t.at for t in reversed(state.transitions) if t.phase == state.phase), None)
    span = ""
    if state.phase in ACTIVE:
        span = " " + words.gettext("since {time}",
                                   time=since_text(state, zone=zone, words=words))
    elif state.phase == "agreed" and state.starts is not None:
        span = ", " + words.gettext("starts {time}",
                                    time=fmt_time(state.starts, zone=zone, words=words))
    elif state.phase in ("talks", "ended", "collapsed") and entered is not None:
        when = fmt_time(entered, zone=zone, words=words)
        if state.phase == "talks":
            return " " + words.gettext("since {time}", time=when)
        return " " + words.gettext("on {time}", time=when)
    if state.until is not None:
        span += " " + words.gettext("until {time}",
                                    time=fmt_time(state.until, zone=zone, words=words))
    return span


def cause_text(cause: str, words: Words = ENGLISH) -> str:
    """What caused a transition, in words."""
    return words.gettext(CAUSE_WORDS[cause]) if cause in CAUSE_WORDS else cause


def accusation(
    accuser: str,
    accused: str,
    attack: str = "",
    place: str = "",
    *,
    killed: int | None = None,
    wounded: int | None = None,
    words: Words = ENGLISH,
) -> str:
    """``Armenia accuses Azerbaijan · shelling · Tartar · killed 2``: the parts stated."""
    claim = (
        words.gettext("{accuser} accuses {accused}", accuser=accuser, accused=accused)
        if accuser and accused
        else (words.gettext("Accusation by {accuser}", accuser=accuser) if accuser else "")
    )
    toll = []
    if killed is not None:
        toll.append(words.ngettext("killed {n}", "killed {n}", killed))
    if wounded is not None:
        toll.append(words.ngettext("wounded {n}", "wounded {n}", wounded))
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
