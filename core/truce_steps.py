"""The steps every truce rule is made of: enter a phase, start a truce, note a change.

Each step changes a state in place and keeps its history (transitions, violation stories)
within the bounds of core/truce_model.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.truce_model import (
    ACTIVE,
    BREAKDOWN_WINDOW,
    MAX_TRANSITIONS,
    MAX_VIOLATION_STORIES,
    Phase,
    Report,
    Transition,
    TruceState,
    ViolationStory,
)


def record(
    state: TruceState, at: datetime, phase: Phase, cause: str, report: Report | None = None
) -> None:
    """Keep a transition into ``phase`` (the phase itself is set by the caller)."""
    state.transitions.append(
        Transition(
            at=at,
            phase=phase,
            previous=state.phase,
            cause=cause,
            story_id=report.story_id if report else "",
            alert_id=report.alert_id if report else "",
            title=report.title if report else "",
            url=report.url if report else "",
            until=state.until,
        )
    )
    del state.transitions[:-MAX_TRANSITIONS]


def _count_afresh(state: TruceState) -> None:
    """A new truce: its violations are counted afresh."""
    state.violated, state.counted = 0, []
    state.first_violation = state.last_violation = None


def enter(
    state: TruceState, phase: Phase, at: datetime, cause: str, report: Report | None = None
) -> None:
    """Move into ``phase`` (nothing when already there), keeping the transition."""
    if phase == state.phase:
        return
    record(state, at, phase, cause, report)
    if phase in ACTIVE and state.phase not in ACTIVE:
        _count_afresh(state)
    if phase in ("ended", "collapsed"):
        state.ended_at = at
    state.phase = phase


def start(
    state: TruceState,
    since: datetime | None,
    at: datetime,
    cause: str,
    report: Report | None,
    *,
    ends: datetime | None = None,
    day_only: bool = False,
) -> None:
    """Bring a truce into force at ``since`` (None: earlier than anything we saw).

    ``day_only``: ``since`` is the midnight of a day named without its hour.
    """
    duration = state.duration_h
    state.since, state.since_day_only = since, day_only
    state.starts, state.starts_day_only = None, False
    state.until = ends or (since + timedelta(hours=duration) if since and duration else None)
    state.duration_h = None
    enter(state, "in_force", at, cause, report)


def renew(state: TruceState, start: datetime) -> None:
    """Replace the truce in force by the one agreed to start at ``start``."""
    duration = state.duration_h
    state.until = start + timedelta(hours=duration) if duration else None
    record(state, start, "in_force", "scheduled start")
    state.phase = "in_force"
    state.since, state.starts, state.duration_h = start, None, None
    state.since_day_only, state.starts_day_only = state.starts_day_only, False
    _count_afresh(state)


def record_violation(state: TruceState, report: Report) -> None:
    if report.story_id not in state.counted:
        state.counted.append(report.story_id)
        state.violated += 1
    state.first_violation = state.first_violation or report.at
    state.last_violation = max(state.last_violation or report.at, report.at)
    for story in reversed(state.violations):
        if story.story_id == report.story_id:
            story.reports += 1
            story.last = max(story.last, report.at)
            return
    ev = report.event
    state.violations.append(
        ViolationStory(
            story_id=report.story_id,
            first=report.at,
            last=report.at,
            title=report.title,
            url=report.url,
            accuser=ev.accuser,
            accused=ev.accused,
            attack=ev.attack,
            place=ev.place,
        )
    )
    del state.violations[:-MAX_VIOLATION_STORIES]


def recently_ended(state: TruceState, at: datetime) -> bool:
    """True when the truce ended (on schedule or on a report) within the breakdown window."""
    ended = state.ended_at
    return state.phase == "ended" and ended is not None and at - ended <= BREAKDOWN_WINDOW


def note(state: TruceState, at: datetime, cause: str, report: Report) -> None:
    """Keep a change of end as a transition too (the phase may stay the same)."""
    record(state, at, state.phase, cause, report)
