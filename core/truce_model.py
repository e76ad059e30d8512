"""The truce state's data: phases, the reports applied, transitions, and a region's state.

The rules that move it are core/truce.py; the steps they are made of, core/truce_steps.py.
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
    starts_day_only: bool = False  # ... named by its day only (its midnight stands in)
    since_day_only: bool = False  # the truce in force started at such a midnight
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

    def live(self) -> TruceState:
        """The state without its history: what detection needs, small enough to poll."""
        return self.model_copy(
            update={"transitions": [], "violations": [], "counted": [], "claims": []}
        )

    def violations_between(self, start: datetime, end: datetime) -> int:
        """Distinct violation stories first reported in [start, end)."""
        return sum(1 for v in self.violations if start <= v.first < end)
