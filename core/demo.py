"""`ceasefire-watch demo`: the whole pipeline offline on bundled sample feeds."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import click
import yaml
from aiohttp import web
from redis.asyncio import Redis

from core.config_files import default_config_dir
from core.keys import ALERTS, ARTICLES
from core.lifecycle import RoleFn, resolve_role, run_roles
from core.listen import listen
from core.logging_setup import configure_logging
from core.models import Alert, decode
from core.redis_conn import embedded_redis, free_port, make_client
from core.settings import load_settings
from core.streams import read_range, stream_stats

DEMO_ROLES = ("poller", "classifier", "truces", "notifier", "health")
CONTENT_TYPES = {".xml": "application/rss+xml", ".atom": "application/atom+xml"}


def demo_feed_files() -> list[Path]:
    """Return the sample feeds shipped in ``config/demo``."""
    return sorted(p for p in (default_config_dir() / "demo").iterdir() if p.suffix in CONTENT_TYPES)


def count_items(files: list[Path]) -> int:
    """Count the items and entries of the sample feeds (what the poller must queue)."""
    return sum(p.read_text().count("<item>") + p.read_text().count("<entry>") for p in files)


@contextlib.asynccontextmanager
async def feed_server(files: list[Path]) -> AsyncIterator[str]:
    """Serve ``files`` on 127.0.0.1 with their feed content types; yield the base URL."""

    def route(path: Path) -> web.RouteDef:
        body = path.read_bytes()  # a few KB, read once up front

        async def handler(_: web.Request) -> web.Response:
            return web.Response(
                body=body, content_type=CONTENT_TYPES[path.suffix], charset="utf-8"
            )

        return web.get(f"/{path.name}", handler)

    app = web.Application()
    app.add_routes([route(p) for p in files])
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    try:
        port = await listen(runner, "127.0.0.1")
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def write_config(config_dir: Path, base_url: str, files: list[Path]) -> None:
    """Copy the packaged config and point ``feeds.yaml`` at the local sample feeds."""
    shutil.copytree(default_config_dir(), config_dir, ignore=shutil.ignore_patterns("__*"))
    feeds = [
        {"id": f"demo-{p.stem}", "url": f"{base_url}/{p.name}", "name": f"Demo {p.stem}",
         "language": "en", "interval": 60}
        for p in files
    ]
    (config_dir / "feeds.yaml").write_text(yaml.safe_dump({"feeds": feeds}, sort_keys=False))


async def pipeline_done(redis: Redis, expected: int) -> bool:
    """True when every sample item was queued, classified and every alert handled."""
    if int(await redis.xlen(ARTICLES)) < expected:
        return False
    for stream, group in ((ARTICLES, "classifiers"), (ALERTS, "notifiers")):
        stats = await stream_stats(redis, stream, group)
        if stream == ALERTS and stats.length == 0:
            continue
        if stats.lag != 0 or stats.pending != 0:
            return False
    return True


async def run_demo(timeout_s: float) -> int:
    """Run the demo; print a summary; return 0 when every sample item went through."""
    files = demo_feed_files()
    expected = count_items(files)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ceasefire-demo-") as tmp:
        root = Path(tmp)
        async with feed_server(files) as base_url, embedded_redis(root / "data") as url:
            write_config(root / "config", base_url, files)
            settings = load_settings(
                config_dir=root / "config", data_dir=root / "data", redis_url=url,
                telegram_bot_token="", health_port=free_port(),
            )
            roles: list[tuple[str, RoleFn]] = [(name, resolve_role(name)) for name in DEMO_ROLES]
            click.echo(f"demo: {len(files)} sample feeds, {expected} items, roles: "
                       f"{', '.join(n for n, _ in roles)}", err=True)
            stop = asyncio.Event()
            service = asyncio.create_task(run_roles(settings, roles, stop=stop))
            redis = make_client(url)
            try:
                ok = False
                while time.monotonic() - started < timeout_s and not service.done():
                    if await pipeline_done(redis, expected):
                        ok = True
                        break
                    await asyncio.sleep(0.2)
                alerts = [decode(f, Alert) for _, f in await read_range(redis, ALERTS)]
                articles = int(await redis.xlen(ARTICLES))
            finally:
                stop.set()
                code = await service
                await redis.aclose()
    labels = Counter(a.label for a in alerts)
    stories = {a.story_id for a in alerts if a.label == "violation"}
    elapsed = time.monotonic() - started
    click.echo(
        f"demo: {articles}/{expected} articles queued; alerts: {labels['violation']} violation "
        f"({len(stories)} stories), {labels['ceasefire']} ceasefire; "
        f"{articles - len(alerts)} labelled none; {elapsed:.1f}s",
        err=True,
    )
    if not ok:
        click.echo("demo: the pipeline did not finish in time", err=True)
    return 0 if ok and code == 0 else 1


@click.command("demo")
@click.option("--timeout", "timeout_s", default=50.0, show_default=True,
              help="Give up after this many seconds.")
def demo_command(timeout_s: float) -> None:
    """Run the whole pipeline offline on bundled sample feeds, printing alerts to the console."""
    configure_logging("WARNING", "console")
    sys.exit(asyncio.run(run_demo(timeout_s)))
