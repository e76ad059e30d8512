"""``ceasefire-watch feeds``: list feed health and WebSub state, import/export OPML, check."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Coroutine, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import click
import yaml

from core.config_files import ConfigError
from core.feeds import FeedConfig, add_runtime_feed, load_feeds, runtime_feeds
from core.redis_conn import StartupError, open_redis
from core.settings import Settings, load_settings
from core.tuning import PollerTuning
from core.urlguard import UnsafeURLError, check_feed_url
from core.websub_state import Subscription, describe, load_subscriptions
from workers.poller.fetch import Fetcher, FetchError, FetchLimits
from workers.poller.opml import OPMLError, read_opml, write_opml
from workers.poller.parse import FeedInfo
from workers.poller.parse_pool import ParsePool
from workers.poller.state import FeedState, load_states

T = TypeVar("T")


def _with_redis(main: Coroutine[Any, Any, T]) -> T:
    """Run ``main``; Redis that cannot be reached (or shared) is one line and exit 1."""
    try:
        return asyncio.run(main)
    except StartupError as exc:
        raise click.ClickException(str(exc)) from None


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


def _configured(settings: Settings, feeds_file: Path | None) -> list[FeedConfig]:
    path = feeds_file or settings.feeds_path()  # FEEDS_FILE, else the overlay's feeds.yaml
    try:
        return load_feeds(path)
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None


def _age(ts: float, now: float) -> str:
    if not ts:
        return "-"
    delta = ts - now
    word = "in " if delta > 0 else ""
    secs = abs(delta)
    text = f"{secs:.0f}s" if secs < 120 else f"{secs / 60:.0f}m" if secs < 7200 else \
        f"{secs / 3600:.1f}h"
    return f"{word}{text}" if delta > 0 else f"{text} ago"


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def health_rows(
    feeds: Sequence[FeedConfig], states: dict[str, FeedState], now: float,
    subs: dict[str, Subscription] | None = None,
) -> list[list[str]]:
    """Return the ``feeds list`` table: one row per feed, header first."""
    subs = subs or {}
    rows = [["ID", "STATE", "LAST SUCCESS", "LAST ERROR", "ERRORS", "NEXT POLL", "WEBSUB"]]
    for feed in feeds:
        st = states.get(feed.id, FeedState())
        state = "deactivated" if st.deactivated else ("disabled" if not feed.enabled else
                                                      "never polled" if not st.polls_total
                                                      else "failing" if st.error_streak
                                                      else "ok")
        error = f"{st.last_error_kind}: {st.last_error}"[:60] if st.last_error_kind else "-"
        if st.last_error_at:
            error = f"{_age(st.last_error_at, now)} {error}"
        sub = subs.get(feed.id)
        websub = describe(sub if sub is not None and sub.hub else None, now)
        rows.append([feed.id, state, _age(st.last_success, now), error,
                     f"{st.error_streak}/{st.errors_total}",
                     "-" if st.deactivated else _age(st.next_poll, now), websub[:120]])
    return rows


@click.group("feeds")
def feeds_group() -> None:
    """Manage and inspect the news feeds the poller watches."""


_feeds_file = click.option("--feeds-file", type=click.Path(path_type=Path, dir_okay=False),
                           default=None, help="Feeds YAML (default: CONFIG_DIR/feeds.yaml).")


@feeds_group.command("list")
@_feeds_file
def list_command(feeds_file: Path | None) -> None:
    """Show each feed's health (last success, last error, errors, next poll) and WebSub state."""
    settings = _settings()
    configured = _configured(settings, feeds_file)

    async def main() -> list[list[str]]:
        async with open_redis(settings) as redis:
            feeds = configured + [f for f in await runtime_feeds(redis)
                                  if f.id not in {c.id for c in configured}]
            states = await load_states(redis, [f.id for f in feeds])
            subs = await load_subscriptions(redis, [f.id for f in feeds]) if feeds else {}
        return health_rows(feeds, states, time.time(), subs)

    click.echo(_table(_with_redis(main())))


@feeds_group.command("import")
@click.argument("opml_file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option("--print", "print_yaml", is_flag=True,
              help="Print the feeds as feeds.yaml entries instead of adding them to Redis.")
def import_command(opml_file: Path, print_yaml: bool) -> None:
    """Import feeds from an OPML file (URL-guarded, like /addfeed), or print them as YAML."""
    try:
        feeds = read_opml(opml_file)
    except OPMLError as exc:
        raise click.ClickException(str(exc)) from None
    if print_yaml:
        data = {"feeds": [f.model_dump(exclude_defaults=True, exclude={"trusted"}, mode="json")
                          for f in feeds]}
        click.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
        return
    settings = _settings()

    async def main() -> tuple[int, list[str]]:
        refused: list[str] = []
        added = 0
        async with open_redis(settings) as redis:
            for feed in feeds:
                try:
                    url = await check_feed_url(feed.url)
                except UnsafeURLError as exc:
                    refused.append(f"{feed.id}: {exc}")
                    continue
                await add_runtime_feed(redis, feed.model_copy(update={"url": url}))
                added += 1
        return added, refused

    added, refused = _with_redis(main())
    click.echo(f"imported {added} of {len(feeds)} feeds from {opml_file}")
    for line in refused:
        click.echo(f"refused {line}", err=True)


@feeds_group.command("export")
@_feeds_file
@click.option("--with-runtime/--config-only", default=False,
              help="Also export feeds added at run time (needs Redis).")
def export_command(feeds_file: Path | None, with_runtime: bool) -> None:
    """Print the feeds as OPML on standard output."""
    settings = _settings()
    feeds = _configured(settings, feeds_file)
    if with_runtime:
        async def extra() -> list[FeedConfig]:
            async with open_redis(settings) as redis:
                return await runtime_feeds(redis)

        names = {f.id for f in feeds}
        feeds += [f for f in _with_redis(extra()) if f.id not in names]
    sys.stdout.write(write_opml(feeds) + "\n")


async def check_feeds(feeds: Sequence[FeedConfig], tuning: PollerTuning) -> list[list[str]]:
    """Fetch and parse each feed once (no Redis, nothing queued); return table rows."""
    rows = [["ID", "RESULT", "HTTP", "ITEMS", "NEWEST", "SECONDS", "DETAIL"]]
    slots = asyncio.Semaphore(16)
    # Threads whatever the service uses: a one-off check should not wait for worker processes.
    pool = ParsePool("thread", tuning.parse_workers)
    async with Fetcher(FetchLimits.of(tuning)) as fetcher, pool:

        async def one(feed: FeedConfig) -> list[str]:
            async with slots:
                started = time.monotonic()
                try:
                    res = await fetcher.fetch(feed.url, trusted=feed.trusted)
                except FetchError as exc:
                    took = f"{time.monotonic() - started:.2f}"
                    return [feed.id, exc.kind, str(exc.status or "-"), "-", "-", took,
                            str(exc)[:70]]
                info = FeedInfo(feed.id, feed.name, feed.language, feed.region_hints)
                out = await pool.parse(res.body, res.headers, info, res.url, datetime.now(UTC))
                took = f"{time.monotonic() - started:.2f}"
                newest = max((a.published for a in out.articles), default=None)
                when = newest.strftime("%Y-%m-%d %H:%M") if newest else "-"
                detail = out.error or (f"moved to {res.permanent_url}" if res.permanent_url
                                       else out.title)
                return [feed.id, out.error_kind or "ok", str(res.status),
                        str(len(out.articles)), when, took, detail[:70]]

        rows += await asyncio.gather(*(one(f) for f in feeds))
    return rows


@feeds_group.command("check")
@_feeds_file
@click.option("--feed", "only", multiple=True, help="Check only this feed id (repeatable).")
@click.option("--timeout", default=20.0, show_default=True, help="Seconds per feed.")
def check_command(feeds_file: Path | None, only: tuple[str, ...], timeout: float) -> None:
    """Fetch each configured feed once and print a table (nothing is stored or queued)."""
    settings = _settings()
    feeds = [f for f in _configured(settings, feeds_file) if not only or f.id in only]
    if not feeds:
        raise click.ClickException("no feeds to check")
    tuning = settings.poller.model_copy(update={"fetch_timeout_s": timeout})
    rows = asyncio.run(check_feeds(feeds, tuning))
    click.echo(_table(rows))
    failed = sum(1 for r in rows[1:] if r[1] != "ok")
    click.echo(f"{len(rows) - 1 - failed} ok, {failed} failing")
