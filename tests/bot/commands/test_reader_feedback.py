"""Feedback buttons under alerts, in the Bot API emulator: vote, change, refuse, burst, export."""

from __future__ import annotations

import json
import time
from pathlib import Path

from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.notifier import role as notifier_role
from bot.store.stories import StoryStore
from bot.store.subscriptions import SubscriptionStore
from bot.telegram.votes import MAX_DATA, VoteSigner, parse
from core import keys
from core.config_files import default_config_dir
from core.feedback import VOTES, FeedbackStore
from core.models import Alert
from core.redis_conn import RedisProcess
from testkit.botapi.emulator import BotAPIEmulator
from testkit.waiting import wait_until
from tests.bot.helpers import (
    TOKEN,
    buttons,
    make_alert,
    make_ctx,
    make_settings,
    publish_alert,
    running,
    say,
)
from tests.core.helpers import fetch, health_role_running
from workers.classifier.feedback_cli import export_items, truce_check
from workers.classifier.fit import load_items
from workers.classifier.lexicon import load_lexicons
from workers.classifier.model import LABELS

CHAT = 5101
OTHER = -100_5102  # a group
PRESSER = 77
ADMIN = 5109


def story_alert(n: int, story: str, source: str = "Outlet") -> Alert:
    """A violation alert in English whose lede has a truce word."""
    alert = make_alert(n, story=story, regions=("gaza",), source=source)
    article = alert.article.model_copy(update={
        "lang": "en", "summary": "Shelling was reported in Gaza despite the ceasefire.",
    })
    return alert.model_copy(update={"article": article})


async def press(emu: BotAPIEmulator, chat: int, message_id: int, data: str) -> str:
    """Press a button in ``chat`` and return the toast it was answered with."""
    before = len(emu.answered_callbacks)
    chat_type = "private" if chat > 0 else "supergroup"
    emu.inject_callback(chat, PRESSER, message_id, data, chat_type=chat_type)
    assert await wait_until(lambda: len(emu.answered_callbacks) > before, timeout=20)
    return str(emu.answered_callbacks[before].get("text", ""))


async def test_vote_change_precision_and_export_round_trip(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    await SubscriptionStore(redis).subscribe(CHAT, ["gaza"])
    settings = make_settings(redis_server.url, tmp_path, emulator.url, admins=frozenset({ADMIN}))
    notifier = make_ctx("notifier", settings, redis)
    bot = make_ctx("bot", settings, redis)
    store = FeedbackStore(redis)
    async with running(notifier_role.run, notifier), running(bot_role.run, bot):
        await publish_alert(redis, story_alert(1, "s1"))
        [message] = await emulator.wait_for_messages(CHAT, 1, timeout=20)
        data = buttons(message.reply_markup)
        assert len(data) == 3 and all(len(d.encode()) <= MAX_DATA for d in data.values())
        correct, false_alarm = data["✅ Correct"], data["❌ False alarm"]

        assert await press(emulator, CHAT, message.message_id, correct) == (
            "Recorded: correct. Thank you.")
        [vote] = await store.votes("s1")
        assert (vote.chat_id, vote.vote, vote.user) == (CHAT, "correct", PRESSER)

        assert await press(emulator, CHAT, message.message_id, false_alarm) == (
            "Changed to: false alarm. Thank you.")
        assert await press(emulator, CHAT, message.message_id, false_alarm) == (
            "Already recorded: false alarm.")
        assert [v.vote for v in await store.votes("s1")] == ["false_alarm"]
        report = await store.precision()
        assert report.overall.counts == {"correct": 0, "false_alarm": 1, "wrong_region": 0}
        # A vote edits nothing: not the text, not the keyboard, for nobody.
        assert emulator.counters.requests.get("editMessageText", 0) == 0
        assert message.edits == []

        # A second outlet's report edits the message and keeps the buttons.
        await publish_alert(redis, story_alert(2, "s1", source="Other outlet"))
        assert await wait_until(lambda: len(message.edits) == 1, timeout=20)
        assert buttons(message.reply_markup) == data

        stats = await say(emulator, ADMIN, "/stats", user_id=ADMIN)
        assert "Reader feedback" in stats and "gaza: 1 vote, label 0%, region 0%" in stats
    async with health_role_running(redis_server.url, tmp_path / "health") as base:
        status, _, page = await fetch(base + "/status")
    assert status == 200
    assert "<h2>Reader feedback</h2>" in page
    assert "<tr><td>region</td><td>gaza</td><td>1</td><td>0%</td><td>0%</td></tr>" in page
    assert "<tr><td>lang</td><td>en</td><td>1</td><td>0%</td><td>0%</td></tr>" in page

    check = truce_check(load_lexicons(default_config_dir() / "lexicons"))
    [line] = await export_items(store, 0.0, check)
    assert line["id"] == "al1" and line["lang"] == "en" and line["label"] == "ceasefire"
    assert line["text"] == "Shelling was reported in Gaza despite the ceasefire."
    assert "false alarm" in line["note"] and "truce word" in line["note"]
    votes = tmp_path / "votes.jsonl"
    votes.write_text(json.dumps(line) + "\n", encoding="utf-8")
    [loaded] = load_items(votes)
    assert loaded["label"] in LABELS and loaded["title"] == "Truce broken in report 1"


async def test_forged_and_misplaced_presses_are_refused_and_store_nothing(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    subs = SubscriptionStore(redis)
    await subs.subscribe(CHAT, ["gaza"])
    await subs.subscribe(OTHER, ["gaza"], "supergroup")
    settings = make_settings(redis_server.url, tmp_path, emulator.url)
    notifier = make_ctx("notifier", settings, redis)
    bot = make_ctx("bot", settings, redis)
    async with running(notifier_role.run, notifier), running(bot_role.run, bot):
        await publish_alert(redis, story_alert(1, "s1"))
        await publish_alert(redis, story_alert(2, "s2"))
        mine = await emulator.wait_for_messages(CHAT, 2, timeout=20)
        theirs = await emulator.wait_for_messages(OTHER, 2, timeout=20)
        correct = buttons(mine[0].reply_markup)["✅ Correct"]
        _, letter, story, sig = correct.split(":")
        forged = correct[:-1] + ("A" if correct[-1] != "A" else "B")
        signed_for_s1 = f"fb:{letter}:s2:{sig}"  # story swapped, signature kept
        other_vote = f"fb:f:{story}:{sig}"  # vote swapped, signature kept
        attempts = [
            (OTHER, theirs[0].message_id, correct),  # chat A's button pressed in chat B
            (CHAT, mine[0].message_id, forged),
            (CHAT, mine[1].message_id, signed_for_s1),
            (CHAT, mine[0].message_id, other_vote),
            (CHAT, mine[0].message_id, "fb:z:s1:abc"),
        ]
        for chat, message_id, data in attempts:
            assert await press(emulator, chat, message_id, data) == (
                "This button is not valid here."), data
        assert bot.registry.get_sample_value(
            "cw_feedback_presses_total", {"outcome": "refused"}) == len(attempts)
    assert await redis.exists(keys.FEEDBACK_TALLY, keys.FEEDBACK_INDEX) == 0
    assert not [k async for k in redis.scan_iter(match=f"{keys.PREFIX}feedback:*")]
    assert emulator.counters.requests.get("editMessageText", 0) == 0


async def test_1000_presses_in_a_burst_are_all_recorded(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    # 1,000 chats, none subscribed (a vote counts whatever the subscription), 200 of which
    # change their vote: 1,200 presses queued at once.
    await StoryStore(redis).add(story_alert(1, "s1"))
    signer = VoteSigner(TOKEN)
    chats = [10_000 + n for n in range(1000)]
    expected = {}
    presses = []
    for n, chat in enumerate(chats):
        presses.append((chat, signer.data(chat, "s1", VOTES[n % 3])))
        expected[chat] = VOTES[n % 3]
    for n, chat in enumerate(chats[:200]):
        presses.append((chat, signer.data(chat, "s1", VOTES[(n + 1) % 3])))
        expected[chat] = VOTES[(n + 1) % 3]
    bot = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(bot_role.run, bot):
        for chat, data in presses:
            emulator.inject_callback(chat, chat, 1, data)
        assert await wait_until(
            lambda: len(emulator.answered_callbacks) >= len(presses), timeout=180
        ), f"{len(emulator.answered_callbacks)} of {len(presses)} presses answered"
    assert int(await redis.hlen(keys.feedback_votes("s1"))) == 1000
    votes = {v.chat_id: v.vote for v in await FeedbackStore(redis).votes("s1")}
    assert votes == expected
    report = await FeedbackStore(redis).precision()
    counts = {v: sum(1 for e in expected.values() if e == v) for v in VOTES}
    assert report.overall.counts == counts
    assert report.by["region"]["gaza"].counts == counts
    outcomes = {o: bot.registry.get_sample_value("cw_feedback_presses_total", {"outcome": o})
                for o in ("recorded", "changed")}
    assert outcomes == {"recorded": 1000, "changed": 200}


def test_button_data_fits_and_is_bound_to_chat_story_and_vote() -> None:
    signer = VoteSigner(TOKEN)
    for story in ("s1", "a:" + "f" * 32, "x" * 128, "~looks-like-a-ref"):
        for vote in VOTES:
            data = signer.data(-100_1234567890123, story, vote)
            assert len(data.encode()) <= MAX_DATA, data
            pressed = parse(data)
            assert pressed is not None and pressed.vote == vote
            assert signer.verify(-100_1234567890123, story, pressed)
            assert not signer.verify(-100_1234567890124, story, pressed)
            assert not VoteSigner(TOKEN + "x").verify(-100_1234567890123, story, pressed)
    assert parse("sub:gaza") is None and parse("fb:c::sig") is None


async def test_a_long_story_id_and_a_muted_chat_still_vote(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    long_story = "story-" + "0123456789" * 10
    subs = SubscriptionStore(redis)
    await subs.subscribe(CHAT, ["gaza"])
    settings = make_settings(redis_server.url, tmp_path, emulator.url)
    notifier = make_ctx("notifier", settings, redis)
    bot = make_ctx("bot", settings, redis)
    async with running(notifier_role.run, notifier), running(bot_role.run, bot):
        await publish_alert(redis, story_alert(1, long_story))
        [message] = await emulator.wait_for_messages(CHAT, 1, timeout=20)
        wrong = buttons(message.reply_markup)["🗺 Wrong region"]
        assert long_story not in wrong and len(wrong.encode()) <= MAX_DATA
        await subs.update(CHAT, mute_until=time.time() + 3600)  # muted: the vote still counts
        assert await press(emulator, CHAT, message.message_id, wrong) == (
            "Recorded: wrong region. Thank you.")
    assert [v.vote for v in await FeedbackStore(redis).votes(long_story)] == ["wrong_region"]
