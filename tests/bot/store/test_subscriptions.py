"""Subscription store: matching through the region index, filters, deactivation, migration."""

from __future__ import annotations

import time

from redis.asyncio import Redis

from bot.store.subscriptions import SubscriptionStore
from core import keys
from core.redis_conn import make_client
from tests.bot.helpers import make_alert


async def test_match_by_region_kind_threshold_and_survives_a_new_client(
    redis: Redis, redis_server: object
) -> None:
    store = SubscriptionStore(redis)
    await store.subscribe(1, ["Gaza"])
    await store.subscribe(2, ["sudan"])
    await store.subscribe(3, ["*"])
    await store.subscribe(4, ["gaza"])
    await store.update(4, threshold=0.95)
    await store.subscribe(5, ["gaza"])
    await store.update(5, kinds="all")
    alert = make_alert(1, regions=("gaza",), score=0.9)
    assert {s.chat_id for s in await store.match(alert)} == {1, 3, 5}
    news = make_alert(2, regions=("gaza",), label="ceasefire", score=0.9)
    assert {s.chat_id for s in await store.match(news)} == {5}  # only kinds=all
    assert await store.match(make_alert(3, label="none")) == []
    # A fresh connection (as after a restart) sees the same state.
    url = redis.connection_pool.connection_kwargs
    other = make_client(f"redis://{url['host']}:{url['port']}/{url.get('db', 0)}")
    try:
        again = await SubscriptionStore(other).get(4)
        assert again is not None and again.threshold == 0.95 and again.regions == {"gaza"}
    finally:
        await other.aclose()


async def test_deactivate_reactivate_and_migrate_keep_index_in_step(redis: Redis) -> None:
    store = SubscriptionStore(redis)
    await store.subscribe(-10, ["gaza", "sudan"], chat_type="group")
    await store.deactivate(-10, "Forbidden: bot was kicked")
    assert await store.candidates(["gaza"]) == set()
    sub = await store.subscribe(-10, ["gaza"], chat_type="group")
    assert sub.active and await store.candidates(["sudan"]) == {-10}
    moved = await store.migrate(-10, -10010)
    assert moved is not None and moved.regions == {"gaza", "sudan"}
    assert await store.candidates(["gaza", "sudan"]) == {-10010}
    assert await store.get(-10) is None
    counts = await store.counts()
    assert counts == {"chats": 1, "active": 1, "deactivated": 0}


async def test_unsubscribe_and_mute(redis: Redis) -> None:
    store = SubscriptionStore(redis)
    await store.subscribe(7, ["gaza", "sudan"])
    sub = await store.unsubscribe(7, ["sudan"])
    assert sub is not None and sub.regions == {"gaza"}
    muted = await store.update(7, mute_until=time.time() + 60)
    assert muted.muted()
    sub = await store.unsubscribe(7, None)
    assert sub is not None and sub.regions == frozenset()
    assert await store.candidates(["gaza"]) == set()


async def test_damaged_records_are_tolerated(redis: Redis) -> None:
    store = SubscriptionStore(redis)
    await redis.hset(keys.SUBS, mapping={"5": "not json", "6": '{"regions": 3, "threshold": "x"}'})
    five, six = await store.load_many([5, 6])
    assert five.regions == frozenset() and five.active
    assert six.regions == frozenset() and six.threshold is None  # the classifier's default


async def test_default_threshold_is_the_classifiers(redis: Redis) -> None:
    """A reader who never set /threshold gets the model's default; one who did keeps theirs."""
    store = SubscriptionStore(redis)
    await store.subscribe(8, ["gaza"])
    default = await store.get(8)
    assert default is not None and default.threshold is None
    weak = make_alert(1, score=0.7).model_copy(update={"alert_threshold": 0.8})
    strong = make_alert(2, score=0.85).model_copy(update={"alert_threshold": 0.8})
    assert not default.wants(weak) and default.wants(strong)
    chosen = await store.update(8, threshold=0.6)
    assert chosen.threshold == 0.6 and chosen.wants(weak)
    back = await store.update(8, threshold=None)
    assert back.threshold is None and not back.wants(weak)
