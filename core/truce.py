"""The life of a truce in one region: a pure fold of the truce events that alerts report.

The state of a region is ``fold(reports)``: the reports applied in (time, alert id) order,
with the truce's scheduled start and end applied in between as time passes. Being a pure
function of the set of reports, it is the same however often an alert is redelivered, in
whatever order replicas handle alerts, and after a rebuild from the ``alerts`` stream.

Phases: none -> talks -> agreed -> in force (since, until) -> violated -> extended (a
transition back into force with a new end) / ended / collapsed. Every change of phase is
kept as a Transition with its time and the story that caused it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.models import TruceEvent
from core.truce_extend import extend
from core.truce_model import (
    ACTIVE,
    CONFIRM_WITHIN,
    SAME_TRUCE,
    SEAMLESS,
    STALE_AFTER,
    Claim,
    Report,
    TruceState,
)
from core.truce_steps import (
    enter,
    recently_ended,
    record_violation,
    renew,
    start,
)


def advance(state: TruceState, t: datetime) -> TruceState:
    """The state at time ``t``: a scheduled start or end that has come is applied (a copy)."""
    if not _due(state, t):
        return state
    state = state.model_copy(deep=True)
    _advance(state, t)
    return state


def in_force_at(state: TruceState, t: datetime) -> bool:
    """True when a truce is in force at ``t`` (and, with no stated end, not gone stale)."""
    now = advance(state, t)
    if now.phase not in ACTIVE or (now.since is not None and t < now.since):
        return False  # an item older than the truce's start was published before it
    if now.until is not None:
        return True
    seen = now.alive_at or now.since
    return seen is not None and t - seen <= STALE_AFTER


def _due(state: TruceState, t: datetime) -> bool:
    due_start = state.starts is not None and state.starts <= t
    due_end = state.phase in ACTIVE and state.until is not None and state.until <= t
    return due_start or due_end


def _advance(state: TruceState, t: datetime) -> None:
    # Each step consumes a start or an end, so this ends (a start, then its end, at most).
    while _due(state, t):
        if (
            state.phase in ACTIVE
            and state.until is not None
            and state.until <= t
            and not (state.starts is not None and state.starts < state.until)
        ):
            end = state.until
            enter(state, "ended", end, "scheduled end")
            if state.starts is not None and state.starts <= end + SEAMLESS:
                # A truce agreed while this one ran takes over where this one ends.
                start(state, end, end, "scheduled start", None)
        elif state.starts is not None:
            if state.phase in ACTIVE:
                # A new truce starts before this one's end (or this one has no end): the new
                # one replaces it from its start.
                renew(state, state.starts)
                continue
            ends = state.until if state.phase == "agreed" else None
            start(
                state,
                state.starts,
                state.starts,
                "scheduled start",
                None,
                ends=ends,
                day_only=state.starts_day_only,
            )


def apply(state: TruceState, report: Report) -> TruceState:
    """The state after ``report`` (a new object; ``state`` is left as it was)."""
    state = state.model_copy(deep=True)
    apply_in_place(state, report)
    return state


def _confirmed(state: TruceState, report: Report, claim: str) -> Claim | None:
    """The earlier report that confirms this one's claim, or None (this one then waits).

    An agreement, a collapse, or a truce we never heard of is a big claim to rest on one
    item: one misread headline ("Can the UN stop the war?") must not move a region's truce.
    A second report within CONFIRM_WITHIN (another item, often another outlet) confirms it.
    """
    state.claims = [c for c in state.claims if timedelta(0) <= report.at - c.at <= CONFIRM_WITHIN]
    for c in state.claims:
        if c.claim == claim and c.alert_id != report.alert_id:
            return c
    state.claims.append(
        Claim(
            at=report.at,
            claim=claim,
            alert_id=report.alert_id,
            story_id=report.story_id,
            label=report.label,
            event=report.event,
        )
    )
    return None


def apply_in_place(state: TruceState, report: Report) -> None:
    """Apply ``report`` to ``state`` itself: the fold's step (no copy of a long history)."""
    _advance(state, report.at)
    ev, at, kind = report.event, report.at, report.kind
    active = state.phase in ACTIVE
    if kind == "call":
        implied = active and state.since is None and state.until is None
        if state.phase in ("none", "ended", "collapsed"):
            enter(state, "talks", at, kind, report)
        elif implied and _confirmed(state, report, "call") is not None:
            # Calls for a ceasefire where we only inferred one from breach reports: there
            # is none in force.
            enter(state, "talks", at, kind, report)
    elif kind == "agreed":
        _agree(state, report)
    elif kind in ("starts", "holding"):
        early = state.phase == "agreed" and state.starts is not None and state.starts > at
        if early and ev.starts is not None and state.starts is not None:
            _set_start(state, ev.starts, ev.starts_day_only)
        elif (
            not active
            and not early
            and (
                (state.phase == "agreed" and kind == "starts")
                or ev.starts is not None
                or _confirmed(state, report, "implied") is not None
            )
        ):
            # Before an agreed start, "the truce holds" is about something else; otherwise
            # "it holds" (or "it began", with no agreement known) needs a second report, or
            # a stated start.
            since = ev.starts or (at if kind == "starts" or state.phase == "agreed" else None)
            if ev.duration_h is not None:
                state.duration_h = ev.duration_h
            start(state, since, at, kind, report, ends=ev.ends)
    elif kind == "extended":
        extend(state, report)
        if ev.ends is not None or ev.duration_h is not None:
            # A stated extension is news after the "it broke down" reports before it: they
            # no longer confirm, nor are confirmed by, a collapse.
            state.claims = [c for c in state.claims if c.claim != "collapsed"]
    elif kind == "expired":
        if ev.ends is not None and ev.ends > at and (active or state.phase == "agreed"):
            # An announced end, still ahead, where none was known; a known end moves only by
            # an extension.
            state.until = state.until or ev.ends
        elif (active or state.phase == "agreed") and not (state.until and state.until > at):
            # An end already scheduled later is not brought forward by talk of the end
            # ("hours left before the ceasefire ends"); the scheduled end will come.
            enter(state, "ended", at, kind, report)
    elif kind == "collapsed":
        live = state.phase in ("in_force", "violated", "agreed") or recently_ended(state, at)
        if live and _confirmed(state, report, "collapsed") is not None:
            enter(state, "collapsed", at, kind, report)
        if report.label == "violation":
            record_violation(state, report)
    elif kind == "violated":
        if recently_ended(state, at):
            if _confirmed(state, report, "collapsed") is not None:
                enter(state, "collapsed", at, "violated after the end", report)
        elif state.phase == "agreed":
            # An agreed truce reported breached has started, whenever it did.
            start(state, state.starts or at, at, "violated", report)
        elif state.phase == "none" and (first := _confirmed(state, report, "implied")):
            # Breaches of a truce we never heard of: it started before we were watching.
            # After talks, an end or a collapse, a breach report is about the truce we know.
            start(state, ev.starts, at, "violated", report)
            state.counted.append(first.story_id)  # the first breach was of this truce too
            state.violated += 1
        if state.phase in ACTIVE:
            enter(state, "violated", at, kind, report)
        record_violation(state, report)
    if kind in ("starts", "holding", "extended", "violated") and state.phase in ACTIVE:
        state.alive_at = max(state.alive_at or at, at)
    state.last_report = max(state.last_report or at, at)
    state.last_key = max(state.last_key, report.key)
    state.applied += 1


def _set_start(state: TruceState, new: datetime | None, day_only: bool) -> None:
    """Take a stated start of the pending truce; of two within a day, the more precise.

    A day named without its hour ("from Monday") reads as its midnight, so an hour a later
    report gives ("at 9.45 pm") replaces it; of two equally precise, the later holds (a start
    put off: "no pause before Friday").
    """
    known = state.starts
    if new is None:
        return
    if known is not None and abs(new - known) <= SAME_TRUCE:
        if day_only and not state.starts_day_only:
            return
        if day_only == state.starts_day_only:
            new = max(known, new)
    state.starts, state.starts_day_only = new, day_only


def _retime(state: TruceState, new: datetime, report: Report) -> None:
    """The truce we started at a day's midnight starts at the hour a report now gives."""
    if state.since is None:
        return
    shift = new - state.since
    state.until = state.until + shift if state.until is not None else None
    state.since, state.since_day_only = new, False
    if new > report.at:
        # Not in force yet after all: agreed, starting at that hour.
        state.starts, state.starts_day_only = new, False
        enter(state, "agreed", report.at, "start corrected", report)


def _announced_start(ev: TruceEvent, at: datetime) -> datetime | None:
    """The start an agreement announces: not one more than an hour before the report."""
    return ev.starts if ev.starts is not None and ev.starts > at - timedelta(hours=1) else None


def _agree(state: TruceState, report: Report) -> None:
    """An agreement: the next truce while one runs, details of the agreed one, or a new one."""
    ev, at = report.event, report.at
    # A stated start more than an hour before the report is not an announcement of the start
    # (a misread "no pause before Friday"): starts and holding reports say when it began.
    starts = _announced_start(ev, at)
    if state.phase in ACTIVE:
        same = state.since is not None and starts is not None and starts - state.since <= SAME_TRUCE
        if same and starts is not None and state.since_day_only and not ev.starts_day_only:
            if state.violated == 0 and starts != state.since:
                _retime(state, starts, report)
        elif starts is not None and starts > at and not same:
            # The next truce, agreed while this one runs: it starts when this one ends. A start
            # within a day of this one's is this truce, told again (or a day late).
            _set_start(state, starts, ev.starts_day_only)
            state.duration_h = ev.duration_h or state.duration_h
    elif state.phase == "agreed":
        # Later reports of the same agreement fill in what earlier ones left open.
        _set_start(state, starts, ev.starts_day_only)
        state.duration_h = ev.duration_h or state.duration_h
    elif (first := _confirmed(state, report, "agreed")) is not None:
        # The two reports together: what one leaves open the other may say.
        day_only = ev.starts_day_only if starts is not None else first.event.starts_day_only
        starts = starts or _announced_start(first.event, first.at)
        state.duration_h, state.until = ev.duration_h or first.event.duration_h, None
        if starts is not None and starts <= at:
            start(state, starts, at, "agreed", report, ends=ev.ends, day_only=day_only)
        else:
            state.starts, state.starts_day_only = starts, day_only
            enter(state, "agreed", at, "agreed", report)
            state.until = ev.ends or first.event.ends


def fold(region: str, reports: list[Report]) -> TruceState:
    """The state of ``region`` after all ``reports``, applied in (time, alert id) order."""
    state = TruceState(region=region)
    for report in sorted(reports, key=lambda r: r.key):
        apply_in_place(state, report)
    return state
