"""Shared pieces of the end-to-end and chaos tests: feeds from dev.jsonl, subscribers, checks."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bot.store.subscriptions import SubscriptionStore
from core.keys import ALERTS, dead_letter
from core.models import Alert, decode
from core.streams import read_range, stream_stats
from testkit.botapi.emulator import BotAPIEmulator
from testkit.feedgen import dev_items, item_from_row, outlet_of
from testkit.feeds import FeedItem, FeedServer
from testkit.pipeline import GROUPS

TOKEN = "555111222:AAe2eTOKENsecretXYZabcdefghijklmnopq"
COPY_OUTLET = "wire-copies"
_HREF = re.compile(r'href="([^"]+)"')


@dataclass(frozen=True)
class Follower:
    """A test subscriber: the regions it follows and its confidence threshold."""

    chat_id: int
    regions: frozenset[str]
    threshold: float

    def wants(self, alert: Alert) -> bool:
        """Our own statement of the promise: violations above threshold in a followed region."""
        regions = {r.lower() for r in alert.regions}
        return (
            alert.label == "violation"
            and alert.score >= self.threshold
            and bool(self.regions & regions)
        )


FOLLOWERS = (
    Follower(101, frozenset({"gaza-israel", "ukraine"}), 0.0),
    Follower(102, frozenset({"sudan", "nagorno-karabakh"}), 0.8),
    Follower(103, frozenset({"gaza-israel"}), 0.8),
    Follower(104, frozenset({"ukraine", "lebanon", "syria", "yemen", "ethiopia", "israel-iran",
                             "dr-congo", "colombia", "libya"}), 0.0),
    Follower(105, frozenset({"korea", "kashmir", "transnistria"}), 0.0),
)


async def subscribe(redis: Redis, followers: tuple[Follower, ...] = FOLLOWERS) -> None:
    """Store the followers as violations-only subscriptions."""
    store = SubscriptionStore(redis)
    for f in followers:
        await store.subscribe(f.chat_id, sorted(f.regions))
        await store.update(f.chat_id, threshold=f.threshold, kinds="violations")


def publish_dev_feeds(
    server: FeedServer, eval_dir: Path, *, every: int, copies: int
) -> tuple[list[dict[str, Any]], int]:
    """Put every ``every``-th dev item on its outlet's feed, plus second-outlet copies.

    ``copies`` gold violations are also carried by another outlet (same report, another
    link: the same story).

    Return the feeds.yaml entries and the number of distinct items published.
    """
    rows = dev_items(eval_dir / "dev.jsonl", every=every)
    by_outlet: dict[str, list[FeedItem]] = defaultdict(list)
    for row in rows:
        outlet = outlet_of(str(row["source"]))
        by_outlet[outlet].append(item_from_row(row, outlet))
    copied = [r for r in rows if r["label"] == "violation"][:copies]
    by_outlet[COPY_OUTLET] = [item_from_row(r, COPY_OUTLET, copy=1) for r in copied]
    feeds = []
    for outlet, items in sorted(by_outlet.items()):
        server.add(outlet, *items)
        feeds.append({"id": outlet, "url": server.feed_url(outlet), "name": f"Outlet {outlet}"})
    return feeds, sum(len(v) for v in by_outlet.values())


async def alerts_of(redis: Redis) -> list[Alert]:
    """Every alert the classifier wrote."""
    return [decode(fields, Alert) for _, fields in await read_range(redis, ALERTS)]


def expected_stories(
    alerts: list[Alert], followers: tuple[Follower, ...] = FOLLOWERS
) -> dict[int, set[str]]:
    """Chat -> stories holding at least one alert the chat wants."""
    out: dict[int, set[str]] = {f.chat_id: set() for f in followers}
    for alert in alerts:
        for f in followers:
            if f.wants(alert):
                out[f.chat_id].add(alert.story_id or f"a:{alert.id}")
    return out


def delivered_stories(
    emulator: BotAPIEmulator, alerts: list[Alert], followers: tuple[Follower, ...] = FOLLOWERS
) -> dict[int, Counter[str]]:
    """Chat -> how many messages it got per story (a message's links name its story)."""
    story_of_url = {a.article.url: a.story_id or f"a:{a.id}" for a in alerts}
    out: dict[int, Counter[str]] = {}
    for f in followers:
        got: Counter[str] = Counter()
        for sent in emulator.messages.get(f.chat_id, []):
            stories = {story_of_url.get(url, f"unknown:{url}") for url in _HREF.findall(sent.text)}
            assert len(stories) == 1, f"chat {f.chat_id}: a message spans {stories}"
            got[stories.pop()] += 1
        out[f.chat_id] = got
    return out


async def describe(redis: Redis) -> str:
    """Queue depths, for failure messages."""
    parts = []
    for stream, group in GROUPS:
        st = await stream_stats(redis, stream, group)
        parts.append(f"{stream}: len {st.length} lag {st.lag} pending {st.pending}")
    return "; ".join(parts)


async def dead_letters(redis: Redis) -> dict[str, int]:
    """Length of every dead-letter stream that has entries."""
    out = {}
    for stream, _ in GROUPS:
        n = int(await redis.xlen(dead_letter(stream)))
        if n:
            out[dead_letter(stream)] = n
    return out


async def pending_counts(redis: Redis) -> dict[str, int]:
    """XPENDING count per (stream/group)."""
    out = {}
    for stream, group in GROUPS:
        stats = await stream_stats(redis, stream, group)
        out[f"{stream}/{group}"] = stats.pending
    return out
