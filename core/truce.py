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
from typing import Literal

from pydantic import BaseModel, ConfigDict

from core.models import Alert, Label, TruceEvent, TruceEventKind

Phase = Literal["none", "talks", "agreed", "in_force", "violated", "ended", "collapsed"]
ACTIVE: frozenset[Phase] = frozenset({"in_force", "violated"})
# A report of fighting this soon after a truce ended tells how it ended: it broke down.
BREAKDOWN_WINDOW = timedelta(hours=48)
# Reports of an extension this soon after the first report of one are that extension again.
SAME_EXTENSION = timedelta(hours=36)
# A second report within this time confirms an agreement, a collapse or an unseen truce.
CONFIRM_WITHIN = timedelta(hours=24)
# Starts this close are one truce (a start told again, put off by a day, or a day named
# without its hour).
SAME_TRUCE = timedelta(hours=24)
# A truce agreed to start this soon after the current one ends takes over without a gap.
SEAMLESS = timedelta(hours=6)
# A truce in force with no stated end and no report for this long is not assumed to hold:
# detection without a truce word needs a live truce, not one the news forgot.
STALE_AFTER = timedelta(days=7)
# Bounds on what one region's snapshot keeps (oldest dropped first).
MAX_TRANSITIONS = 200
MAX_VIOLATION_STORIES = 2000


class Report(BaseModel):
    """One alert's truce event, as the state machine applies it to one region."""

    model_config = ConfigDict(frozen=True)

    alert_id: str
    story_id: str
    at: datetime  # the item's publication time: when the news said it
    kind: TruceEventKind
    label: Label
    title: str = ""
    url: str = ""
    source: str = ""
    evidence: str = ""
    event: TruceEvent = TruceEvent()
    context: bool = False  # found through the truce state, not a truce word

    @property
    def key(self) -> str:
        """Sort key: time, then alert id, so equal times still have one order everywhere."""
        return f"{self.at.isoformat()}|{self.alert_id}"

    @classmethod
    def from_alert(cls, alert: Alert) -> Report | None:
        """The report an alert makes, or None when it reports no truce event."""
        kind = alert.event.kind
        if kind is None:
            if alert.label != "violation":
                return None
            kind = "violated"
        return cls(
            alert_id=alert.id,
            story_id=alert.story_id or alert.id,
            at=alert.article.published,
            kind=kind,
            label=alert.label,
            title=alert.article.title,
            url=alert.article.url,
            source=alert.article.source,
            evidence=alert.evidence,
            event=alert.event,
            context=alert.truce is not None,
        )


class Transition(BaseModel):
    """One change of phase: when, into what, and the story (if any) that caused it."""

    model_config = ConfigDict(frozen=True)

    at: datetime
    phase: Phase
    previous: Phase
    cause: str  # the event kind, or "scheduled start" / "scheduled end"
    story_id: str = ""
    alert_id: str = ""
    title: str = ""
    url: str = ""
    until: datetime | None = None


class ViolationStory(BaseModel):
    """One reported violation, however many outlets and reports carried it."""

    story_id: str
    first: datetime
    last: datetime
    reports: int = 1
    title: str = ""
    url: str = ""
    accuser: str = ""
    accused: str = ""
    attack: str = ""
    place: str = ""


class Claim(BaseModel):
    """A report that would move the truce, waiting for a second report to confirm it."""

    at: datetime
    claim: str  # "agreed", "collapsed" or "implied" (a truce known only by its breaches)
    alert_id: str
    story_id: str = ""
    label: Label = "ceasefire"
    event: TruceEvent = TruceEvent()


class TruceState(BaseModel):
    """Where one region's truce stands, with its history."""

    region: str
    phase: Phase = "none"
    since: datetime | None = None  # in force since (None: started before we heard of it)
    until: datetime | None = None  # scheduled end, when one is known
    starts: datetime | None = None  # agreed, not yet in force: the stated start
    duration_h: float | None = None  # agreed duration, until the start makes it an end
    last_report: datetime | None = None
    alive_at: datetime | None = None  # last report that the truce runs (held, breached ...)
    ended_at: datetime | None = None  # when it last ended or collapsed
    extended_at: datetime | None = None  # first report of the latest extension
    extended_from: datetime | None = None  # the end that extension moved
    claims: list[Claim] = []  # unconfirmed claims of the last CONFIRM_WITHIN
    # This truce's violations (reset when a new truce comes into force).
    violated: int = 0
    counted: list[str] = []  # the story ids behind ``violated``
    first_violation: datetime | None = None
    last_violation: datetime | None = None
    transitions: list[Transition] = []
    violations: list[ViolationStory] = []  # every violation story, oldest first
    last_key: str = ""  # the sort key of the last report applied
    applied: int = 0

    def in_force_at(self, t: datetime) -> bool:
        """True when a truce is in force at ``t`` (and, with no stated end, not gone stale)."""
        state = advance(self, t)
        if state.phase not in ACTIVE:
            return False
        if state.until is not None:
            return True
        seen = state.alive_at or state.since
        return seen is not None and t - seen <= STALE_AFTER

    def live(self) -> TruceState:
        """The state without its history: what detection needs, small enough to poll."""
        return self.model_copy(
            update={"transitions": [], "violations": [], "counted": [], "claims": []}
        )

    def violations_between(self, start: datetime, end: datetime) -> int:
        """Distinct violation stories first reported in [start, end)."""
        return sum(1 for v in self.violations if start <= v.first < end)


def _enter(
    state: TruceState, phase: Phase, at: datetime, cause: str, report: Report | None = None
) -> None:
    if phase == state.phase:
        return
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
    if phase in ACTIVE and state.phase not in ACTIVE:
        # A new truce: its violations are counted afresh.
        state.violated = 0
        state.counted = []
        state.first_violation = state.last_violation = None
    if phase in ("ended", "collapsed"):
        state.ended_at = at
    state.phase = phase


def _start(
    state: TruceState,
    since: datetime | None,
    at: datetime,
    cause: str,
    report: Report | None,
    *,
    ends: datetime | None = None,
) -> None:
    """Bring a truce into force at ``since`` (None: earlier than anything we saw)."""
    duration = state.duration_h
    state.since = since
    state.starts = None
    state.until = ends or (since + timedelta(hours=duration) if since and duration else None)
    state.duration_h = None
    _enter(state, "in_force", at, cause, report)


def advance(state: TruceState, t: datetime) -> TruceState:
    """The state at time ``t``: a scheduled start or end that has come is applied (a copy)."""
    if not _due(state, t):
        return state
    state = state.model_copy(deep=True)
    _advance(state, t)
    return state


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
            _enter(state, "ended", end, "scheduled end")
            if state.starts is not None and state.starts <= end + SEAMLESS:
                # A truce agreed while this one ran takes over where this one ends.
                _start(state, end, end, "scheduled start", None)
        elif state.starts is not None:
            if state.phase in ACTIVE:
                # A new truce starts before this one's end (or this one has no end): the new
                # one replaces it from its start.
                _renew(state, state.starts)
                continue
            ends = state.until if state.phase == "agreed" else None
            _start(state, state.starts, state.starts, "scheduled start", None, ends=ends)


def _renew(state: TruceState, start: datetime) -> None:
    """Replace the truce in force by the one agreed to start at ``start``."""
    duration = state.duration_h
    state.transitions.append(
        Transition(
            at=start,
            phase="in_force",
            previous=state.phase,
            cause="scheduled start",
            until=start + timedelta(hours=duration) if duration else None,
        )
    )
    del state.transitions[:-MAX_TRANSITIONS]
    state.phase = "in_force"
    state.since, state.starts, state.duration_h = start, None, None
    state.until = state.transitions[-1].until
    state.violated, state.counted = 0, []
    state.first_violation = state.last_violation = None


def _record_violation(state: TruceState, report: Report) -> None:
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


def _recently_ended(state: TruceState, at: datetime) -> bool:
    ended = state.ended_at
    return state.phase == "ended" and ended is not None and at - ended <= BREAKDOWN_WINDOW


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
            _enter(state, "talks", at, kind, report)
        elif implied and _confirmed(state, report, "call") is not None:
            # Calls for a ceasefire where we only inferred one from breach reports: there
            # is none in force.
            _enter(state, "talks", at, kind, report)
    elif kind == "agreed":
        _agree(state, report)
    elif kind in ("starts", "holding"):
        early = state.phase == "agreed" and state.starts is not None and state.starts > at
        if early and ev.starts is not None and state.starts is not None:
            state.starts = _later_start(state.starts, ev.starts)
        elif (
            not active
            and not early
            and (
                state.phase == "agreed"
                or ev.starts is not None
                or _confirmed(state, report, "implied")
            )
        ):
            # Before an agreed start, "the truce holds" is about something else; with no
            # agreement known, a truce in force needs a second report (or a stated start).
            since = ev.starts or (at if kind == "starts" or state.phase == "agreed" else None)
            if ev.duration_h is not None:
                state.duration_h = ev.duration_h
            _start(state, since, at, kind, report, ends=ev.ends)
    elif kind == "extended":
        _extend(state, report)
    elif kind == "expired":
        if ev.ends is not None and ev.ends > at and (active or state.phase == "agreed"):
            state.until = ev.ends  # announced end, still ahead
        elif (active or state.phase == "agreed") and not (state.until and state.until > at):
            # An end already scheduled later is not brought forward by talk of the end
            # ("hours left before the ceasefire ends"); the scheduled end will come.
            _enter(state, "ended", at, kind, report)
    elif kind == "collapsed":
        live = state.phase in ("in_force", "violated", "agreed") or _recently_ended(state, at)
        if live and _confirmed(state, report, "collapsed") is not None:
            _enter(state, "collapsed", at, kind, report)
        if report.label == "violation":
            _record_violation(state, report)
    elif kind == "violated":
        if _recently_ended(state, at):
            if _confirmed(state, report, "collapsed") is not None:
                _enter(state, "collapsed", at, "violated after the end", report)
        elif state.phase == "agreed":
            # An agreed truce reported breached has started, whenever it did.
            _start(state, state.starts or at, at, "violated", report)
        elif state.phase == "none" and (first := _confirmed(state, report, "implied")):
            # Breaches of a truce we never heard of: it started before we were watching.
            # After talks, an end or a collapse, a breach report is about the truce we know.
            _start(state, ev.starts, at, "violated", report)
            state.counted.append(first.story_id)  # the first breach was of this truce too
            state.violated += 1
        if state.phase in ACTIVE:
            _enter(state, "violated", at, kind, report)
        _record_violation(state, report)
    if kind in ("starts", "holding", "extended", "violated") and state.phase in ACTIVE:
        state.alive_at = max(state.alive_at or at, at)
    state.last_report = max(state.last_report or at, at)
    state.last_key = max(state.last_key, report.key)
    state.applied += 1


def _later_start(known: datetime | None, new: datetime | None) -> datetime | None:
    """Two stated starts of one truce: the later when a day apart at most, else the new one.

    A day named without an hour reads as its midnight ("from Friday"), and a start put off
    ("no pause before Friday") moves later; either way the later, more precise time holds.
    """
    if known is None or new is None:
        return new or known
    return max(known, new) if abs(new - known) <= timedelta(hours=24) else new


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
        if starts is not None and starts > at and not same:
            # The next truce, agreed while this one runs: it starts when this one ends. A start
            # within a day of this one's is this truce, told again (or a day late).
            state.starts = _later_start(state.starts, starts)
            state.duration_h = ev.duration_h or state.duration_h
    elif state.phase == "agreed":
        # Later reports of the same agreement fill in what earlier ones left open.
        state.starts = _later_start(state.starts, starts)
        state.duration_h = ev.duration_h or state.duration_h
    elif (first := _confirmed(state, report, "agreed")) is not None:
        # The two reports together: what one leaves open the other may say.
        starts = starts or _announced_start(first.event, first.at)
        state.duration_h, state.until = ev.duration_h or first.event.duration_h, None
        if starts is not None and starts <= at:
            _start(state, starts, at, "agreed", report, ends=ev.ends)
        else:
            state.starts = starts
            _enter(state, "agreed", at, "agreed", report)
            state.until = ev.ends or first.event.ends


def _extend(state: TruceState, report: Report) -> None:
    """Move the end by what the report says; a repeat of one extension moves it once.

    Outlets report one extension for a day or two ("extended by 72 hours"): a report within
    SAME_EXTENSION of the first report of an extension is that extension again, and is
    measured from the end it extended, not from the end it already produced.
    """
    ev, at = report.event, report.at
    active = state.phase in ACTIVE
    ended = _recently_ended(state, at)
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
    new_until = ev.ends or (
        base + timedelta(hours=ev.duration_h) if base and ev.duration_h else None
    )
    if repeat or (active and not stated):
        # A repeat moves the end at most to where it already is; an extension that states
        # no new end leaves the known end as it is (the next report will tell).
        new_until = max(new_until, state.until) if new_until and state.until else state.until
    if active:
        changed = new_until != state.until
        state.until = new_until
        if changed:
            _note(state, at, "extended", report)
    else:
        # Extended after its end, or first heard of as extended: in force again.
        since = state.since if ended else None
        state.until = None
        _start(state, since, at, "extended", report, ends=new_until)


def _note(state: TruceState, at: datetime, cause: str, report: Report) -> None:
    """Keep a change of end as a transition too (the phase may stay the same)."""
    state.transitions.append(
        Transition(
            at=at,
            phase=state.phase,
            previous=state.phase,
            cause=cause,
            story_id=report.story_id,
            alert_id=report.alert_id,
            title=report.title,
            url=report.url,
            until=state.until,
        )
    )
    del state.transitions[:-MAX_TRANSITIONS]


def fold(region: str, reports: list[Report]) -> TruceState:
    """The state of ``region`` after all ``reports``, applied in (time, alert id) order."""
    state = TruceState(region=region)
    for report in sorted(reports, key=lambda r: r.key):
        apply_in_place(state, report)
    return state
