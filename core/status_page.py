"""The /status page for a person: roles, feeds, WebSub, queues, alerts (no secrets, no chats)."""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import UTC, datetime
from html import escape
from typing import cast

from redis.asyncio import Redis

from core import keys
from core.feed_health import FeedHealth
from core.feedback import FeedbackStore, format_share
from core.models import Alert, MalformedEntryError, decode
from core.streams import read_range, stream_stats
from core.websub_state import all_subscriptions, utc

MAX_FEEDS_SHOWN = 500

STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1d1d1f;background:#fafafa}
h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:1.6rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;font-size:.9rem;vertical-align:top}
th{background:#f0f0f0}.bad{color:#b00020;font-weight:600}.ok{color:#1b7f3a}
.v{color:#b00020}.c{color:#8a5a00}small{color:#666}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(STYLE.encode()).digest()).decode()
# Sent with /status: no script may run and nothing may load but this page's own stylesheet
# (pinned by hash), so a hostile feed title, or an old "javascript:" article link, does nothing
# even if escaping were ever missed. img-src 'self' only lets the browser ask for a favicon.
STATUS_HEADERS = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; img-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def _ago(stamp: float, now: float) -> str:
    if stamp <= 0:
        return "never"
    secs = max(0.0, now - stamp)
    if secs < 120:
        return f"{secs:.0f}s ago"
    if secs < 7200:
        return f"{secs / 60:.0f}m ago"
    if secs < 172_800:
        return f"{secs / 3600:.1f}h ago"
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M")


def _table(headers: list[str], rows: list[list[str]], empty: str) -> str:
    if not rows:
        return f"<p><small>{escape(empty)}</small></p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


async def _feed_rows(redis: Redis, now: float) -> list[list[str]]:
    rows: list[list[str]] = []
    found: list[str] = []
    async for key in redis.scan_iter(match=keys.FEED_STATE_PREFIX + "*", count=500):
        found.append(str(key))
        if len(found) >= MAX_FEEDS_SHOWN:
            break
    for key in sorted(found):
        state = cast(dict[str, str], await redis.hgetall(key))
        streak = int(float(state.get("error_streak", "0") or 0))
        dead = state.get("deactivated", "0") not in ("", "0")
        health = (
            '<span class="bad">deactivated</span>' if dead
            else '<span class="bad">failing</span>' if streak
            else '<span class="ok">ok</span>'
        )
        rows.append([
            escape(key.removeprefix(keys.FEED_STATE_PREFIX)),
            health,
            _ago(float(state.get("last_success", "0") or 0), now),
            escape(state.get("last_error", "")[:160]),
            str(streak),
        ])
    return rows


def _lease_end(stamp: float, now: float) -> str:
    if stamp <= 0:
        return "-"
    secs = stamp - now
    rel = _ago(stamp, now) if secs <= 0 else (
        f"in {secs / 60:.0f}m" if secs < 7200 else f"in {secs / 3600:.1f}h")
    return f"{escape(utc(stamp))}<br><small>{escape(rel)}</small>"


async def _websub_section(redis: Redis, now: float) -> str:
    """Feeds on WebSub push, and each subscription's hub, lease end and trouble."""
    subs = await all_subscriptions(redis)
    pushed = sum(1 for sub in subs.values() if sub.live(now))
    rows: list[list[str]] = []
    for fid, sub in sorted(subs.items())[:MAX_FEEDS_SHOWN]:
        kind = sub.kind(now)
        css = {"push": "ok", "expired": "bad", "failed": "bad", "denied": "bad"}.get(kind, "")
        notes = [sub.last_error] if sub.last_error else []
        if kind in ("failed", "denied"):
            notes.append(f"next try {utc(sub.retry_at)}")
        if sub.old_hub:
            notes.append(f"moving from {sub.old_hub}")
        rows.append([
            escape(fid), f'<span class="{css}">{escape(kind)}</span>', escape(sub.hub),
            _lease_end(sub.expires, now), f"{_ago(sub.last_push, now)} ({sub.pushes})",
            escape("; ".join(notes)[:300]),
        ])
    return (f'<p id="websub-push">{pushed} feed{"" if pushed == 1 else "s"} on WebSub push, '
            f"of {len(subs)} with a subscription</p>"
            + _table(["feed", "state", "hub", "lease ends", "last push (pushes)", "notes"],
                     rows, "no WebSub subscription"))


async def render_status(
    redis: Redis,
    heartbeats: dict[str, float],
    feeds: FeedHealth | None = None,
) -> str:
    """Return the whole status page as HTML; every value from Redis is escaped."""
    now = time.time()
    role_rows = [
        [escape(role), f'<span class="{"ok" if age < 60 else "bad"}">{age:.0f}s</span>']
        for role, age in sorted(heartbeats.items())
    ]
    queue_rows: list[list[str]] = []
    for spec in keys.STREAMS:
        stream, group = spec.name, spec.group
        stats = await stream_stats(redis, stream, group)
        dead = int(await redis.xlen(keys.dead_letter(stream)))
        queue_rows.append([
            escape(stream), escape(group), str(stats.length), str(stats.pending),
            "?" if stats.lag is None else str(stats.lag),
            f'<span class="{"bad" if dead else "ok"}">{dead}</span>',
        ])
    alert_rows: list[list[str]] = []
    for _, fields in await read_range(redis, keys.ALERTS, count=20, newest_first=True):
        try:
            alert = decode(fields, Alert)
        except MalformedEntryError:
            continue
        when = alert.article.published.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
        css = {"violation": "v", "ceasefire": "c"}.get(alert.label, "")
        alert_rows.append([
            escape(when),
            f'<span class="{css}">{escape(alert.label)}</span> {alert.score:.2f}',
            escape(", ".join(alert.regions) or "-"),
            f'<a href="{escape(alert.article.url)}" rel="noopener noreferrer">'
            f"{escape(alert.article.title)}</a><br><small>{escape(alert.article.source)}</small>",
            escape(alert.evidence),
        ])
    retrying = int(await redis.zcard(keys.retry_queue(keys.DELIVERIES)))
    feedback_rows = [
        [escape(dim), escape(name), str(p.votes), format_share(p.label_precision),
         format_share(p.region_precision)]
        for dim, name, p in (await FeedbackStore(redis).precision()).rows()
    ]
    generated = datetime.fromtimestamp(now, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    feeds = feeds or FeedHealth(0, 0)
    feeds_line = (f'<p class="{"bad" if feeds.failing else "ok"}" id="feeds-failing">'
                  f"{escape(feeds.text)}</p>")
    return (
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta http-equiv=\"refresh\" content=\"15\">"
        "<title>ceasefire-watch status</title>"
        f"<style>{STYLE}</style></head><body>"
        f"<h1>ceasefire-watch status</h1>{feeds_line}"
        f"<p><small>generated {generated}</small></p>"
        '<p><a href="/truces">Truces by region</a></p>'
        "<h2>Roles</h2>"
        + _table(["role / consumer", "heartbeat age"], role_rows, "no role running")
        + "<h2>Queues</h2>"
        + _table(["stream", "group", "length", "pending", "lag", "dead letters"], queue_rows, "")
        + f"<p><small>deliveries waiting for a retry: {retrying}"
        "</small></p>"
        + "<h2>Feeds</h2>"
        + _table(["feed", "health", "last success", "last error", "error streak"],
                 await _feed_rows(redis, now), "no feed polled yet")
        + "<h2>WebSub</h2>"
        + await _websub_section(redis, now)
        + "<h2>Last alerts</h2>"
        + _table(["published", "label", "regions", "headline", "evidence"], alert_rows,
                 "no alert yet")
        + "<h2>Reader feedback</h2><p><small>label precision: votes saying correct or wrong "
        "region; region precision: votes saying correct</small></p>"
        + _table(["by", "slice", "votes", "label precision", "region precision"],
                 feedback_rows, "no vote yet")
        + "</body></html>"
    )
