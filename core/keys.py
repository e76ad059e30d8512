"""Every Redis name the service uses: the streams with their groups, and every other key.

Streams keep their documented names (``articles``, ``alerts``, ``bot:deliveries``,
``feeds:events``): other tools read them. Every other key lives under ``cw:``, one
sub-namespace per owner (``cw:bot:``, ``cw:poller:``, ``cw:feeds:``), so one pattern finds all
our state in a shared Redis and nothing here collides with another application's keys.
Keys written before this layout are renamed once at start-up (core/key_migration.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.models import Alert, Article, DeliveryJob, Escalation, FeedEvent, StreamMessage

PREFIX = "cw:"

ARTICLES = "articles"
ALERTS = "alerts"
DELIVERIES = "bot:deliveries"
FEED_EVENTS = "feeds:events"
ESCALATIONS = "escalations"


@dataclass(frozen=True)
class StreamSpec:
    """One stream: its name, the group that consumes it, the role that runs it, its message."""

    name: str
    group: str
    role: str
    model: type[StreamMessage]

    @property
    def dead(self) -> str:
        """The dead-letter stream kept beside this one."""
        return dead_letter(self.name)


# In pipeline order. Readiness, /status, the demo and the benches read this list.
STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec(ARTICLES, "classifiers", "classifier", Article),
    StreamSpec(ALERTS, "notifiers", "notifier", Alert),
    StreamSpec(ALERTS, "truces", "truces", Alert),
    StreamSpec(DELIVERIES, "senders", "notifier", DeliveryJob),
    StreamSpec(FEED_EVENTS, "admin-notices", "notifier", FeedEvent),
    StreamSpec(ESCALATIONS, "escalation-notices", "notifier", Escalation),
)


def group(stream: str, role: str | None = None) -> str:
    """The consumer group of ``role`` (default: the stream's first) on stream ``stream``."""
    return next(s.group for s in STREAMS if s.name == stream and role in (None, s.role))


def dead_letter(stream: str) -> str:
    """The dead-letter stream of ``stream``: entries that failed for good, with the reason."""
    return f"{stream}:dead"


def stream_attempts(stream: str, group: str) -> str:
    """Hash counting handler starts of a group's redelivered entries."""
    return f"{stream}:attempts:{group}"


def stream_errors(stream: str, group: str) -> str:
    """Hash keeping the last error of each failing entry of a group."""
    return f"{stream}:errors:{group}"


def retry_queue(stream: str) -> str:
    """Sorted set of ``stream``'s parked entries; the hash tag keeps both in one cluster slot."""
    return f"{{{stream}}}:retry"


# --- process lifecycle (core) ---
HEARTBEATS = f"{PREFIX}heartbeats"
REPLICA_PROBE = f"{PREFIX}replica-probe"
SCHEMA = f"{PREFIX}schema"
SCHEMA_LOCK = f"{PREFIX}schema:lock"


def consumer_lease(host: str, role: str, slot: int) -> str:
    """The lease that gives one process the consumer name ``host-role-slot``."""
    return f"{PREFIX}consumer:{host}:{role}:{slot}"


# --- feeds (the poller polls them; the bot's admins add and remove them) ---
RUNTIME_FEEDS = f"{PREFIX}feeds:runtime"
FEEDS_VERSION = f"{PREFIX}feeds:version"
FEED_STATE_PREFIX = f"{PREFIX}poller:feed:"
SEEN_PREFIX = f"{PREFIX}poller:seen:"
LEASE_PREFIX = f"{PREFIX}poller:lease:"


def feed_state(feed_id: str) -> str:
    """Hash of one feed's poll state (validators, health, schedule)."""
    return FEED_STATE_PREFIX + feed_id


# WebSub (workers/poller/websub*.py): the feeds with a subscription, and each one's state.
WEBSUB_FEEDS = f"{PREFIX}poller:websub:feeds"


def websub_subscription(feed_id: str) -> str:
    """Hash of one feed's WebSub subscription (hub, topic, secret, state, lease expiry)."""
    return f"{PREFIX}poller:websub:sub:{feed_id}"


def websub_lock(feed_id: str) -> str:
    """Short lock: one poller process at a time (un)subscribes a feed."""
    return f"{PREFIX}poller:websub:lock:{feed_id}"


# --- classifier ---
STORY_PREFIX = f"{PREFIX}story:"  # MinHash bands and per-article signatures


def classified(article_id: str) -> str:
    """Marker: this article's alert is written (a redelivery skips it)."""
    return f"{PREFIX}classified:{article_id}"


# --- truces (the truce role folds alerts into each region's truce state) ---
TRUCE_REGIONS = f"{PREFIX}truce:regions"
TRUCE_BUILT = f"{PREFIX}truce:built"
TRUCE_LIVE = f"{PREFIX}truce:live"  # hash: region -> its state without history (detection)
TRUCE_VERSION = f"{PREFIX}truce:version"  # bumped on every change of TRUCE_LIVE


def truce_reports(region: str) -> str:
    """Hash of a region's truce reports (alert id -> report)."""
    return f"{PREFIX}truce:reports:{region}"


def truce_state(region: str) -> str:
    """A region's truce state, folded from its reports (JSON)."""
    return f"{PREFIX}truce:state:{region}"


# --- escalations (the truces role tests each region's violation stories per 6 h) ---
def escalation_stories(region: str) -> str:
    """Sorted set of a region's distinct violation stories (story id -> first report time)."""
    return f"{PREFIX}escalation:stories:{region}"


def escalation_story(story_id: str) -> str:
    """Hash of a violation story's first report (title, url, source) for escalation lists."""
    return f"{PREFIX}escalation:story:{story_id}"


def escalation_last(region: str) -> str:
    """The time (epoch s) of the region's last escalation: at most one per window."""
    return f"{PREFIX}escalation:last:{region}"


# --- feedback (readers' votes on alerts, core/feedback.py): labelled data, never expires ---
FEEDBACK_INDEX = f"{PREFIX}feedback:index"  # sorted set: story id -> time of its last vote
FEEDBACK_TALLY = f"{PREFIX}feedback:tally"  # hash: "<dim>:<value>|<vote>" -> chats


def feedback_votes(story_id: str) -> str:
    """Hash of a story's votes (chat id -> JSON vote, user, time)."""
    return f"{PREFIX}feedback:votes:{story_id}"


def feedback_item(story_id: str) -> str:
    """The voted story's lead report as it was at the first vote (JSON)."""
    return f"{PREFIX}feedback:item:{story_id}"


def feedback_ref(digest: str) -> str:
    """A story id too long for a button's callback data, under its short digest."""
    return f"{PREFIX}feedback:ref:{digest}"


# --- story archive (the truces role keeps violation stories for the export, core/export.py) ---
ARCHIVE_INDEX = f"{PREFIX}archive:stories"  # sorted set: story id -> first report (epoch s)
ARCHIVE_BACKFILLED = f"{PREFIX}archive:backfilled"  # flag: the alerts stream was read in once


def archive_story(story_id: str) -> str:
    """Hash of an archived violation story's reports (alert id -> report)."""
    return f"{PREFIX}archive:story:{story_id}"


# --- bot: subscriptions ---
BOT = f"{PREFIX}bot:"
SUBS = f"{BOT}subs"
SUBS_ACTIVE = f"{BOT}active"
SUBS_DEACTIVATED = f"{BOT}deactivated"
DIGEST_CHATS = f"{BOT}digest_chats"
# Channels (bot/store/channels.py): bindings made with /bindchannel (channel id -> JSON), and
# CHANNELS bindings switched off by /unbindchannel or a channel that removed the bot.
CHANNELS = f"{BOT}channels"
CHANNELS_OFF = f"{BOT}channels:off"


def channel_pairing(digest: str) -> str:
    """A live one-time channel pairing code, named by its SHA-256 (JSON: admin, region; TTL)."""
    return f"{BOT}channels:pair:{digest}"


def region_subscribers(region: str) -> str:
    """Set of chats following ``region``."""
    return f"{BOT}region:{region}"


# --- bot: stories and our messages ---
LATEST = f"{BOT}latest"


def story_items(story_id: str) -> str:
    """Hash of a story's reports (alert id -> item)."""
    return f"{BOT}story:{story_id}"


def story_messages(story_id: str) -> str:
    """Hash of our message per chat for a story (chat id -> message id)."""
    return f"{BOT}storymsg:{story_id}"


def sent(alert_id: str) -> str:
    """Hash of an alert's outcome per chat (message id, or ``x:<reason>`` when given up)."""
    return f"{BOT}sent:{alert_id}"


# --- bot: fan-out, digests, console, admin notices, flood limits ---
def fanned(alert_id: str) -> str:
    """Flag: this alert's delivery jobs are queued."""
    return f"{BOT}fanned:{alert_id}"


def escalation_notice(escalation_id: str) -> str:
    """An escalation as the notifier received it (JSON), for its delivery jobs and digests."""
    return f"{BOT}escalation:{escalation_id}"


def digest_queue(chat_id: int) -> str:
    """Stories waiting for a chat's daily digest (sorted set: story id -> first seen)."""
    return f"{BOT}digest:{chat_id}"


def digest_last(chat_id: int) -> str:
    """The local day a chat's last digest was sent."""
    return f"{BOT}digest:last:{chat_id}"


def daily_counts(region: str) -> str:
    """Violation reports per UTC day of one region (hash: YYYY-MM-DD -> count)."""
    return f"{BOT}daily:{region}"


def console_story(story_id: str) -> str:
    """The alert that leads a story on the console."""
    return f"{BOT}console:story:{story_id}"


def console_printed(alert_id: str) -> str:
    """Flag: this alert was printed on the console."""
    return f"{BOT}console:{alert_id}"


def notice_sent(entry_id: str) -> str:
    """Hash of the admins told about one feed event (admin id -> outcome)."""
    return f"{BOT}feedevent:{entry_id}"


# One hash tag: the flood limiter's scripts touch several of these keys at once.
FLOOD_NS = f"{BOT}rl:{{tg}}"
