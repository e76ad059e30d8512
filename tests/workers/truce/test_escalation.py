"""Escalation in the truces role: real violation stories replayed under a controlled clock."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core import escalation, keys
from core.config_files import default_config_dir
from core.models import Alert, Article, Escalation, decode
from core.streams import Delivery, publish, read_range
from workers.classifier.gazetteer import Gazetteer
from workers.truce.escalation import EscalationWatch
from workers.truce.role import AlertHandler, TruceMetrics

REGION = "gaza-israel"
T0 = datetime(2024, 3, 6, 9, 0, tzinfo=UTC)
N = 6  # stories per burst


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime) -> None:
        self.now = start.timestamp()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def items(shared_dir: Path) -> list[dict[str, Any]]:
    """Violation items of train.jsonl that the shipped gazetteer places in Gaza."""
    path = shared_dir / "eval" / "train.jsonl"
    if not path.exists():
        pytest.skip(f"{path} not found: the test replays its violation items")
    gazetteer = Gazetteer.from_file(default_config_dir() / "regions.yaml")
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["label"] != "violation":
            continue
        regions = gazetteer.tag(f"{item['title']}. {item.get('text', '')}").regions
        if REGION in regions:
            found.append({**item, "regions": regions})
    assert len(found) >= 3 * N, f"train.jsonl has only {len(found)} violation items of {REGION}"
    return found


def alert_of(item: dict[str, Any], at: datetime) -> Alert:
    """The classifier's alert for one item, published (and fetched) at ``at``."""
    article = Article(
        id=item["id"], feed_id="f", source=item["source"], url=f"https://example.org/{item['id']}",
        title=item["title"], summary=item.get("text", ""), published=at, fetched=at,
    )
    return Alert(
        id=f"al-{item['id']}", article=article, label="violation", score=0.9,
        regions=tuple(item["regions"]), story_id=f"s-{item['id']}",
    )


class Replay:
    """Feeds alerts through the truces role's handler with the clock at each report."""

    def __init__(self, redis: Redis, clock: Clock) -> None:
        self.redis = redis
        self.clock = clock
        self.handler = AlertHandler(
            redis, TruceMetrics(CollectorRegistry()), EscalationWatch(redis, clock)
        )

    async def send(self, alerts: list[Alert], *, redelivered: bool = False) -> None:
        for alert in alerts:
            self.clock.now = max(self.clock.now, alert.article.published.timestamp())
            entry = "0-1" if redelivered else await publish(self.redis, keys.ALERTS, alert)
            await self.handler(alert, Delivery(entry, keys.ALERTS, 2 if redelivered else 1))

    async def escalations(self) -> list[Escalation]:
        entries = await read_range(self.redis, keys.ESCALATIONS)
        found = [decode(fields, Escalation) for _, fields in entries]
        return [e for e in found if e.region == REGION]


def burst(items: list[dict[str, Any]], start: datetime) -> list[Alert]:
    """``items`` reported 40 minutes apart from ``start`` (N of them span 3 h 20 min)."""
    return [alert_of(item, start + timedelta(minutes=40 * n)) for n, item in enumerate(items)]


async def test_a_burst_fires_once_and_the_same_stories_over_two_weeks_do_not(
    redis: Redis, items: list[dict[str, Any]]
) -> None:
    replay = Replay(redis, Clock(T0))
    first = burst(items[:N], T0)
    await replay.send(first)
    found = await replay.escalations()
    assert len(found) == 1
    esc = found[0]
    # It fired on the story that made the count improbable, and lists exactly those stories.
    assert escalation.MIN_COUNT <= esc.count < N
    assert [s.story_id for s in esc.stories] == [a.story_id for a in first[: esc.count]]
    assert [s.title for s in esc.stories] == [a.article.title for a in first[: esc.count]]
    assert esc.p_value < escalation.ALPHA and esc.window_h == 6
    assert esc.at == first[esc.count - 1].article.published

    await redis.flushdb()
    steady = Replay(redis, Clock(T0))
    step = timedelta(days=14) / N
    await steady.send([alert_of(item, T0 + n * step) for n, item in enumerate(items[:N])])
    assert await steady.escalations() == []


async def test_once_per_window_and_redelivery_never_doubles(
    redis: Redis, items: list[dict[str, Any]]
) -> None:
    replay = Replay(redis, Clock(T0))
    first = burst(items[:N], T0)
    await replay.send(first)
    assert len(await replay.escalations()) == 1
    # The same alerts again (a crashed consumer's entries claimed by another): nothing new.
    await replay.send(first, redelivered=True)
    assert len(await replay.escalations()) == 1
    # A second burst right after, still within 6 h of the first escalation: no second one.
    await replay.send(burst(items[N : 2 * N], T0 + timedelta(hours=3, minutes=40)))
    assert len(await replay.escalations()) == 1
    # Another burst once 6 h have passed: it may (and, well above the usual, does) fire again.
    third = burst(items[2 * N : 3 * N], T0 + timedelta(hours=12))
    await replay.send(third)
    found = await replay.escalations()
    assert len(found) == 2
    later = found[1]
    assert {s.story_id for s in later.stories} <= {a.story_id for a in third}
    # The first two bursts are now its baseline: 12 stories in 14 days, under the floor.
    assert later.expected == max(escalation.FLOOR_PER_WINDOW, 2 * N * 6 / (14 * 24))
