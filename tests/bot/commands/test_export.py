"""/export [days]: an admin gets the violation stories as a CSV document; others are refused."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from redis.asyncio import Redis

from bot.commands import role as bot_role
from core.redis_conn import RedisProcess
from core.story_archive import StoryArchive
from testkit.botapi.emulator import BotAPIEmulator
from tests.bot.helpers import make_ctx, make_settings, running, say
from tests.core.archive_helpers import T0, violation

ADMIN = 7101
STRANGER = 7102


async def _seed(redis: Redis) -> None:
    # Two days ago, by two outlets; and one 20 days ago (outside /export 7, inside /export 30).
    now = datetime.now(UTC)
    recent = (now - timedelta(days=2) - T0).total_seconds() / 3600
    archive = StoryArchive(redis)
    await archive.add(violation(1, story="s1", hours=recent, source="AP", killed=2,
                                title='Shelling, "despite" the truce — قصف'))
    await archive.add(violation(2, story="s1", hours=recent + 1, source="Reuters"))
    await archive.add(violation(3, hours=recent - 18 * 24, regions=("ukraine",)))


async def test_an_admin_gets_the_csv_and_others_are_refused(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    await _seed(redis)
    settings = make_settings(redis_server.url, tmp_path, emulator.url, admins=frozenset({ADMIN}))
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        refused = await say(emulator, STRANGER, "/export 7", user_id=STRANGER)
        assert "administrators" in refused
        assert not any(s.document for s in emulator.messages.get(STRANGER, []))

        caption = await say(emulator, ADMIN, "/export 7", user_id=ADMIN)
        sent = emulator.messages[ADMIN][-1]
        today = datetime.now(UTC).date()
        assert sent.document_name == (f"ceasefire-violations-{today - timedelta(days=7)}_"
                                      f"{today}.csv")
        assert caption.startswith("1 violation story, ")  # the plural rule: one story
        rows = list(csv.DictReader(io.StringIO(sent.document.decode("utf-8"), newline="")))
        assert [(r["story_id"], r["sources"], r["killed"], r["region"]) for r in rows] == [
            ("s1", "2", "2", "gaza-israel")]
        assert rows[0]["title"] == 'Shelling, "despite" the truce — قصف'

        await say(emulator, ADMIN, "/export 30", user_id=ADMIN)
        month = emulator.messages[ADMIN][-1].document.decode("utf-8")
        assert [r["story_id"] for r in csv.DictReader(io.StringIO(month, newline=""))] == [
            "a:al3", "s1"]

        for bad in ("/export soon", "/export 0", "/export 400", "/export 1 2"):
            answer = await say(emulator, ADMIN, bad, user_id=ADMIN)
            assert "Usage: /export [days]" in answer, (bad, answer)
        assert sum(bool(s.document) for s in emulator.messages[ADMIN]) == 2


async def test_nothing_to_export_says_so(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    settings = make_settings(redis_server.url, tmp_path, emulator.url, admins=frozenset({ADMIN}))
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        answer = await say(emulator, ADMIN, "/export", user_id=ADMIN)
    assert answer == "No violation stories in the last 7 days."
