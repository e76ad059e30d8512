"""/metrics passes promtool; /status escapes everything and renders in headless Chromium."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.typedefs import Handler
from redis.asyncio import Redis

from core import keys
from core.keys import ALERTS
from core.listen import listen
from core.models import Alert
from core.redis_conn import RedisProcess
from core.streams import publish
from testkit.messages import article
from tests.core.helpers import fetch, health_role_running

HOSTILE = '<script>document.title="pwned"</script> Shelling & "truce" <b>'
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--enable-logging=stderr", "--v=0", "--window-size=1280,1000",
]


@dataclass
class Ops:
    """A running health role: its base URL."""

    base: str


@pytest.fixture
async def ops(redis: Redis, redis_server: RedisProcess, tmp_path: Path) -> AsyncIterator[Ops]:
    """Run the health role against the test Redis, seeded with an alert and a feed state."""
    now = datetime.now(UTC)
    source = article(1).model_copy(update={"title": HOSTILE, "source": "Wire <i>"})
    alert = Alert(
        id="a1", article=source, label="violation", score=0.97, p_violation=0.97,
        evidence="Artillery fire hit the town despite the truce.", regions=("ukraine",),
        story_id="a1", classified=now,
    )
    await publish(redis, ALERTS, alert)
    await redis.hset(keys.feed_state("demo-wire"), mapping={
        "last_success": "1", "error_streak": "2", "last_error": "timeout <after 30s>"})
    async with health_role_running(redis_server.url, tmp_path, up_path="/readyz") as base:
        yield Ops(base)


async def test_metrics_pass_promtool(ops: Ops) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool not installed (Debian package 'prometheus'; .ci/run installs it)")
    status, ctype, body = await fetch(ops.base + "/metrics")
    assert status == 200 and ctype.startswith("text/plain")
    assert 'cw_stream_length{stream="alerts"} 1.0' in body
    check = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, text=True, check=False
    )
    assert check.returncode == 0, check.stdout + check.stderr


async def test_status_page_escapes_everything(ops: Ops) -> None:
    status, ctype, body = await fetch(ops.base + "/status")
    assert status == 200 and ctype.startswith("text/html")
    assert "<script>" not in body
    assert "&lt;script&gt;" in body
    assert "Wire &lt;i&gt;" in body
    assert "timeout &lt;after 30s&gt;" in body
    assert "health/" in body  # its own heartbeat is listed


def chromium_render(url: str, shot: Path) -> tuple[list[str], str]:
    """Screenshot ``url`` in headless Chromium; return its console lines and the rendered DOM."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium not installed (Debian package 'chromium'; .ci/run installs it)")
    profile = shot.with_suffix(".profile")
    proc = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={shot}", url],
        capture_output=True, text=True, timeout=120, check=False,
    )
    console = [ln for ln in proc.stderr.splitlines() if ":CONSOLE" in ln]
    dom = subprocess.run(
        [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", url],
        capture_output=True, text=True, timeout=120, check=False,
    ).stdout
    return console, dom


async def render_page(handler: Handler, shot: Path) -> tuple[list[str], str]:
    """Serve ``handler`` at / on a free local port and render it as :func:`chromium_render`."""
    app = web.Application()
    app.router.add_get("/", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    port = await listen(runner, "127.0.0.1")
    try:
        return await asyncio.to_thread(chromium_render, f"http://127.0.0.1:{port}/", shot)
    finally:
        await runner.cleanup()


async def test_status_renders_in_chromium_without_console_errors(
    ops: Ops, tmp_path: Path
) -> None:
    # First prove the check can fail: a page with a script error must be caught.
    async def broken(_: web.Request) -> web.Response:
        html = "<!doctype html><p>x</p><script>console.error('boom'); nope();</script>"
        return web.Response(text=html, content_type="text/html")

    console, _ = await render_page(broken, tmp_path / "broken.png")
    assert any("nope is not defined" in line for line in console)

    shot = tmp_path / "status.png"
    console, dom = await asyncio.to_thread(chromium_render, ops.base + "/status", shot)
    assert console == []
    assert shot.stat().st_size > 5_000
    assert "<title>ceasefire-watch status</title>" in dom
    assert "pwned" not in dom.split("</title>")[0]  # the hostile title never ran
    print(f"status page screenshot: {shot}")


async def test_status_is_served_with_a_strict_content_security_policy(
    ops: Ops, tmp_path: Path
) -> None:
    import base64
    import hashlib
    import re

    from core.status_page import STATUS_HEADERS

    async with aiohttp.ClientSession() as http, http.get(ops.base + "/status") as resp:
        csp = resp.headers["Content-Security-Policy"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        body = await resp.text()
    assert "default-src 'none'" in csp and "unsafe-inline" not in csp and "script-src" not in csp
    style = re.search(r"<style>(.*?)</style>", body, re.DOTALL)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"'sha256-{digest}'" in csp  # the page's own stylesheet, and only it, applies

    # The same header in a real browser: an injected inline script and a javascript: link
    # target are refused, while the pinned stylesheet still applies without complaint.
    async def hostile(_: web.Request) -> web.Response:
        page = ("<!doctype html><title>before</title><p>x</p>"
                '<script>document.title="pwned"</script>'
                '<iframe src="javascript:parent.document.title=\'pwned\'"></iframe>')
        return web.Response(text=page, content_type="text/html", headers=STATUS_HEADERS)

    console, dom = await render_page(hostile, tmp_path / "csp.png")
    assert "<title>before</title>" in dom and "pwned" not in dom.split("</title>")[0]
    assert any("Content Security Policy" in line for line in console), console
