"""The story archive: one record per violation story, idempotent, filtered by time and region."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from core import keys
from core.story_archive import (
    RETENTION_DAYS,
    ArchivedReport,
    ArchivedStory,
    StoryArchive,
    fold,
    record,
)
from core.streams import publish
from tests.core.archive_helpers import T0, violation

NOW = (T0 + timedelta(days=3)).timestamp()
WEEK = (T0 - timedelta(days=1), T0 + timedelta(days=6))


async def _dump(redis: Redis) -> dict[str, object]:
    found: dict[str, object] = {}
    async for key in redis.scan_iter(match=f"{keys.PREFIX}archive:*"):
        kind = await redis.type(key)
        found[key] = (await redis.hgetall(key) if kind == "hash"
                      else await redis.zrange(key, 0, -1, withscores=True))
    return found


async def test_two_outlets_of_one_story_are_one_story_with_both_links(redis: Redis) -> None:
    archive = StoryArchive(redis)
    # The second outlet published earlier and scored higher; each states different facts.
    late = violation(1, story="s1", hours=2, source="Reuters", score=0.8,
                     evidence="Reuters: shells hit Khan Younis.", accuser="Hamas", killed=3)
    early = violation(2, story="s1", hours=1, source="AP", score=0.95,
                      evidence="AP: an air strike despite the truce.", attack="air strike",
                      accused="Israel")
    assert await archive.add(late, now=NOW)
    assert await archive.add(early, now=NOW)
    (story,) = await archive.stories(*WEEK)
    assert story.story_id == "s1"
    assert story.first_report == T0 + timedelta(hours=1)
    assert [s.source for s in story.sources] == ["AP", "Reuters"]
    assert [s.url for s in story.sources] == [early.article.url, late.article.url]
    assert (story.evidence, story.score) == ("AP: an air strike despite the truce.", 0.95)
    assert story.title == early.article.title
    assert (story.accuser, story.accused, story.attack, story.killed, story.wounded) == (
        "Hamas", "Israel", "air strike", 3, None)


async def test_redelivery_and_arrival_order_change_nothing(redis: Redis) -> None:
    archive = StoryArchive(redis)
    alerts = [violation(1, story="s1", hours=3, source="A"),
              violation(2, story="s1", hours=1, source="B", killed=2),
              violation(3, hours=5, source="C")]  # a story of one: id a:al3
    for alert in alerts:
        await archive.add(alert, now=NOW)
    before = await _dump(redis)
    rows_before = await archive.stories(*WEEK)
    for alert in reversed(alerts + alerts):
        await archive.add(alert, now=NOW)
    assert await _dump(redis) == before
    assert await archive.stories(*WEEK) == rows_before
    assert [s.story_id for s in rows_before] == ["s1", "a:al3"]
    assert [len(s.sources) for s in rows_before] == [2, 1]


async def test_since_until_and_region_filter(redis: Redis) -> None:
    archive = StoryArchive(redis)
    await archive.add(violation(1, hours=0, regions=("gaza-israel", "lebanon")), now=NOW)
    await archive.add(violation(2, hours=24, regions=("ukraine",)), now=NOW)
    await archive.add(violation(3, hours=48, regions=("lebanon",)), now=NOW)

    def ids(stories: list[ArchivedStory]) -> list[str]:
        return [s.story_id for s in stories]

    assert ids(await archive.stories(*WEEK)) == ["a:al1", "a:al2", "a:al3"]
    assert ids(await archive.stories(T0 + timedelta(hours=1), WEEK[1])) == ["a:al2", "a:al3"]
    # until is excluded: a story first reported exactly then is not in.
    assert ids(await archive.stories(WEEK[0], T0 + timedelta(hours=48))) == ["a:al1", "a:al2"]
    assert ids(await archive.stories(*WEEK, region="lebanon")) == ["a:al1", "a:al3"]
    assert ids(await archive.stories(*WEEK, region="sudan")) == []


async def test_only_violations_are_archived(redis: Redis) -> None:
    archive = StoryArchive(redis)
    assert not await archive.add(violation(1, label="ceasefire"), now=NOW)
    assert not await archive.add(violation(2, label="none"), now=NOW)
    assert await archive.stories(*WEEK) == []
    assert not await redis.exists(keys.ARCHIVE_INDEX)


async def test_first_report_is_never_later_than_the_fetch(redis: Redis) -> None:
    archive = StoryArchive(redis)
    # A feed that dates items after we fetched them (a wrong clock or time zone).
    await archive.add(violation(1, hours=5, fetched_late_h=-2), now=NOW)
    (story,) = await archive.stories(*WEEK)
    assert story.first_report == T0 + timedelta(hours=3)


async def test_old_stories_are_trimmed_and_do_not_come_back(redis: Redis) -> None:
    archive = StoryArchive(redis)
    old = violation(1, story="old", hours=0)
    await archive.add(old, now=NOW)
    await archive.add(violation(2, story="new", hours=24 * 30), now=NOW)
    later = (T0 + timedelta(days=RETENTION_DAYS, hours=1)).timestamp()
    assert await archive.trim(now=later) == 1
    assert not await redis.exists(keys.archive_story("old"))
    # Redelivered after it was trimmed: refused, not archived as a new story.
    assert not await archive.add(old, now=later)
    assert await redis.zrange(keys.ARCHIVE_INDEX, 0, -1) == ["new"]


def test_fold_is_the_same_in_any_order() -> None:
    reports = [ArchivedReport.from_alert(violation(n, story="s", hours=n % 3, source=f"S{n}",
                                                   score=0.5 + n / 20, wounded=n or None))
               for n in range(5)]
    assert fold("s", reports) == fold("s", list(reversed(reports)))


async def test_the_first_write_reads_in_the_violations_the_stream_holds(redis: Redis) -> None:
    # Alerts from before the archive existed (published recently: the real clock decides).
    start = datetime.now(UTC) - timedelta(hours=5)
    hours = (start - T0).total_seconds() / 3600
    await publish(redis, keys.ALERTS, violation(1, story="old", hours=hours))
    await publish(redis, keys.ALERTS, violation(2, label="ceasefire", hours=hours))
    await redis.xadd(keys.ALERTS, {"data": "{not json"})
    await record(redis, violation(3, story="new", hours=hours + 1))
    stories = await StoryArchive(redis).stories(start, datetime.now(UTC))
    assert [s.story_id for s in stories] == ["old", "new"]
    assert await redis.exists(keys.ARCHIVE_BACKFILLED)
    # Read in once: later stream entries come only through record() itself.
    await publish(redis, keys.ALERTS, violation(4, story="unseen", hours=hours + 2))
    await record(redis, violation(5, story="new", hours=hours + 3))
    stories = await StoryArchive(redis).stories(start, datetime.now(UTC))
    assert [(s.story_id, len(s.sources)) for s in stories] == [("old", 1), ("new", 1)]
