"""What detection sees: the truce windows at an item's time, and the watch that reloads them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from core.models import TruceEventKind
from core.truce import fold
from core.truce_model import Report
from core.truce_store import add_report
from workers.truce.context import TruceWatch, windows_at

T0 = datetime(2023, 11, 24, 5, 0, tzinfo=UTC)


def report(n: int, kind: TruceEventKind, hours: float, **event: object) -> Report:
    return Report.model_validate({
        "alert_id": f"a{n}", "story_id": f"s{n}", "at": T0 + timedelta(hours=hours),
        "kind": kind, "label": "violation" if kind == "violated" else "ceasefire",
        "event": {"kind": kind, **event},
    })


def test_windows_cover_a_known_truce_and_its_breakdown_not_an_inferred_one() -> None:
    known = fold("gaza-israel", [report(1, "starts", 0, starts=T0, duration_h=96)])
    inferred = fold("sudan", [report(2, "violated", 0), report(3, "violated", 1)])
    live = {"gaza-israel": known.live(), "sudan": inferred.live()}
    during = windows_at(live, T0 + timedelta(hours=10))
    assert set(during) == {"gaza-israel"} and not during["gaza-israel"].ended
    assert during["gaza-israel"].until == T0 + timedelta(hours=96)
    after = windows_at(live, T0 + timedelta(hours=100))
    assert after["gaza-israel"].ended  # within the breakdown window: "fighting resumed" counts
    assert windows_at(live, T0 + timedelta(days=10)) == {}
    assert windows_at(live, T0 - timedelta(hours=1)) == {}


async def test_the_watch_reloads_only_when_the_state_changed(redis: Redis) -> None:
    ticks = [0.0]
    watch = TruceWatch(redis, refresh_s=5, clock=lambda: ticks[0])
    at = T0 + timedelta(hours=1)
    assert await watch.windows(at) == {}
    await add_report(redis, "gaza-israel", report(1, "starts", 0, starts=T0, duration_h=96))
    assert await watch.windows(at) == {}  # checked less than refresh_s ago
    ticks[0] = 6.0
    assert set(await watch.windows(at)) == {"gaza-israel"}
