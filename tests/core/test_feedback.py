"""The feedback store: one vote per chat and story, changes move the tally, bursts lose nothing."""

from __future__ import annotations

import asyncio

from redis.asyncio import Redis

from core import keys
from core.feedback import VOTES, FeedbackItem, FeedbackStore, VoteKind


def item(story: str = "s1", *, regions: tuple[str, ...] = ("gaza",), lang: str = "en",
         label: str = "violation") -> FeedbackItem:
    """A voted story's snapshot."""
    return FeedbackItem(
        story_id=story, alert_id=f"al-{story}", article_id=f"a-{story}", lang=lang,
        title="Shelling despite the truce", text="Shelling went on despite the truce.",
        label=label, score=0.9, regions=regions, seen=1_700_000_000.0,
    )


async def test_one_vote_per_chat_changeable_and_a_repeat_changes_nothing(redis: Redis) -> None:
    store = FeedbackStore(redis)
    assert await store.vote(item(), 1, "correct", 11) is None
    assert await store.vote(item(), 1, "correct", 12) == "correct"  # repeated: nothing moves
    [vote] = await store.votes("s1")
    assert (vote.chat_id, vote.vote, vote.user) == (1, "correct", 11)
    assert await store.vote(item(), 1, "false_alarm", 13) == "correct"
    [vote] = await store.votes("s1")
    assert (vote.vote, vote.user) == ("false_alarm", 13)
    report = await store.precision()
    assert report.overall.counts == {"correct": 0, "false_alarm": 1, "wrong_region": 0}
    assert report.by["region"]["gaza"].votes == 1
    assert report.by["lang"]["en"].votes == 1
    assert report.by["label"]["violation"].votes == 1
    # Labelled data: nothing of it expires.
    for key in (keys.feedback_votes("s1"), keys.feedback_item("s1"), keys.FEEDBACK_INDEX,
                keys.FEEDBACK_TALLY):
        assert await redis.ttl(key) == -1, key


async def test_precision_per_region_and_language(redis: Redis) -> None:
    store = FeedbackStore(redis)
    both = item("s1", regions=("gaza", "lebanon"))
    await store.vote(both, 1, "correct", None)
    await store.vote(both, 2, "wrong_region", None)
    await store.vote(item("s2", regions=("lebanon",), lang=""), 1, "false_alarm", None)
    report = await store.precision()
    gaza, lebanon = report.by["region"]["gaza"], report.by["region"]["lebanon"]
    assert (gaza.votes, gaza.label_precision, gaza.region_precision) == (2, 1.0, 0.5)
    assert lebanon.votes == 3
    assert lebanon.label_precision == 2 / 3 and lebanon.region_precision == 1 / 3
    assert report.by["lang"]["?"].votes == 1  # no language known
    assert report.overall.votes == 3
    assert [name for name, _ in report.slices("region")] == ["lebanon", "gaza"]


async def test_the_first_snapshot_decides_the_tally_of_later_votes(redis: Redis) -> None:
    store = FeedbackStore(redis)
    await store.vote(item("s1", regions=("gaza",)), 1, "correct", None)
    # A later vote brings a different snapshot (say the story gained a report): the stored
    # one still decides which counters move, so a change takes back what was added.
    await store.vote(item("s1", regions=("sudan",)), 1, "false_alarm", None)
    report = await store.precision()
    assert "sudan" not in report.by["region"]
    assert report.by["region"]["gaza"].counts["false_alarm"] == 1
    assert (await store.item("s1")) == item("s1", regions=("gaza",))


async def test_voted_stories_since(redis: Redis) -> None:
    store = FeedbackStore(redis)
    await store.vote(item("old"), 1, "correct", None, at=1000.0)
    await store.vote(item("new"), 1, "correct", None, at=2000.0)
    assert await store.voted_stories() == ["old", "new"]
    assert await store.voted_stories(1500.0) == ["new"]


async def test_a_burst_of_1000_concurrent_votes_and_changes_is_all_counted(
    redis: Redis
) -> None:
    store = FeedbackStore(redis)
    final: dict[tuple[str, int], VoteKind] = {}
    jobs = []
    for chat in range(1000):
        story = f"s{chat % 10}"
        vote = VOTES[chat % 3]
        final[(story, chat)] = vote
        jobs.append(store.vote(item(story), chat, vote, chat))
    await asyncio.gather(*jobs)
    # Every fifth chat changes its mind, concurrently with repeats of others' votes.
    changes = []
    for chat in range(0, 1000, 5):
        story = f"s{chat % 10}"
        vote = VOTES[(chat + 1) % 3]
        final[(story, chat)] = vote
        changes.append(store.vote(item(story), chat, vote, chat))
        other = chat + 1  # repeats its first vote: nothing may move
        changes.append(store.vote(item(f"s{other % 10}"), other, VOTES[other % 3], other))
    await asyncio.gather(*changes)
    for n in range(10):
        assert int(await redis.hlen(keys.feedback_votes(f"s{n}"))) == 100
    report = await store.precision()
    expected = {v: sum(1 for k in final.values() if k == v) for v in VOTES}
    assert report.overall.counts == expected
    assert report.by["region"]["gaza"].counts == expected
    assert sum(expected.values()) == 1000
