"""/ceasefires and /ceasefire through PTB long polling against the emulator; the reply limits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from bot.commands import role as bot_role
from bot.commands.truces import render_overview, render_timeline
from bot.telegram.html import MAX_MESSAGE, tg_len
from core.models import TruceEvent, TruceEventKind
from core.redis_conn import RedisProcess
from core.truce import fold
from core.truce_model import Report, TruceState
from core.truce_store import add_report
from testkit.botapi.emulator import BotAPIEmulator
from testkit.botapi.rules import html_error
from testkit.waiting import wait_until
from tests.bot.helpers import make_ctx, make_settings, running, say

KARABAKH = "nagorno-karabakh"
HOSTILE = '<script>alert(1)</script> & "truce" <b>'


def report(n: int, at: datetime, kind: TruceEventKind, *, title: str = "", **event: Any) -> Report:
    """A truce report of alert ``al<n>``, story ``s<n>``."""
    return Report(
        alert_id=f"al{n}", story_id=f"s{n}", at=at, kind=kind,
        label="violation" if kind == "violated" else "ceasefire",
        title=title or f"Report {n}", url=f"https://example.org/{n}",
        event=TruceEvent(kind=kind, **event),
    )


async def seed(redis: Redis, now: datetime) -> None:
    """Karabakh: agreed, in force, violated 3 days and 23 and 22 hours ago; Gaza: talks."""
    hour, day = timedelta(hours=1), timedelta(days=1)
    for r in [
        report(7, now - 5 * day - hour, "agreed", title="Truce deal reported"),
        report(1, now - 5 * day, "agreed", title="Truce agreed in Brussels"),  # confirms it
        report(2, now - 4 * day, "starts", title="Truce starts", ends=now + 3 * day,
               starts=now - 4 * day),
        report(3, now - 3 * day, "violated", title="Shelling near Tartar", accuser="Armenia",
               accused="Azerbaijan", attack="shelling", place="Tartar"),
        report(4, now - 23 * hour, "violated", title="Drone hits positions"),
        report(5, now - 22 * hour, "violated", title=HOSTILE),
    ]:
        await add_report(redis, KARABAKH, r)
    await add_report(redis, "gaza-israel", report(9, now - 2 * day, "call", title="Call for calm"))


async def test_ceasefires_and_ceasefire_through_the_bot(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    await seed(redis, datetime.now(UTC))
    ctx = make_ctx("bot", make_settings(redis_server.url, tmp_path, emulator.url), redis)
    async with running(bot_role.run, ctx):
        assert await wait_until(lambda: bool(emulator.commands))
        assert {"ceasefires", "ceasefire"} <= {c["command"] for c in emulator.commands}
        reply = await say(emulator, 101, "/help")
        assert "/ceasefires" in reply and "/ceasefire region" in reply

        reply = await say(emulator, 102, "/ceasefires")
        first, second = reply.splitlines()[1:3]
        assert "Nagorno-Karabakh" in first and "in force, violated since" in first
        assert "violations 24 h: 2, 7 d: 3" in first
        assert "&lt;script&gt;" in first and "<script>" not in reply  # the newest story, escaped
        assert "Gaza" in second and "talks since" in second and "Call for calm" in second

        reply = await say(emulator, 103, "/ceasefire karabakh")  # an alias, as /subscribe takes
        assert reply.startswith("<b>Nagorno-Karabakh")
        assert "<b>Violations</b> this truce: 3 · last 24 h: 2 · 7 d: 3" in reply
        timeline = reply.split("<b>Timeline</b>")[1].split("<b>Latest violations</b>")[0]
        order = ["truce agreed", "truce starts", "violation reported"]
        assert [timeline.index(cause) for cause in order] == sorted(
            timeline.index(cause) for cause in order)
        assert '<a href="https://example.org/1">Truce agreed in Brussels</a>' in timeline
        assert "Armenia accuses Azerbaijan · shelling · Tartar" in reply
        assert "Web page" not in reply  # no public base URL is configured

        reply = await say(emulator, 104, "/ceasefire sudan")
        assert "No truce has been reported for Sudan" in reply
        reply = await say(emulator, 105, "/ceasefire atlantis <b>")
        assert "Unknown region: atlantis &lt;b&gt;" in reply and "/regions" in reply
        assert "Usage: /ceasefire region" in reply
        reply = await say(emulator, 106, "/ceasefire")
        assert reply.startswith("Usage: /ceasefire")
        reply = await say(emulator, 107, "/ceasefires gaza")  # one region asked: its timeline
        assert reply.startswith("<b>Gaza / Israel</b>")
    assert emulator.counters.rate_limited == 0


async def test_ceasefire_links_the_truce_page_at_the_public_base_url(
    redis: Redis, redis_server: RedisProcess, emulator: BotAPIEmulator, tmp_path: Path
) -> None:
    await seed(redis, datetime.now(UTC))
    settings = make_settings(redis_server.url, tmp_path, emulator.url,
                             public_base_url="https://cw.example.org/")
    async with running(bot_role.run, make_ctx("bot", settings, redis)):
        reply = await say(emulator, 111, "/ceasefire karabakh")
    page = "https://cw.example.org/truces/nagorno-karabakh"
    assert f'<b>Web page:</b> <a href="{page}">{page}</a>' in reply


def test_few_states_are_all_listed_and_many_only_with_a_truce() -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    quiet = [TruceState(region=f"r{n}", last_report=now) for n in range(3)]
    assert render_overview(quiet, {}, now).count("no truce") == 3
    active = fold("r9", [report(1, now, "starts", starts=now)])
    many = render_overview([*quiet, *quiet, active], {"r9": "Nine"}, now)
    assert "Nine" in many and "no truce" not in many
    assert render_overview([], {}, now).startswith("No truce has been reported")


def test_long_timeline_drops_its_oldest_entries_and_says_so() -> None:
    start = datetime(2023, 1, 1, tzinfo=UTC)
    reports = []
    for n in range(80):  # truces agreed and expiring in turn: two transitions each
        at = start + timedelta(days=2 * n)
        reports += [report(2 * n, at, "starts", title=f"Start {n} " + "&<>" * 60, starts=at),
                    report(2 * n + 1, at + timedelta(days=1), "expired", title=f"End {n}")]
    state = fold(KARABAKH, reports)
    text = render_timeline(state, "Karabakh", start + timedelta(days=200), "https://ops.example/x")
    assert tg_len(text) <= MAX_MESSAGE and html_error(text) is None
    assert "earlier entries not shown" in text
    assert "End 79" in text and "Start 0 " not in text  # the newest kept, the oldest cut
    assert text.endswith('<b>Web page:</b> <a href="https://ops.example/x">https://ops.example/x</a>')


def test_many_regions_fit_one_message_headlines_going_first() -> None:
    now = datetime(2025, 6, 1, tzinfo=UTC)
    hour_ago = now - timedelta(hours=1)

    def breached(n: int, title: str = "") -> TruceState:
        started = report(100 + n, hour_ago, "starts", starts=hour_ago)
        return fold(f"r{n}", [started, report(n, now, "violated", title=title)])

    states = [breached(n, HOSTILE * 20) for n in range(12)]
    names = {f"r{n}": f"Region {n}" for n in range(40)}
    text = render_overview(states, names, now)
    assert tg_len(text) <= MAX_MESSAGE and html_error(text) is None
    assert all(f"Region {n}</b>" in text for n in range(12)) and "&lt;script&gt;" in text
    states += [breached(n) for n in range(12, 40)]
    text = render_overview(states, names, now)
    assert tg_len(text) <= MAX_MESSAGE and html_error(text) is None
    assert "&lt;script&gt;" not in text and text.endswith("more regions.")
