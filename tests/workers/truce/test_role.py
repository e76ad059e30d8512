"""The truce role: alerts fold into each region's state; lost state is rebuilt from the stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

from prometheus_client import CollectorRegistry
from redis.asyncio import Redis

from core import keys, truce_store
from core.models import Alert, Article, Label, TruceEvent, TruceEventKind
from core.streams import Delivery, publish
from core.truce import fold
from core.truce_model import Report
from workers.truce.role import AlertHandler, TruceMetrics

T0 = datetime(2023, 11, 22, 6, 0, tzinfo=UTC)


def alert(n: int, kind: TruceEventKind | None, hours: float, label: Label = "ceasefire",
          regions: tuple[str, ...] = ("gaza-israel",), **event: Any) -> Alert:
    at = T0 + timedelta(hours=hours)
    article = Article(
        id=f"a{n}", feed_id="f", source="Outlet", url=f"https://example.org/{n}",
        title=f"item {n}", published=at, fetched=at,
    )
    return Alert(
        id=f"a{n}", article=article, label=label, score=0.9, regions=regions,
        story_id=f"s{n}", event=TruceEvent.model_validate({"kind": kind, **event}),
    )


def gaza_pause() -> list[Alert]:
    start = datetime(2023, 11, 24, 5, 0, tzinfo=UTC)
    return [
        alert(1, "call", 0),
        alert(2, "agreed", 1, starts=start, duration_h=96),
        alert(3, None, 2, label="none"),  # reports nothing about the truce
        alert(8, "agreed", 3),  # another outlet: the agreement is confirmed
        alert(4, "violated", 60, label="violation"),
        alert(5, "extended", 110, duration_h=48),
        alert(6, "violated", 150, label="violation", regions=("gaza-israel", "lebanon")),
        alert(7, "collapsed", 220, label="violation"),
        alert(9, "violated", 221, label="violation"),
    ]


async def _scan_delete(redis: Redis, pattern: str) -> int:
    found = [k async for k in redis.scan_iter(match=pattern)]
    return int(await redis.delete(*found)) if found else 0


async def test_alerts_fold_into_each_region_and_survive_losing_the_state(redis: Redis) -> None:
    handler = AlertHandler(redis, TruceMetrics(CollectorRegistry()))
    alerts = gaza_pause()
    for n, a in enumerate(alerts, 1):
        entry = await publish(redis, keys.ALERTS, a)
        await handler(a, Delivery(entry, keys.ALERTS, 1))
        if n == 5:
            # Mid-replay, every truce key goes (a flush, a lost volume).
            assert await _scan_delete(redis, f"{keys.PREFIX}truce:*") >= 4
    reports = [r for a in alerts if (r := Report.from_alert(a)) is not None]
    assert await truce_store.load_state(redis, "gaza-israel") == fold("gaza-israel", reports)
    assert await truce_store.load_state(redis, "lebanon") == fold("lebanon", [reports[5]])
    state = await truce_store.load_state(redis, "gaza-israel")
    assert state is not None
    assert [t.phase for t in state.transitions] == [
        # The extension moved the end to 30 Nov 05:00; fighting reported after it: collapse.
        "talks", "agreed", "in_force", "violated", "violated", "ended", "collapsed",
    ]


async def test_a_redelivered_alert_changes_nothing(redis: Redis) -> None:
    handler = AlertHandler(redis, TruceMetrics(CollectorRegistry()))
    alerts = gaza_pause()
    for a in alerts:
        entry = await publish(redis, keys.ALERTS, a)
        await handler(a, Delivery(entry, keys.ALERTS, 1))
    before = await redis.get(keys.truce_state("gaza-israel"))
    for a in reversed(alerts):
        await handler(a, Delivery("0-1", keys.ALERTS, 2))
    assert await redis.get(keys.truce_state("gaza-israel")) == before
    version = cast(str, await redis.get(keys.TRUCE_VERSION))
    assert int(version) >= len(alerts)
