"""End to end in one process: dev.jsonl feeds -> poller -> classifier -> notifier -> Bot API."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from redis.asyncio import Redis

from core.lifecycle import RoleFn, resolve_role, run_roles
from core.redis_conn import RedisProcess
from core.settings import load_settings
from testkit.botapi.emulator import BotAPIEmulator
from testkit.feedgen import write_config
from testkit.feeds import FeedServer
from testkit.pipeline import drained
from testkit.waiting import quiet, wait_until
from tests.e2e.pipeline_support import (
    FOLLOWERS,
    TOKEN,
    alerts_of,
    dead_letters,
    delivered_stories,
    describe,
    expected_stories,
    publish_dev_feeds,
    subscribe,
)

# Fast re-polls and consumers that notice work quickly; nothing here changes semantics.
FAST = {
    "poller": {"min_interval_s": 1, "default_interval_s": 2, "per_host": 16},
    "streams": {"block_ms": 100, "claim_interval_s": 0.5, "retry_backoff_s": 0.1},
    "heartbeat_ttl_s": 3,
}


def roles(names: tuple[str, ...]) -> list[tuple[str, RoleFn]]:
    """Resolve role entry points by name."""
    return [(name, resolve_role(name)) for name in names]


# Generous waits (a busy machine loads the models and drains slowly): each returns as soon
# as its condition holds, so only a failing run takes them whole.
@pytest.mark.timeout(900)
async def test_violations_reach_each_matching_subscriber_once_per_story(
    redis: Redis, redis_server: RedisProcess, shared_dir: Path, tmp_path: Path
) -> None:
    await subscribe(redis)
    async with FeedServer() as feeds, BotAPIEmulator(TOKEN) as emulator:
        feed_cfg, published = publish_dev_feeds(feeds, shared_dir / "eval", every=3, copies=6)
        write_config(tmp_path / "config", feed_cfg, FAST)
        settings = load_settings(
            config_dir=tmp_path / "config", data_dir=tmp_path / "data", redis_url=redis_server.url,
            telegram_bot_token=TOKEN, telegram_api_url=emulator.url, log_format="json",
        )
        stop = asyncio.Event()
        service = asyncio.create_task(run_roles(
            settings, roles(("poller", "classifier", "truces", "notifier")), stop=stop,
            install_signals=False,
        ))
        try:
            done = await wait_until(lambda: drained(redis, published), timeout=240)
            state = await describe(redis)
            alerts = await alerts_of(redis)
            expected = expected_stories(alerts)
            want = sum(len(s) for s in expected.values())
            # Deliveries trail the streams (1 message/s per chat): wait for the count, then
            # a quiet time in which nothing must happen, so a duplicate or a stray message
            # would have time to show.
            await wait_until(lambda: emulator.total_sent >= want, timeout=180)
            await quiet(1.5)
            done = done and await drained(redis, published)
            state = await describe(redis)
        finally:
            stop.set()
            code = await asyncio.wait_for(service, 20)
    assert done, f"the pipeline did not drain ({published} items): {state}"
    assert code == 0
    assert int(await redis.xlen("articles")) == published
    violations = [a for a in alerts if a.label == "violation"]
    assert violations and any(a.label == "ceasefire" for a in alerts)
    stories = {a.story_id for a in violations}
    assert len(stories) < len(violations), "the copied reports should share stories"
    delivered = delivered_stories(emulator, alerts)
    print(f"{published} items, {len(violations)} violation alerts in {len(stories)} stories; "
          f"messages per chat {({c: sum(n.values()) for c, n in delivered.items()})}; "
          f"edits {sum(len(s.edits) for m in emulator.messages.values() for s in m)}")
    for f in FOLLOWERS:
        got = delivered[f.chat_id]
        assert set(got) == expected[f.chat_id], (
            f"chat {f.chat_id}: missing {expected[f.chat_id] - set(got)}, "
            f"unexpected {set(got) - expected[f.chat_id]}"
        )
        assert all(n == 1 for n in got.values()), f"chat {f.chat_id}: repeats {got}"
    assert sum(len(s) for s in expected.values()) >= 10, "too few deliveries to prove much"
    assert not emulator.messages.keys() - {f.chat_id for f in FOLLOWERS}
    assert await dead_letters(redis) == {}
