"""The truce pages: state, per-day counts, timeline, escaping, 404, and a phone in Chromium."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import shutil
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from core.models import TruceEvent, TruceEventKind
from core.redis_conn import RedisProcess
from core.truce import fold
from core.truce_model import Report
from core.truce_page import CHART_DAYS, render_region
from core.truce_store import add_report
from testkit.waiting import wait_until
from tests.core.helpers import fetch, health_role_running

HOSTILE = '<script>document.title="pwned"</script> Shelling & "truce" <b>'
KARABAKH = "nagorno-karabakh"
NAME = "Nagorno-Karabakh (Armenia–Azerbaijan)"


def report(n: int, at: datetime, kind: TruceEventKind, *, story: str = "", title: str = "",
           url: str = "", **event: Any) -> Report:
    """A truce report of alert ``al<n>`` (story ``s<n>`` unless given)."""
    return Report(
        alert_id=f"al{n}", story_id=story or f"s{n}", at=at, kind=kind,
        label="violation" if kind == "violated" else "ceasefire",
        title=title or f"Report {n}", url=url or f"https://example.org/{n}",
        event=TruceEvent(kind=kind, **event),
    )


def history(now: datetime) -> list[Report]:
    """Agreed 5 days ago, in force 4 days ago, violations 3 and 1 days ago (one story twice)."""
    day = timedelta(days=1)
    return [
        report(7, now - 5 * day - timedelta(hours=1), "agreed", title="Truce deal reported"),
        report(1, now - 5 * day, "agreed", title="Truce agreed"),  # confirms it
        report(2, now - 4 * day, "starts", title="Truce starts at noon", ends=now + 3 * day,
               starts=now - 4 * day),
        report(3, now - 3 * day, "violated", title="Shelling near Tartar", accuser="Armenia",
               accused="Azerbaijan", attack="shelling", place="Tartar"),
        report(4, now - day, "violated", title="Drone strike"),
        report(5, now - day + timedelta(minutes=5), "violated", title="Drone strike"),
        report(6, now - day + timedelta(minutes=9), "violated", story="s4", title="Drone again"),
    ]


def bars(page: str) -> dict[str, int]:
    """Day -> count of the chart's bars."""
    found = re.findall(r'<rect class="bar"[^>]*data-day="([\d-]+)" data-count="(\d+)"', page)
    return {day: int(count) for day, count in found}


def test_page_shows_state_and_counts_per_day() -> None:
    now = datetime(2025, 6, 10, 12, tzinfo=UTC)
    page = render_region(fold(KARABAKH, history(now)), NAME, now)
    assert f"<h1>{NAME}</h1>" in page and "in force, violated" in page
    per_day = bars(page)
    assert len(per_day) == CHART_DAYS and max(per_day) == "2025-06-10"
    assert per_day["2025-06-07"] == 1 and per_day["2025-06-09"] == 2  # s4 twice counts once
    assert sum(per_day.values()) == 3
    assert "<dt>Violations of this truce</dt><dd>3</dd>" in page
    assert "<dt>Violations, last 24 h</dt><dd>2</dd>" in page
    assert "Armenia accuses Azerbaijan · shelling · Tartar" in page
    # Newest first: the violation of yesterday before the truce's start.
    assert page.index("Drone strike") < page.index("Truce starts at noon") < page.index(
        "Truce agreed")
    assert '<meta name="viewport"' in page and "<script" not in page


def test_replayed_history_is_charted_up_to_its_newest_report() -> None:
    then = datetime(2023, 9, 20, 12, tzinfo=UTC)
    page = render_region(fold(KARABAKH, history(then)), NAME, datetime(2025, 1, 1, tzinfo=UTC))
    per_day = bars(page)
    assert max(per_day) == "2023-09-19" and min(per_day) == "2023-08-21"
    assert per_day["2023-09-17"] == 1 and per_day["2023-09-19"] == 2
    assert "ended" in page  # its scheduled end came long ago


def test_hostile_text_is_escaped_and_bad_links_are_not_linked() -> None:
    now = datetime(2025, 6, 10, tzinfo=UTC)
    state = fold(KARABAKH, [report(1, now, "violated", title=HOSTILE, url="javascript:x()",
                                   accuser="<i>A</i>", place="Tartar & co")])
    page = render_region(state, "Name <b>", now)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "javascript:" not in page and "&lt;i&gt;A&lt;/i&gt;" in page
    assert "Tartar &amp; co" in page and "Name &lt;b&gt;" in page


@pytest.fixture
async def ops(redis: Redis, redis_server: RedisProcess, tmp_path: Path) -> AsyncIterator[str]:
    """The health role on a free port, with Karabakh's history and a hostile Gaza title."""
    now = datetime.now(UTC)
    for r in history(now):
        await add_report(redis, KARABAKH, r)
    await add_report(redis, "gaza-israel", report(9, now, "call", title=HOSTILE))
    async with health_role_running(redis_server.url, tmp_path) as base:
        yield base


async def test_pages_are_served_linked_and_escaped(ops: str) -> None:
    status, ctype, index = await fetch(ops + "/truces")
    assert status == 200 and ctype.startswith("text/html")
    assert index.index(NAME) < index.index("Gaza / Israel")  # in force first
    assert f'href="/truces/{KARABAKH}"' in index
    status, _, page = await fetch(ops + f"/truces/{KARABAKH}")
    assert status == 200 and sum(bars(page).values()) == 3
    status, _, gaza = await fetch(ops + "/truces/gaza-israel")
    assert status == 200 and "<script>" not in gaza and "&lt;script&gt;" in gaza
    status, _, missing = await fetch(ops + "/truces/atlantis")
    assert status == 404 and "No region has the id “atlantis”" in missing
    status, _, quiet = await fetch(ops + "/truces/sudan")  # known, never reported
    assert status == 200 and "No truce reported here yet" in quiet
    _, _, status_page = await fetch(ops + "/status")
    assert '<a href="/truces">' in status_page


class DevTools:
    """Just enough of the Chrome DevTools Protocol: one page session, commands and events."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0
        self.session = ""
        self.events: list[dict[str, Any]] = []

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command (to the page once attached) and return its result."""
        self.next_id += 1
        message: dict[str, Any] = {"id": self.next_id, "method": method, "params": params}
        if self.session:
            message["sessionId"] = self.session
        await self.ws.send_str(json.dumps(message))
        while True:
            reply = json.loads((await asyncio.wait_for(self.ws.receive(), 60)).data)
            if reply.get("id") == self.next_id:
                assert "error" not in reply, reply
                return dict(reply.get("result", {}))
            self.events.append(reply)

    async def load(self, url: str) -> dict[str, Any]:
        """Navigate, wait for the load event, and measure what a phone would scroll."""
        self.events.clear()
        await self.send("Page.navigate", url=url)
        while not any(e.get("method") == "Page.loadEventFired" for e in self.events):
            self.events.append(json.loads((await asyncio.wait_for(self.ws.receive(), 60)).data))
        probe = ("JSON.stringify({sw: document.documentElement.scrollWidth, iw: innerWidth,"
                 " svg: document.querySelectorAll('svg').length,"
                 " bars: document.querySelectorAll('svg rect.bar').length})")
        result = await self.send("Runtime.evaluate", expression=probe, returnByValue=True)
        return dict(json.loads(result["result"]["value"]))

    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions and browser log errors seen since the load."""
        out = []
        for e in self.events:
            params = e.get("params", {})
            if e.get("method") == "Runtime.exceptionThrown":
                details = params.get("exceptionDetails", {})
                thrown = details.get("exception", {}).get("description")
                out.append(f"{details.get('text')} {thrown}")
            elif e.get("method") == "Runtime.consoleAPICalled" and params.get("type") == "error":
                out.append(str(params.get("args")))
            elif e.get("method") == "Log.entryAdded" and params["entry"]["level"] == "error":
                out.append(str(params["entry"].get("text")))
        return out


@pytest.fixture
async def phone(tmp_path: Path) -> AsyncIterator[DevTools]:
    """Headless Chromium showing one tab as a 390 px wide phone (skip without Chromium)."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed (Debian package 'chromium'; .ci/run installs it)")
    log = tmp_path / "chromium.log"
    with log.open("w") as err:
        proc = await asyncio.create_subprocess_exec(
            browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--remote-debugging-port=0", f"--user-data-dir={tmp_path / 'profile'}",
            "about:blank", stderr=err, stdout=asyncio.subprocess.DEVNULL,
        )
    try:
        def endpoint() -> str:
            found = re.search(r"DevTools listening on (ws://\S+)", log.read_text())
            return found.group(1) if found else ""

        assert await wait_until(endpoint, 60), log.read_text()
        async with aiohttp.ClientSession() as http, http.ws_connect(
            endpoint(), max_msg_size=0
        ) as ws:
            tools = DevTools(ws)
            target = await tools.send("Target.createTarget", url="about:blank")
            attached = await tools.send(
                "Target.attachToTarget", targetId=target["targetId"], flatten=True)
            tools.session = attached["sessionId"]
            for domain in ("Page", "Runtime", "Log"):
                await tools.send(f"{domain}.enable")
            await tools.send("Emulation.setDeviceMetricsOverride", width=390, height=844,
                             deviceScaleFactor=2, mobile=True)
            yield tools
    finally:
        proc.terminate()
        await proc.wait()


async def test_region_page_fits_a_phone_in_chromium(
    ops: str, phone: DevTools, tmp_path: Path
) -> None:
    # First prove the checks can fail: an overflowing page and a script error are caught.
    wide = await phone.load("data:text/html,<meta name=viewport content='width=device-width'>"
                            "<div style='width:900px'>x</div><script>nope()</script>")
    # (A phone zooms out to fit a wide page, so innerWidth grows too: hence also == 390 below.)
    assert wide["sw"] > 390 and any("nope" in e for e in phone.errors())

    seen = await phone.load(ops + f"/truces/{KARABAKH}")
    assert phone.errors() == []
    assert seen["iw"] == 390 and seen["sw"] <= seen["iw"]
    assert seen["svg"] == 1 and seen["bars"] == CHART_DAYS
    shot = tmp_path / "truce-page-390.png"
    png = await phone.send("Page.captureScreenshot", format="png", captureBeyondViewport=True)
    shot.write_bytes(base64.b64decode(png["data"]))
    assert shot.stat().st_size > 5_000
    print(f"truce page screenshot (390 px): {shot}")

    index = await phone.load(ops + "/truces")
    assert phone.errors() == [] and index["sw"] <= index["iw"]
