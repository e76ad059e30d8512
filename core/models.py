"""Versioned message contracts carried in stream entries (field ``data``, JSON, ``"v": 1``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

SCHEMA_VERSION: Literal[1] = 1

Label = Literal["violation", "ceasefire", "none"]


class MalformedEntryError(ValueError):
    """A stream entry that cannot be decoded into its model; it goes to dead-letter."""


class StreamMessage(BaseModel):
    """Base of every stream message: frozen, versioned, tolerant of unknown extra fields."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    v: Literal[1] = SCHEMA_VERSION


class Article(StreamMessage):
    """One normalised news item, as the poller queues it on the ``articles`` stream."""

    id: str = Field(min_length=1, max_length=128)
    feed_id: str
    source: str
    url: str
    title: str
    summary: str = ""
    lang: str = ""
    published: datetime
    fetched: datetime
    region_hints: tuple[str, ...] = ()


# What a ceasefire or violation item reports about the truce (workers/truce/extract.py).
TruceEventKind = Literal[
    "call", "agreed", "starts", "extended", "holding", "expired", "collapsed", "violated"
]


class TruceEvent(BaseModel):
    """What one item reports about a truce: the kind of event and the facts the text states.

    Every field is what the text says, or empty/None when it says nothing: unknown stays
    unknown. Times are UTC, resolved against the item's publication time and its region's
    time zone ("from Saturday noon", "at 7:00 local time").
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    kind: TruceEventKind | None = None
    starts: datetime | None = None  # when the truce starts (or started)
    # The text names the start's day, not its hour: ``starts`` is that day's local midnight.
    starts_day_only: bool = False
    ends: datetime | None = None  # when it ends, when the text gives an end ("until Monday")
    duration_h: float | None = Field(default=None, gt=0)  # "72-hour", "four-day", "weeklong"
    # Violations: who accuses whom (parties of regions.yaml), where, how, and the toll stated.
    accuser: str = ""
    accused: str = ""
    place: str = ""
    attack: str = ""  # shelling, drone, air strike, rockets, small arms, ...
    killed: int | None = Field(default=None, ge=0)
    wounded: int | None = Field(default=None, ge=0)

    def claim(self) -> dict[str, Any]:
        """What a violation report states (who accuses whom, where, how, the toll), by name."""
        return self.model_dump(include=set(CLAIM_FIELDS))


# The facts of a violation report that stories, the archive and the export carry along.
CLAIM_FIELDS = ("accuser", "accused", "attack", "place", "killed", "wounded")


class TruceContext(BaseModel):
    """The truce in force that made an item without any truce word a violation candidate."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    region: str
    since: datetime | None = None
    until: datetime | None = None


class Alert(StreamMessage):
    """A classified article, as the classifier queues it on the ``alerts`` stream."""

    id: str
    article: Article
    label: Label
    score: float = Field(ge=0.0, le=1.0)
    p_violation: float = Field(default=0.0, ge=0.0, le=1.0)
    # The classifier's default alert threshold (held-back precision >= 0.95), applied for
    # readers who never chose one with /threshold; it travels with the alert so a refit
    # model changes it without touching any stored subscription.
    alert_threshold: float = Field(default=0.5, gt=0.0, le=1.0)
    evidence: str = ""
    rule: str = ""
    # The language the classifier read the item in (the feed's, or detected when it gave none).
    lang: str = ""
    regions: tuple[str, ...] = ()
    parties: tuple[str, ...] = ()
    story_id: str = ""
    classified: datetime | None = None
    event: TruceEvent = TruceEvent()
    # Set only when the truce state, not a truce word, made this item a candidate.
    truce: TruceContext | None = None

    @property
    def story(self) -> str:
        """The story id; a story of one outlet is named by its alert (``a:<id>``)."""
        return self.story_id or f"a:{self.id}"


class DeliveryJob(StreamMessage):
    """Bring ``chat_id``'s message for ``story_id`` up to date after ``alert_id`` arrived."""

    alert_id: str
    story_id: str
    chat_id: int
    # The article's publication and fetch times (epoch seconds), for the latency histogram.
    published: float | None = None
    fetched: float | None = None
    # Handler calls that ended in a transient failure; a parked job comes back with one more.
    attempt: int = 0


FeedEventType = Literal["deactivated", "reactivated"]


class FeedEvent(StreamMessage):
    """Something admins should hear about one feed, as the poller queues it on ``feeds:events``."""

    type: FeedEventType
    feed_id: str
    at: float
    url: str = ""
    name: str = ""
    reason: str = ""
    kind: str = ""


class EscalationStory(BaseModel):
    """One distinct violation story behind an escalation, as first reported."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    story_id: str
    title: str = ""
    url: str = ""
    source: str = ""
    first_seen: datetime


class Escalation(StreamMessage):
    """A region's violation stories in ``window_h`` clearly above its 14-day baseline.

    Queued by the truces role on ``escalations`` (core/escalation.py has the test): at most one
    per region per window; ``expected`` is the baseline's count per window, ``count`` the
    stories in the window, ``stories`` those that made it (oldest first, capped).
    """

    id: str
    region: str
    at: datetime
    window_h: float
    count: int = Field(ge=0)
    expected: float = Field(ge=0.0)
    p_value: float = Field(ge=0.0, le=1.0)
    stories: tuple[EscalationStory, ...] = ()


M = TypeVar("M", bound=StreamMessage)


def encode(message: StreamMessage) -> dict[str, str]:
    """Return the stream fields for a message: one field ``data`` holding its JSON."""
    return {"data": message.model_dump_json()}


def decode(fields: dict[str, str], model: type[M]) -> M:
    """Parse stream fields into ``model``; raise MalformedEntryError with a clear reason."""
    raw = fields.get("data")
    if raw is None:
        raise MalformedEntryError(f"entry has no 'data' field (fields: {sorted(fields)[:5]})")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "<root>"
        if where == "v":
            reason = f"unsupported schema version (expected v={SCHEMA_VERSION})"
        elif first.get("type") == "json_invalid":
            reason = "data is not valid JSON"
        else:
            reason = f"{where}: {first.get('msg', 'invalid')}"
        raise MalformedEntryError(f"malformed {model.__name__}: {reason}") from None
