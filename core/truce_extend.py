"""Extensions of a truce: the end moved by what a report says, once per extension.

Part of the rules of core/truce.py (its ``apply_in_place`` calls :func:`extend`).
"""

from __future__ import annotations

from datetime import timedelta

from core.truce_model import ACTIVE, SAME_EXTENSION, SAME_TRUCE, Report, TruceState
from core.truce_steps import note, recently_ended, record, start


def extend(state: TruceState, report: Report) -> None:
    """Move the end by what the report says; a repeat of one extension moves it once.

    Outlets report one extension for a day or two ("extended by 72 hours"): a report within
    SAME_EXTENSION of the first report of an extension is that extension again, and is
    measured from the end it extended, not from the end it already produced.
    """
    ev, at = report.event, report.at
    _undo_collapse(state, report)
    active = state.phase in ACTIVE
    ended = recently_ended(state, at)
    repeat = (
        state.extended_at is not None
        and at - state.extended_at <= SAME_EXTENSION
        and (active or ended)
    )
    stated = ev.ends is not None or ev.duration_h is not None
    if repeat:
        base = state.extended_from
    else:
        base = state.until if (active or ended) and state.until else at
        if stated:
            state.extended_from, state.extended_at = base, at
    # The length it states ("for two more days") counts from the end it moves; an end the
    # same report names may be the old one ("initially due to end Tuesday").
    by_length = base + timedelta(hours=ev.duration_h) if base and ev.duration_h else None
    new_until = by_length or ev.ends
    if repeat or (active and not stated):
        # A repeat moves the end at most to where it already is; an extension that states
        # no new end leaves the known end as it is (the next report will tell).
        new_until = max(new_until, state.until) if new_until and state.until else state.until
    if active:
        changed = new_until != state.until
        state.until = new_until
        if changed:
            note(state, at, "extended", report)
    else:
        # Extended after its end, or first heard of as extended: in force again.
        since = state.since if ended else None
        state.until = None
        start(state, since, at, "extended", report, ends=new_until)


def _undo_collapse(state: TruceState, report: Report) -> None:
    """A truce extended within a day of its reported collapse had not collapsed: it runs on.

    "The latest ceasefire breaks down" in the morning, "diplomacy succeeded in extending the
    cease-fire" that afternoon: the headlines named heavy fighting, and the truce went on. Its
    start, end and count of violations are the ones it had before the collapse.
    """
    last = state.transitions[-1] if state.transitions else None
    if (
        state.phase != "collapsed"
        or state.ended_at is None
        or report.at - state.ended_at > SAME_TRUCE
        or last is None
        or last.phase != "collapsed"
        or last.previous not in ACTIVE
    ):
        return
    record(state, report.at, last.previous, "extended after a reported collapse", report)
    state.phase, state.ended_at = last.previous, None
